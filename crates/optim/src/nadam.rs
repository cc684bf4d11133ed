//! NAdam, exactly `torch.optim.NAdam` (single-tensor path): Adam with Nesterov momentum and
//! Dozat's momentum-decay schedule.
//!
//! For each parameter θ with gradient g, at learning rate γ, step t = 1, 2, … (PyTorch's order):
//!
//! ```text
//! g ← −g                               if maximize
//! t ← t + 1
//! θ ← θ·(1 − γ·λ)                      if weight_decay λ ≠ 0 and decoupled_weight_decay
//! g ← g + λ·θ                          if weight_decay λ ≠ 0 otherwise
//! μₜ   ← β₁·(1 − ½·0.96^(t·ψ))         (ψ = momentum_decay)
//! μₜ₊₁ ← β₁·(1 − ½·0.96^((t+1)·ψ))
//! Πₜ ← Πₜ₋₁·μₜ                         (mu_product, Π₀ = 1)
//! m ← m + (1 − β₁)·(g − m)
//! v ← β₂·v + ((1 − β₂)·g)·g
//! d ← √(v / (1 − β₂ᵗ)) + ε
//! θ ← θ + (−γ·(1 − μₜ)/(1 − Πₜ)·g) / d
//! θ ← θ + (−γ·μₜ₊₁/(1 − Πₜ·μₜ₊₁)·m) / d
//! ```
//!
//! `mu_product` is kept in f64 whatever the tensors' dtype. (torch keeps it in its default scalar
//! dtype, float32 unless `torch.set_default_dtype(torch.float64)`, which moves f64 trajectories
//! by ~1e-9 relative; the fixtures were made with the f64 default.)

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::adam::{
    addcdiv, check_betas, check_eps, check_lr, check_nonneg, check_weight_decay, default_betas, default_eps,
    ema_square, lerp, push_f64, push_step, take, take_f64, take_step,
};
use crate::record::push_tensor;
use crate::{HyperParam, OptimError};

fn default_lr() -> f64 {
    2e-3
}

fn default_momentum_decay() -> f64 {
    4e-3
}

/// `torch.optim.NAdam`'s arguments, same names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NAdamConfig {
    #[serde(default = "default_lr")]
    pub lr: f64,
    #[serde(default = "default_betas")]
    pub betas: [f64; 2],
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default)]
    pub weight_decay: f64,
    /// ψ in the momentum schedule μₜ = β₁·(1 − ½·0.96^(t·ψ)).
    #[serde(default = "default_momentum_decay")]
    pub momentum_decay: f64,
    /// AdamW-style decay (θ·(1 − γ·λ)) instead of L2 added to the gradient.
    #[serde(default)]
    pub decoupled_weight_decay: bool,
    #[serde(default)]
    pub maximize: bool,
}

impl Default for NAdamConfig {
    fn default() -> Self {
        Self {
            lr: default_lr(),
            betas: default_betas(),
            eps: default_eps(),
            weight_decay: 0.0,
            momentum_decay: default_momentum_decay(),
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

impl NAdamConfig {
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
    pub fn with_momentum_decay(mut self, momentum_decay: f64) -> Self {
        self.momentum_decay = momentum_decay;
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
        check_weight_decay(self.weight_decay)?;
        check_nonneg("momentum_decay", self.momentum_decay)
    }

    pub fn build(&self) -> Result<NAdam, OptimError> {
        self.validate()?;
        Ok(NAdam {
            beta1: HyperParam::new(self.betas[0]),
            beta2: self.betas[1],
            eps: self.eps,
            weight_decay: self.weight_decay,
            momentum_decay: self.momentum_decay,
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
pub struct NAdam {
    beta1: HyperParam,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    momentum_decay: f64,
    decoupled_weight_decay: bool,
    maximize: bool,
}

impl NAdam {
    /// The live β₁: `set` it between steps to cycle it.
    pub fn beta1(&self) -> HyperParam {
        self.beta1.clone()
    }
}

/// Per-parameter state: torch's `step`, `mu_product`, `exp_avg` and `exp_avg_sq`.
#[derive(Clone, Debug)]
pub struct NAdamState<const D: usize> {
    pub step: u64,
    pub mu_product: f64,
    pub exp_avg: Tensor<D>,
    pub exp_avg_sq: Tensor<D>,
}

impl<const D: usize> RecordState for NAdamState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_step(out, prefix, self.step);
        push_f64(out, prefix, "mu_product", self.mu_product);
        push_tensor(out, prefix, "exp_avg", &self.exp_avg);
        push_tensor(out, prefix, "exp_avg_sq", &self.exp_avg_sq);
    }
    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            step: take_step(src, prefix)?,
            mu_product: take_f64(src, prefix, "mu_product")?,
            exp_avg: take(src, prefix, "exp_avg", device)?,
            exp_avg_sq: take(src, prefix, "exp_avg_sq", device)?,
        })
    }
}

impl Optimizer for NAdam {
    type State<const D: usize> = NAdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let mut grad = if self.maximize { grad.neg() } else { grad };
        let mut param = tensor;
        let NAdamState { step, mu_product, exp_avg, exp_avg_sq } = state.unwrap_or_else(|| NAdamState {
            step: 0,
            mu_product: 1.0,
            exp_avg: param.zeros_like(),
            exp_avg_sq: param.zeros_like(),
        });
        let step = step + 1;
        let t = step as f64;
        let beta1 = self.beta1.get();
        let bias_correction2 = 1.0 - self.beta2.powf(t);

        if self.weight_decay != 0.0 {
            if self.decoupled_weight_decay {
                param = param.mul_scalar(1.0 - lr * self.weight_decay);
            } else {
                grad = grad + param.clone().mul_scalar(self.weight_decay);
            }
        }

        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        let mu_product = mu_product * mu;

        let exp_avg = lerp(exp_avg, grad.clone(), 1.0 - beta1);
        let exp_avg_sq = ema_square(exp_avg_sq, grad.clone(), self.beta2);
        let denom = exp_avg_sq.clone().div_scalar(bias_correction2).sqrt().add_scalar(self.eps);

        let mu_product_next = mu_product * mu_next;
        let param = addcdiv(param, grad, denom.clone(), -lr * (1.0 - mu) / (1.0 - mu_product));
        let param = addcdiv(param, exp_avg.clone(), denom, (-lr * mu_next) / (1.0 - mu_product_next));
        (param, Some(NAdamState { step, mu_product, exp_avg, exp_avg_sq }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        NAdamState {
            step: state.step,
            mu_product: state.mu_product,
            exp_avg: state.exp_avg.to_device(device),
            exp_avg_sq: state.exp_avg_sq.to_device(device),
        }
    }
}
