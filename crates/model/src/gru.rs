//! A GRU over a whole sequence, returning its last hidden state, in few and large ops.
//!
//! PyTorch's GRU (Burn's [`Gru`] with `reset_after`, the default), for each step `t`:
//!
//! `z = σ(W_iz x_t + b_iz + W_hz h + b_hz)`, `r = σ(W_ir x_t + b_ir + W_hr h + b_hr)`,
//! `n = tanh(W_in x_t + b_in + r ⊙ (W_hn h + b_hn))`, `h ← (1 − z) ⊙ n + z ⊙ h`.
//!
//! Burn's `Gru::forward` computes this gate by gate: six small matmuls and six bias adds per
//! step, and it writes every step's `h` into a `[B, T, H]` output with `slice_assign`, which
//! copies the whole output each step and again in the backward pass. A next-character model
//! needs only the last `h`. [`gru_last`] takes the same parameters (the module, its record and
//! its PyTorch weight names are unchanged) and per step does one matmul for the three input
//! projections (`[W_iz W_ir W_in]` side by side) and one for the three hidden ones. On the CPU
//! (flex) the gates then run in one pass on the host ([`gates`](crate::gates)): libm's scalar `tanhf`
//! and `expf` were 42% of the char model's time (`tanh` twice, as Burn's backward computes it
//! again), [`fast_math`](crate::fast_math)'s vectorise. Elsewhere they are Burn's ops on column
//! slices, in Burn's order.
//!
//! With descent-model's `flex` feature (on in descent-train), on flex in f32/f64 and with
//! biases, the whole sequence is one Burn operation instead (`gru_sequence.rs`): the same
//! formulas and gate pass, and a backward through time that needs one product per step (for
//! `∂h`) and does the weight, bias and input gradients of all steps in one product or sum each.
//!
//! Results: in f64 the value equals Burn's forward to the bit and the gradients to 1e-15
//! (`tests/model/recurrent.rs`); in f32 they move at float rounding (fast_math's few ulp, and
//! `gemm` may block the wider matrices differently).
//!
//! Why not one matmul for all `T` input projections: slicing that `[B·T, 3H]` result per step
//! costs, in the backward pass, one zero-padded `[B·T, 3H]` gradient per step — quadratic in
//! `T`, more than it saves.

use burn::nn::activation::Activation;
use burn::nn::Gru;
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::Tensor;

use crate::flex::on_flex;
use crate::gates::{gru_gates_row, link, on_host, GateFloat, HostKernel, Projections};

/// Whether [`gru_last`] computes exactly this GRU: PyTorch's variant (reset after the hidden
/// matmul), sigmoid gates, tanh candidate, no clipping — what [`GruConfig`](burn::nn::GruConfig)
/// builds by default. Other settings go through Burn's own forward.
pub fn is_torch_gru(g: &Gru) -> bool {
    g.reset_after
        && g.clip.is_none()
        && matches!(g.gate_activation, Activation::Sigmoid(_))
        && matches!(g.hidden_activation, Activation::Tanh(_))
}

/// The last hidden state `h_T` (`[B, H]`) of `g` run over `x: [B, T, d_input]` from `h_0 = 0`;
/// Burn's forward for GRUs that [`is_torch_gru`] rejects.
pub fn gru_last(g: &Gru, x: Tensor<3>) -> Tensor<2> {
    let [b, t, d_in] = x.dims();
    let h = g.d_hidden;
    if !is_torch_gru(g) || t == 0 {
        let out = g.forward(x, None);
        return out.slice([0..b, t.saturating_sub(1)..t, 0..h]).reshape([b, h]);
    }
    let gates = [&g.update_gate, &g.reset_gate, &g.new_gate];
    let proj = Projections::new(&gates);
    let fused = on_flex(&x.device());
    #[cfg(feature = "flex")]
    if fused && h > 0 && matches!(x.dtype(), burn::tensor::DType::F32 | burn::tensor::DType::F64) {
        if let Some([w_x, b_x, w_h, b_h]) = proj.parts() {
            if let Some(last) = crate::gru_sequence::gru_last(x.clone(), w_x, b_x, w_h, b_h) {
                return last;
            }
        }
    }
    let mut h_t: Tensor<2> = Tensor::zeros([b, h], &x.device());
    for s in 0..t {
        let x_s: Tensor<2> = x.clone().slice([0..b, s..s + 1, 0..d_in]).reshape([b, d_in]);
        let xp = proj.input(x_s);
        let hp = proj.hidden(h_t.clone());
        h_t = match fused.then(|| fused_gates(&xp, &hp, &h_t)).flatten() {
            Some(next) => next,
            None => tensor_gates(xp, hp, h_t),
        };
    }
    h_t
}

/// The gates of one step as Burn tensor ops (any device), in Burn's `Gru` order.
fn tensor_gates(xp: Tensor<2>, hp: Tensor<2>, h_t: Tensor<2>) -> Tensor<2> {
    let [b, h3] = xp.dims();
    let h = h3 / 3;
    let zr = sigmoid(xp.clone().slice([0..b, 0..2 * h]) + hp.clone().slice([0..b, 0..2 * h]));
    let z = zr.clone().slice([0..b, 0..h]);
    let r = zr.slice([0..b, h..2 * h]);
    let n = tanh(xp.slice([0..b, 2 * h..3 * h]) + r.mul(hp.slice([0..b, 2 * h..3 * h])));
    let one_minus_z = z.clone().neg().add_scalar(1.0);
    n.mul(one_minus_z) + z.mul(h_t)
}

/// The gates of one step on the host ([`GruStep`]), linked to the graph by their derivatives
/// ([`gates`](crate::gates)); `None` where the host pass does not apply.
fn fused_gates(xp: &Tensor<2>, hp: &Tensor<2>, h_t: &Tensor<2>) -> Option<Tensor<2>> {
    let [next, dx, dh, z] = on_host(&GruStep { hid: h_t.dims()[1] }, [xp, hp, h_t])?;
    Some(link(next, vec![(xp, dx), (hp, dh), (h_t, z)]))
}

/// One GRU step's gates for rows `[xp_z xp_r xp_n]`, `[hp_z hp_r hp_n]` (`3H` each, biases
/// included) and `h` (`H`): the next state and the derivatives of each of its elements with
/// respect to the same column of `xp`, `hp` and `h`:
///
/// `∂h'/∂a_z = (h − n)·z(1 − z)`, `∂h'/∂a_r = (1 − z)(1 − n²)·hp_n·r(1 − r)`,
/// `∂h'/∂xp_n = (1 − z)(1 − n²)`, `∂h'/∂hp_n = (1 − z)(1 − n²)·r`, `∂h'/∂h = z`
/// (`a_z = xp_z + hp_z`, likewise `a_r`).
struct GruStep {
    hid: usize,
}

impl HostKernel<3, 4> for GruStep {
    fn run<E: GateFloat>(&self, [xp, hp, h]: [&[E]; 3]) -> Option<[(Vec<E>, usize); 4]> {
        let hid = self.hid;
        if hid == 0 || !(E::all_finite(xp) && E::all_finite(hp) && E::all_finite(h)) {
            return None;
        }
        let rows = h.len() / hid;
        let (mut next, mut z_all) = (vec![E::ZERO; rows * hid], vec![E::ZERO; rows * hid]);
        let (mut dx, mut dh) = (vec![E::ZERO; rows * 3 * hid], vec![E::ZERO; rows * 3 * hid]);
        let (mut zr, mut n) = (vec![E::ZERO; 2 * hid], vec![E::ZERO; hid]);
        for row in 0..rows {
            let (x3, p3) = (&xp[row * 3 * hid..][..3 * hid], &hp[row * 3 * hid..][..3 * hid]);
            let p_n = &p3[2 * hid..];
            gru_gates_row(x3, p3, &mut zr, &mut n);
            let (z, r) = zr.split_at(hid);
            let h_row = &h[row * hid..][..hid];
            let next_row = &mut next[row * hid..][..hid];
            z_all[row * hid..][..hid].copy_from_slice(z);
            let (dx3, dh3) = (&mut dx[row * 3 * hid..][..3 * hid], &mut dh[row * 3 * hid..][..3 * hid]);
            let (dx_z, dx_rn) = dx3.split_at_mut(hid);
            let (dx_r, dx_n) = dx_rn.split_at_mut(hid);
            let (dh_z, dh_rn) = dh3.split_at_mut(hid);
            let (dh_r, dh_n) = dh_rn.split_at_mut(hid);
            // Every slice cut to `hid`, so the loop has no bounds checks and vectorises.
            let (z, r, n, p_n) = (&z[..hid], &r[..hid], &n[..hid], &p_n[..hid]);
            let (dx_n, dh_n) = (&mut dx_n[..hid], &mut dh_n[..hid]);
            for j in 0..hid {
                let (z, r, n, h_prev, p_n) = (z[j], r[j], n[j], h_row[j], p_n[j]);
                let one_minus_z = E::ONE - z;
                next_row[j] = n * one_minus_z + z * h_prev;
                let dn = one_minus_z * (E::ONE - n * n);
                let da_z = (h_prev - n) * (z * (E::ONE - z));
                let da_r = dn * p_n * (r * (E::ONE - r));
                (dx_z[j], dh_z[j], dx_r[j], dh_r[j], dx_n[j], dh_n[j]) = (da_z, da_z, da_r, da_r, dn, dn * r);
            }
        }
        Some([(next, hid), (dx, 3 * hid), (dh, 3 * hid), (z_all, hid)])
    }
}
