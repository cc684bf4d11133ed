//! Recurrent gates computed on the host in one pass, joined to Burn's autodiff graph by their
//! local derivatives — what [`gru`](crate::gru) and [`lstm`](crate::lstm) share.
//!
//! A cell step maps inputs `u_k` (pre-activations, previous states) to a new state `s'`. The
//! host kernel computes `s'` and, alongside, each `∂s'/∂u_k` (elementwise: every gate is
//! elementwise). `link` then builds
//!
//! `s' = value + Σ_k (u_k − stop(u_k)) ⊙ ∂s'/∂u_k`.
//!
//! Each `u − stop(u)` is exactly zero (for finite `u`), so the result is the kernel's value to
//! the bit; its gradient is the chain rule through the gates, with derivatives from the same
//! pass instead of Burn's backward ops (whose `tanh` backward computes `tanh` again). Inputs
//! that are not finite make the kernel decline (`∞ − ∞` would not be zero); the caller then
//! uses Burn's ops.

use burn::nn::GateController;
use burn::tensor::{DType, Tensor, TensorData};

use crate::flex::Real;

/// f32 or f64 with the gate functions a kernel uses, over slices in place.
pub(crate) trait GateFloat: Real + burn::tensor::Element {
    fn sigmoid_all(v: &mut [Self]);
    fn tanh_all(v: &mut [Self]);
    fn all_finite(v: &[Self]) -> bool;
}

impl GateFloat for f32 {
    fn sigmoid_all(v: &mut [Self]) {
        crate::fast_math::sigmoid_slice(v)
    }
    fn tanh_all(v: &mut [Self]) {
        crate::fast_math::tanh_slice(v)
    }
    fn all_finite(v: &[Self]) -> bool {
        v.iter().fold(true, |ok, x| ok & x.is_finite())
    }
}

/// f64 keeps libm and Burn's own sigmoid formula: f64 runs are the reference, and its
/// values equal Burn's ops to the bit.
impl GateFloat for f64 {
    fn sigmoid_all(v: &mut [Self]) {
        for x in v {
            *x = if *x >= 0.0 { 1.0 / (1.0 + (-*x).exp()) } else { x.exp() / (1.0 + x.exp()) };
        }
    }
    fn tanh_all(v: &mut [Self]) {
        for x in v {
            *x = x.tanh();
        }
    }
    fn all_finite(v: &[Self]) -> bool {
        v.iter().fold(true, |ok, x| ok & x.is_finite())
    }
}

/// One row of a GRU step's gates, from its `[xp_z xp_r xp_n]` and `[hp_z hp_r hp_n]` (biases
/// included): `zr ← σ(xp + hp)` on the first `2H` columns (z, then r) and
/// `n ← tanh(xp_n + r ⊙ hp_n)`, added as Burn adds — the step-by-step pass ([`gru`](crate::gru))
/// and the whole-sequence one share it.
pub(crate) fn gru_gates_row<E: GateFloat>(xp: &[E], hp: &[E], zr: &mut [E], n: &mut [E]) {
    let hid = n.len();
    zr.iter_mut().zip(xp.iter().zip(hp)).for_each(|(a, (&x, &p))| *a = x + p);
    E::sigmoid_all(zr);
    let r = &zr[hid..];
    n.iter_mut().zip(xp[2 * hid..].iter().zip(&hp[2 * hid..]).zip(r)).for_each(|(a, ((&x, &p), &r))| *a = x + r * p);
    E::tanh_all(n);
}

/// A cell step's host kernel: `M` row-major `[B, ·]` inputs in, `N` `(values, columns)`
/// outputs out (the new states and their derivatives), `None` to decline.
pub(crate) trait HostKernel<const M: usize, const N: usize> {
    fn run<E: GateFloat>(&self, inputs: [&[E]; M]) -> Option<[(Vec<E>, usize); N]>;
}

/// Runs `kernel` on the host copies of `inputs` (f32 or f64, `[B, ·]` each) and gives its
/// outputs back as constant tensors on the inputs' device. `None` for another dtype or when
/// the kernel declines.
pub(crate) fn on_host<const M: usize, const N: usize>(kernel: &impl HostKernel<M, N>, inputs: [&Tensor<2>; M]) -> Option<[Tensor<2>; N]> {
    let device = inputs[0].device();
    let dtype = inputs[0].dtype();
    let rows = inputs[0].dims()[0];
    let data = inputs.map(|t| t.clone().detach().into_data());
    fn go<E: GateFloat, const M: usize, const N: usize>(k: &impl HostKernel<M, N>, data: &[TensorData; M]) -> Option<[(Vec<E>, usize); N]> {
        let mut slices: [&[E]; M] = [&[]; M];
        for (s, d) in slices.iter_mut().zip(data) {
            *s = d.as_slice().ok()?;
        }
        k.run(slices)
    }
    let to_tensor = |d: TensorData| Tensor::<2>::from_data(d, (&device, dtype));
    Some(match dtype {
        DType::F32 => go::<f32, M, N>(kernel, &data)?.map(|(v, cols)| to_tensor(TensorData::new(v, [rows, cols]))),
        DType::F64 => go::<f64, M, N>(kernel, &data)?.map(|(v, cols)| to_tensor(TensorData::new(v, [rows, cols]))),
        _ => return None,
    })
}

/// `value + Σ (u − stop(u)) ⊙ d` over `terms`, where a term `d` of `G·H` columns (one block per
/// gate) is summed over its blocks onto the `H` columns of `value`. Outside autodiff: `value`.
pub(crate) fn link(value: Tensor<2>, terms: Vec<(&Tensor<2>, Tensor<2>)>) -> Tensor<2> {
    if !value.device().is_autodiff() {
        return value;
    }
    let [b, h] = value.dims();
    let mut wide: Option<Tensor<2>> = None;
    let mut out = value;
    for (u, d) in terms {
        let term = (u.clone() - u.clone().detach()) * d;
        if term.dims()[1] == h {
            out = out + term;
        } else {
            wide = Some(match wide {
                Some(w) => w + term,
                None => term,
            });
        }
    }
    if let Some(w) = wide {
        let g = w.dims()[1] / h;
        out = out + w.reshape([b, g, h]).sum_dim(1).reshape([b, h]);
    }
    out
}

/// The input and hidden projections of all of a cell's gates at once: their weights side by
/// side (`[d_in, G·H]`, `[H, G·H]`, as PyTorch stores `weight_ih`/`weight_hh` transposed), so a
/// step is one matmul for each instead of one per gate. Each output column is the same sum
/// as the gate's own matmul; the bias is added after it, as Burn's gates add theirs.
pub(crate) struct Projections {
    w_x: Tensor<2>,
    w_h: Tensor<2>,
    b_x: Option<Tensor<2>>,
    b_h: Option<Tensor<2>>,
}

impl Projections {
    pub(crate) fn new(gates: &[&GateController]) -> Self {
        let cat = |parts: Vec<Tensor<2>>| Tensor::cat(parts, 1);
        let bias = |pick: fn(&GateController) -> &burn::nn::Linear| -> Option<Tensor<2>> {
            let parts: Option<Vec<Tensor<1>>> = gates.iter().map(|c| pick(c).bias.as_ref().map(|p| p.val())).collect();
            parts.map(|p| Tensor::cat(p, 0).unsqueeze())
        };
        Self {
            w_x: cat(gates.iter().map(|c| c.input_transform.weight.val()).collect()),
            w_h: cat(gates.iter().map(|c| c.hidden_transform.weight.val()).collect()),
            b_x: bias(|c| &c.input_transform),
            b_h: bias(|c| &c.hidden_transform),
        }
    }

    /// `(W_x, b_x, W_h, b_h)` when both biases are there.
    #[cfg(feature = "flex")]
    pub(crate) fn parts(&self) -> Option<[Tensor<2>; 4]> {
        Some([self.w_x.clone(), self.b_x.clone()?, self.w_h.clone(), self.b_h.clone()?])
    }

    /// `x·W_x + b_x` for one step's input rows.
    pub(crate) fn input(&self, x: Tensor<2>) -> Tensor<2> {
        affine(x.matmul(self.w_x.clone()), &self.b_x)
    }

    /// `h·W_h + b_h` for the previous state.
    pub(crate) fn hidden(&self, h: Tensor<2>) -> Tensor<2> {
        affine(h.matmul(self.w_h.clone()), &self.b_h)
    }
}

fn affine(m: Tensor<2>, b: &Option<Tensor<2>>) -> Tensor<2> {
    match b {
        Some(b) => m + b.clone(),
        None => m,
    }
}
