//! Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), as in the paper and
//! optax's `lion`. torch.optim has no Lion; argument names follow torch's conventions (`lr`,
//! `betas`, `weight_decay`), defaults the paper's.
//!
//! For each parameter θ with gradient g, at learning rate γ:
//!
//! ```text
//! t ← t + 1
//! u ← sign(β₁·m + (1 − β₁)·g)          (m₀ = 0)
//! θ ← θ − γ·(u + λ·θ)                  (decoupled weight decay λ, scaled by γ)
//! m ← β₂·m + (1 − β₂)·g
//! ```
//!
//! Every coordinate moves by exactly ±γ (plus decay), so Lion wants a learning rate 3–10× smaller
//! than AdamW's (default 1e-4) and a weight decay 3–10× larger. β₁ is a [`HyperParam`] for
//! cycling schedules.
//!
//! ```
//! use descent_optim::LionConfig;
//! let optim = LionConfig::new(1e-4).with_weight_decay(0.1).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_betas, check_lr, check_weight_decay};
use crate::error::OptimError;
use crate::hyper::HyperParam;

optim_config! {
    /// Lion's arguments, torch-style names, the paper's defaults.
    pub struct LionConfig {
        lr: f64 = 1e-4,
        /// (β₁, β₂): β₁ interpolates the update direction, β₂ the tracked momentum.
        betas: [f64; 2] = [0.9, 0.99],
        /// Decoupled: θ ← θ − γ·λ·θ.
        weight_decay: f64 = 0.0,
    }
}

impl LionConfig {
    /// The same checks (and messages) as torch's Adam family.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        check_betas(self.betas)?;
        check_weight_decay(self.weight_decay)
    }

    pub fn build(&self) -> Result<Lion, OptimError> {
        self.validate()?;
        Ok(Lion { beta1: HyperParam::new(self.betas[0]), beta2: self.betas[1], weight_decay: self.weight_decay })
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Lion {
    beta1: HyperParam,
    beta2: f64,
    weight_decay: f64,
}

impl Lion {
    /// The live β₁: `set` it between steps to cycle it.
    pub fn beta1(&self) -> HyperParam {
        self.beta1.clone()
    }
}

crate::optim_state! {
    /// Per-parameter state: the step count (optax's `count`) and the momentum `exp_avg`.
    pub struct LionState<const D: usize> {
        pub step: u64,
        pub exp_avg: Tensor<D>,
    }
}

impl Optimizer for Lion {
    type State<const D: usize> = LionState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let state = state.map(|s| s.land(&tensor));
        let LionState { step, exp_avg } = state.unwrap_or_else(|| LionState { step: 0, exp_avg: tensor.zeros_like() });
        let beta1 = self.beta1.get();
        let mut update = (exp_avg.clone().mul_scalar(beta1) + grad.clone().mul_scalar(1.0 - beta1)).sign();
        if self.weight_decay != 0.0 {
            update = update + tensor.clone().mul_scalar(self.weight_decay);
        }
        let next = tensor - update.mul_scalar(lr);
        let exp_avg = exp_avg.mul_scalar(self.beta2) + grad.mul_scalar(1.0 - self.beta2);
        (next, Some(LionState { step: step + 1, exp_avg }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
