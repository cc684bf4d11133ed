//! Single-pass, in-place optimizer updates on Burn's CPU (flex) backend.
//!
//! Written as tensor operations, one momentum-SGD step makes four passes over memory
//! (`b·μ`, `+ g`, `d·γ`, `θ −`), one of them into a freshly allocated temporary (the
//! momentum buffer is shared with `d_p`, so `mul_scalar` cannot reuse it): about 40 bytes
//! moved per parameter where 20 suffice (read θ, g, b; write θ, b).
//!
//! On flex a uniquely owned tensor turns into its `TensorData` and back without a copy
//! (`FlexTensor::into_data` unwraps its `Arc` when the count is one, `from_data` wraps the
//! bytes), so the update can run as one loop over the parameter, gradient and momentum
//! slices. Each element goes through the same IEEE operations in the same order as the
//! tensor version — scalars rounded to the element type the way flex's `mul_scalar` rounds
//! them, no fused multiply-add (Rust never contracts `a*b + c`) — so the results are the same
//! bits; `sgd.rs`'s tests compare the two paths on every option.
//!
//! Tensors of [`PARALLEL_MIN`] elements or more are cut into chunks of [`CHUNK`] elements that
//! rayon's pool (the one flex's matmul uses) updates in parallel. Each element's arithmetic is
//! untouched, so the bits do not depend on the thread count; what two cores buy is memory
//! bandwidth, which one core alone does not saturate.

use std::ops::{Add, Div, Mul, Neg, Sub};

use burn::tensor::{DType, Device, Tensor, TensorData};
use rayon::prelude::*;

/// Parameter, gradient and momentum buffer given back when the fused path cannot run.
pub(crate) type Returned<const D: usize> = (Tensor<D>, Tensor<D>, Option<Tensor<D>>);

/// Whether [`sgd_flex`] applies: every tensor on the flex device, same shape, f32 or f64.
pub(crate) fn flex_eligible<const D: usize>(tensor: &Tensor<D>, grad: &Tensor<D>, buffer: Option<&Tensor<D>>) -> bool {
    let dtype = tensor.dtype();
    if !matches!(dtype, DType::F32 | DType::F64) || grad.dtype() != dtype {
        return false;
    }
    let flex = Device::flex();
    if tensor.device() != flex || grad.device() != flex || tensor.shape() != grad.shape() {
        return false;
    }
    match buffer {
        Some(b) => b.dtype() == dtype && b.device() == flex && b.shape() == tensor.shape(),
        None => true,
    }
}

/// SGD's hyper-parameters for one step.
pub(crate) struct SgdCoeffs {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    pub maximize: bool,
}

/// f32 and f64, with scalars rounded as flex rounds a `mul_scalar` argument.
trait Elem: Copy + Default + Send + Sync + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> + Neg<Output = Self> + burn::tensor::Element {
    fn of(x: f64) -> Self;
    /// Correctly rounded square root (IEEE), as flex's `sqrt`.
    fn sqrt_(self) -> Self;
}
impl Elem for f32 {
    fn of(x: f64) -> Self {
        x as f32
    }
    fn sqrt_(self) -> Self {
        self.sqrt()
    }
}
impl Elem for f64 {
    fn of(x: f64) -> Self {
        x
    }
    fn sqrt_(self) -> Self {
        self.sqrt()
    }
}

/// Momentum-buffer handling of a step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// momentum 0: no buffer.
    None,
    /// First step: b ← d.
    First,
    /// b ← μ·b + d.
    NoDamp,
    /// b ← μ·b + (1 − τ)·d.
    Damp,
}

/// One SGD step on flex, in place. `Err` gives the inputs back (as tensors) if a buffer could
/// not be viewed as a slice of its dtype.
#[allow(clippy::type_complexity)]
pub(crate) fn sgd_flex<const D: usize>(
    c: &SgdCoeffs,
    tensor: Tensor<D>,
    grad: Tensor<D>,
    buffer: Option<Tensor<D>>,
) -> Result<(Tensor<D>, Option<Tensor<D>>), Returned<D>> {
    let device = tensor.device();
    let dtype = tensor.dtype();
    let use_momentum = c.momentum != 0.0;
    // With momentum 0 an existing buffer is carried along untouched, as the tensor path does.
    let (buffer, carried) = if use_momentum { (buffer, None) } else { (None, buffer) };
    let mut p = tensor.into_data();
    let g = grad.into_data();
    let mut b = buffer.map(|b| b.into_data());
    let ok = match dtype {
        DType::F32 => run::<f32>(c, &mut p, &g, &mut b, use_momentum),
        _ => run::<f64>(c, &mut p, &g, &mut b, use_momentum),
    };
    let back = |d: TensorData| Tensor::<D>::from_data(d, (&device, dtype));
    if !ok {
        let buffer = b.map(back).or(carried);
        return Err((back(p), back(g), buffer));
    }
    drop(g);
    let buffer = if use_momentum { b.map(back) } else { carried };
    Ok((back(p), buffer))
}

/// Runs the kernel; `b` becomes `Some` on a first momentum step. False if a slice view failed.
fn run<E: Elem>(c: &SgdCoeffs, p: &mut TensorData, g: &TensorData, b: &mut Option<TensorData>, use_momentum: bool) -> bool {
    let mode = match (use_momentum, b.is_some(), c.dampening == 0.0) {
        (false, _, _) => Mode::None,
        (true, false, _) => Mode::First,
        (true, true, true) => Mode::NoDamp,
        (true, true, false) => Mode::Damp,
    };
    let shape = p.shape().clone();
    let Ok(gs) = g.as_slice::<E>() else { return false };
    let Ok(ps) = p.as_mut_slice::<E>() else { return false };
    if gs.len() != ps.len() {
        return false;
    }
    let k = Kernel {
        lr: E::of(c.lr),
        mu: E::of(c.momentum),
        one_minus_damp: E::of(1.0 - c.dampening),
        wd: E::of(c.weight_decay),
    };
    match mode {
        Mode::None => dispatch(&k, c, ps, gs, &mut [], Mode::None),
        Mode::First => {
            let mut nb = vec![E::default(); ps.len()];
            dispatch(&k, c, ps, gs, &mut nb, Mode::First);
            *b = Some(TensorData::new(nb, shape));
        }
        m => {
            let Some(bd) = b.as_mut() else { return false };
            let Ok(bs) = bd.as_mut_slice::<E>() else { return false };
            if bs.len() != ps.len() {
                return false;
            }
            dispatch(&k, c, ps, gs, bs, m);
        }
    }
    true
}

struct Kernel<E> {
    lr: E,
    mu: E,
    one_minus_damp: E,
    wd: E,
}

/// Elements per parallel chunk: 128 KB of f32 per slice, so rayon's hand-off (µs) is small
/// against a chunk's own time.
pub(crate) const CHUNK: usize = 1 << 15;

/// Tensors below this many elements are updated on the calling thread: their slices still sit
/// in the caches of the core that computed the gradient, and handing them to another core cost
/// more than it saved in `descent bench` (the 784-256-256-10 MLP's 200K-element weight ran its
/// step 2× slower split over two threads). Above it the update is bound by memory bandwidth,
/// which a second core adds to.
pub(crate) const PARALLEL_MIN: usize = 1 << 20;

/// `f` over matching chunks of `p`, `g` and `b` (`b` empty: no buffer), in parallel from
/// [`PARALLEL_MIN`] elements on.
fn par3<E: Elem>(p: &mut [E], g: &[E], b: &mut [E], f: impl Fn(&mut [E], &[E], &mut [E]) + Sync + Send) {
    if p.len() < PARALLEL_MIN {
        f(p, g, b)
    } else if b.is_empty() {
        p.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK)).for_each(|(p, g)| f(p, g, &mut []));
    } else {
        p.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK)).zip(b.par_chunks_mut(CHUNK)).for_each(|((p, g), b)| f(p, g, b));
    }
}

/// [`par3`] with two buffers (Adam's moments).
fn par4<E: Elem>(p: &mut [E], g: &[E], m: &mut [E], v: &mut [E], f: impl Fn(&mut [E], &[E], &mut [E], &mut [E]) + Sync + Send) {
    if p.len() < PARALLEL_MIN {
        f(p, g, m, v)
    } else {
        p.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(|(((p, g), m), v)| f(p, g, m, v));
    }
}

/// Picks a loop specialised on the flags, so each inner loop is branch-free and vectorises.
fn dispatch<E: Elem>(k: &Kernel<E>, c: &SgdCoeffs, p: &mut [E], g: &[E], b: &mut [E], mode: Mode) {
    macro_rules! go {
        ($m:expr) => {
            match (c.maximize, c.weight_decay != 0.0, c.nesterov) {
                (false, false, false) => par3(p, g, b, |p, g, b| kernel::<E, false, false, false, $m>(k, p, g, b)),
                (false, false, true) => par3(p, g, b, |p, g, b| kernel::<E, false, false, true, $m>(k, p, g, b)),
                (false, true, false) => par3(p, g, b, |p, g, b| kernel::<E, false, true, false, $m>(k, p, g, b)),
                (false, true, true) => par3(p, g, b, |p, g, b| kernel::<E, false, true, true, $m>(k, p, g, b)),
                (true, false, false) => par3(p, g, b, |p, g, b| kernel::<E, true, false, false, $m>(k, p, g, b)),
                (true, false, true) => par3(p, g, b, |p, g, b| kernel::<E, true, false, true, $m>(k, p, g, b)),
                (true, true, false) => par3(p, g, b, |p, g, b| kernel::<E, true, true, false, $m>(k, p, g, b)),
                (true, true, true) => par3(p, g, b, |p, g, b| kernel::<E, true, true, true, $m>(k, p, g, b)),
            }
        };
    }
    match mode {
        Mode::None => go!(0),
        Mode::First => go!(1),
        Mode::NoDamp => go!(2),
        Mode::Damp => go!(3),
    }
}

/// `MODE`: 0 no momentum, 1 first step, 2 no dampening, 3 dampening.
#[inline(never)]
fn kernel<E: Elem, const MAXIMIZE: bool, const WD: bool, const NESTEROV: bool, const MODE: u8>(
    k: &Kernel<E>,
    p: &mut [E],
    g: &[E],
    b: &mut [E],
) {
    let update = |p: &mut E, g: E, b: Option<&mut E>| {
        let mut d = if MAXIMIZE { -g } else { g };
        if WD {
            d = d + *p * k.wd;
        }
        if let Some(b) = b {
            let buf = match MODE {
                1 => d,
                2 => *b * k.mu + d,
                _ => *b * k.mu + d * k.one_minus_damp,
            };
            *b = buf;
            d = if NESTEROV { d + buf * k.mu } else { buf };
        }
        *p = *p - d * k.lr;
    };
    if MODE == 0 {
        for (p, &g) in p.iter_mut().zip(g) {
            update(p, g, None);
        }
    } else {
        for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
            update(p, g, Some(b));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Adam / AdamW (without amsgrad)
// ---------------------------------------------------------------------------------------------

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

#[inline(never)]
fn adam_kernel<E: Elem, const MAXIMIZE: bool, const COUPLED_WD: bool, const DECOUPLED: bool, const SMALL_W: bool>(
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

/// Helpers for the fused paths' bit-for-bit tests (sgd.rs, adam.rs).
#[cfg(test)]
pub(crate) mod testing {
    use burn::tensor::{DType, Device, Tensor, TensorData};

    /// `values` as a `[n/3, 3]` flex tensor of `dtype`.
    pub(crate) fn tensor(values: &[f64], dtype: DType) -> Tensor<2> {
        let data = match dtype {
            DType::F32 => TensorData::new(values.iter().map(|&v| v as f32).collect::<Vec<_>>(), [values.len() / 3, 3]),
            _ => TensorData::new(values.to_vec(), [values.len() / 3, 3]),
        };
        Tensor::from_data(data, (&Device::flex(), dtype))
    }

    /// Every element's bit pattern, to compare without tolerance.
    pub(crate) fn bits(t: &Tensor<2>) -> Vec<u64> {
        let data = t.to_data();
        match data.dtype() {
            DType::F32 => data.as_slice::<f32>().unwrap().iter().map(|v| v.to_bits() as u64).collect(),
            _ => data.as_slice::<f64>().unwrap().iter().map(|v| v.to_bits()).collect(),
        }
    }
}
