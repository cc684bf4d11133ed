//! What schedule-free SGD and AdamW share (the `schedulefree` package's `SGDScheduleFree` /
//! `AdamWScheduleFree`): the per-step weights, the state, and the `eval()` / `train()` switch.
//!
//! The module's parameters are y (train mode); the optimizer keeps z, and the averaged x
//! that is evaluated is never stored. Per step, k = steps done before this one:
//!
//! ```text
//! γₖ = lr·min(1, (k+1)/warmup_steps)          (warmup_steps = 0: lr)
//! γ_max = max(γₖ, γ_max)                       (γ_max starts at −1)
//! wₖ = (k+1)^r · γ_max^weight_lr_power;   W += wₖ;   c = wₖ / W   (0 if W = 0)
//! y ← lerp(y, z, c);   y ← y + γₖ·(β·(1 − c) − 1)·g;   z ← z − γₖ·g
//! eval:  x = lerp(y, z, 1 − 1/β)          train:  y = lerp(x, z, 1 − β)
//! ```
//!
//! (β is SGD's momentum or AdamW's β₁; g is AdamW's normalised gradient.) Burn's `step`
//! passes only tensors, so the package's group scalars k, γ_max and W live in each
//! parameter's state (equal everywhere when every parameter has a gradient at every step),
//! and the switch is a shared [`ScheduleFreeMode`]: [`eval`] and [`train`] run a
//! [`ModuleOptimizer`] step with zero gradients in which every parameter that has a z is
//! moved with the package's `lerp_` and the state is left as it was.
//!
//! Unlike the package (which starts in eval mode and needs `opt.train()` before the first
//! step, a call that only sets the flag while there is no state), the optimizer starts in
//! train mode.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;

use crate::parts::torch_ops::lerp;

crate::optim_state! {
    /// Per-parameter state: the package's `z` (and AdamW's `exp_avg_sq`), plus its group
    /// scalars `k`, `lr_max`, `weight_sum`.
    pub struct ScheduleFreeState<const D: usize> {
        pub k: u64,
        pub lr_max: f64,
        pub weight_sum: f64,
        pub z: Tensor<D>,
        pub exp_avg_sq: Option<Tensor<D>>,
    }
}

/// The schedule knobs both optimizers share.
#[derive(Clone, Debug)]
pub(crate) struct Weighting {
    pub(crate) warmup_steps: u64,
    pub(crate) r: f64,
    pub(crate) weight_lr_power: f64,
}

/// One step's scalars: the scheduled lr γₖ and the interpolation weight c.
pub(crate) struct StepScalars {
    pub(crate) lr: f64,
    pub(crate) ckp1: f64,
    pub(crate) lr_max: f64,
    pub(crate) weight_sum: f64,
}

impl Weighting {
    /// The package's Python float arithmetic, in its order.
    pub(crate) fn scalars(&self, lr: f64, k: u64, lr_max: f64, weight_sum: f64) -> StepScalars {
        let sched = if k < self.warmup_steps {
            (k + 1) as f64 / self.warmup_steps as f64
        } else {
            1.0
        };
        let lr = lr * sched;
        let lr_max = if lr_max > lr { lr_max } else { lr };
        let weight = ((k + 1) as f64).powf(self.r) * lr_max.powf(self.weight_lr_power);
        let weight_sum = weight_sum + weight;
        let ckp1 = if weight_sum == 0.0 {
            0.0
        } else {
            weight / weight_sum
        };
        StepScalars {
            lr,
            ckp1,
            lr_max,
            weight_sum,
        }
    }
}

/// g ← g + λ·y (decay at y, skipped for λ = 0);  y ← lerp(y, z, c);
/// y ← y + γ·(β(1 − c) − 1)·g;  z ← z − γ·g.
pub(crate) fn interpolate<const D: usize>(
    y: Tensor<D>,
    z: Tensor<D>,
    g: Tensor<D>,
    weight_decay: f64,
    beta: f64,
    s: &StepScalars,
) -> (Tensor<D>, Tensor<D>) {
    let g = if weight_decay != 0.0 { g + y.clone().mul_scalar(weight_decay) } else { g };
    let y = lerp(y, z.clone(), s.ckp1);
    let y = y + g.clone().mul_scalar(s.lr * (beta * (1.0 - s.ckp1) - 1.0));
    let z = z - g.mul_scalar(s.lr);
    (y, z)
}

const STEP: u8 = 0;
const TO_EVAL: u8 = 1;
const TO_TRAIN: u8 = 2;

/// The package's `train_mode` and the pending switch, shared by the optimizer and its
/// handles (clones share it).
#[derive(Clone, Debug)]
pub struct ScheduleFreeMode {
    action: Arc<AtomicU8>,
    eval: Arc<AtomicU8>,
}

impl Default for ScheduleFreeMode {
    fn default() -> Self {
        Self {
            action: Arc::new(AtomicU8::new(STEP)),
            eval: Arc::new(AtomicU8::new(0)),
        }
    }
}

impl ScheduleFreeMode {
    /// True in train mode (the parameters are y).
    pub fn is_train(&self) -> bool {
        self.eval.load(Ordering::Relaxed) == 0
    }

    /// What the optimizer's `step` does with a parameter of state `state`: an ordinary step
    /// (`None`), or the switch's lerp weight towards z, given β.
    pub(crate) fn switching(&self, beta: f64) -> Option<f64> {
        match self.action.load(Ordering::Relaxed) {
            TO_EVAL => Some(1.0 - 1.0 / beta),
            TO_TRAIN => Some(1.0 - beta),
            _ => {
                assert!(
                    self.is_train(),
                    "Optimizer was not in train mode when step is called. Please insert .train() and .eval() calls on the optimizer. See documentation for details."
                );
                None
            }
        }
    }

    fn switch<M: Module>(&self, model: M, optim: &mut ModuleOptimizer, to_eval: bool) -> M {
        if self.is_train() != to_eval {
            return model;
        }
        self.action
            .store(if to_eval { TO_EVAL } else { TO_TRAIN }, Ordering::Relaxed);
        let grads = zero_grads(&model);
        let model = optim.step(0.0, model, grads);
        self.action.store(STEP, Ordering::Relaxed);
        self.eval.store(u8::from(to_eval), Ordering::Relaxed);
        model
    }
}

/// The package's `optimizer.eval()`: the parameters become x = lerp(y, z, 1 − 1/β). A no-op
/// in eval mode. `mode` is the optimizer's (`SgdScheduleFree::mode`, …).
pub fn eval<M: Module>(model: M, optim: &mut ModuleOptimizer, mode: &ScheduleFreeMode) -> M {
    mode.switch(model, optim, true)
}

/// The package's `optimizer.train()`: the parameters become y = lerp(x, z, 1 − β). A no-op
/// in train mode.
pub fn train<M: Module>(model: M, optim: &mut ModuleOptimizer, mode: &ScheduleFreeMode) -> M {
    mode.switch(model, optim, false)
}

/// Zero gradients for every float parameter, so a [`ModuleOptimizer`] step visits them all.
fn zero_grads<M: Module>(model: &M) -> GradientsParams {
    struct Zeros(GradientsParams);
    impl ModuleVisitor for Zeros {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.0.register(param.id, param.val().inner().zeros_like());
        }
    }
    let mut z = Zeros(GradientsParams::new());
    model.visit(&mut z);
    z.0
}

/// The switch, inside an optimizer's `step`: y or x moved towards z by `weight` when the
/// parameter has a state, the state unchanged.
pub(crate) fn switch_param<const D: usize>(
    weight: f64,
    param: Tensor<D>,
    state: Option<ScheduleFreeState<D>>,
) -> (Tensor<D>, Option<ScheduleFreeState<D>>) {
    match state {
        Some(s) => {
            let s = s.land(&param);
            (lerp(param, s.z.clone(), weight), Some(s))
        }
        None => (param, None),
    }
}
