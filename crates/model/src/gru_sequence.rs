//! The GRU's whole sequence as one Burn operation on flex, with a backward through time that
//! batches what does not depend on the step.
//!
//! Forward (rows `b`, steps `t`; `x·W_x` for all steps at once, then per step):
//!
//! `gi = x·W_x + b_x`, `gh_t = h_t·W_h + b_h`, `z, r = σ(gi_zr + gh_zr)`,
//! `n = tanh(gi_n + r ⊙ gh_n)`, `h_{t+1} = (1 − z) ⊙ n + z ⊙ h_t`
//!
//! — [`gru`](crate::gru)'s formulas, in its order, keeping `z`, `r`, `n`, `gh_n` and `h_t`.
//! Backward, `t` from last to first, with `δ = ∂L/∂h_{t+1}` (the gates' local derivatives are
//! [`gru`](crate::gru)'s `GruStep`'s):
//!
//! `∂a_z = δ(h_t − n)z(1 − z)`, `∂a_r = δ(1 − z)(1 − n²)·gh_n·r(1 − r)`,
//! `∂gi_n = δ(1 − z)(1 − n²)`, `∂gh_n = ∂gi_n ⊙ r`, `∂h_t = δ ⊙ z + ∂gh_t·W_hᵀ`;
//!
//! only `∂h_t` needs a product per step. The rest is one product each over all `B·T` rows:
//! `∂W_x = xᵀ·∂gi`, `∂x = ∂gi·W_xᵀ`, `∂W_h = [h_0 … h_{T−1}]ᵀ·∂gh`, and column sums for the
//! biases. Burn's graph, step by step, ran six products per step and added every step's
//! weight gradients one by one. Batch rows are independent through time: fixed blocks of
//! [`BLOCK`] rows run side by side, and the large products run on rayon inside `gemm`.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Dispatch, Flex, backend_extension};
use burn::tensor::{DType, Tensor};
use core::ops::Range;
use rayon::prelude::*;

use crate::flex::{contiguous, FlexReal};
use crate::gates::{gru_gates_row, GateFloat};
use crate::host_gemm::{matmul, Mat};

/// `h_T` of the GRU over `x: [B, T, E]` from `h_0 = 0`, with the gates' weights side by side
/// (`w_x: [E, 3H]`, `w_h: [H, 3H]`, biases `[1, 3H]`). `None` when an input projection is not
/// finite (the caller then takes the step-by-step path, which handles it as Burn does).
pub(crate) fn gru_last(x: Tensor<3>, w_x: Tensor<2>, b_x: Tensor<2>, w_h: Tensor<2>, b_h: Tensor<2>) -> Option<Tensor<2>> {
    let y = <Dispatch as HostGru>::host_gru_last(
        x.into_dispatch(),
        w_x.into_dispatch(),
        b_x.into_dispatch(),
        w_h.into_dispatch(),
        b_h.into_dispatch(),
    );
    let y = Tensor::<2>::from_dispatch(y);
    // A declined run comes back as a `[0, 0]` tensor (an extension returns a tensor, not an Option).
    (y.dims() != [0, 0]).then_some(y)
}

/// The GRU sequence as a Burn backend operation (flex, with and without autodiff).
#[backend_extension(Flex, Autodiff)]
pub trait HostGru: burn::backend::Backend {
    fn host_gru_last(
        x: FloatTensor<Self>,
        w_x: FloatTensor<Self>,
        b_x: FloatTensor<Self>,
        w_h: FloatTensor<Self>,
        b_h: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

/// `[B, T, E, H]`.
type Dims = [usize; 4];

/// What the backward needs of a forward run: `h_0 … h_{T−1}` as `[T, B, H]`, and the gates
/// `z`, `r`, `n`, `gh_n` as `[T, B, H]` each.
#[derive(Debug, Clone)]
struct Saved {
    h: FlexTensor,
    z: FlexTensor,
    r: FlexTensor,
    n: FlexTensor,
    gh_n: FlexTensor,
}

/// Rows per block: a batch's blocks run side by side on rayon (rows are independent through
/// time). Fixed, so the bits do not depend on the thread count.
const BLOCK: usize = 32;

fn blocks(b: usize) -> Vec<Range<usize>> {
    (0..b).step_by(BLOCK).map(|lo| lo..(lo + BLOCK).min(b)).collect()
}

/// [`forward`] block by block: `h_T` of all rows and each block's saved steps.
fn forward_blocks<E: GateFloat + FlexReal>(x: &[E], w_x: &[E], b_x: &[E], w_h: &[E], b_h: &[E], [b, t, e, h]: Dims) -> Option<(Vec<E>, Vec<[Vec<E>; 5]>)> {
    let run = |rows: Range<usize>| forward(&x[rows.start * t * e..rows.end * t * e], w_x, b_x, w_h, b_h, [rows.len(), t, e, h]);
    let parts: Vec<(Vec<E>, [Vec<E>; 5])> = blocks(b).into_par_iter().map(run).collect::<Option<_>>()?;
    let state = parts.iter().flat_map(|(state, _)| state.iter().copied()).collect();
    Some((state, parts.into_iter().map(|(_, saved)| saved).collect()))
}

/// The forward of one block of rows on host slices: `h_T` and the saved steps; `None` for
/// non-finite projections.
fn forward<E: GateFloat + FlexReal>(x: &[E], w_x: &[E], b_x: &[E], w_h: &[E], b_h: &[E], [b, t, e, h]: Dims) -> Option<(Vec<E>, [Vec<E>; 5])> {
    let (h3, one) = (3 * h, E::ONE);
    let mut gi = b_x.repeat(b * t);
    // SAFETY: x is [B·T, E], W_x [E, 3H], gi [B·T, 3H].
    unsafe { matmul(&mut gi, true, Mat::rows(x, e), Mat::rows(w_x, h3), [b * t, h3, e]) };
    if !E::all_finite(&gi) {
        return None;
    }
    let zero = E::ZERO;
    let [mut hs, mut zs, mut rs, mut ns, mut ghn] = [(); 5].map(|_| vec![zero; t * b * h]);
    let mut state = vec![zero; b * h];
    let (mut gh, mut zr, mut n) = (vec![zero; b * h3], vec![zero; 2 * h], vec![zero; h]);
    for s in 0..t {
        hs[s * b * h..][..b * h].copy_from_slice(&state);
        gh.chunks_mut(h3).for_each(|row| row.copy_from_slice(b_h));
        // SAFETY: state is [B, H], W_h [H, 3H], gh [B, 3H].
        unsafe { matmul(&mut gh, true, Mat::rows(&state, h), Mat::rows(w_h, h3), [b, h3, h]) };
        if !E::all_finite(&gh) {
            return None;
        }
        for row in 0..b {
            let (x3, p3) = (&gi[(row * t + s) * h3..][..h3], &gh[row * h3..][..h3]);
            gru_gates_row(x3, p3, &mut zr, &mut n);
            let (z, r) = zr.split_at(h);
            let p_n = &p3[2 * h..];
            let at = (s * b + row) * h;
            for (j, h_j) in state[row * h..][..h].iter_mut().enumerate() {
                *h_j = n[j] * (one - z[j]) + z[j] * *h_j;
            }
            zs[at..][..h].copy_from_slice(z);
            rs[at..][..h].copy_from_slice(r);
            ns[at..][..h].copy_from_slice(&n);
            ghn[at..][..h].copy_from_slice(p_n);
        }
    }
    Some((state, [hs, zs, rs, ns, ghn]))
}

/// One block's backward through time from its rows of `∂L/∂h_T`: its rows of `∂gi` written into
/// `dgi` (x's row order, `(b, t)`), and its `∂gh` returned (the saved states' order, `(t, b)`).
fn through_time<E: GateFloat + FlexReal>(w_h: &[E], saved: [&[E]; 5], dh_t: &[E], dgi: &mut [E], [b, t, h]: [usize; 3]) -> Vec<E> {
    let [hs, zs, rs, ns, ghn] = saved;
    let (h3, one, zero) = (3 * h, E::ONE, E::ZERO);
    let mut dgh = vec![zero; t * b * h3];
    let (mut delta, mut next) = (dh_t.to_vec(), vec![zero; b * h]);
    for s in (0..t).rev() {
        for row in 0..b {
            let at = (s * b + row) * h;
            let (gi_row, gh_row) = (&mut dgi[(row * t + s) * h3..][..h3], &mut dgh[(s * b + row) * h3..][..h3]);
            for j in 0..h {
                let (d, z, r, n, p_n, h_prev) = (delta[row * h + j], zs[at + j], rs[at + j], ns[at + j], ghn[at + j], hs[at + j]);
                let dn = d * ((one - z) * (one - n * n));
                let da_z = d * ((h_prev - n) * (z * (one - z)));
                let da_r = dn * p_n * (r * (one - r));
                (gi_row[j], gi_row[h + j], gi_row[2 * h + j]) = (da_z, da_r, dn);
                (gh_row[j], gh_row[h + j], gh_row[2 * h + j]) = (da_z, da_r, dn * r);
                next[row * h + j] = d * z;
            }
        }
        // SAFETY: ∂gh_s is [B, 3H], W_hᵀ reads W_h [H, 3H] transposed, next is [B, H].
        unsafe { matmul(&mut next, true, Mat::rows(&dgh[s * b * h3..][..b * h3], h3), Mat::transposed(w_h, h3), [b, h, h3]) };
        core::mem::swap(&mut delta, &mut next);
    }
    dgh
}

/// The gradients `[∂x, ∂W_x, ∂b_x, ∂W_h, ∂b_h]` from `∂L/∂h_T` (module docs), with each
/// block's saved steps.
fn backward<E: GateFloat + FlexReal>(x: &[E], w_x: &[E], w_h: &[E], saved: &[[&[E]; 5]], dh_t: &[E], [b, t, e, h]: Dims) -> [Vec<E>; 5] {
    let (h3, zero) = (3 * h, E::ZERO);
    // Each block writes its rows of ∂gi in place: they follow each other in x's (b, t) order.
    let mut dgi = vec![zero; b * t * h3];
    let run = |((rows, sv), dgi): ((Range<usize>, &[&[E]; 5]), &mut [E])| {
        through_time(w_h, *sv, &dh_t[rows.start * h..rows.end * h], dgi, [rows.len(), t, h])
    };
    let dgi_blocks = dgi.par_chunks_mut((BLOCK * t * h3).max(1));
    let dgh: Vec<Vec<E>> = blocks(b).into_par_iter().zip(saved.par_iter()).zip(dgi_blocks).map(run).collect();
    let mut dx = vec![zero; b * t * e];
    let mut dw_x = vec![zero; e * h3];
    let mut dw_h = vec![zero; h * h3];
    // SAFETY: ∂gi [B·T, 3H], W_xᵀ [3H, E]; xᵀ [E, B·T]; per block [h_0 … h_{T−1}]ᵀ [H, T·B_k]
    // and ∂gh [T·B_k, 3H], the blocks' products added in block order.
    unsafe {
        matmul(&mut dx, false, Mat::rows(&dgi, h3), Mat::transposed(w_x, h3), [b * t, e, h3]);
        matmul(&mut dw_x, false, Mat::transposed(x, e), Mat::rows(&dgi, h3), [e, h3, b * t]);
        for (k, (dgh, sv)) in dgh.iter().zip(saved).enumerate() {
            matmul(&mut dw_h, k > 0, Mat::transposed(sv[0], h), Mat::rows(dgh, h3), [h, h3, dgh.len() / h3]);
        }
    }
    // Column sums over rows in order (the blocks' ∂gh one after another).
    let column_sums = |rows: &mut dyn Iterator<Item = &[E]>| {
        let mut total = vec![zero; h3];
        for row in rows {
            total.iter_mut().zip(row).for_each(|(a, &v)| *a = *a + v);
        }
        total
    };
    let db_x = column_sums(&mut dgi.chunks(h3));
    let db_h = column_sums(&mut dgh.iter().flat_map(|d| d.chunks(h3)));
    [dx, dw_x, db_x, dw_h, db_h]
}

fn dims(x: &FlexTensor, w_h: &FlexTensor) -> Dims {
    let s = x.layout().shape();
    [s[0], s[1], s[2], w_h.layout().shape()[0]]
}

/// The forward on flex tensors (contiguous): `h_T` (`[0, 0]` when declined) and the saved steps.
fn forward_flex(ins: [&FlexTensor; 5], d: Dims) -> (FlexTensor, Option<Vec<Saved>>) {
    fn run<E: GateFloat + FlexReal>([x, w_x, b_x, w_h, b_h]: [&FlexTensor; 5], d @ [b, t, _, h]: Dims) -> (FlexTensor, Option<Vec<Saved>>) {
        let s = E::slice;
        match forward_blocks(s(x), s(w_x), s(b_x), s(w_h), s(b_h), d) {
            Some((last, blocks)) => {
                let saved = blocks.into_iter().map(|[hs, z, r, n, gh_n]| {
                    let steps = |v: Vec<E>| {
                        let rows = v.len() / (t * h).max(1);
                        E::tensor(v, &[t, rows, h])
                    };
                    Saved { h: steps(hs), z: steps(z), r: steps(r), n: steps(n), gh_n: steps(gh_n) }
                });
                (E::tensor(last, &[b, h]), Some(saved.collect()))
            }
            None => (E::tensor(Vec::new(), &[0, 0]), None),
        }
    }
    match ins[0].dtype() {
        DType::F64 => run::<f64>(ins, d),
        _ => run::<f32>(ins, d),
    }
}

impl HostGru for Flex {
    fn host_gru_last(x: FlexTensor, w_x: FlexTensor, b_x: FlexTensor, w_h: FlexTensor, b_h: FlexTensor) -> FlexTensor {
        let d = dims(&x, &w_h);
        let ins = [x, w_x, b_x, w_h, b_h].map(contiguous);
        forward_flex([&ins[0], &ins[1], &ins[2], &ins[3], &ins[4]], d).0
    }
}

#[derive(Debug)]
struct HostGruBackward;

impl Backward<Flex, 5> for HostGruBackward {
    /// `x`, `W_x`, `W_h` (contiguous: the graph's own buffers unless a view had to be copied),
    /// each block's saved steps, the sizes.
    type State = ([FlexTensor; 3], Vec<Saved>, Dims);

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let dy = contiguous(grads.consume::<Flex>(&ops.node));
        let ([x, w_x, w_h], saved, d @ [b, t, e, h]) = ops.state;
        fn run<E: GateFloat + FlexReal>(x: &FlexTensor, w_x: &FlexTensor, w_h: &FlexTensor, saved: &[Saved], dy: &FlexTensor, d: Dims) -> [Vec<E>; 5] {
            let s = E::slice;
            let blocks: Vec<[&[E]; 5]> = saved.iter().map(|sv| [s(&sv.h), s(&sv.z), s(&sv.r), s(&sv.n), s(&sv.gh_n)]).collect();
            backward(s(x), s(w_x), s(w_h), &blocks, s(dy), d)
        }
        let shapes: [&[usize]; 5] = [&[b, t, e], &[e, 3 * h], &[1, 3 * h], &[h, 3 * h], &[1, 3 * h]];
        let found: Vec<FlexTensor> = match dy.dtype() {
            DType::F64 => run::<f64>(&x, &w_x, &w_h, &saved, &dy, d).into_iter().zip(shapes).map(|(v, s)| f64::tensor(v, s)).collect(),
            _ => run::<f32>(&x, &w_x, &w_h, &saved, &dy, d).into_iter().zip(shapes).map(|(v, s)| f32::tensor(v, s)).collect(),
        };
        for (node, grad) in ops.parents.into_iter().zip(found) {
            if let Some(node) = node {
                grads.register::<Flex>(node.id, grad);
            }
        }
    }
}

impl<C: CheckpointStrategy> HostGru for Autodiff<Flex, C> {
    fn host_gru_last(
        x: FloatTensor<Self>,
        w_x: FloatTensor<Self>,
        b_x: FloatTensor<Self>,
        w_h: FloatTensor<Self>,
        b_h: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let [(x, n_x), (w_x, n_wx), (b_x, n_bx), (w_h, n_wh), (b_h, n_bh)] = [x, w_x, b_x, w_h, b_h].map(|t| t.into_parts());
        let d = dims(&x, &w_h);
        let [x, w_x, b_x, w_h, b_h] = [x, w_x, b_x, w_h, b_h].map(contiguous);
        let (y, saved) = forward_flex([&x, &w_x, &b_x, &w_h, &b_h], d);
        // Declined: the caller discards the `[0, 0]` output, so it joins no graph.
        let Some(saved) = saved else { return FloatTensor::<Self>::new(y) };
        match HostGruBackward.prepare::<C>([n_x, n_wx, n_bx, n_wh, n_bh]).compute_bound().stateful() {
            OpsKind::Tracked(prep) => prep.finish(([x, w_x, w_h], saved, d), y),
            OpsKind::UnTracked(prep) => prep.finish(y),
        }
    }
}
