//! Schedule-free AdamW, exactly `schedulefree.AdamWScheduleFree` (its per-tensor path, train
//! mode: the module's parameters are y). With β₁, β₂, ε, λ = weight_decay and the step
//! scalars γₖ, c of [`schedule_free`](crate::schedule_free), k = steps done before this one:
//!
//! ```text
//! v ← β₂·v + ((1 − β₂)·g)·g;   g ← g / (√(v / (1 − β₂^(k+1))) + ε)
//! g ← g + λ·y                          if λ ≠ 0
//! y ← lerp(y, z, c);   y ← y + γₖ·(β₁·(1 − c) − 1)·g;   z ← z − γₖ·g      (z₀ = θ₀)
//! ```
//!
//! Evaluate (and save) x = lerp(y, z, 1 − 1/β₁): [`schedule_free::eval`](crate::schedule_free::eval).
//!
//! ```
//! use descent_optim::AdamWScheduleFreeConfig;
//! let optim = AdamWScheduleFreeConfig::new(0.0025).with_warmup_steps(100).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_betas, check_eps, check_lr, check_weight_decay, py_float};
use crate::error::OptimError;
use crate::parts::torch_ops::ema_square;
use crate::schedule_free::{
    interpolate, switch_param, ScheduleFreeMode, ScheduleFreeState, Weighting,
};

optim_config! {
    /// `schedulefree.AdamWScheduleFree`'s arguments, same names and defaults.
    pub struct AdamWScheduleFreeConfig {
        lr: f64 = 0.0025,
        betas: [f64; 2] = [0.9, 0.999],
        eps: f64 = 1e-8,
        weight_decay: f64 = 0.0,
        warmup_steps: u64 = 0,
        r: f64 = 0.0,
        weight_lr_power: f64 = 2.0,
    }
}

impl AdamWScheduleFreeConfig {
    /// The package checks nothing; these are torch's AdamW checks, and β₁ > 0 (eval divides
    /// by it).
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        check_eps(self.eps)?;
        check_betas(self.betas)?;
        check_weight_decay(self.weight_decay)?;
        if self.betas[0] == 0.0 {
            return Err(OptimError::invalid(format!(
                "Invalid beta parameter at index 0: {} (schedule-free needs beta1 > 0)",
                py_float(self.betas[0])
            )));
        }
        Ok(())
    }

    pub fn build(&self) -> Result<AdamWScheduleFree, OptimError> {
        self.validate()?;
        Ok(AdamWScheduleFree {
            betas: self.betas,
            eps: self.eps,
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

/// See the [module docs](self). Its state is [`ScheduleFreeState`] with `exp_avg_sq`.
#[derive(Clone, Debug)]
pub struct AdamWScheduleFree {
    betas: [f64; 2],
    eps: f64,
    weight_decay: f64,
    weighting: Weighting,
    mode: ScheduleFreeMode,
}

impl AdamWScheduleFree {
    /// The train / eval switch this optimizer obeys.
    pub fn mode(&self) -> ScheduleFreeMode {
        self.mode.clone()
    }
}

impl Optimizer for AdamWScheduleFree {
    type State<const D: usize> = ScheduleFreeState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        y: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let [beta1, beta2] = self.betas;
        if let Some(weight) = self.mode.switching(beta1) {
            return switch_param(weight, y, state);
        }
        let state = state.map(|s| s.land(&y));
        let (k, lr_max, weight_sum, z, v) = match state {
            Some(s) => (s.k, s.lr_max, s.weight_sum, s.z, s.exp_avg_sq),
            None => (0, -1.0, 0.0, y.clone(), None),
        };
        let bias_correction2 = 1.0 - beta2.powf((k + 1) as f64);
        let s = self.weighting.scalars(lr, k, lr_max, weight_sum);
        let v = ema_square(v.unwrap_or_else(|| y.zeros_like()), grad.clone(), beta2);
        let denom = v
            .clone()
            .div_scalar(bias_correction2)
            .sqrt()
            .add_scalar(self.eps);
        let grad = grad / denom;
        let (y, z) = interpolate(y, z, grad, self.weight_decay, beta1, &s);
        let state = ScheduleFreeState {
            k: k + 1,
            lr_max: s.lr_max,
            weight_sum: s.weight_sum,
            z,
            exp_avg_sq: Some(v),
        };
        (y, Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
