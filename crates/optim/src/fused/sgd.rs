//! Momentum SGD in one pass over θ, g and the momentum buffer.

use burn::tensor::{DType, Tensor, TensorData};

use super::{par3, simd::widest, Elem, Returned};

/// SGD's hyper-parameters for one step.
pub(crate) struct SgdCoeffs {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
    pub maximize: bool,
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

/// [`sgd_flex`] where it applies, else (and if it hands its inputs back) `ops`, the
/// tensor-op update with the same bits.
pub(crate) fn sgd_or<const D: usize>(
    c: &SgdCoeffs,
    tensor: Tensor<D>,
    grad: Tensor<D>,
    buffer: Option<Tensor<D>>,
    ops: impl FnOnce(Tensor<D>, Tensor<D>, Option<Tensor<D>>) -> (Tensor<D>, Option<Tensor<D>>),
) -> (Tensor<D>, Option<Tensor<D>>) {
    if !super::flex_eligible(&tensor, &grad, buffer.as_ref()) {
        return ops(tensor, grad, buffer);
    }
    match sgd_flex(c, tensor, grad, buffer) {
        Ok(out) => out,
        // The buffers could not be borrowed as slices (never expected on flex).
        Err((tensor, grad, buffer)) => ops(tensor, grad, buffer),
    }
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

/// `MODE`: 0 no momentum, 1 first step, 2 no dampening, 3 dampening. [`sgd_loop`], on 8-lane
/// AVX2 vectors when the CPU has them ([`super::simd`]).
#[inline(never)]
fn kernel<E: Elem, const MAXIMIZE: bool, const WD: bool, const NESTEROV: bool, const MODE: u8>(
    k: &Kernel<E>,
    p: &mut [E],
    g: &[E],
    b: &mut [E],
) {
    widest(|| sgd_loop::<E, MAXIMIZE, WD, NESTEROV, MODE>(k, p, g, b))
}

/// The loops themselves, a function inlined into both copies, as adam.rs's: with the
/// update closure outside `widest` the AVX2 copies were left scalar.
#[inline(always)]
fn sgd_loop<E: Elem, const MAXIMIZE: bool, const WD: bool, const NESTEROV: bool, const MODE: u8>(
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

