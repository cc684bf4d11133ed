//! Adamax, exactly `torch.optim.Adamax` (single-tensor path): Adam with an infinity-norm
//! second moment.
//!
//! For each parameter θ with gradient g, at learning rate γ, step t = 1, 2, … (PyTorch's order):
//!
//! ```text
//! g ← −g                               if maximize
//! t ← t + 1
//! g ← g + λ·θ                          if weight_decay λ ≠ 0   (coupled L2)
//! m ← m + (1 − β₁)·(g − m)             (exp_avg, m₀ = 0; torch's lerp)
//! u ← max(β₂·u, |g| + ε)               (exp_inf, u₀ = 0)
//! θ ← θ + (−γ/(1 − β₁ᵗ)·m) / u
//! ```
//!
//! ε sits inside the max, not in the denominator. β₁ is a [`HyperParam`] for cycling schedules.

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::adam::{
    addcdiv, check_betas, check_eps, check_lr, check_weight_decay, coupled_grad, default_betas, default_eps, lerp,
    push_step, take, take_step,
};
use crate::record::push_tensor;
use crate::{HyperParam, OptimError};

fn default_lr() -> f64 {
    2e-3
}

/// `torch.optim.Adamax`'s arguments, same names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamaxConfig {
    #[serde(default = "default_lr")]
    pub lr: f64,
    #[serde(default = "default_betas")]
    pub betas: [f64; 2],
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub maximize: bool,
}

impl Default for AdamaxConfig {
    fn default() -> Self {
        Self { lr: default_lr(), betas: default_betas(), eps: default_eps(), weight_decay: 0.0, maximize: false }
    }
}

impl AdamaxConfig {
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

    pub fn build(&self) -> Result<Adamax, OptimError> {
        self.validate()?;
        Ok(Adamax {
            beta1: HyperParam::new(self.betas[0]),
            beta2: self.betas[1],
            eps: self.eps,
            weight_decay: self.weight_decay,
            maximize: self.maximize,
        })
    }

    pub fn init(&self) -> Result<ModuleOptimizer, OptimError> {
        Ok(self.build()?.into())
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Adamax {
    beta1: HyperParam,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    maximize: bool,
}

impl Adamax {
    /// The live β₁: `set` it between steps to cycle it.
    pub fn beta1(&self) -> HyperParam {
        self.beta1.clone()
    }
}

/// Per-parameter state: torch's `step`, `exp_avg` and `exp_inf`.
#[derive(Clone, Debug)]
pub struct AdamaxState<const D: usize> {
    pub step: u64,
    pub exp_avg: Tensor<D>,
    pub exp_inf: Tensor<D>,
}

impl<const D: usize> RecordState for AdamaxState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_step(out, prefix, self.step);
        push_tensor(out, prefix, "exp_avg", &self.exp_avg);
        push_tensor(out, prefix, "exp_inf", &self.exp_inf);
    }
    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            step: take_step(src, prefix)?,
            exp_avg: take(src, prefix, "exp_avg", device)?,
            exp_inf: take(src, prefix, "exp_inf", device)?,
        })
    }
}

impl Optimizer for Adamax {
    type State<const D: usize> = AdamaxState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let AdamaxState { step, exp_avg, exp_inf } = state.unwrap_or_else(|| AdamaxState {
            step: 0,
            exp_avg: tensor.zeros_like(),
            exp_inf: tensor.zeros_like(),
        });
        let step = step + 1;
        let grad = coupled_grad(&tensor, grad, self.maximize, self.weight_decay);
        let beta1 = self.beta1.get();
        let exp_avg = lerp(exp_avg, grad.clone(), 1.0 - beta1);
        let exp_inf = exp_inf.mul_scalar(self.beta2).max_pair(grad.abs().add_scalar(self.eps));
        let bias_correction = 1.0 - beta1.powf(step as f64);
        let clr = lr / bias_correction;
        let next = addcdiv(tensor, exp_avg.clone(), exp_inf.clone(), -clr);
        (next, Some(AdamaxState { step, exp_avg, exp_inf }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdamaxState {
            step: state.step,
            exp_avg: state.exp_avg.to_device(device),
            exp_inf: state.exp_inf.to_device(device),
        }
    }
}
