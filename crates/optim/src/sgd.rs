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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::record::{push_opt_tensor, take_tensor};
use crate::OptimError;

/// A hyper-parameter that may change between steps while the optimizer is owned by a
/// `ModuleOptimizer` (Burn's `Optimizer::step` takes `&self`). Clones share the value.
#[derive(Clone, Debug)]
pub struct HyperParam(Arc<AtomicU64>);

impl HyperParam {
    pub fn new(value: f64) -> Self {
        Self(Arc::new(AtomicU64::new(value.to_bits())))
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
    pub fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed)
    }
}

fn default_lr() -> f64 {
    1e-3
}

/// `torch.optim.SGD`'s arguments, same names and defaults, plus `l1` (proximal L1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdConfig {
    /// Learning rate γ (PyTorch's default 1e-3). A scheduler, if any, overrides it per step.
    #[serde(default = "default_lr")]
    pub lr: f64,
    #[serde(default)]
    pub momentum: f64,
    #[serde(default)]
    pub dampening: f64,
    /// Coupled L2: added to the gradient before momentum.
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub nesterov: bool,
    #[serde(default)]
    pub maximize: bool,
    /// Proximal L1 strength α, applied after the step (soft-thresholding by γ·α).
    #[serde(default)]
    pub l1: f64,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: default_lr(),
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
            l1: 0.0,
        }
    }
}

impl SgdConfig {
    pub fn new(lr: f64) -> Self {
        Self { lr, ..Self::default() }
    }
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }
    pub fn with_dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }
    pub fn with_nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }
    pub fn with_maximize(mut self, maximize: bool) -> Self {
        self.maximize = maximize;
        self
    }
    pub fn with_l1(mut self, l1: f64) -> Self {
        self.l1 = l1;
        self
    }

    /// PyTorch's constructor checks, with its messages. (PyTorch does not check
    /// `dampening`; neither do we, so a ported script behaves the same.)
    pub fn validate(&self) -> Result<(), OptimError> {
        if !(self.lr >= 0.0) {
            return Err(OptimError::invalid(format!("Invalid learning rate: {}", self.lr)));
        }
        if !(self.momentum >= 0.0) {
            return Err(OptimError::invalid(format!("Invalid momentum value: {}", self.momentum)));
        }
        if !(self.weight_decay >= 0.0) {
            return Err(OptimError::invalid(format!(
                "Invalid weight_decay value: {}",
                self.weight_decay
            )));
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(OptimError::invalid(
                "Nesterov momentum requires a momentum and zero dampening",
            ));
        }
        if !(self.l1 >= 0.0) {
            return Err(OptimError::invalid(format!("Invalid l1 value: {}", self.l1)));
        }
        if !self.dampening.is_finite() {
            return Err(OptimError::invalid(format!("Invalid dampening value: {}", self.dampening)));
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
            weight_decay: self.weight_decay,
            nesterov: self.nesterov,
            maximize: self.maximize,
            l1: self.l1,
        })
    }

    /// The whole-module optimizer, as Burn's `SgdConfig::init` gives.
    pub fn init(&self) -> Result<ModuleOptimizer, OptimError> {
        Ok(self.build()?.into())
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Sgd {
    momentum: HyperParam,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    maximize: bool,
    l1: f64,
}

impl Sgd {
    /// The live momentum μ: `set` it between steps to cycle it.
    pub fn momentum(&self) -> HyperParam {
        self.momentum.clone()
    }
}

/// Per-parameter state: PyTorch's `momentum_buffer`, absent until momentum is first used.
#[derive(Clone, Debug)]
pub struct SgdState<const D: usize> {
    pub momentum_buffer: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for SgdState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_opt_tensor(out, prefix, "momentum_buffer", &self.momentum_buffer);
    }
    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self { momentum_buffer: take_tensor(src, prefix, "momentum_buffer", device) })
    }
}

impl Optimizer for Sgd {
    type State<const D: usize> = SgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let buffer = state.and_then(|s| s.momentum_buffer);
        let momentum = self.momentum.get();
        let (mut next, buffer) = if crate::fused::flex_eligible(&tensor, &grad, buffer.as_ref()) {
            self.step_fused(lr, momentum, tensor, grad, buffer)
        } else {
            self.step_ops(lr, momentum, tensor, grad, buffer)
        };
        if self.l1 > 0.0 {
            let threshold = lr * self.l1;
            next = next.clone().sign() * next.abs().sub_scalar(threshold).clamp_min(0.0);
        }
        (next, buffer.map(|b| SgdState { momentum_buffer: Some(b) }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        SgdState { momentum_buffer: state.momentum_buffer.map(|b| b.to_device(device)) }
    }
}

impl Sgd {
    /// The update as tensor operations, on any device (the reference the fused path matches
    /// bit for bit). Returns the new parameter (before proximal L1) and momentum buffer.
    pub(crate) fn step_ops<const D: usize>(
        &self,
        lr: LearningRate,
        momentum: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        mut buffer: Option<Tensor<D>>,
    ) -> (Tensor<D>, Option<Tensor<D>>) {
        let mut d_p = if self.maximize { grad.neg() } else { grad };
        if self.weight_decay != 0.0 {
            d_p = d_p + tensor.clone().mul_scalar(self.weight_decay);
        }
        if momentum != 0.0 {
            let buf = match buffer {
                None => d_p.clone(),
                Some(b) if self.dampening == 0.0 => b.mul_scalar(momentum) + d_p.clone(),
                Some(b) => b.mul_scalar(momentum) + d_p.clone().mul_scalar(1.0 - self.dampening),
            };
            d_p = if self.nesterov { d_p + buf.clone().mul_scalar(momentum) } else { buf.clone() };
            buffer = Some(buf);
        }
        (tensor - d_p.mul_scalar(lr), buffer)
    }

    /// The same update in one pass over each buffer, in place, on Burn's CPU (flex) backend:
    /// the same f32/f64 operations in the same order as [`step_ops`](Self::step_ops), so the
    /// same bits, without the temporaries.
    fn step_fused<const D: usize>(
        &self,
        lr: LearningRate,
        momentum: f64,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        buffer: Option<Tensor<D>>,
    ) -> (Tensor<D>, Option<Tensor<D>>) {
        let coeffs = crate::fused::SgdCoeffs {
            lr,
            momentum,
            dampening: self.dampening,
            weight_decay: self.weight_decay,
            nesterov: self.nesterov,
            maximize: self.maximize,
        };
        match crate::fused::sgd_flex(&coeffs, tensor, grad, buffer) {
            Ok(out) => out,
            // The buffers could not be borrowed as slices (never expected on flex): give them
            // back as tensors and take the reference path.
            Err((tensor, grad, buffer)) => self.step_ops(lr, momentum, tensor, grad, buffer),
        }
    }
}

#[cfg(test)]
mod fused_tests {
    use super::*;
    use crate::fused::testing::{bits, tensor};
    use burn::tensor::DType;


    /// The one-pass flex update gives the same bits as the tensor-op update, for every option,
    /// over several steps (first momentum step included), in f32 and f64, serial and chunked.
    #[test]
    fn fused_flex_step_matches_tensor_ops_bit_for_bit() {
        let configs = [
            SgdConfig::new(0.1),
            SgdConfig::new(0.1).with_maximize(true),
            SgdConfig::new(0.03).with_weight_decay(0.01),
            SgdConfig::new(0.05).with_momentum(0.9),
            SgdConfig::new(0.05).with_momentum(0.9).with_dampening(0.3),
            SgdConfig::new(0.05).with_momentum(0.9).with_nesterov(true).with_weight_decay(1e-4),
            SgdConfig::new(0.07).with_momentum(0.5).with_maximize(true).with_weight_decay(0.2).with_dampening(0.1),
            SgdConfig::new(0.07).with_momentum(0.8).with_nesterov(true).with_maximize(true),
        ];
        let mut seed = 12345u64;
        let mut rand = move |n: usize| -> Vec<f64> {
            (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 3.7
                })
                .collect()
        };
        // The larger size runs the parallel path: 33 chunks, the last one short.
        let big = 3 * 350_000;
        assert!(big >= crate::fused::PARALLEL_MIN && big % crate::fused::CHUNK != 0);
        for (n, dtype) in [(3 * 37, DType::F32), (3 * 37, DType::F64), (big, DType::F32), (big, DType::F64)] {
            for cfg in &configs {
                let sgd = cfg.build().unwrap();
                let theta = rand(n);
                let (mut a, mut b) = (tensor(&theta, dtype), tensor(&theta, dtype));
                let (mut sa, mut sb): (Option<SgdState<2>>, Option<Tensor<2>>) = (None, None);
                for step in 0..4 {
                    let g = rand(n);
                    let lr = cfg.lr * (1.0 + 0.1 * step as f64);
                    assert!(crate::fused::flex_eligible(&a, &tensor(&g, dtype), sa.as_ref().and_then(|s| s.momentum_buffer.as_ref())));
                    let (na, ns) = sgd.step(lr, a, tensor(&g, dtype), sa);
                    let (nb, nbuf) = sgd.step_ops(lr, cfg.momentum, b, tensor(&g, dtype), sb);
                    assert_eq!(bits(&na), bits(&nb), "{cfg:?} {dtype:?} n={n} step {step}: parameters");
                    let ba = ns.as_ref().and_then(|s| s.momentum_buffer.clone());
                    assert_eq!(ba.is_some(), nbuf.is_some());
                    if let (Some(x), Some(y)) = (&ba, &nbuf) {
                        assert_eq!(bits(x), bits(y), "{cfg:?} {dtype:?} n={n} step {step}: momentum buffer");
                    }
                    assert_eq!(na.dtype(), dtype);
                    (a, b, sa, sb) = (na, nb, ns, nbuf);
                }
            }
        }
    }

    /// A parameter shared with someone else (refcount > 1) is copied, not written through.
    #[test]
    fn fused_step_leaves_a_shared_parameter_alone() {
        let sgd = SgdConfig::new(0.5).with_momentum(0.9).build().unwrap();
        let theta = tensor(&[1.0, 2.0, 3.0], DType::F32);
        let keep = theta.clone();
        let (next, _) = sgd.step(0.5, theta, tensor(&[1.0, 1.0, 1.0], DType::F32), None);
        assert_eq!(keep.to_data().as_slice::<f32>().unwrap(), &[1.0, 2.0, 3.0]);
        assert_eq!(next.to_data().as_slice::<f32>().unwrap(), &[0.5, 1.5, 2.5]);
    }
}
