//! RMSprop, exactly `torch.optim.RMSprop` (single-tensor path).
//!
//! For each parameter θ with gradient g, at learning rate γ (PyTorch's order):
//!
//! ```text
//! g ← −g                               if maximize
//! t ← t + 1
//! g ← g + λ·θ                          if weight_decay λ ≠ 0   (coupled L2)
//! s ← α·s + ((1 − α)·g)·g              (square_avg, s₀ = 0)
//! if centered:
//!     ḡ ← ḡ + (1 − α)·(g − ḡ)          (grad_avg, ḡ₀ = 0; torch's lerp)
//!     a ← √(s − ḡ·ḡ) + ε
//! else:
//!     a ← √s + ε
//! if momentum μ > 0:
//!     b ← μ·b + g / a                  (momentum_buffer, b₀ = 0)
//!     θ ← θ − γ·b
//! else:
//!     θ ← θ + (−γ·g) / a
//! ```
//!
//! ε is added *outside* the square root (Keras and Burn's RMSProp differ here), and the default
//! α is 0.99. The momentum μ is a [`HyperParam`] that cycling schedules may set between steps.
//!
//! ```
//! use descent_optim::RmsPropConfig;
//! let optim = RmsPropConfig::new(0.01).with_momentum(0.9).with_centered(true).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_eps, check_lr, check_nonneg, check_weight_decay};
use crate::error::OptimError;
use crate::hyper::HyperParam;
use crate::parts::{lerp, maximize, second_moment};
use crate::regularization::WeightDecay;

optim_config! {
    /// `torch.optim.RMSprop`'s arguments, same names and defaults.
    pub struct RmsPropConfig {
        lr: f64 = 1e-2,
        /// Smoothing constant of the squared-gradient average.
        alpha: f64 = 0.99,
        eps: f64 = 1e-8,
        weight_decay: f64 = 0.0,
        momentum: f64 = 0.0,
        /// Normalise by the estimated variance (s − ḡ²) instead of the raw second moment.
        centered: bool = false,
        maximize: bool = false,
    }
}

impl RmsPropConfig {
    /// PyTorch's constructor checks, in its order, with its messages.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        check_eps(self.eps)?;
        check_nonneg("momentum", self.momentum)?;
        check_weight_decay(self.weight_decay)?;
        check_nonneg("alpha", self.alpha)
    }

    pub fn build(&self) -> Result<RmsProp, OptimError> {
        self.validate()?;
        Ok(RmsProp {
            alpha: self.alpha,
            eps: self.eps,
            decay: WeightDecay::Coupled(self.weight_decay),
            momentum: HyperParam::new(self.momentum),
            centered: self.centered,
            maximize: self.maximize,
        })
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct RmsProp {
    alpha: f64,
    eps: f64,
    decay: WeightDecay,
    momentum: HyperParam,
    centered: bool,
    maximize: bool,
}

impl RmsProp {
    /// The live momentum μ: `set` it between steps to cycle it.
    pub fn momentum(&self) -> HyperParam {
        self.momentum.clone()
    }
}

crate::optim_state! {
    /// Per-parameter state: torch's `step`, `square_avg`, and `grad_avg` (centered) and
    /// `momentum_buffer` (momentum > 0) when used.
    pub struct RmsPropState<const D: usize> {
        pub step: u64,
        pub square_avg: Tensor<D>,
        pub grad_avg: Option<Tensor<D>>,
        pub momentum_buffer: Option<Tensor<D>>,
    }
}

impl Optimizer for RmsProp {
    type State<const D: usize> = RmsPropState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let state = state.map(|s| s.land(&tensor));
        let RmsPropState { step, square_avg, grad_avg, momentum_buffer } = state.unwrap_or_else(|| RmsPropState {
            step: 0,
            square_avg: tensor.zeros_like(),
            grad_avg: None,
            momentum_buffer: None,
        });
        let (tensor, grad) = self.decay.apply(tensor, maximize(grad, self.maximize), lr);
        let square_avg = second_moment(square_avg, grad.clone(), self.alpha);
        let (avg, grad_avg) = if self.centered {
            let grad_avg = lerp(grad_avg.unwrap_or_else(|| tensor.zeros_like()), grad.clone(), 1.0 - self.alpha);
            // square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
            let var = square_avg.clone() + grad_avg.clone().neg() * grad_avg.clone();
            (var.sqrt(), Some(grad_avg))
        } else {
            (square_avg.clone().sqrt(), grad_avg)
        };
        let avg = avg.add_scalar(self.eps);
        let momentum = self.momentum.get();
        let (next, momentum_buffer) = if momentum > 0.0 {
            // buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr)
            let buf = momentum_buffer.unwrap_or_else(|| tensor.zeros_like()).mul_scalar(momentum) + grad / avg;
            (tensor + buf.clone().mul_scalar(-lr), Some(buf))
        } else {
            (tensor + grad.mul_scalar(-lr) / avg, momentum_buffer)
        };
        (next, Some(RmsPropState { step: step + 1, square_avg, grad_avg, momentum_buffer }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
