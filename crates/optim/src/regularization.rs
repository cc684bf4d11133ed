//! Every L1 / L2 regularisation descent offers, in one place:
//!
//! | variant | what it does | where it is switched on | torch |
//! |---|---|---|---|
//! | coupled L2 ([`WeightDecay::Coupled`]) | g ← g + λ·θ, before momentum / moments | `weight_decay` of SGD, Adam, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam | `weight_decay` |
//! | decoupled decay ([`WeightDecay::Decoupled`]) | θ ← θ·(1 − γ·λ), outside the adaptive scaling | AdamW's `weight_decay`; NAdam / RAdam with `decoupled_weight_decay` | AdamW, `decoupled_weight_decay=True` |
//! | proximal L1 ([`proximal_l1`]) | θ ← sign(θ)·max(\|θ\| − γ·α, 0) after the step: exact zeros | SGD's `l1` | none |
//! | loss penalty ([`Penalty`]) | J ← J + λ₂/(2m)·Σθ² + λ₁/m·Σ\|θ\| (m = batch size) | the trainer's `[loss] l2` / `l1` | a term added to the loss by hand |
//!
//! Lion's decay, θ ← θ − γ·(u + λ·θ), is decoupled too; it is folded into Lion's signed update
//! as the paper writes it, so it lives in [`lion`](crate::lion).
//!
//! The gradient of the L2 loss penalty is (λ₂/m)·θ: coupled weight decay's direction, scaled
//! by the batch size, so it is a loss term rather than an optimizer option. The L1 penalty's
//! subgradient (sign θ) never produces exact zeros; for sparsity use the proximal `l1`.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// Weight decay as an optimizer applies it, λ = `weight_decay`. λ = 0 changes nothing (torch's
/// AdamW still multiplies by 1 − γ·0 = 1, an exact no-op, so it is skipped here).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightDecay {
    /// L2 through the gradient: g ← g + λ·θ.
    Coupled(f64),
    /// Loshchilov & Hutter: θ ← θ·(1 − γ·λ), scaled by the scheduled lr γ.
    Decoupled(f64),
}

impl WeightDecay {
    pub fn new(weight_decay: f64, decoupled: bool) -> Self {
        if decoupled {
            WeightDecay::Decoupled(weight_decay)
        } else {
            WeightDecay::Coupled(weight_decay)
        }
    }

    /// The parameter and gradient after the decay, at learning rate `lr`.
    pub fn apply<const D: usize>(&self, param: Tensor<D>, grad: Tensor<D>, lr: f64) -> (Tensor<D>, Tensor<D>) {
        match *self {
            WeightDecay::Coupled(wd) if wd != 0.0 => {
                let grad = grad + param.clone().mul_scalar(wd);
                (param, grad)
            }
            WeightDecay::Decoupled(wd) if wd != 0.0 => (param.mul_scalar(1.0 - lr * wd), grad),
            _ => (param, grad),
        }
    }
}

/// Soft-thresholding by `threshold` = γ·α, the proximal step of α·‖θ‖₁: coordinates within
/// the threshold of zero become exactly zero.
pub fn proximal_l1<const D: usize>(param: Tensor<D>, threshold: f64) -> Tensor<D> {
    param.clone().sign() * param.abs().sub_scalar(threshold).clamp_min(0.0)
}


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
