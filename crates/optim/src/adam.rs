//! Adam, exactly `torch.optim.Adam` (single-tensor path) — and the helpers the adaptive family
//! shares (torch's `lerp`, argument checks with torch's messages, step-counter records).
//!
//! For each parameter θ with gradient g, at learning rate γ, step t = 1, 2, … (PyTorch's order):
//!
//! ```text
//! g ← −g                               if maximize
//! t ← t + 1
//! g ← g + λ·θ                          if weight_decay λ ≠ 0   (coupled L2)
//! m ← m + (1 − β₁)·(g − m)             (torch's lerp; m₀ = 0)
//! v ← β₂·v + ((1 − β₂)·g)·g            (v₀ = 0)
//! v̂ ← max(v̂, v); use v̂ for v         if amsgrad
//! denom ← √v / √(1 − β₂ᵗ) + ε
//! θ ← θ + (−γ/(1 − β₁ᵗ)·m) / denom
//! ```
//!
//! β₁ is a [`HyperParam`] so one-cycle schedules can cycle it, as PyTorch's do through
//! `param_groups[…]["betas"][0]`; the bias correction uses the β₁ of the current step, as
//! torch's does.

use burn::optim::{LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::record::{push_opt_tensor, push_tensor};
use crate::{HyperParam, OptimError};

// ---------------------------------------------------------------------------------------------
// Helpers shared by the adaptive optimizers.
// ---------------------------------------------------------------------------------------------

/// Python's `repr(float)`: `0.1`, `-1.0`, `1e-08`, `inf`, `nan` — what torch's messages print for
/// float arguments.
pub(crate) fn py_float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    // Shortest round-trip digits, d.ddd·10^exp.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    let decpt = exp + 1;
    if decpt <= -4 || decpt > 16 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let plain = format!("{x}");
        if plain.contains('.') {
            plain
        } else {
            plain + ".0"
        }
    }
}

// `!(0 <= x)` rather than `x < 0`: NaN must fail, as torch's `not 0.0 <= x` does.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub(crate) fn check_lr(lr: f64) -> Result<(), OptimError> {
    if !(0.0 <= lr) {
        return Err(OptimError::invalid(format!("Invalid learning rate: {}", py_float(lr))));
    }
    Ok(())
}

// `!(0 <= x)` rather than `x < 0`: NaN must fail, as torch's `not 0.0 <= x` does.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub(crate) fn check_eps(eps: f64) -> Result<(), OptimError> {
    if !(0.0 <= eps) {
        return Err(OptimError::invalid(format!("Invalid epsilon value: {}", py_float(eps))));
    }
    Ok(())
}

/// `0 ≤ β < 1` for both betas, torch's messages.
pub(crate) fn check_betas(betas: [f64; 2]) -> Result<(), OptimError> {
    for (i, b) in betas.iter().enumerate() {
        if !(0.0 <= *b && *b < 1.0) {
            return Err(OptimError::invalid(format!(
                "Invalid beta parameter at index {i}: {}",
                py_float(*b)
            )));
        }
    }
    Ok(())
}

pub(crate) fn check_weight_decay(weight_decay: f64) -> Result<(), OptimError> {
    check_nonneg("weight_decay", weight_decay)
}

/// `Invalid {name} value: {x}` unless `0 ≤ x`.
// `!(0 <= x)` rather than `x < 0`: NaN must fail, as torch's `not 0.0 <= x` does.
#[allow(clippy::neg_cmp_op_on_partial_ord)]
pub(crate) fn check_nonneg(name: &str, x: f64) -> Result<(), OptimError> {
    if !(0.0 <= x) {
        return Err(OptimError::invalid(format!("Invalid {name} value: {}", py_float(x))));
    }
    Ok(())
}

pub(crate) fn default_betas() -> [f64; 2] {
    [0.9, 0.999]
}

pub(crate) fn default_eps() -> f64 {
    1e-8
}

/// `torch.lerp(start, end, weight)` as ATen's scalar kernel writes it: `start + w·(end − start)`
/// for |w| < 0.5, `end − (end − start)·(1 − w)` otherwise.
pub(crate) fn lerp<const D: usize>(start: Tensor<D>, end: Tensor<D>, weight: f64) -> Tensor<D> {
    if weight.abs() < 0.5 {
        start.clone() + (end - start).mul_scalar(weight)
    } else {
        end.clone() - (end - start).mul_scalar(1.0 - weight)
    }
}

/// `acc.mul_(decay).addcmul_(x, x, value=1 − decay)`: `decay·acc + ((1 − decay)·x)·x`.
pub(crate) fn ema_square<const D: usize>(acc: Tensor<D>, x: Tensor<D>, decay: f64) -> Tensor<D> {
    acc.mul_scalar(decay) + x.clone().mul_scalar(1.0 - decay) * x
}

/// `param.addcdiv_(t1, t2, value=v)`: `param + (v·t1)/t2`, ATen's order.
pub(crate) fn addcdiv<const D: usize>(
    param: Tensor<D>,
    t1: Tensor<D>,
    t2: Tensor<D>,
    value: f64,
) -> Tensor<D> {
    param + t1.mul_scalar(value) / t2
}

/// `grad.neg()` if maximize, then `grad + λ·θ` if λ ≠ 0 — torch's coupled weight decay.
pub(crate) fn coupled_grad<const D: usize>(
    param: &Tensor<D>,
    grad: Tensor<D>,
    maximize: bool,
    weight_decay: f64,
) -> Tensor<D> {
    let grad = if maximize { grad.neg() } else { grad };
    if weight_decay != 0.0 {
        grad + param.clone().mul_scalar(weight_decay)
    } else {
        grad
    }
}

/// Records the step counter (torch's `state["step"]`) as a scalar.
pub(crate) fn push_step(out: &mut StateSink, prefix: &str, step: u64) {
    out.push_scalar(prefix, "step", step.into());
}

pub(crate) fn take_step(src: &mut StateSource, prefix: &str) -> Option<u64> {
    src.take_scalar(prefix, "step").and_then(|s| u64::try_from(s).ok())
}

pub(crate) fn push_f64(out: &mut StateSink, prefix: &str, leaf: &str, x: f64) {
    out.push_scalar(prefix, leaf, x.into());
}

pub(crate) fn take_f64(src: &mut StateSource, prefix: &str, leaf: &str) -> Option<f64> {
    src.take_scalar(prefix, leaf).and_then(|s| f64::try_from(s).ok())
}

/// Reads a state tensor back in the dtype it was saved in (not the device's default), so an f64
/// state stays f64 whatever the load device.
pub(crate) fn take<const D: usize>(
    src: &mut StateSource,
    prefix: &str,
    leaf: &str,
    device: &Device,
) -> Option<Tensor<D>> {
    src.take_tensor(prefix, leaf).map(|data| {
        let dtype = data.dtype();
        Tensor::from_data(data, (device, dtype))
    })
}

// ---------------------------------------------------------------------------------------------
// Adam / AdamW.
// ---------------------------------------------------------------------------------------------

fn default_lr() -> f64 {
    1e-3
}

/// `torch.optim.Adam`'s arguments, same names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// (β₁, β₂): decay rates of the first and second moment averages.
    #[serde(default = "default_betas")]
    pub betas: [f64; 2],
    #[serde(default = "default_eps")]
    pub eps: f64,
    /// Coupled L2: added to the gradient before the moments (AdamW decouples it).
    #[serde(default)]
    pub weight_decay: f64,
    #[serde(default)]
    pub amsgrad: bool,
    #[serde(default)]
    pub maximize: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: default_lr(),
            betas: default_betas(),
            eps: default_eps(),
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl AdamConfig {
    pub fn new(lr: f64) -> Self {
        Self { lr, ..Self::default() }
    }
    pub fn with_betas(mut self, betas: [f64; 2]) -> Self {
        self.betas = betas;
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
    pub fn with_amsgrad(mut self, amsgrad: bool) -> Self {
        self.amsgrad = amsgrad;
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
        check_betas(self.betas)?;
        check_weight_decay(self.weight_decay)
    }

    pub fn build(&self) -> Result<Adam, OptimError> {
        self.validate()?;
        Ok(Adam {
            core: AdamCore {
                beta1: HyperParam::new(self.betas[0]),
                beta2: self.betas[1],
                eps: self.eps,
                weight_decay: self.weight_decay,
                amsgrad: self.amsgrad,
                maximize: self.maximize,
                decoupled: false,
            },
        })
    }

    pub fn init(&self) -> Result<ModuleOptimizer, OptimError> {
        Ok(self.build()?.into())
    }
}

/// The update both Adam and AdamW run; `decoupled` picks AdamW's weight decay.
#[derive(Clone, Debug)]
pub(crate) struct AdamCore {
    pub(crate) beta1: HyperParam,
    pub(crate) beta2: f64,
    pub(crate) eps: f64,
    pub(crate) weight_decay: f64,
    pub(crate) amsgrad: bool,
    pub(crate) maximize: bool,
    pub(crate) decoupled: bool,
}

impl AdamCore {
    pub(crate) fn step<const D: usize>(
        &self,
        lr: LearningRate,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        // One pass in place on the CPU (flex) backend, same bits as the tensor ops below.
        let fusable = !self.amsgrad
            && crate::fused::flex_eligible(&param, &grad, state.as_ref().map(|s| &s.exp_avg))
            && crate::fused::flex_eligible(&param, &grad, state.as_ref().map(|s| &s.exp_avg_sq));
        if fusable {
            let (step, m, v) = match state {
                Some(s) => (s.step, Some(s.exp_avg), Some(s.exp_avg_sq)),
                None => (0, None, None),
            };
            let step = step + 1;
            let beta1 = self.beta1.get();
            let t = step as f64;
            let c = crate::fused::AdamCoeffs {
                maximize: self.maximize,
                decoupled: self.decoupled,
                lr,
                weight_decay: self.weight_decay,
                lerp_weight: 1.0 - beta1,
                beta2: self.beta2,
                bias_correction2_sqrt: (1.0 - self.beta2.powf(t)).powf(0.5),
                eps: self.eps,
                step_size: lr / (1.0 - beta1.powf(t)),
            };
            match crate::fused::adam_flex(&c, param, grad, m, v) {
                Ok((param, exp_avg, exp_avg_sq)) => {
                    return (param, Some(AdamState { step, exp_avg, exp_avg_sq, max_exp_avg_sq: None }))
                }
                Err((p, g, m, v)) => {
                    let state = m.zip(v).map(|(exp_avg, exp_avg_sq)| AdamState { step: step - 1, exp_avg, exp_avg_sq, max_exp_avg_sq: None });
                    // m and v were made (zeros) for a first step: start it over from no state.
                    let state = if step == 1 { None } else { state };
                    return self.step_ops(lr, p, g, state);
                }
            }
        }
        self.step_ops(lr, param, grad, state)
    }

    /// The update as tensor operations (any device; the reference for the fused path).
    pub(crate) fn step_ops<const D: usize>(
        &self,
        lr: LearningRate,
        mut param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<AdamState<D>>,
    ) -> (Tensor<D>, Option<AdamState<D>>) {
        let grad = if self.maximize { grad.neg() } else { grad };
        let AdamState { step, exp_avg, exp_avg_sq, max_exp_avg_sq } = state.unwrap_or_else(|| AdamState {
            step: 0,
            exp_avg: param.zeros_like(),
            exp_avg_sq: param.zeros_like(),
            max_exp_avg_sq: None,
        });
        let step = step + 1;
        let grad = if self.decoupled {
            param = param.mul_scalar(1.0 - lr * self.weight_decay);
            grad
        } else if self.weight_decay != 0.0 {
            grad + param.clone().mul_scalar(self.weight_decay)
        } else {
            grad
        };
        let beta1 = self.beta1.get();
        let exp_avg = lerp(exp_avg, grad.clone(), 1.0 - beta1);
        let exp_avg_sq = ema_square(exp_avg_sq, grad, self.beta2);

        let t = step as f64;
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - self.beta2.powf(t);
        let step_size = lr / bias_correction1;
        let bias_correction2_sqrt = bias_correction2.powf(0.5);

        let (denom, max_exp_avg_sq) = if self.amsgrad {
            let max = match max_exp_avg_sq {
                Some(max) => max.max_pair(exp_avg_sq.clone()),
                None => param.zeros_like().max_pair(exp_avg_sq.clone()),
            };
            (max.clone().sqrt().div_scalar(bias_correction2_sqrt).add_scalar(self.eps), Some(max))
        } else {
            (exp_avg_sq.clone().sqrt().div_scalar(bias_correction2_sqrt).add_scalar(self.eps), None)
        };
        let param = addcdiv(param, exp_avg.clone(), denom, -step_size);
        (param, Some(AdamState { step, exp_avg, exp_avg_sq, max_exp_avg_sq }))
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Adam {
    core: AdamCore,
}

impl Adam {
    /// The live β₁: `set` it between steps to cycle it (one-cycle's `cycle_momentum`).
    pub fn beta1(&self) -> HyperParam {
        self.core.beta1.clone()
    }
}

/// Per-parameter state of Adam and AdamW: torch's `step`, `exp_avg`, `exp_avg_sq` and, with
/// amsgrad, `max_exp_avg_sq`.
#[derive(Clone, Debug)]
pub struct AdamState<const D: usize> {
    pub step: u64,
    pub exp_avg: Tensor<D>,
    pub exp_avg_sq: Tensor<D>,
    pub max_exp_avg_sq: Option<Tensor<D>>,
}

impl<const D: usize> RecordState for AdamState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        push_step(out, prefix, self.step);
        push_tensor(out, prefix, "exp_avg", &self.exp_avg);
        push_tensor(out, prefix, "exp_avg_sq", &self.exp_avg_sq);
        push_opt_tensor(out, prefix, "max_exp_avg_sq", &self.max_exp_avg_sq);
    }
    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        Some(Self {
            step: take_step(src, prefix)?,
            exp_avg: take(src, prefix, "exp_avg", device)?,
            exp_avg_sq: take(src, prefix, "exp_avg_sq", device)?,
            max_exp_avg_sq: take(src, prefix, "max_exp_avg_sq", device),
        })
    }
}

impl<const D: usize> AdamState<D> {
    pub(crate) fn into_device(self, device: &Device) -> Self {
        Self {
            step: self.step,
            exp_avg: self.exp_avg.to_device(device),
            exp_avg_sq: self.exp_avg_sq.to_device(device),
            max_exp_avg_sq: self.max_exp_avg_sq.map(|t| t.to_device(device)),
        }
    }
}

impl Optimizer for Adam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        self.core.step(lr, tensor, grad, state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.into_device(device)
    }
}

#[cfg(test)]
mod fused_tests {
    use super::*;
    use crate::fused::testing::{bits, tensor};
    use burn::tensor::DType;


    /// The one-pass flex Adam/AdamW gives the same bits as the tensor-op update, serial and chunked.
    #[test]
    fn fused_flex_adam_matches_tensor_ops_bit_for_bit() {
        let core = |beta1: f64, beta2: f64, wd: f64, maximize: bool, decoupled: bool| AdamCore {
            beta1: HyperParam::new(beta1),
            beta2,
            eps: 1e-8,
            weight_decay: wd,
            amsgrad: false,
            maximize,
            decoupled,
        };
        let cores = [
            core(0.9, 0.999, 0.0, false, false),
            core(0.9, 0.999, 0.01, false, false),
            core(0.3, 0.9, 0.0, true, false),
            core(0.9, 0.999, 0.01, false, true),
            core(0.4, 0.99, 0.1, true, true),
        ];
        let mut seed = 99u64;
        let mut rand = move |n: usize| -> Vec<f64> {
            (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.9
                })
                .collect()
        };
        // The larger size runs the parallel path: 33 chunks, the last one short.
        let big = 3 * 350_000;
        assert!(big >= crate::fused::PARALLEL_MIN && big % crate::fused::CHUNK != 0);
        for (n, dtype) in [(3 * 29, DType::F32), (3 * 29, DType::F64), (big, DType::F32), (big, DType::F64)] {
            for c in &cores {
                let theta = rand(n);
                let (mut a, mut b) = (tensor(&theta, dtype), tensor(&theta, dtype));
                let (mut sa, mut sb): (Option<AdamState<2>>, Option<AdamState<2>>) = (None, None);
                for step in 0..5 {
                    let g = rand(n);
                    let lr = 0.01 * (1.0 + step as f64);
                    let (na, nsa) = c.step(lr, a, tensor(&g, dtype), sa);
                    let (nb, nsb) = c.step_ops(lr, b, tensor(&g, dtype), sb);
                    assert_eq!(bits(&na), bits(&nb), "{c:?} {dtype:?} n={n} step {step}: parameters");
                    let (x, y) = (nsa.clone().unwrap(), nsb.clone().unwrap());
                    assert_eq!(x.step, y.step);
                    assert_eq!(bits(&x.exp_avg), bits(&y.exp_avg), "{c:?} {dtype:?} n={n} step {step}: exp_avg");
                    assert_eq!(bits(&x.exp_avg_sq), bits(&y.exp_avg_sq), "{c:?} {dtype:?} n={n} step {step}: exp_avg_sq");
                    (a, b, sa, sb) = (na, nb, nsa, nsb);
                }
            }
        }
    }
}
