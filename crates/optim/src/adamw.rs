//! AdamW, exactly `torch.optim.AdamW` (single-tensor path): Adam with decoupled weight decay.
//!
//! For each parameter θ with gradient g, at learning rate γ, step t = 1, 2, … (PyTorch's order):
//!
//! ```text
//! g ← −g                               if maximize
//! t ← t + 1
//! θ ← θ·(1 − γ·λ)                      (decoupled decay, λ = weight_decay, default 1e-2)
//! m ← m + (1 − β₁)·(g − m)
//! v ← β₂·v + ((1 − β₂)·g)·g
//! v̂ ← max(v̂, v); use v̂ for v         if amsgrad
//! denom ← √v / √(1 − β₂ᵗ) + ε
//! θ ← θ + (−γ/(1 − β₁ᵗ)·m) / denom
//! ```
//!
//! The decay scales with the *scheduled* learning rate γ. Torch multiplies by `1 − γ·0` when
//! λ = 0, an exact no-op that descent skips.
//!
//! ```
//! use descent_optim::AdamWConfig;
//! let optim = AdamWConfig::new(3e-4).with_weight_decay(0.1).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::adam_core::{AdamCore, AdamState};
use crate::check::{check_betas, check_eps, check_lr, check_weight_decay};
use crate::error::OptimError;
use crate::hyper::HyperParam;
use crate::regularization::WeightDecay;

optim_config! {
    /// `torch.optim.AdamW`'s arguments, same names and defaults.
    pub struct AdamWConfig {
        lr: f64 = 1e-3,
        betas: [f64; 2] = [0.9, 0.999],
        eps: f64 = 1e-8,
        /// Decoupled: θ ← θ·(1 − γ·λ) before the moment update.
        weight_decay: f64 = 1e-2,
        amsgrad: bool = false,
        maximize: bool = false,
    }
}

impl AdamWConfig {
    /// PyTorch's constructor checks, in its order, with its messages.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        check_eps(self.eps)?;
        check_betas(self.betas)?;
        check_weight_decay(self.weight_decay)
    }

    pub fn build(&self) -> Result<AdamW, OptimError> {
        self.validate()?;
        Ok(AdamW {
            core: AdamCore {
                beta1: HyperParam::new(self.betas[0]),
                beta2: self.betas[1],
                eps: self.eps,
                decay: WeightDecay::Decoupled(self.weight_decay),
                amsgrad: self.amsgrad,
                maximize: self.maximize,
            },
        })
    }
}

/// See the [module docs](self) for the update. Its state is [`AdamState`].
#[derive(Clone, Debug)]
pub struct AdamW {
    core: AdamCore,
}

impl AdamW {
    /// The live β₁: `set` it between steps to cycle it.
    pub fn beta1(&self) -> HyperParam {
        self.core.beta1.clone()
    }
}

impl Optimizer for AdamW {
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
