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
//!
//! ```
//! use descent_optim::RAdamConfig;
//! let optim = RAdamConfig::new(1e-3).with_betas([0.9, 0.999]).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_betas, check_eps, check_lr, check_weight_decay};
use crate::error::OptimError;
use crate::hyper::HyperParam;
use crate::parts::{bias_correction, first_moment, maximize, second_moment};
use crate::regularization::WeightDecay;

optim_config! {
    /// `torch.optim.RAdam`'s arguments, same names and defaults.
    pub struct RAdamConfig {
        lr: f64 = 1e-3,
        betas: [f64; 2] = [0.9, 0.999],
        eps: f64 = 1e-8,
        weight_decay: f64 = 0.0,
        /// AdamW-style decay (θ·(1 − γ·λ)) instead of L2 added to the gradient.
        decoupled_weight_decay: bool = false,
        maximize: bool = false,
    }
}

impl RAdamConfig {
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
            decay: WeightDecay::new(self.weight_decay, self.decoupled_weight_decay),
            maximize: self.maximize,
        })
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct RAdam {
    beta1: HyperParam,
    beta2: f64,
    eps: f64,
    decay: WeightDecay,
    maximize: bool,
}

impl RAdam {
    /// The live β₁: `set` it between steps to cycle it.
    pub fn beta1(&self) -> HyperParam {
        self.beta1.clone()
    }
}

crate::optim_state! {
    /// Per-parameter state: torch's `step`, `exp_avg` and `exp_avg_sq`.
    pub struct RAdamState<const D: usize> {
        pub step: u64,
        pub exp_avg: Tensor<D>,
        pub exp_avg_sq: Tensor<D>,
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
        let state = state.map(|s| s.land(&tensor));
        let RAdamState { step, exp_avg, exp_avg_sq } = state.unwrap_or_else(|| RAdamState {
            step: 0,
            exp_avg: tensor.zeros_like(),
            exp_avg_sq: tensor.zeros_like(),
        });
        let step = step + 1;
        let (param, grad) = self.decay.apply(tensor, maximize(grad, self.maximize), lr);
        let (t, beta1, beta2) = (step as f64, self.beta1.get(), self.beta2);
        let exp_avg = first_moment(exp_avg, grad.clone(), beta1);
        let exp_avg_sq = second_moment(exp_avg_sq, grad, beta2);

        let bias_correction2 = bias_correction(beta2, step);
        let bias_corrected_exp_avg = exp_avg.clone().div_scalar(bias_correction(beta1, step));
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
        state.to_device(device)
    }
}
