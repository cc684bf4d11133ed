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

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::adam::{check_eps, check_lr, check_weight_decay, coupled_grad, ema_square, push_step, py_float, take, take_step};
use crate::record::push_tensor;
use crate::OptimError;

fn default_lr() -> f64 {
    1.0
}

fn default_rho() -> f64 {
    0.9
}

fn default_eps() -> f64 {
    1e-6
}

/// `torch.optim.Adadelta`'s arguments, same names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdadeltaConfig {
    /// Scales the delta; torch's default 1.0 is the paper's unscaled update.
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Decay of both running averages.
    #[serde(default = "default_rho")]
    pub rho: f64,
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub maximize: bool,
}

impl Default for AdadeltaConfig {
    fn default() -> Self {
        Self { lr: default_lr(), rho: default_rho(), eps: default_eps(), weight_decay: 0.0, maximize: false }
    }
}

impl AdadeltaConfig {
    pub fn new(lr: f64) -> Self {
        Self { lr, ..Self::default() }
    }
    pub fn with_rho(mut self, rho: f64) -> Self {
        self.rho = rho;
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
        if !(0.0 <= self.rho && self.rho <= 1.0) {
            return Err(OptimError::invalid(format!("Invalid rho value: {}", py_float(self.rho))));
        }
        check_eps(self.eps)?;
        check_weight_decay(self.weight_decay)
    }

    pub fn build(&self) -> Result<Adadelta, OptimError> {
        self.validate()?;
        Ok(Adadelta { rho: self.rho, eps: self.eps, weight_decay: self.weight_decay, maximize: self.maximize })
    }

    pub fn init(&self) -> Result<ModuleOptimizer, OptimError> {
        Ok(self.build()?.into())
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Adadelta {
    rho: f64,
    eps: f64,
    weight_decay: f64,
    maximize: bool,
}

/// Per-parameter state: torch's `step`, `square_avg` and `acc_delta`.
#[derive(Clone, Debug)]
pub struct AdadeltaState<const D: usize> {
    pub step: u64,
    pub square_avg: Tensor<D>,
    pub acc_delta: Tensor<D>,
}

impl<const D: usize> RecordState for AdadeltaState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_step(out, prefix, self.step);
        push_tensor(out, prefix, "square_avg", &self.square_avg);
        push_tensor(out, prefix, "acc_delta", &self.acc_delta);
    }
    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            step: take_step(src, prefix)?,
            square_avg: take(src, prefix, "square_avg", device)?,
            acc_delta: take(src, prefix, "acc_delta", device)?,
        })
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
        let AdadeltaState { step, square_avg, acc_delta } = state.unwrap_or_else(|| AdadeltaState {
            step: 0,
            square_avg: tensor.zeros_like(),
            acc_delta: tensor.zeros_like(),
        });
        let step = step + 1;
        let grad = coupled_grad(&tensor, grad, self.maximize, self.weight_decay);
        let square_avg = ema_square(square_avg, grad.clone(), self.rho);
        let std = square_avg.clone().add_scalar(self.eps).sqrt();
        let delta = acc_delta.clone().add_scalar(self.eps).sqrt() / std * grad;
        let acc_delta = ema_square(acc_delta, delta.clone(), self.rho);
        let next = tensor + delta.mul_scalar(-lr);
        (next, Some(AdadeltaState { step, square_avg, acc_delta }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdadeltaState {
            step: state.step,
            square_avg: state.square_avg.to_device(device),
            acc_delta: state.acc_delta.to_device(device),
        }
    }
}
