//! Adadelta, exactly `torch.optim.Adadelta` (single-tensor path).
//!
//! For each parameter θ with gradient g, at learning rate γ (default 1.0; PyTorch's order):
//!
//! ```text
//! t ← t + 1
//! g ← −g                               if maximize
//! g ← g + λ·θ                          if weight_decay λ ≠ 0   (coupled L2)
//! s ← ρ·s + ((1 − ρ)·g)·g              (square_avg, s₀ = 0)
//! Δ ← √(u + ε) / √(s + ε) · g          (u = acc_delta, u₀ = 0)
//! u ← ρ·u + ((1 − ρ)·Δ)·Δ
//! θ ← θ − γ·Δ
//! ```
//!
//! ```
//! use descent_optim::AdadeltaConfig;
//! let optim = AdadeltaConfig::new(1.0).with_rho(0.95).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_eps, check_lr, check_weight_decay, py_float};
use crate::error::OptimError;
use crate::parts::{ema_square, maximize};
use crate::regularization::WeightDecay;

optim_config! {
    /// `torch.optim.Adadelta`'s arguments, same names and defaults.
    pub struct AdadeltaConfig {
        /// Scales the delta; torch's default 1.0 is the paper's unscaled update.
        lr: f64 = 1.0,
        /// Decay of both running averages.
        rho: f64 = 0.9,
        eps: f64 = 1e-6,
        weight_decay: f64 = 0.0,
        maximize: bool = false,
    }
}

impl AdadeltaConfig {
    /// PyTorch's constructor checks, in its order, with its messages.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        if !(0.0 <= self.rho && self.rho <= 1.0) {
            return Err(OptimError::invalid(format!("Invalid rho value: {}", py_float(self.rho))));
        }
        check_eps(self.eps)?;
        check_weight_decay(self.weight_decay)
    }

    pub fn build(&self) -> Result<Adadelta, OptimError> {
        self.validate()?;
        let decay = WeightDecay::Coupled(self.weight_decay);
        Ok(Adadelta { rho: self.rho, eps: self.eps, decay, maximize: self.maximize })
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Adadelta {
    rho: f64,
    eps: f64,
    decay: WeightDecay,
    maximize: bool,
}

crate::optim_state! {
    /// Per-parameter state: torch's `step`, `square_avg` and `acc_delta`.
    pub struct AdadeltaState<const D: usize> {
        pub step: u64,
        pub square_avg: Tensor<D>,
        pub acc_delta: Tensor<D>,
    }
}

impl Optimizer for Adadelta {
    type State<const D: usize> = AdadeltaState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let state = state.map(|s| s.land(&tensor));
        let AdadeltaState { step, square_avg, acc_delta } = state.unwrap_or_else(|| AdadeltaState {
            step: 0,
            square_avg: tensor.zeros_like(),
            acc_delta: tensor.zeros_like(),
        });
        let (tensor, grad) = self.decay.apply(tensor, maximize(grad, self.maximize), lr);
        let square_avg = ema_square(square_avg, grad.clone(), self.rho);
        let std = square_avg.clone().add_scalar(self.eps).sqrt();
        let delta = acc_delta.clone().add_scalar(self.eps).sqrt() / std * grad;
        let acc_delta = ema_square(acc_delta, delta.clone(), self.rho);
        let next = tensor + delta.mul_scalar(-lr);
        (next, Some(AdadeltaState { step: step + 1, square_avg, acc_delta }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
