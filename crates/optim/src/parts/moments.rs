//! Exponential moving averages of the gradient and of its square, and their bias correction:
//!
//! ```text
//! m ← m + (1 − β₁)·(g − m)          first moment (torch's exp_avg.lerp_(grad, 1 − β₁))
//! v ← β₂·v + ((1 − β₂)·g)·g         second moment (exp_avg_sq.mul_(β₂).addcmul_(g, g, 1 − β₂))
//! v̂ ← max(v̂, v)                     AMSGrad's running maximum
//! cₜ = 1 − βᵗ                       bias correction after t steps from zero
//! ```

use burn::tensor::Tensor;

use super::torch_ops::{ema_square, lerp};

pub fn first_moment<const D: usize>(exp_avg: Tensor<D>, grad: Tensor<D>, beta1: f64) -> Tensor<D> {
    lerp(exp_avg, grad, 1.0 - beta1)
}

pub fn second_moment<const D: usize>(exp_avg_sq: Tensor<D>, grad: Tensor<D>, beta2: f64) -> Tensor<D> {
    ema_square(exp_avg_sq, grad, beta2)
}

/// `torch.maximum(max_exp_avg_sq, exp_avg_sq)`, the first step's maximum taken against zeros.
pub fn amsgrad_max<const D: usize>(max_exp_avg_sq: Option<Tensor<D>>, exp_avg_sq: Tensor<D>) -> Tensor<D> {
    match max_exp_avg_sq {
        Some(max) => max.max_pair(exp_avg_sq),
        None => exp_avg_sq.zeros_like().max_pair(exp_avg_sq),
    }
}

/// `1 − βᵗ`, with t the step count after increment (t ≥ 1).
pub fn bias_correction(beta: f64, step: u64) -> f64 {
    1.0 - beta.powf(step as f64)
}
