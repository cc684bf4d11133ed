//! Adam, exactly `torch.optim.Adam` (single-tensor path).
//!
//! For each parameter θ with gradient g, at learning rate γ, step t = 1, 2, … (PyTorch's order):
//!
//! ```text
//! g ← −g                               if maximize
//! t ← t + 1
//! g ← g + λ·θ                          if weight_decay λ ≠ 0   (coupled L2)
//! m ← m + (1 − β₁)·(g − m)             (torch's lerp; m₀ = 0)
//! v ← β₂·v + ((1 − β₂)·g)·g            (v₀ = 0)
//! v̂ ← max(v̂, v); use v̂ for v         if amsgrad
//! denom ← √v / √(1 − β₂ᵗ) + ε
//! θ ← θ + (−γ/(1 − β₁ᵗ)·m) / denom
//! ```
//!
//! β₁ is a [`HyperParam`] so one-cycle schedules can cycle it, as PyTorch's do through
//! `param_groups[…]["betas"][0]`; the bias correction uses the β₁ of the current step, as
//! torch's does. The update itself is shared with AdamW (`adam_core.rs`).
//!
//! ```
//! use descent_optim::AdamConfig;
//! let optim = AdamConfig::new(1e-3).with_betas([0.9, 0.98]).with_amsgrad(true).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::adam_core::AdamCore;
use crate::check::{check_betas, check_eps, check_lr, check_weight_decay};
use crate::error::OptimError;
use crate::hyper::HyperParam;
use crate::regularization::WeightDecay;

optim_config! {
    /// `torch.optim.Adam`'s arguments, same names and defaults.
    pub struct AdamConfig {
        lr: f64 = 1e-3,
        /// (β₁, β₂): decay rates of the first and second moment averages.
        betas: [f64; 2] = [0.9, 0.999],
        eps: f64 = 1e-8,
        /// Coupled L2: added to the gradient before the moments (AdamW decouples it).
        weight_decay: f64 = 0.0,
        amsgrad: bool = false,
        maximize: bool = false,
    }
}

impl AdamConfig {
    /// PyTorch's constructor checks, in its order, with its messages.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        check_eps(self.eps)?;
        check_betas(self.betas)?;
        check_weight_decay(self.weight_decay)
    }

    pub fn build(&self) -> Result<Adam, OptimError> {
        self.validate()?;
        Ok(Adam {
            core: AdamCore {
                beta1: HyperParam::new(self.betas[0]),
                beta2: self.betas[1],
                eps: self.eps,
                decay: WeightDecay::Coupled(self.weight_decay),
                amsgrad: self.amsgrad,
                maximize: self.maximize,
            },
        })
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Adam {
    core: AdamCore,
}

impl Adam {
    /// The live β₁: `set` it between steps to cycle it (one-cycle's `cycle_momentum`).
    pub fn beta1(&self) -> HyperParam {
        self.core.beta1.clone()
    }
}

/// Kept at its old path: `descent_optim::adam::AdamState`.
pub use crate::adam_core::AdamState;

impl Optimizer for Adam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        self.core.step(lr, tensor, grad, state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
