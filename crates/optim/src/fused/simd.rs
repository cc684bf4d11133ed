//! Which vector width the fused loops run at.
//!
//! The release binary is built for baseline x86-64 (SSE2: 4 f32 lanes), so that one binary
//! runs on every CPU. [`widest`] compiles a loop twice more, inside a
//! `#[target_feature(enable = "avx512f")]` function (16 lanes) and an `avx2` one (8 lanes), and
//! picks the widest the CPU has at run time, as gemm's matmul kernels and descent-model's
//! `fast_math` do. Adam's loop is bound by its square root and two divisions, of which AVX2
//! does twice as many per instruction; on a Zen 4 the AVX-512 copy made the MNIST MLP's
//! batch-1 update (in cache) about 12% faster than the AVX2 one, and the 16M-parameter
//! updates, bound by memory, no faster.
//!
//! Both copies perform the same IEEE operations on each element in the same order — `sqrt`
//! and `/` are correctly rounded at any width, and Rust never contracts `a*b + c` into a fused
//! multiply-add — so the results are the same bits whichever copy ran; the fused tests compare
//! against the tensor path bit for bit on the CPU they run on.

/// Runs `f` compiled for AVX-512F or AVX2 where the CPU has it, for the baseline target
/// elsewhere.
#[inline(always)]
pub(crate) fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        #[target_feature(enable = "avx512f")]
        fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: the CPU reports AVX-512F, the only feature `avx512` is compiled for.
        return unsafe { avx512(f) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: the CPU reports AVX2, the only feature `avx2` is compiled for.
        return unsafe { avx2(f) };
    }
    f()
}
