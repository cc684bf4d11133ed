//! Adagrad, exactly `torch.optim.Adagrad` (single-tensor path, dense gradients).
//!
//! For each parameter θ with gradient g, at learning rate γ, step t = 1, 2, … (PyTorch's order):
//!
//! ```text
//! t ← t + 1
//! g ← −g                               if maximize
//! g ← g + λ·θ                          if weight_decay λ ≠ 0   (coupled L2)
//! γₜ ← γ / (1 + (t − 1)·lr_decay)
//! S ← S + g·g                          (sum, S₀ = initial_accumulator_value)
//! θ ← θ + (−γₜ·g) / (√S + ε)
//! ```

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::adam::{check_eps, check_lr, check_nonneg, check_weight_decay, coupled_grad, push_step, take, take_step};
use crate::record::push_tensor;
use crate::OptimError;

fn default_lr() -> f64 {
    1e-2
}

fn default_eps() -> f64 {
    1e-10
}

/// `torch.optim.Adagrad`'s arguments, same names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdagradConfig {
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// γₜ = γ / (1 + (t − 1)·lr_decay).
    #[serde(default)]
    pub lr_decay: f64,
    #[serde(default)]
    pub weight_decay: f64,
    /// Starting value of the squared-gradient sum.
    #[serde(default)]
    pub initial_accumulator_value: f64,
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default)]
    pub maximize: bool,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        Self {
            lr: default_lr(),
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: default_eps(),
            maximize: false,
        }
    }
}

impl AdagradConfig {
    pub fn new(lr: f64) -> Self {
        Self { lr, ..Self::default() }
    }
    pub fn with_lr_decay(mut self, lr_decay: f64) -> Self {
        self.lr_decay = lr_decay;
        self
    }
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }
    pub fn with_initial_accumulator_value(mut self, initial_accumulator_value: f64) -> Self {
        self.initial_accumulator_value = initial_accumulator_value;
        self
    }
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }
    pub fn with_maximize(mut self, maximize: bool) -> Self {
        self.maximize = maximize;
        self
    }

    /// PyTorch's constructor checks, in its order, with its messages.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        check_nonneg("lr_decay", self.lr_decay)?;
        check_weight_decay(self.weight_decay)?;
        check_nonneg("initial_accumulator_value", self.initial_accumulator_value)?;
        check_eps(self.eps)
    }

    pub fn build(&self) -> Result<Adagrad, OptimError> {
        self.validate()?;
        Ok(Adagrad {
            lr_decay: self.lr_decay,
            weight_decay: self.weight_decay,
            initial_accumulator_value: self.initial_accumulator_value,
            eps: self.eps,
            maximize: self.maximize,
        })
    }

    pub fn init(&self) -> Result<ModuleOptimizer, OptimError> {
        Ok(self.build()?.into())
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Adagrad {
    lr_decay: f64,
    weight_decay: f64,
    initial_accumulator_value: f64,
    eps: f64,
    maximize: bool,
}

/// Per-parameter state: torch's `step` and `sum`.
#[derive(Clone, Debug)]
pub struct AdagradState<const D: usize> {
    pub step: u64,
    pub sum: Tensor<D>,
}

impl<const D: usize> RecordState for AdagradState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_step(out, prefix, self.step);
        push_tensor(out, prefix, "sum", &self.sum);
    }
    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self { step: take_step(src, prefix)?, sum: take(src, prefix, "sum", device)? })
    }
}

impl Optimizer for Adagrad {
    type State<const D: usize> = AdagradState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let AdagradState { step, sum } = state.unwrap_or_else(|| AdagradState {
            step: 0,
            sum: tensor.full_like(self.initial_accumulator_value),
        });
        let step = step + 1;
        let grad = coupled_grad(&tensor, grad, self.maximize, self.weight_decay);
        let clr = lr / (1.0 + (step as f64 - 1.0) * self.lr_decay);
        // state_sum.addcmul_(grad, grad, value=1)
        let sum = sum + grad.clone() * grad.clone();
        let std = sum.clone().sqrt().add_scalar(self.eps);
        let next = tensor + grad.mul_scalar(-clr) / std;
        (next, Some(AdagradState { step, sum }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdagradState { step: state.step, sum: state.sum.to_device(device) }
    }
}
