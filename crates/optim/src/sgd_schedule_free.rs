//! Schedule-free SGD, exactly `schedulefree.SGDScheduleFree` (its per-tensor path, train mode:
//! the module's parameters are y). With β = momentum, λ = weight_decay and the step scalars
//! γₖ, c of [`schedule_free`](crate::schedule_free):
//!
//! ```text
//! g ← g + λ·y                          if λ ≠ 0
//! y ← lerp(y, z, c);   y ← y + γₖ·(β·(1 − c) − 1)·g;   z ← z − γₖ·g      (z₀ = θ₀)
//! ```
//!
//! Evaluate (and save) x = lerp(y, z, 1 − 1/β): [`schedule_free::eval`](crate::schedule_free::eval).
//!
//! ```
//! use descent_optim::SgdScheduleFreeConfig;
//! let optim = SgdScheduleFreeConfig::new(0.5).with_warmup_steps(100).build()?;
//! let mode = optim.mode(); // for schedule_free::eval / train
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_lr, check_weight_decay, py_float};
use crate::error::OptimError;
use crate::schedule_free::{
    interpolate, switch_param, ScheduleFreeMode, ScheduleFreeState, Weighting,
};

optim_config! {
    /// `schedulefree.SGDScheduleFree`'s arguments, same names and defaults.
    pub struct SgdScheduleFreeConfig {
        lr: f64 = 1.0,
        momentum: f64 = 0.9,
        weight_decay: f64 = 0.0,
        warmup_steps: u64 = 0,
        r: f64 = 0.0,
        weight_lr_power: f64 = 2.0,
    }
}

impl SgdScheduleFreeConfig {
    /// The package's constructor checks, in its order, with its messages.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        check_weight_decay(self.weight_decay)?;
        if !(0.0 < self.momentum && self.momentum < 1.0) {
            return Err(OptimError::invalid(format!(
                "Momentum must be between 0 and 1 exclusive: {}",
                py_float(self.momentum)
            )));
        }
        Ok(())
    }

    pub fn build(&self) -> Result<SgdScheduleFree, OptimError> {
        self.validate()?;
        Ok(SgdScheduleFree {
            momentum: self.momentum,
            weight_decay: self.weight_decay,
            weighting: Weighting {
                warmup_steps: self.warmup_steps,
                r: self.r,
                weight_lr_power: self.weight_lr_power,
            },
            mode: ScheduleFreeMode::default(),
        })
    }
}

/// See the [module docs](self). Its state is [`ScheduleFreeState`] (no `exp_avg_sq`).
#[derive(Clone, Debug)]
pub struct SgdScheduleFree {
    momentum: f64,
    weight_decay: f64,
    weighting: Weighting,
    mode: ScheduleFreeMode,
}

impl SgdScheduleFree {
    /// The train / eval switch this optimizer obeys.
    pub fn mode(&self) -> ScheduleFreeMode {
        self.mode.clone()
    }
}

impl Optimizer for SgdScheduleFree {
    type State<const D: usize> = ScheduleFreeState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        y: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if let Some(weight) = self.mode.switching(self.momentum) {
            return switch_param(weight, y, state);
        }
        let state = state.map(|s| s.land(&y));
        let (k, lr_max, weight_sum, z) = match state {
            Some(s) => (s.k, s.lr_max, s.weight_sum, s.z),
            None => (0, -1.0, 0.0, y.clone()),
        };
        let s = self.weighting.scalars(lr, k, lr_max, weight_sum);
        let (y, z) = interpolate(y, z, grad, self.weight_decay, self.momentum, &s);
        let state = ScheduleFreeState {
            k: k + 1,
            lr_max: s.lr_max,
            weight_sum: s.weight_sum,
            z,
            exp_avg_sq: None,
        };
        (y, Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
