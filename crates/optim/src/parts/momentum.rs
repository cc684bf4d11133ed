//! Heavy-ball momentum with dampening and Nesterov's variant, as torch's SGD applies it to the
//! (decayed) gradient d:
//!
//! ```text
//! b ← d                          first step (no dampening)
//! b ← μ·b + (1 − τ)·d            afterwards (the product skipped when τ = 0)
//! d ← d + μ·b                    nesterov
//! d ← b                          otherwise
//! ```
//!
//! Its state, [`MomentumState`], is torch's `momentum_buffer`.

use burn::tensor::Tensor;

/// μ, τ and Nesterov for one step (μ = 0: no momentum, no buffer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Momentum {
    pub momentum: f64,
    pub dampening: f64,
    pub nesterov: bool,
}

impl Momentum {
    /// The direction to step along and the new buffer; with μ = 0 the buffer passes through.
    pub fn apply<const D: usize>(&self, d_p: Tensor<D>, buffer: Option<Tensor<D>>) -> (Tensor<D>, Option<Tensor<D>>) {
        let mu = self.momentum;
        if mu == 0.0 {
            return (d_p, buffer);
        }
        let buf = match buffer {
            None => d_p.clone(),
            Some(b) if self.dampening == 0.0 => b.mul_scalar(mu) + d_p.clone(),
            Some(b) => b.mul_scalar(mu) + d_p.clone().mul_scalar(1.0 - self.dampening),
        };
        let d_p = if self.nesterov { d_p + buf.clone().mul_scalar(mu) } else { buf.clone() };
        (d_p, Some(buf))
    }
}

crate::optim_state! {
    /// The momentum buffer b, absent until momentum is first used (torch's `momentum_buffer`).
    pub struct MomentumState<const D: usize> {
        pub momentum_buffer: Option<Tensor<D>>,
    }
}
