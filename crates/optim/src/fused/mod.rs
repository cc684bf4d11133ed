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
//! Tensors of [`parallel_min`] elements or more (1M; 64K on Intel CPUs) are cut into equal chunks
//! of about [`CHUNK`] elements, as many as a multiple of the threads ([`chunk_len`]), that rayon's
//! pool (the one flex's matmul uses) updates in parallel. Each element's arithmetic is
//! untouched, so the bits do not depend on the thread count or the chunking; what two cores buy
//! is memory bandwidth, which one core alone does not saturate.


mod adam;
mod sgd;
mod simd;
#[cfg(test)]
mod tests;

pub(crate) use adam::{adam_flex, AdamCoeffs};
pub(crate) use sgd::{sgd_or, SgdCoeffs};

use std::ops::{Add, Div, Mul, Neg, Sub};

use burn::tensor::{DType, Device, Tensor};
use rayon::prelude::*;

/// Parameter, gradient and momentum buffer given back when the fused path cannot run.
pub(crate) type Returned<const D: usize> = (Tensor<D>, Tensor<D>, Option<Tensor<D>>);

/// Whether the fused paths apply: every tensor on the flex device, same shape, f32 or f64.
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


/// f32 and f64, with scalars rounded as flex rounds a `mul_scalar` argument.
pub(crate) trait Elem: Copy + Default + Send + Sync + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> + Div<Output = Self> + Neg<Output = Self> + burn::tensor::Element {
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

/// Elements per parallel chunk: 128 KB of f32 per slice, so rayon's hand-off (µs) is small
/// against a chunk's own time.
pub(crate) const CHUNK: usize = 1 << 15;

/// Tensors below this many elements are updated on the calling thread: their slices still sit
/// in the caches of the core that computed the gradient, and handing them to another core cost
/// more than it saved in `descent bench` on the AMD EPYC VMs (the 784-256-256-10 MLP's
/// 200K-element weight ran its step 2× slower split over two threads). Above it the update is
/// bound by memory bandwidth, which a second core adds to.
pub(crate) const PARALLEL_MIN: usize = 1 << 20;

/// [`PARALLEL_MIN`] on Intel CPUs. On the Intel Xeon measured (family 6 model 207, 2 cores) one
/// core moves half of what two do (21 against 41 GB/s; on the AMD VMs one core moved nearly
/// all), so the split pays from 64K elements: alternating rounds against 1M, `descent bench`,
/// 16M parameters in 200 tensors 0.64–0.71× the time, the MNIST MLP's update at batch 1 0.72×,
/// at batch 128 0.66×. On a Zen 4 the same threshold made those MLP updates 1.2–1.4× slower.
pub(crate) const PARALLEL_MIN_INTEL: usize = 1 << 16;

/// The size from which [`par3`] and [`par4`] split a tensor: [`PARALLEL_MIN_INTEL`] on an Intel
/// CPU, else [`PARALLEL_MIN`]. Only the speed depends on it: each element's arithmetic is the
/// same whichever thread runs it.
pub(crate) fn parallel_min() -> usize {
    static MIN: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *MIN.get_or_init(|| if is_intel() { PARALLEL_MIN_INTEL } else { PARALLEL_MIN })
}

/// CPUID's vendor string is "GenuineIntel".
fn is_intel() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: CPUID leaf 0 exists on every x86-64 CPU.
        #[allow(unused_unsafe)]
        let id = unsafe { std::arch::x86_64::__cpuid(0) };
        let vendor = [id.ebx, id.edx, id.ecx].map(u32::to_le_bytes).concat();
        vendor == b"GenuineIntel"
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `f` over matching chunks of `p`, `g` and `b` (`b` empty: no buffer), in parallel where
/// [`split`] says so.
pub(crate) fn par3<E: Elem>(p: &mut [E], g: &[E], b: &mut [E], f: impl Fn(&mut [E], &[E], &mut [E]) + Sync + Send) {
    let Some(chunk) = split(p.len()) else { return f(p, g, b) };
    if b.is_empty() {
        p.par_chunks_mut(chunk).zip(g.par_chunks(chunk)).for_each(|(p, g)| f(p, g, &mut []));
    } else {
        p.par_chunks_mut(chunk).zip(g.par_chunks(chunk)).zip(b.par_chunks_mut(chunk)).for_each(|((p, g), b)| f(p, g, b));
    }
}

/// [`par3`] with two buffers (Adam's moments).
pub(crate) fn par4<E: Elem>(p: &mut [E], g: &[E], m: &mut [E], v: &mut [E], f: impl Fn(&mut [E], &[E], &mut [E], &mut [E]) + Sync + Send) {
    let Some(chunk) = split(p.len()) else { return f(p, g, m, v) };
    p.par_chunks_mut(chunk)
        .zip(g.par_chunks(chunk))
        .zip(m.par_chunks_mut(chunk))
        .zip(v.par_chunks_mut(chunk))
        .for_each(|(((p, g), m), v)| f(p, g, m, v));
}

/// The chunk length a tensor of `n` elements is updated in parallel with: `None` below
/// [`parallel_min`] (one call on this thread), else [`chunk_len`].
fn split(n: usize) -> Option<usize> {
    (n >= parallel_min()).then(|| chunk_len(n))
}

/// Chunk length for `n` elements: about [`CHUNK`] at most, a multiple of 64 elements, and
/// chunks as many as a multiple of the pool's threads, so that each thread gets an equal share.
/// In fixed chunks of [`CHUNK`], an 80K-element tensor made 32K + 32K + 16K, and of two threads
/// one did 48K: `descent bench`, 16M parameters in 200 tensors, took 9–18% longer than with
/// four chunks of 20K (docs/speed.md).
pub(crate) fn chunk_len(n: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    let chunks = n.div_ceil(threads * CHUNK).max(1) * threads;
    n.div_ceil(chunks).next_multiple_of(64)
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
