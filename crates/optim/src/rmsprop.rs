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

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::adam::{
    check_eps, check_lr, check_nonneg, check_weight_decay, coupled_grad, ema_square, lerp, push_step,
    take, take_step,
};
use crate::record::{push_opt_tensor, push_tensor};
use crate::{HyperParam, OptimError};

fn default_lr() -> f64 {
    1e-2
}

fn default_alpha() -> f64 {
    0.99
}

fn default_eps() -> f64 {
    1e-8
}

/// `torch.optim.RMSprop`'s arguments, same names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RmsPropConfig {
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Smoothing constant of the squared-gradient average.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    #[serde(default = "default_eps")]
    pub eps: f64,
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub momentum: f64,
    /// Normalise by the estimated variance (s − ḡ²) instead of the raw second moment.
    #[serde(default)]
    pub centered: bool,
    #[serde(default)]
    pub maximize: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        Self {
            lr: default_lr(),
            alpha: default_alpha(),
            eps: default_eps(),
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

impl RmsPropConfig {
    pub fn new(lr: f64) -> Self {
        Self { lr, ..Self::default() }
    }
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
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
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }
    pub fn with_centered(mut self, centered: bool) -> Self {
        self.centered = centered;
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
        check_nonneg("momentum", self.momentum)?;
        check_weight_decay(self.weight_decay)?;
        check_nonneg("alpha", self.alpha)
    }

    pub fn build(&self) -> Result<RmsProp, OptimError> {
        self.validate()?;
        Ok(RmsProp {
            alpha: self.alpha,
            eps: self.eps,
            weight_decay: self.weight_decay,
            momentum: HyperParam::new(self.momentum),
            centered: self.centered,
            maximize: self.maximize,
        })
    }

    pub fn init(&self) -> Result<ModuleOptimizer, OptimError> {
        Ok(self.build()?.into())
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct RmsProp {
    alpha: f64,
    eps: f64,
    weight_decay: f64,
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

/// Per-parameter state: torch's `step`, `square_avg`, and `grad_avg` (centered) and
/// `momentum_buffer` (momentum > 0) when used.
#[derive(Clone, Debug)]
pub struct RmsPropState<const D: usize> {
    pub step: u64,
    pub square_avg: Tensor<D>,
    pub grad_avg: Option<Tensor<D>>,
    pub momentum_buffer: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for RmsPropState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_step(out, prefix, self.step);
        push_tensor(out, prefix, "square_avg", &self.square_avg);
        push_opt_tensor(out, prefix, "grad_avg", &self.grad_avg);
        push_opt_tensor(out, prefix, "momentum_buffer", &self.momentum_buffer);
    }
    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            step: take_step(src, prefix)?,
            square_avg: take(src, prefix, "square_avg", device)?,
            grad_avg: take(src, prefix, "grad_avg", device),
            momentum_buffer: take(src, prefix, "momentum_buffer", device),
        })
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
        let RmsPropState { step, square_avg, grad_avg, momentum_buffer } =
            state.unwrap_or_else(|| RmsPropState {
                step: 0,
                square_avg: tensor.zeros_like(),
                grad_avg: None,
                momentum_buffer: None,
            });
        let step = step + 1;
        let grad = coupled_grad(&tensor, grad, self.maximize, self.weight_decay);
        let square_avg = ema_square(square_avg, grad.clone(), self.alpha);

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
            let buf = momentum_buffer.unwrap_or_else(|| tensor.zeros_like());
            // buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr)
            let buf = buf.mul_scalar(momentum) + grad / avg;
            (tensor + buf.clone().mul_scalar(-lr), Some(buf))
        } else {
            (tensor + grad.mul_scalar(-lr) / avg, momentum_buffer)
        };
        (next, Some(RmsPropState { step, square_avg, grad_avg, momentum_buffer }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        RmsPropState {
            step: state.step,
            square_avg: state.square_avg.to_device(device),
            grad_avg: state.grad_avg.map(|t| t.to_device(device)),
            momentum_buffer: state.momentum_buffer.map(|t| t.to_device(device)),
        }
    }
}
