//! An LSTM over a whole sequence, returning its last hidden state, in few and large ops.
//!
//! PyTorch's LSTM (Burn's [`Lstm`] with its defaults), for each step `t`, with
//! `a_k = W_ik x_t + b_ik + W_hk h + b_hk` for the gates `k = i, f, g, o`:
//!
//! `i = σ(a_i)`, `f = σ(a_f)`, `g = tanh(a_g)`, `o = σ(a_o)`, `c ← f ⊙ c + i ⊙ g`,
//! `h ← o ⊙ tanh(c)`.
//!
//! As for the GRU ([`gru`](crate::gru)): one matmul for the four input projections and one for
//! the four hidden ones per step, only the last state kept, and on the CPU (flex) the gates in
//! one host pass ([`gates`](crate::gates)) that also gives `∂c'/∂(a, c)` and `∂h'/∂(a, c)`:
//! with `τ = tanh(c')`,
//!
//! `∂c'/∂a_i = g·i(1 − i)`, `∂c'/∂a_f = c·f(1 − f)`, `∂c'/∂a_g = i·(1 − g²)`, `∂c'/∂a_o = 0`,
//! `∂c'/∂c = f`; `∂h'/∂a_k = o(1 − τ²)·∂c'/∂a_k` for `k = i, f, g`, `∂h'/∂a_o = τ·o(1 − o)`,
//! `∂h'/∂c = o(1 − τ²)·f`.
//!
//! The module, its record and its PyTorch weight names are Burn's; `tests/model/recurrent.rs` holds
//! the result and its gradients to Burn's `Lstm::forward` in f64.

use burn::nn::activation::Activation;
use burn::nn::Lstm;
use burn::tensor::activation::{sigmoid, tanh};
use burn::tensor::Tensor;

use crate::flex::on_flex;
use crate::gates::{link, on_host, GateFloat, HostKernel, Projections};

/// Whether [`lstm_last`] computes exactly this LSTM: batch first, forward direction, a
/// forget gate, sigmoid gates, tanh cell and hidden activations, no clipping — what
/// [`LstmConfig`](burn::nn::LstmConfig) builds by default. Others go through Burn's forward.
pub fn is_torch_lstm(l: &Lstm) -> bool {
    l.batch_first
        && !l.reverse
        && l.clip.is_none()
        && l.forget_gate.is_some()
        && matches!(l.gate_activation, Activation::Sigmoid(_))
        && matches!(l.cell_activation, Activation::Tanh(_))
        && matches!(l.hidden_activation, Activation::Tanh(_))
}

/// The last hidden state `h_T` (`[B, H]`) of `l` run over `x: [B, T, d_input]` from zero
/// states; Burn's forward for LSTMs that [`is_torch_lstm`] rejects.
pub fn lstm_last(l: &Lstm, x: Tensor<3>) -> Tensor<2> {
    let [b, t, d_in] = x.dims();
    let h = l.d_hidden;
    let Some(forget) = l.forget_gate.as_ref().filter(|_| is_torch_lstm(l) && t > 0) else {
        return l.forward(x, None).1.hidden;
    };
    let gates = [&l.input_gate, forget, &l.cell_gate, &l.output_gate];
    let proj = Projections::new(&gates);
    let fused = on_flex(&x.device());
    let mut h_t: Tensor<2> = Tensor::zeros([b, h], &x.device());
    let mut c_t: Tensor<2> = Tensor::zeros([b, h], &x.device());
    for s in 0..t {
        let x_s: Tensor<2> = x.clone().slice([0..b, s..s + 1, 0..d_in]).reshape([b, d_in]);
        // Burn's gate_product: (x·W_x + b_x) + (h·W_h + b_h).
        let a = proj.input(x_s) + proj.hidden(h_t.clone());
        (h_t, c_t) = match fused.then(|| fused_gates(&a, &c_t)).flatten() {
            Some(next) => next,
            None => tensor_gates(a, c_t),
        };
    }
    h_t
}

/// The gates of one step as Burn tensor ops (any device), in Burn's `Lstm` order; `(h', c')`.
fn tensor_gates(a: Tensor<2>, c: Tensor<2>) -> (Tensor<2>, Tensor<2>) {
    let [b, h4] = a.dims();
    let h = h4 / 4;
    let gate = |k: usize| a.clone().slice([0..b, k * h..(k + 1) * h]);
    let (i, f, g, o) = (sigmoid(gate(0)), sigmoid(gate(1)), tanh(gate(2)), sigmoid(gate(3)));
    let c_next = f * c + i * g;
    (o * tanh(c_next.clone()), c_next)
}

/// One step's gates on the host ([`LstmStep`]), linked to the graph; `(h', c')`.
fn fused_gates(a: &Tensor<2>, c: &Tensor<2>) -> Option<(Tensor<2>, Tensor<2>)> {
    let [h_val, c_val, dh_a, dc_a, dh_c, dc_c] = on_host(&LstmStep { hid: c.dims()[1] }, [a, c])?;
    Some((link(h_val, vec![(a, dh_a), (c, dh_c)]), link(c_val, vec![(a, dc_a), (c, dc_c)])))
}

/// One LSTM step for rows `a = [a_i a_f a_g a_o]` (`4H`) and `c` (`H`): `h'`, `c'`, then
/// `∂h'/∂a`, `∂c'/∂a` (`4H` each) and `∂h'/∂c`, `∂c'/∂c` (`H` each), as in the module doc.
struct LstmStep {
    hid: usize,
}

impl HostKernel<2, 6> for LstmStep {
    fn run<E: GateFloat>(&self, [a, c]: [&[E]; 2]) -> Option<[(Vec<E>, usize); 6]> {
        let hid = self.hid;
        if hid == 0 || !(E::all_finite(a) && E::all_finite(c)) {
            return None;
        }
        let rows = c.len() / hid;
        let zeros = |n: usize| vec![E::ZERO; n];
        let (mut h_out, mut c_out, mut dh_c, mut dc_c) = (zeros(rows * hid), zeros(rows * hid), zeros(rows * hid), zeros(rows * hid));
        let (mut dh_a, mut dc_a) = (zeros(rows * 4 * hid), zeros(rows * 4 * hid));
        let (mut act, mut tau) = (zeros(4 * hid), zeros(hid));
        for row in 0..rows {
            act.copy_from_slice(&a[row * 4 * hid..][..4 * hid]);
            let (ifg, o) = act.split_at_mut(3 * hid);
            let (i_f, g) = ifg.split_at_mut(2 * hid);
            E::sigmoid_all(i_f);
            E::tanh_all(g);
            E::sigmoid_all(o);
            let (i, f) = i_f.split_at(hid);
            // Every slice cut to `hid`, so the loops have no bounds checks.
            let (i, f, g, o) = (&i[..hid], &f[..hid], &g[..hid], &o[..hid]);
            let c_prev = &c[row * hid..][..hid];
            let c_row = &mut c_out[row * hid..][..hid];
            for j in 0..hid {
                c_row[j] = f[j] * c_prev[j] + i[j] * g[j];
            }
            tau.copy_from_slice(c_row);
            E::tanh_all(&mut tau);
            let (dh4, dc4) = (&mut dh_a[row * 4 * hid..][..4 * hid], &mut dc_a[row * 4 * hid..][..4 * hid]);
            for j in 0..hid {
                let (i, f, g, o, t, cp) = (i[j], f[j], g[j], o[j], tau[j], c_prev[j]);
                h_out[row * hid + j] = o * t;
                let (dc_i, dc_f, dc_g) = (g * (i * (E::ONE - i)), cp * (f * (E::ONE - f)), i * (E::ONE - g * g));
                let through_c = o * (E::ONE - t * t);
                (dc4[j], dc4[hid + j], dc4[2 * hid + j], dc4[3 * hid + j]) = (dc_i, dc_f, dc_g, E::ZERO);
                (dh4[j], dh4[hid + j], dh4[2 * hid + j]) = (through_c * dc_i, through_c * dc_f, through_c * dc_g);
                dh4[3 * hid + j] = t * (o * (E::ONE - o));
                dc_c[row * hid + j] = f;
                dh_c[row * hid + j] = through_c * f;
            }
        }
        Some([(h_out, hid), (c_out, hid), (dh_a, 4 * hid), (dc_a, 4 * hid), (dh_c, hid), (dc_c, hid)])
    }
}
