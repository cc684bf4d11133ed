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
//!
//! ```
//! use descent_optim::AdagradConfig;
//! let optim = AdagradConfig::new(0.01).with_lr_decay(1e-4).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_eps, check_lr, check_nonneg, check_weight_decay};
use crate::error::OptimError;
use crate::parts::maximize;
use crate::regularization::WeightDecay;

optim_config! {
    /// `torch.optim.Adagrad`'s arguments, same names and defaults.
    pub struct AdagradConfig {
        lr: f64 = 1e-2,
        /// γₜ = γ / (1 + (t − 1)·lr_decay).
        lr_decay: f64 = 0.0,
        weight_decay: f64 = 0.0,
        /// Starting value of the squared-gradient sum.
        initial_accumulator_value: f64 = 0.0,
        eps: f64 = 1e-10,
        maximize: bool = false,
    }
}

impl AdagradConfig {
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
            decay: WeightDecay::Coupled(self.weight_decay),
            initial_accumulator_value: self.initial_accumulator_value,
            eps: self.eps,
            maximize: self.maximize,
        })
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Adagrad {
    lr_decay: f64,
    decay: WeightDecay,
    initial_accumulator_value: f64,
    eps: f64,
    maximize: bool,
}

crate::optim_state! {
    /// Per-parameter state: torch's `step` and `sum`.
    pub struct AdagradState<const D: usize> {
        pub step: u64,
        pub sum: Tensor<D>,
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
        let state = state.map(|s| s.land(&tensor));
        let AdagradState { step, sum } = state.unwrap_or_else(|| AdagradState {
            step: 0,
            sum: tensor.full_like(self.initial_accumulator_value),
        });
        let step = step + 1;
        let (tensor, grad) = self.decay.apply(tensor, maximize(grad, self.maximize), lr);
        let clr = lr / (1.0 + (step as f64 - 1.0) * self.lr_decay);
        // state_sum.addcmul_(grad, grad, value=1)
        let sum = sum + grad.clone() * grad.clone();
        let std = sum.clone().sqrt().add_scalar(self.eps);
        (tensor + grad.mul_scalar(-clr) / std, Some(AdagradState { step, sum }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
