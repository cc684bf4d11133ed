//! Stochastic gradient descent, exactly `torch.optim.SGD` — plus a proximal L1 step.
//!
//! For each parameter θ with gradient g, at learning rate γ (PyTorch's order):
//!
//! ```text
//! g ← −g                          if maximize
//! g ← g + λ·θ                     if weight_decay λ ≠ 0   (coupled L2)
//! if momentum μ ≠ 0:
//!     b ← g                       on the first step (no dampening)
//!     b ← μ·b + (1 − τ)·g         afterwards (dampening τ)
//!     g ← g + μ·b                 if nesterov
//!     g ← b                       otherwise
//! θ ← θ − γ·g
//! θ ← sign(θ)·max(|θ| − γ·α, 0)   if l1 α > 0             (proximal L1: exact zeros)
//! ```
//!
//! Plain (full-batch or mini-batch) gradient descent is `Sgd` with momentum 0: what makes a
//! step "batch", "mini-batch" or "stochastic" is the data it is given, not the update.
//!
//! The momentum is a [`HyperParam`] shared with whoever built the optimizer, so schedules that
//! cycle it (one-cycle, cyclic) can change it between steps, as PyTorch's do through
//! `param_groups`.
//!
//! ```
//! use descent_optim::SgdConfig;
//! let optim = SgdConfig::new(0.1).with_momentum(0.9).with_nesterov(true).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::error::OptimError;
use crate::parts::{maximize, Momentum, MomentumState};
use crate::regularization::{proximal_l1, WeightDecay};

/// Kept at its old path: `descent_optim::sgd::HyperParam`.
pub use crate::hyper::HyperParam;

optim_config! {
    /// `torch.optim.SGD`'s arguments, same names and defaults, plus `l1` (proximal L1).
    pub struct SgdConfig {
        /// Learning rate γ (PyTorch's default 1e-3). A scheduler, if any, overrides it per step.
        lr: f64 = 1e-3,
        momentum: f64 = 0.0,
        dampening: f64 = 0.0,
        /// Coupled L2: added to the gradient before momentum.
        weight_decay: f64 = 0.0,
        nesterov: bool = false,
        maximize: bool = false,
        /// Proximal L1 strength α, applied after the step (soft-thresholding by γ·α).
        l1: f64 = 0.0,
    }
}

impl SgdConfig {
    /// PyTorch's constructor checks, with its messages (SGD prints floats as Rust does: its
    /// messages predate the family's `repr`). PyTorch does not check `dampening`'s range;
    /// neither do we, so a ported script behaves the same.
    pub fn validate(&self) -> Result<(), OptimError> {
        let invalid = |what: &str, x: f64| Err(OptimError::invalid(format!("Invalid {what}: {x}")));
        if !(self.lr >= 0.0) {
            return invalid("learning rate", self.lr);
        }
        if !(self.momentum >= 0.0) {
            return invalid("momentum value", self.momentum);
        }
        if !(self.weight_decay >= 0.0) {
            return invalid("weight_decay value", self.weight_decay);
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(OptimError::invalid("Nesterov momentum requires a momentum and zero dampening"));
        }
        if !(self.l1 >= 0.0) {
            return invalid("l1 value", self.l1);
        }
        if !self.dampening.is_finite() {
            return invalid("dampening value", self.dampening);
        }
        Ok(())
    }

    /// The bare per-tensor optimizer (for `ModuleOptimizer::with_group` or a handle on its
    /// momentum).
    pub fn build(&self) -> Result<Sgd, OptimError> {
        self.validate()?;
        Ok(Sgd {
            momentum: HyperParam::new(self.momentum),
            dampening: self.dampening,
            decay: WeightDecay::Coupled(self.weight_decay),
            nesterov: self.nesterov,
            maximize: self.maximize,
            l1: self.l1,
        })
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Sgd {
    momentum: HyperParam,
    dampening: f64,
    decay: WeightDecay,
    nesterov: bool,
    maximize: bool,
    l1: f64,
}

impl Sgd {
    /// The live momentum μ: `set` it between steps to cycle it.
    pub fn momentum(&self) -> HyperParam {
        self.momentum.clone()
    }

    fn momentum_now(&self) -> Momentum {
        Momentum { momentum: self.momentum.get(), dampening: self.dampening, nesterov: self.nesterov }
    }

    /// The update as tensor operations, on any device (the reference the fused path matches
    /// bit for bit). Returns the new parameter (before proximal L1) and momentum buffer.
    pub(crate) fn step_ops<const D: usize>(
        &self,
        lr: LearningRate,
        momentum: Momentum,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        buffer: Option<Tensor<D>>,
    ) -> (Tensor<D>, Option<Tensor<D>>) {
        let d_p = maximize(grad, self.maximize);
        let (tensor, d_p) = self.decay.apply(tensor, d_p, lr);
        let (d_p, buffer) = momentum.apply(d_p, buffer);
        (tensor - d_p.mul_scalar(lr), buffer)
    }

    /// The same update in one in-place pass on Burn's CPU (flex) backend where it applies.
    fn update<const D: usize>(
        &self,
        lr: LearningRate,
        m: Momentum,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        buffer: Option<Tensor<D>>,
    ) -> (Tensor<D>, Option<Tensor<D>>) {
        #[cfg(feature = "fused")]
        {
            let (WeightDecay::Coupled(weight_decay) | WeightDecay::Decoupled(weight_decay)) = self.decay;
            let (momentum, dampening, nesterov, maximize) = (m.momentum, m.dampening, m.nesterov, self.maximize);
            let c = crate::fused::SgdCoeffs { lr, momentum, dampening, weight_decay, nesterov, maximize };
            crate::fused::sgd_or(&c, tensor, grad, buffer, |t, g, b| self.step_ops(lr, m, t, g, b))
        }
        #[cfg(not(feature = "fused"))]
        self.step_ops(lr, m, tensor, grad, buffer)
    }
}

/// Per-parameter state: the momentum part's, PyTorch's `momentum_buffer`.
pub type SgdState<const D: usize> = MomentumState<D>;

impl Optimizer for Sgd {
    type State<const D: usize> = SgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let buffer = state.and_then(|s| s.land(&tensor).momentum_buffer);
        let (mut next, buffer) = self.update(lr, self.momentum_now(), tensor, grad, buffer);
        if self.l1 > 0.0 {
            next = proximal_l1(next, lr * self.l1);
        }
        (next, buffer.map(|b| SgdState { momentum_buffer: Some(b) }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
