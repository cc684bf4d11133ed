//! Averaged SGD, exactly `torch.optim.ASGD` (single-tensor path, `capturable=False`).
//!
//! For each parameter θ with gradient g, at learning rate γ, step t = 1, 2, … (PyTorch's order);
//! η and μ are per-parameter state, η₀ = γ (the lr of the first step) and μ₀ = 1:
//!
//! ```text
//! t ← t + 1
//! g ← −g                                  if maximize
//! g ← g + λ_wd·θ                          if weight_decay λ_wd ≠ 0   (coupled L2)
//! θ ← θ·(1 − λ·η)                         (decay term, λ = lambd)
//! θ ← θ + (−η)·g
//! ā ← ā + (θ − ā)·μ    if μ ≠ 1,  else ā ← θ   (ax: the running average of θ)
//! η ← γ / (1 + λ·γ·t)^α                   (f64 scalar arithmetic, as Python's floats)
//! μ ← 1 / max(1, t − t₀)
//! ```
//!
//! θ itself is the SGD iterate; the average ā (torch's `ax`) is kept in the state and never
//! written back to the model, as in torch: read it from the state if you want the averaged
//! parameters. η and μ are f64 whatever the parameter's dtype (torch keeps them in the default
//! dtype, so an f32 torch run rounds them to f32; f64 runs agree).
//!
//! ```
//! use descent_optim::AsgdConfig;
//! let optim = AsgdConfig::new(1e-2).with_t0(100.0).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_lr, check_nonneg, check_weight_decay};
use crate::error::OptimError;
use crate::parts::maximize;
use crate::regularization::WeightDecay;

optim_config! {
    /// `torch.optim.ASGD`'s arguments, same names and defaults.
    pub struct AsgdConfig {
        lr: f64 = 1e-2,
        /// Decay term λ: θ ← θ·(1 − λ·η) each step, and η's decay rate.
        lambd: f64 = 1e-4,
        /// Power α of η's decay.
        alpha: f64 = 0.75,
        /// The step after which averaging starts (μ = 1/(t − t₀) from then on).
        t0: f64 = 1e6,
        /// Coupled L2: added to the gradient.
        weight_decay: f64 = 0.0,
        maximize: bool = false,
    }
}

impl AsgdConfig {
    /// PyTorch's constructor checks, in its order, with its messages.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        check_nonneg("lambd", self.lambd)?;
        check_nonneg("alpha", self.alpha)?;
        check_weight_decay(self.weight_decay)
    }

    pub fn build(&self) -> Result<Asgd, OptimError> {
        self.validate()?;
        Ok(Asgd {
            lambd: self.lambd,
            alpha: self.alpha,
            t0: self.t0,
            decay: WeightDecay::Coupled(self.weight_decay),
            maximize: self.maximize,
        })
    }
}

crate::optim_state! {
    /// torch's ASGD state: `step`, `eta`, `mu` (scalars) and `ax`, the averaged parameter.
    pub struct AsgdState<const D: usize> {
        pub step: u64,
        pub eta: f64,
        pub mu: f64,
        pub ax: Tensor<D>,
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Asgd {
    lambd: f64,
    alpha: f64,
    t0: f64,
    decay: WeightDecay,
    maximize: bool,
}

impl Optimizer for Asgd {
    type State<const D: usize> = AsgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let AsgdState { step, eta, mu, ax } = match state {
            Some(s) => s.land(&param),
            None => AsgdState { step: 0, eta: lr, mu: 1.0, ax: param.zeros_like() },
        };
        let step = step + 1;
        let grad = maximize(grad, self.maximize);
        let (param, grad) = self.decay.apply(param, grad, lr);
        let param = param.mul_scalar(1.0 - self.lambd * eta);
        let param = param + grad.mul_scalar(-eta);
        let ax = if mu != 1.0 { ax.clone() + (param.clone() - ax).mul_scalar(mu) } else { param.clone() };
        let t = step as f64;
        let eta = lr / (1.0 + self.lambd * lr * t).powf(self.alpha);
        let mu = 1.0 / f64::max(1.0, t - self.t0);
        (param, Some(AsgdState { step, eta, mu, ax }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
