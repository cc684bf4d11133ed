//! Resilient backpropagation, exactly `torch.optim.Rprop` (single-tensor path).
//!
//! Each coordinate keeps its own step size Δ (torch's `step_size`, Δ₀ = γ, the lr of the first
//! step) and the previous gradient p (torch's `prev`, p₀ = 0). Per step (PyTorch's order):
//!
//! ```text
//! t ← t + 1
//! g ← −g                                         if maximize
//! s ← sign(g·p);  s ← η₊ where s > 0, η₋ where s < 0, 1 where s = 0
//! Δ ← clamp(Δ·s, Δ_min, Δ_max)                   (step_sizes = [Δ_min, Δ_max])
//! g ← 0 where s = η₋                             (a sign change: skip this coordinate once)
//! θ ← θ − sign(g)·Δ
//! p ← g
//! ```
//!
//! Only the gradient's sign is used, so Rprop is meant for full-batch training; the lr is read
//! once, to initialise Δ (a schedule changing it later has no effect, as in torch).
//!
//! ```
//! use descent_optim::RpropConfig;
//! let optim = RpropConfig::new(1e-2).with_etas([0.5, 1.2]).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_lr, py_float};
use crate::error::OptimError;
use crate::parts::maximize;

optim_config! {
    /// `torch.optim.Rprop`'s arguments, same names and defaults.
    pub struct RpropConfig {
        lr: f64 = 1e-2,
        /// (η₋, η₊): the factors a step size is multiplied by after a sign change / no change.
        etas: [f64; 2] = [0.5, 1.2],
        /// (Δ_min, Δ_max): the range step sizes are clamped to.
        step_sizes: [f64; 2] = [1e-6, 50.0],
        maximize: bool = false,
    }
}

impl RpropConfig {
    /// PyTorch's constructor checks, with its messages, plus one torch lacks: `step_sizes` in
    /// order (torch's clamp with Δ_min > Δ_max silently sets every step size to Δ_max).
    // `!(0 <= x)` rather than `x < 0`: NaN must fail, as torch's `not 0.0 <= x` does.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        let [minus, plus] = self.etas;
        if !(0.0 < minus && minus < 1.0 && 1.0 < plus) {
            return Err(OptimError::invalid(format!("Invalid eta values: {}, {}", py_float(minus), py_float(plus))));
        }
        let [lo, hi] = self.step_sizes;
        if !(0.0 <= lo && lo <= hi) {
            return Err(OptimError::invalid(format!(
                "Invalid step_sizes values: {}, {} (expected 0 <= minimum <= maximum)",
                py_float(lo),
                py_float(hi)
            )));
        }
        Ok(())
    }

    pub fn build(&self) -> Result<Rprop, OptimError> {
        self.validate()?;
        Ok(Rprop { etas: self.etas, step_sizes: self.step_sizes, maximize: self.maximize })
    }
}

crate::optim_state! {
    /// torch's Rprop state: `step`, `prev` (the last gradient used) and `step_size` (Δ).
    pub struct RpropState<const D: usize> {
        pub step: u64,
        pub prev: Tensor<D>,
        pub step_size: Tensor<D>,
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Rprop {
    etas: [f64; 2],
    step_sizes: [f64; 2],
    maximize: bool,
}

impl Optimizer for Rprop {
    type State<const D: usize> = RpropState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let RpropState { step, prev, step_size } = match state {
            Some(s) => s.land(&param),
            None => RpropState { step: 0, prev: param.zeros_like(), step_size: param.ones_like().mul_scalar(lr) },
        };
        let [etaminus, etaplus] = self.etas;
        let grad = maximize(grad, self.maximize);
        let sign = (grad.clone() * prev).sign();
        let sign = sign.clone().mask_fill(sign.clone().greater_elem(0.0), etaplus);
        let sign = sign.clone().mask_fill(sign.clone().lower_elem(0.0), etaminus);
        let sign = sign.clone().mask_fill(sign.equal_elem(0.0), 1.0);
        let step_size = (step_size * sign.clone()).clamp(self.step_sizes[0], self.step_sizes[1]);
        let grad = grad.mask_fill(sign.equal_elem(etaminus), 0.0);
        let param = param - grad.clone().sign() * step_size.clone();
        (param, Some(RpropState { step: step + 1, prev: grad, step_size }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
