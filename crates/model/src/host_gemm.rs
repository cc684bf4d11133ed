//! `gemm` (the matrix-product crate Burn's flex backend uses) on host slices. Products of
//! 192³ multiply-adds or more run on rayon inside `gemm` (flex's own threshold); `gemm` splits
//! the output, never a sum, so the bits do not depend on the thread count.

use gemm::Parallelism;

use crate::flex::Real;

/// A matrix for `gemm`: its first element and its row and column strides.
#[derive(Clone, Copy)]
pub(crate) struct Mat<T> {
    ptr: *const T,
    rs: isize,
    cs: isize,
}

impl<T> Mat<T> {
    pub(crate) fn rows(s: &[T], rs: usize) -> Self {
        Mat { ptr: s.as_ptr(), rs: rs as isize, cs: 1 }
    }
    /// The transpose of the row-major matrix with rows of `rs` elements in `s`.
    pub(crate) fn transposed(s: &[T], rs: usize) -> Self {
        Mat { ptr: s.as_ptr(), rs: 1, cs: rs as isize }
    }
}

/// `dst[m, n] (+)= lhs[m, k] · rhs[k, n]` (`dst` row-major); `accumulate` keeps what it holds.
///
/// # Safety
/// `lhs` and `rhs` must address `m×k` and `k×n` elements inside their slices.
pub(crate) unsafe fn matmul<T: Real>(dst: &mut [T], accumulate: bool, lhs: Mat<T>, rhs: Mat<T>, [m, n, k]: [usize; 3]) {
    debug_assert!(dst.len() >= m * n);
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.ptr,
            lhs.cs,
            lhs.rs,
            rhs.ptr,
            rhs.cs,
            rhs.rs,
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            if m.saturating_mul(n).saturating_mul(k) >= 192 * 192 * 192 { Parallelism::Rayon(0) } else { Parallelism::None },
        )
    }
}
