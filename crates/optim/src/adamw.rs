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
//! The decay multiplies θ by `1 − γ·λ` on every step, even when λ = 0 (an exact no-op), as torch
//! does; it scales with the *scheduled* learning rate γ.

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::adam::{check_betas, check_eps, check_lr, check_weight_decay, default_betas, default_eps, AdamCore};
use crate::{AdamState, HyperParam, OptimError};

fn default_lr() -> f64 {
    1e-3
}

fn default_weight_decay() -> f64 {
    1e-2
}

/// `torch.optim.AdamW`'s arguments, same names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamWConfig {
    #[serde(default = "default_lr")]
    pub lr: f64,
    #[serde(default = "default_betas")]
    pub betas: [f64; 2],
    #[serde(default = "default_eps")]
    pub eps: f64,
    /// Decoupled: θ ← θ·(1 − γ·λ) before the moment update.
    #[serde(default = "default_weight_decay")]
    pub weight_decay: f64,
    #[serde(default)]
    pub amsgrad: bool,
    #[serde(default)]
    pub maximize: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: default_lr(),
            betas: default_betas(),
            eps: default_eps(),
            weight_decay: default_weight_decay(),
            amsgrad: false,
            maximize: false,
        }
    }
}

impl AdamWConfig {
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
    pub fn with_amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
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

    pub fn build(&self) -> Result<AdamW, OptimError> {
        self.validate()?;
        Ok(AdamW {
            core: AdamCore {
                beta1: HyperParam::new(self.betas[0]),
                beta2: self.betas[1],
                eps: self.eps,
                weight_decay: self.weight_decay,
                amsgrad: self.amsgrad,
                maximize: self.maximize,
                decoupled: true,
            },
        })
    }

    pub fn init(&self) -> Result<ModuleOptimizer, OptimError> {
        Ok(self.build()?.into())
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
        state.into_device(device)
    }
}
