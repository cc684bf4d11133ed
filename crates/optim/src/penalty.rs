//! L1 and L2 penalties added to the loss (the seed's formulas), over every float parameter:
//!
//! ```text
//! J(θ) = loss + λ₂/(2m)·Σθ² + λ₁/m·Σ|θ|        m = batch size
//! ```
//!
//! The gradient of the L2 term is (λ₂/m)·θ: the same direction as SGD's coupled
//! `weight_decay`, but scaled by the batch size, so it is a loss term rather than an
//! optimizer option. The L1 term's subgradient (sign θ) never produces exact zeros; for
//! sparsity use the optimizer's proximal `l1` instead.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// Penalty strengths, as the config's `[loss] l2` / `l1`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Penalty {
    pub l2: f64,
    pub l1: f64,
}

impl Penalty {
    pub fn is_zero(&self) -> bool {
        self.l2 == 0.0 && self.l1 == 0.0
    }

    /// `λ₂/(2m)·Σθ² + λ₁/m·Σ|θ|` as a differentiable scalar tensor, or `None` if both are 0.
    pub fn term<M: Module>(&self, module: &M, batch_size: usize) -> Option<Tensor<1>> {
        if self.is_zero() {
            return None;
        }
        let mut sums = Sums { l2: self.l2 != 0.0, l1: self.l1 != 0.0, sq: None, abs: None };
        module.visit(&mut sums);
        let m = batch_size as f64;
        let l2 = sums.sq.map(|s| s.mul_scalar(self.l2 / (2.0 * m)));
        let l1 = sums.abs.map(|s| s.mul_scalar(self.l1 / m));
        match (l2, l1) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        }
    }
}

struct Sums {
    l2: bool,
    l1: bool,
    sq: Option<Tensor<1>>,
    abs: Option<Tensor<1>>,
}

fn add(acc: Option<Tensor<1>>, x: Tensor<1>) -> Option<Tensor<1>> {
    Some(match acc {
        Some(a) => a + x,
        None => x,
    })
}

impl ModuleVisitor for Sums {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        // θ·θ rather than powi: an exact square, as torch's `p * p` or `p.pow(2)`.
        if self.l2 {
            self.sq = add(self.sq.take(), (t.clone() * t.clone()).sum());
        }
        if self.l1 {
            self.abs = add(self.abs.take(), t.abs().sum());
        }
    }
}
