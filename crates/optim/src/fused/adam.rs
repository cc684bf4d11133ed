//! Adam / AdamW (without amsgrad) in one pass over θ, g and the two moments.

use burn::tensor::{DType, Tensor, TensorData};

use super::{par4, simd::widest, Elem};

/// One Adam step's scalars, as `AdamCore::step` computes them (in f64).
pub(crate) struct AdamCoeffs {
    pub maximize: bool,
    /// AdamW: θ ← θ·(1 − γλ) first; otherwise coupled L2 when `weight_decay` ≠ 0.
    pub decoupled: bool,
    pub lr: f64,
    pub weight_decay: f64,
    /// lerp weight 1 − β₁.
    pub lerp_weight: f64,
    pub beta2: f64,
    pub bias_correction2_sqrt: f64,
    pub eps: f64,
    pub step_size: f64,
}

/// Parameter and the two moment buffers.
pub(crate) type AdamOut<const D: usize> = (Tensor<D>, Tensor<D>, Tensor<D>);

/// One Adam step on flex, in place: the operations of `AdamCore::step` (torch's lerp,
/// `ema_square`, `sqrt / bc2 + eps`, `addcdiv`) per element in the same order. `m`, `v`:
/// `None` on the first step (zeros).
#[allow(clippy::type_complexity)]
pub(crate) fn adam_flex<const D: usize>(
    c: &AdamCoeffs,
    tensor: Tensor<D>,
    grad: Tensor<D>,
    m: Option<Tensor<D>>,
    v: Option<Tensor<D>>,
) -> Result<AdamOut<D>, (Tensor<D>, Tensor<D>, Option<Tensor<D>>, Option<Tensor<D>>)> {
    let device = tensor.device();
    let dtype = tensor.dtype();
    let shape = tensor.shape();
    let n = shape.num_elements();
    let mut p = tensor.into_data();
    let g = grad.into_data();
    let zeros = |dtype: DType| match dtype {
        DType::F32 => TensorData::new(vec![0f32; n], shape.clone()),
        _ => TensorData::new(vec![0f64; n], shape.clone()),
    };
    let mut md = m.map(|t| t.into_data()).unwrap_or_else(|| zeros(dtype));
    let mut vd = v.map(|t| t.into_data()).unwrap_or_else(|| zeros(dtype));
    let ok = match dtype {
        DType::F32 => adam_run::<f32>(c, &mut p, &g, &mut md, &mut vd),
        _ => adam_run::<f64>(c, &mut p, &g, &mut md, &mut vd),
    };
    let back = |d: TensorData| Tensor::<D>::from_data(d, (&device, dtype));
    if !ok {
        return Err((back(p), back(g), Some(back(md)), Some(back(vd))));
    }
    Ok((back(p), back(md), back(vd)))
}

fn adam_run<E: Elem>(c: &AdamCoeffs, p: &mut TensorData, g: &TensorData, m: &mut TensorData, v: &mut TensorData) -> bool {
    let Ok(gs) = g.as_slice::<E>() else { return false };
    let Ok(ps) = p.as_mut_slice::<E>() else { return false };
    let Ok(ms) = m.as_mut_slice::<E>() else { return false };
    let Ok(vs) = v.as_mut_slice::<E>() else { return false };
    if gs.len() != ps.len() || ms.len() != ps.len() || vs.len() != ps.len() {
        return false;
    }
    let k = AdamKernel {
        decay: E::of(1.0 - c.lr * c.weight_decay),
        wd: E::of(c.weight_decay),
        w: E::of(c.lerp_weight),
        one_minus_w: E::of(1.0 - c.lerp_weight),
        beta2: E::of(c.beta2),
        one_minus_beta2: E::of(1.0 - c.beta2),
        bc2: E::of(c.bias_correction2_sqrt),
        eps: E::of(c.eps),
        neg_step: E::of(-c.step_size),
    };
    let small_weight = c.lerp_weight.abs() < 0.5;
    macro_rules! go {
        ($max:literal, $wd:literal) => {
            match (c.decoupled, small_weight) {
                (false, false) => par4(ps, gs, ms, vs, |p, g, m, v| adam_kernel::<E, $max, $wd, false, false>(&k, p, g, m, v)),
                (false, true) => par4(ps, gs, ms, vs, |p, g, m, v| adam_kernel::<E, $max, $wd, false, true>(&k, p, g, m, v)),
                (true, false) => par4(ps, gs, ms, vs, |p, g, m, v| adam_kernel::<E, $max, $wd, true, false>(&k, p, g, m, v)),
                (true, true) => par4(ps, gs, ms, vs, |p, g, m, v| adam_kernel::<E, $max, $wd, true, true>(&k, p, g, m, v)),
            }
        };
    }
    match (c.maximize, !c.decoupled && c.weight_decay != 0.0) {
        (false, false) => go!(false, false),
        (false, true) => go!(false, true),
        (true, false) => go!(true, false),
        (true, true) => go!(true, true),
    }
    true
}

struct AdamKernel<E> {
    decay: E,
    wd: E,
    w: E,
    one_minus_w: E,
    beta2: E,
    one_minus_beta2: E,
    bc2: E,
    eps: E,
    neg_step: E,
}

/// [`adam_loop`], on 8-lane AVX2 vectors when the CPU has them ([`super::simd`]).
#[inline(never)]
fn adam_kernel<E: Elem, const MAXIMIZE: bool, const COUPLED_WD: bool, const DECOUPLED: bool, const SMALL_W: bool>(
    k: &AdamKernel<E>,
    p: &mut [E],
    g: &[E],
    m: &mut [E],
    v: &mut [E],
) {
    widest(|| adam_loop::<E, MAXIMIZE, COUPLED_WD, DECOUPLED, SMALL_W>(k, p, g, m, v))
}

/// The loop itself, a function of its own inlined into both copies: written as a closure inside
/// `widest` instead, the 16M-in-200-tensors Adam step measured 1.3× slower (the codegen changed).
#[inline(always)]
fn adam_loop<E: Elem, const MAXIMIZE: bool, const COUPLED_WD: bool, const DECOUPLED: bool, const SMALL_W: bool>(
    k: &AdamKernel<E>,
    p: &mut [E],
    g: &[E],
    m: &mut [E],
    v: &mut [E],
) {
    for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
        let mut g = if MAXIMIZE { -g } else { g };
        let mut theta = *p;
        if DECOUPLED {
            theta = theta * k.decay;
        } else if COUPLED_WD {
            g = g + theta * k.wd;
        }
        // torch's lerp(m, g, w).
        let diff = g - *m;
        let m_new = if SMALL_W { *m + diff * k.w } else { g - diff * k.one_minus_w };
        *m = m_new;
        let v_new = *v * k.beta2 + (g * k.one_minus_beta2) * g;
        *v = v_new;
        let denom = v_new.sqrt_() / k.bc2 + k.eps;
        *p = theta + (m_new * k.neg_step) / denom;
    }
}

