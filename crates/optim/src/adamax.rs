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
//!
//! ```
//! use descent_optim::AdamaxConfig;
//! let optim = AdamaxConfig::new(2e-3).with_betas([0.9, 0.999]).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_betas, check_eps, check_lr, check_weight_decay};
use crate::error::OptimError;
use crate::hyper::HyperParam;
use crate::parts::{addcdiv, bias_correction, first_moment, maximize};
use crate::regularization::WeightDecay;

optim_config! {
    /// `torch.optim.Adamax`'s arguments, same names and defaults.
    pub struct AdamaxConfig {
        lr: f64 = 2e-3,
        betas: [f64; 2] = [0.9, 0.999],
        eps: f64 = 1e-8,
        weight_decay: f64 = 0.0,
        maximize: bool = false,
    }
}

impl AdamaxConfig {
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
            decay: WeightDecay::Coupled(self.weight_decay),
            maximize: self.maximize,
        })
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Adamax {
    beta1: HyperParam,
    beta2: f64,
    eps: f64,
    decay: WeightDecay,
    maximize: bool,
}

impl Adamax {
    /// The live β₁: `set` it between steps to cycle it.
    pub fn beta1(&self) -> HyperParam {
        self.beta1.clone()
    }
}

crate::optim_state! {
    /// Per-parameter state: torch's `step`, `exp_avg` and `exp_inf`.
    pub struct AdamaxState<const D: usize> {
        pub step: u64,
        pub exp_avg: Tensor<D>,
        pub exp_inf: Tensor<D>,
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
        let state = state.map(|s| s.land(&tensor));
        let AdamaxState { step, exp_avg, exp_inf } = state.unwrap_or_else(|| AdamaxState {
            step: 0,
            exp_avg: tensor.zeros_like(),
            exp_inf: tensor.zeros_like(),
        });
        let step = step + 1;
        let (tensor, grad) = self.decay.apply(tensor, maximize(grad, self.maximize), lr);
        let beta1 = self.beta1.get();
        let exp_avg = first_moment(exp_avg, grad.clone(), beta1);
        let exp_inf = exp_inf.mul_scalar(self.beta2).max_pair(grad.abs().add_scalar(self.eps));
        let clr = lr / bias_correction(beta1, step);
        let next = addcdiv(tensor, exp_avg.clone(), exp_inf.clone(), -clr);
        (next, Some(AdamaxState { step, exp_avg, exp_inf }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
