//! RAdam, exactly `torch.optim.RAdam` (single-tensor path): Adam with a rectified adaptive
//! learning rate, falling back to bias-corrected momentum SGD while the variance estimate is
//! unreliable (ρₜ ≤ 5, the first few steps).
//!
//! For each parameter θ with gradient g, at learning rate γ, step t = 1, 2, … (PyTorch's order):
//!
//! ```text
//! g ← −g                               if maximize
//! t ← t + 1
//! θ ← θ·(1 − γ·λ)                      if weight_decay λ ≠ 0 and decoupled_weight_decay
//! g ← g + λ·θ                          if weight_decay λ ≠ 0 otherwise
//! m ← m + (1 − β₁)·(g − m)
//! v ← β₂·v + ((1 − β₂)·g)·g
//! m̂ ← m / (1 − β₁ᵗ)
//! ρ∞ ← 2/(1 − β₂) − 1
//! ρₜ ← ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
//! if ρₜ > 5:
//!     r ← √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
//!     θ ← θ − m̂·γ·(√(1 − β₂ᵗ) · 1/(√v + ε))·r
//! else:
//!     θ ← θ − m̂·γ
//! ```

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::adam::{
    check_betas, check_eps, check_lr, check_weight_decay, default_betas, default_eps, ema_square, lerp, push_step,
    take, take_step,
};
use crate::record::push_tensor;
use crate::{HyperParam, OptimError};

fn default_lr() -> f64 {
    1e-3
}

/// `torch.optim.RAdam`'s arguments, same names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RAdamConfig {
    #[serde(default = "default_lr")]
    pub lr: f64,
    #[serde(default = "default_betas")]
    pub betas: [f64; 2],
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default)]
    pub weight_decay: f64,
    /// AdamW-style decay (θ·(1 − γ·λ)) instead of L2 added to the gradient.
    #[serde(default)]
    pub decoupled_weight_decay: bool,
    #[serde(default)]
    pub maximize: bool,
}

impl Default for RAdamConfig {
    fn default() -> Self {
        Self {
            lr: default_lr(),
            betas: default_betas(),
            eps: default_eps(),
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

impl RAdamConfig {
    pub fn new(lr: f64) -> Self {
        Self { lr, ..Self::default() }
    }
    pub fn with_betas(mut self, betas: [f64; 2]) -> Self {
        self.betas = betas;
        self
    }
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }
    pub fn with_decoupled_weight_decay(mut self, decoupled_weight_decay: bool) -> Self {
        self.decoupled_weight_decay = decoupled_weight_decay;
        self
    }
    pub fn with_maximize(mut self, maximize: bool) -> Self {
        self.maximize = maximize;
        self
    }

    /// PyTorch's constructor checks, in its order, with its messages.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        check_eps(self.eps)?;
        check_betas(self.betas)?;
        check_weight_decay(self.weight_decay)
    }

    pub fn build(&self) -> Result<RAdam, OptimError> {
        self.validate()?;
        Ok(RAdam {
            beta1: HyperParam::new(self.betas[0]),
            beta2: self.betas[1],
            eps: self.eps,
            weight_decay: self.weight_decay,
            decoupled_weight_decay: self.decoupled_weight_decay,
            maximize: self.maximize,
        })
    }

    pub fn init(&self) -> Result<ModuleOptimizer, OptimError> {
        Ok(self.build()?.into())
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct RAdam {
    beta1: HyperParam,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    decoupled_weight_decay: bool,
    maximize: bool,
}

impl RAdam {
    /// The live β₁: `set` it between steps to cycle it.
    pub fn beta1(&self) -> HyperParam {
        self.beta1.clone()
    }
}

/// Per-parameter state: torch's `step`, `exp_avg` and `exp_avg_sq`.
#[derive(Clone, Debug)]
pub struct RAdamState<const D: usize> {
    pub step: u64,
    pub exp_avg: Tensor<D>,
    pub exp_avg_sq: Tensor<D>,
}

impl<const D: usize> RecordState for RAdamState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_step(out, prefix, self.step);
        push_tensor(out, prefix, "exp_avg", &self.exp_avg);
        push_tensor(out, prefix, "exp_avg_sq", &self.exp_avg_sq);
    }
    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            step: take_step(src, prefix)?,
            exp_avg: take(src, prefix, "exp_avg", device)?,
            exp_avg_sq: take(src, prefix, "exp_avg_sq", device)?,
        })
    }
}

impl Optimizer for RAdam {
    type State<const D: usize> = RAdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let mut grad = if self.maximize { grad.neg() } else { grad };
        let mut param = tensor;
        let RAdamState { step, exp_avg, exp_avg_sq } = state.unwrap_or_else(|| RAdamState {
            step: 0,
            exp_avg: param.zeros_like(),
            exp_avg_sq: param.zeros_like(),
        });
        let step = step + 1;
        let t = step as f64;
        if self.weight_decay != 0.0 {
            if self.decoupled_weight_decay {
                param = param.mul_scalar(1.0 - lr * self.weight_decay);
            } else {
                grad = grad + param.clone().mul_scalar(self.weight_decay);
            }
        }
        let beta1 = self.beta1.get();
        let beta2 = self.beta2;
        let exp_avg = lerp(exp_avg, grad.clone(), 1.0 - beta1);
        let exp_avg_sq = ema_square(exp_avg_sq, grad, beta2);

        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - beta2.powf(t);
        let bias_corrected_exp_avg = exp_avg.clone().div_scalar(bias_correction1);
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * beta2.powf(t) / bias_correction2;

        let update = if rho_t > 5.0 {
            let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t)).powf(0.5);
            // (bias_correction2 ** 0.5) / exp_avg_sq_sqrt is a Python float over a tensor, which
            // torch evaluates as `tensor.reciprocal() * float`.
            let adaptive_lr =
                exp_avg_sq.clone().sqrt().add_scalar(self.eps).recip().mul_scalar(bias_correction2.powf(0.5));
            (bias_corrected_exp_avg.mul_scalar(lr) * adaptive_lr).mul_scalar(rect)
        } else {
            bias_corrected_exp_avg.mul_scalar(lr)
        };
        (param - update, Some(RAdamState { step, exp_avg, exp_avg_sq }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        RAdamState {
            step: state.step,
            exp_avg: state.exp_avg.to_device(device),
            exp_avg_sq: state.exp_avg_sq.to_device(device),
        }
    }
}
