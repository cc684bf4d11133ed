//! Gradient clipping, exactly `torch.nn.utils.clip_grad_norm_` and `clip_grad_value_`.
//!
//! `clip_grad_norm` clips by the **global** norm over all of a module's gradients, as torch does
//! (Burn's own `GradientClipping::Norm` clips each tensor by its own norm):
//!
//! ```text
//! nᵢ    ← ‖gᵢ‖_p                       for each parameter's gradient
//! total ← ‖(n₁, n₂, …)‖_p              (the norm of the per-tensor norms)
//! coef  ← min(max_norm · 1/(total + 1e-6), 1)
//! gᵢ    ← coef·gᵢ                      (always multiplied, even when coef = 1)
//! ```
//!
//! and returns `total`, the norm *before* clipping. `p = ∞` is the largest |g|, `p = −∞` the
//! smallest, `p = 0` the count of non-zeros, as `torch.linalg.vector_norm`. `clip_grad_value`
//! clamps every gradient element to `[−clip_value, clip_value]`.
//!
//! Call them between `GradientsParams::from_grads` and `ModuleOptimizer::step`.

use std::collections::HashSet;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::check::py_float;
use crate::error::OptimError;

/// The `p` of a p-norm, torch's `norm_type`: any float, `f64::INFINITY` for the max norm.
///
/// In serde it is a number, or the string `"inf"` / `"-inf"` (JSON has no infinity).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NormType(pub f64);

impl NormType {
    pub const L1: NormType = NormType(1.0);
    pub const L2: NormType = NormType(2.0);
    pub const INF: NormType = NormType(f64::INFINITY);
}

impl Default for NormType {
    fn default() -> Self {
        NormType::L2
    }
}

impl From<f64> for NormType {
    fn from(p: f64) -> Self {
        NormType(p)
    }
}

impl std::fmt::Display for NormType {
    /// As Python prints the float: `2.0`, `inf`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&py_float(self.0))
    }
}

impl Serialize for NormType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else {
            s.serialize_str(&py_float(self.0))
        }
    }
}

impl<'de> Deserialize<'de> for NormType {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Num(f64),
            Str(String),
        }
        match Repr::deserialize(d)? {
            Repr::Num(p) => Ok(NormType(p)),
            Repr::Str(s) => match s.as_str() {
                "inf" | "+inf" | "infinity" => Ok(NormType::INF),
                "-inf" | "-infinity" => Ok(NormType(f64::NEG_INFINITY)),
                other => other
                    .parse::<f64>()
                    .map(NormType)
                    .map_err(|_| serde::de::Error::custom(format!("invalid norm_type {other:?}: expected a number or \"inf\""))),
            },
        }
    }
}

/// `torch.linalg.vector_norm(g, p)` over all elements, as a one-element tensor in g's dtype.
pub fn vector_norm<const D: usize>(g: Tensor<D>, norm_type: NormType) -> Tensor<1> {
    let p = norm_type.0;
    if p == f64::INFINITY {
        g.abs().max()
    } else if p == f64::NEG_INFINITY {
        g.abs().min()
    } else if p == 0.0 {
        // sign(|g|) is 1 for every non-zero element (and NaN stays NaN, as in torch).
        g.abs().sign().sum()
    } else if p == 1.0 {
        g.abs().sum()
    } else if p == 2.0 {
        (g.clone() * g).sum().sqrt()
    } else {
        g.abs().powf_scalar(p).sum().powf_scalar(1.0 / p)
    }
}

/// From per-tensor norms to the clip coefficient: returns `(total_norm, clamped coef)` in f64,
/// computed in the norms' dtype as torch does.
fn total_and_coef(
    norms: Vec<Tensor<1>>,
    max_norm: f64,
    norm_type: NormType,
    error_if_nonfinite: bool,
) -> Result<Option<(f64, f64)>, OptimError> {
    let Some(first) = norms.first() else { return Ok(None) };
    let device = first.device();
    let norms = norms.into_iter().map(|n| n.to_device(&device)).collect();
    let total = vector_norm(Tensor::cat(norms, 0), norm_type);
    let total_value = total.clone().into_scalar::<f64>();
    if error_if_nonfinite && !total_value.is_finite() {
        return Err(OptimError::invalid(format!(
            "The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be \
             clipped. To disable this error and scale the gradients by the non-finite norm anyway, set \
             `error_if_nonfinite=False`"
        )));
    }
    // `max_norm / (total_norm + 1e-6)` is a Python float over a tensor: torch evaluates it as
    // `(total_norm + 1e-6).reciprocal() * max_norm`.
    let coef = total.add_scalar(1e-6).recip().mul_scalar(max_norm).clamp_max(1.0).into_scalar::<f64>();
    Ok(Some((total_value, coef)))
}

/// `torch.nn.utils.clip_grad_norm_` over every float parameter of `module` that has a gradient
/// in `grads`: scales those gradients in place by the global clip coefficient and returns the
/// total norm before clipping (0 when there are no gradients).
///
/// With `error_if_nonfinite`, a NaN or infinite total norm is an error (torch's message) and the
/// gradients are left untouched.
pub fn clip_grad_norm<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f64,
    norm_type: impl Into<NormType>,
    error_if_nonfinite: bool,
) -> Result<f64, OptimError> {
    let norm_type = norm_type.into();
    let mut norms = Norms { grads, norm_type, seen: HashSet::new(), norms: Vec::new() };
    module.visit(&mut norms);
    let Some((total, coef)) = total_and_coef(norms.norms, max_norm, norm_type, error_if_nonfinite)? else {
        return Ok(0.0);
    };
    module.visit(&mut Apply { grads, seen: HashSet::new(), op: GradOp::Mul(coef) });
    Ok(total)
}

/// `torch.nn.utils.clip_grad_value_`: clamps every gradient element of `module`'s float
/// parameters to `[−clip_value, clip_value]`.
pub fn clip_grad_value<M: Module>(module: &M, grads: &mut GradientsParams, clip_value: f64) {
    module.visit(&mut Apply { grads, seen: HashSet::new(), op: GradOp::ClampValue(clip_value) });
}

/// [`clip_grad_norm`] over a list of gradient tensors of one rank (flatten mixed ranks first;
/// the norm does not depend on shape).
pub fn clip_grad_norm_tensors<const D: usize>(
    grads: &mut [Tensor<D>],
    max_norm: f64,
    norm_type: impl Into<NormType>,
    error_if_nonfinite: bool,
) -> Result<f64, OptimError> {
    let norm_type = norm_type.into();
    let norms = grads.iter().map(|g| vector_norm(g.clone(), norm_type)).collect();
    let Some((total, coef)) = total_and_coef(norms, max_norm, norm_type, error_if_nonfinite)? else {
        return Ok(0.0);
    };
    for g in grads.iter_mut() {
        *g = GradOp::Mul(coef).apply(g.clone());
    }
    Ok(total)
}

/// [`clip_grad_value`] over a list of gradient tensors.
pub fn clip_grad_value_tensors<const D: usize>(grads: &mut [Tensor<D>], clip_value: f64) {
    for g in grads.iter_mut() {
        *g = clamp_value(g.clone(), clip_value);
    }
}

/// torch's `clamp_min_(-v)` then `clamp_max_(v)`.
fn clamp_value<const D: usize>(g: Tensor<D>, clip_value: f64) -> Tensor<D> {
    g.clamp_min(-clip_value).clamp_max(clip_value)
}

/// Collects the per-tensor norms of the gradients present, each parameter once.
struct Norms<'a> {
    grads: &'a GradientsParams,
    norm_type: NormType,
    seen: HashSet<ParamId>,
    norms: Vec<Tensor<1>>,
}

impl ModuleVisitor for Norms<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if !self.seen.insert(param.id) {
            return;
        }
        if let Some(g) = self.grads.get::<D>(param.id) {
            self.norms.push(vector_norm(g, self.norm_type));
        }
    }
}

/// What [`Apply`] does to each gradient.
#[derive(Clone, Copy)]
enum GradOp {
    Mul(f64),
    ClampValue(f64),
}

impl GradOp {
    fn apply<const D: usize>(self, g: Tensor<D>) -> Tensor<D> {
        match self {
            GradOp::Mul(coef) => g.mul_scalar(coef),
            GradOp::ClampValue(v) => clamp_value(g, v),
        }
    }
}

/// Applies an op to each present gradient, each parameter once.
struct Apply<'a> {
    grads: &'a mut GradientsParams,
    seen: HashSet<ParamId>,
    op: GradOp,
}

impl ModuleVisitor for Apply<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if !self.seen.insert(param.id) {
            return;
        }
        if let Some(g) = self.grads.remove::<D>(param.id) {
            self.grads.register(param.id, self.op.apply(g));
        }
    }
}
