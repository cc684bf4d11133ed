//! `gemm` (the matrix-product crate Burn's flex backend uses) on host slices. Products of
//! 192³ multiply-adds or more (flex's own threshold) are cut into one block of output rows
//! (or columns, whichever side is longer) per rayon thread, each block one single-threaded
//! `gemm` call. `gemm`'s own split forks and joins twice per 512-deep slice of the inner
//! dimension and packs every slice for both threads; one block per thread does neither and
//! lets rayon balance the blocks when one core is slower. Measured on the MNIST MLP's products
//! (2 threads, AMD EPYC): 3–6% faster at batch 1024, 5–25% at 128 and 32.
//!
//! Same bits as one call: `gemm` sums each output over the inner dimension in slices whose
//! depth depends on that dimension alone, except for products that are at most 64 by 64
//! (one slice of up to 512) and for a single row or column (a matrix-vector kernel). The
//! blocks are cut so that neither case arises where the whole product would not be one
//! ([`blocks`]).

use gemm::Parallelism;
use rayon::prelude::*;

use crate::flex::Real;

/// A matrix for `gemm`: its first element and its row and column strides.
#[derive(Clone, Copy)]
pub(crate) struct Mat<T> {
    ptr: *const T,
    rs: isize,
    cs: isize,
}

// The pointers are read only, inside the `matmul` call that holds the slices they came from.
unsafe impl<T: Sync> Send for Mat<T> {}
unsafe impl<T: Sync> Sync for Mat<T> {}

impl<T> Mat<T> {
    pub(crate) fn rows(s: &[T], rs: usize) -> Self {
        Mat { ptr: s.as_ptr(), rs: rs as isize, cs: 1 }
    }
    /// The transpose of the row-major matrix with rows of `rs` elements in `s`.
    pub(crate) fn transposed(s: &[T], rs: usize) -> Self {
        Mat { ptr: s.as_ptr(), rs: 1, cs: rs as isize }
    }
    /// The matrix from row `r` and column `c` on.
    fn from(self, r: usize, c: usize) -> Self {
        Mat { ptr: self.ptr.wrapping_offset(r as isize * self.rs + c as isize * self.cs), ..self }
    }
}

/// The output split of an `m×n` product over `k`: `Some((by_rows, parts))`, or `None` for
/// one call.
fn blocks([m, n, k]: [usize; 3], threads: usize) -> Option<(bool, usize)> {
    if threads < 2 || m.saturating_mul(n).saturating_mul(k) < 192 * 192 * 192 {
        return None;
    }
    let by_rows = m > n;
    let (long, short) = if by_rows { (m, n) } else { (n, m) };
    // Blocks of at least two rows or columns: one would be gemm's matrix-vector case.
    let parts = threads.min(long / 2);
    if parts < 2 {
        return None;
    }
    // The block's short side (long / parts, rounded down) must stay past gemm's small-product
    // case whenever the whole product is past it and the inner dimension is deeper than one slice.
    let small = |a: usize, b: usize| a <= 64 && b <= 64;
    let changes_slices = k > 512 && !small(m, n) && small(long / parts, short);
    (!changes_slices).then_some((by_rows, parts))
}

/// `dst[m, n] (+)= lhs[m, k] · rhs[k, n]` (`dst` row-major); `accumulate` keeps what it holds.
///
/// # Safety
/// `lhs` and `rhs` must address `m×k` and `k×n` elements inside their slices.
pub(crate) unsafe fn matmul<T: Real>(dst: &mut [T], accumulate: bool, lhs: Mat<T>, rhs: Mat<T>, [m, n, k]: [usize; 3]) {
    debug_assert!(dst.len() >= m * n);
    let Some((by_rows, parts)) = blocks([m, n, k], rayon::current_num_threads()) else {
        return unsafe { one(dst.as_mut_ptr(), n, accumulate, lhs, rhs, [m, n, k]) };
    };
    let long = if by_rows { m } else { n };
    let edge = |p: usize| p * long / parts;
    let out = Out(dst.as_mut_ptr());
    (0..parts).into_par_iter().with_max_len(1).for_each(|p| {
        let (a, b) = (edge(p), edge(p + 1));
        let out = &out;
        // Each block writes only its own rows (or columns) of `dst`.
        unsafe {
            if by_rows {
                one(out.0.add(a * n), n, accumulate, lhs.from(a, 0), rhs, [b - a, n, k]);
            } else {
                one(out.0.add(a), n, accumulate, lhs, rhs.from(0, a), [m, b - a, k]);
            }
        }
    });
}

/// The output's first element, shared by the blocks that write disjoint parts of it.
struct Out<T>(*mut T);
unsafe impl<T: Send> Sync for Out<T> {}

/// One single-threaded `gemm` call into `dst` (row stride `rs`).
unsafe fn one<T: Real>(dst: *mut T, rs: usize, accumulate: bool, lhs: Mat<T>, rhs: Mat<T>, [m, n, k]: [usize; 3]) {
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            rs as isize,
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
            Parallelism::None,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Row-major `m×k` and `k×n` operands of scattered, inexact values: sums taken in another
    /// order round differently, so equal bits mean the same order.
    fn operands(m: usize, n: usize, k: usize) -> (Vec<f32>, Vec<f32>) {
        let lhs = (0..m * k).map(|i| ((i * 7919 % 1013) as f32 - 506.0) / 3.7).collect();
        let rhs = (0..k * n).map(|i| ((i * 104729 % 997) as f32 - 498.0) / 5.3).collect();
        (lhs, rhs)
    }

    /// The split product on `threads` threads and one call, as bits.
    fn product(m: usize, n: usize, k: usize, threads: usize) -> (Vec<u32>, Vec<u32>) {
        let (lhs, rhs) = operands(m, n, k);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let mut split = vec![1.5f32; m * n];
        pool.install(|| unsafe { matmul(&mut split, true, Mat::rows(&lhs, k), Mat::rows(&rhs, n), [m, n, k]) });
        let mut whole = vec![1.5f32; m * n];
        unsafe { one(whole.as_mut_ptr(), n, true, Mat::rows(&lhs, k), Mat::rows(&rhs, n), [m, n, k]) };
        let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect();
        (bits(split), bits(whole))
    }

    #[test]
    fn blocks_give_the_bits_of_one_call() {
        // Tall, wide, deep (several slices), a small side, odd sizes, 2 and 3 threads.
        for (m, n, k, threads) in [(1024, 256, 784, 2), (256, 1024, 784, 3), (130, 70, 1500, 2), (1000, 10, 1200, 2), (97, 301, 613, 3)] {
            assert!(blocks([m, n, k], threads).is_some(), "{m}×{n}×{k} is split");
            let (split, whole) = product(m, n, k, threads);
            assert!(split == whole, "{m}×{n}×{k} on {threads} threads");
        }
    }

    #[test]
    fn gemms_small_case_sums_in_other_slices() {
        // Why `blocks` keeps 128×64 over 1,000 whole: its halves, each a call of its own, do
        // not give the whole call's bits.
        let (m, n, k) = (128, 64, 1000);
        let (lhs, rhs) = operands(m, n, k);
        let mut whole = vec![0f32; m * n];
        let mut halves = vec![0f32; m * n];
        unsafe {
            one(whole.as_mut_ptr(), n, false, Mat::rows(&lhs, k), Mat::rows(&rhs, n), [m, n, k]);
            one(halves.as_mut_ptr(), n, false, Mat::rows(&lhs, k), Mat::rows(&rhs, n), [m / 2, n, k]);
            one(halves.as_mut_ptr().add(m / 2 * n), n, false, Mat::rows(&lhs, k).from(m / 2, 0), Mat::rows(&rhs, n), [m / 2, n, k]);
        }
        assert!(whole.iter().zip(&halves).any(|(a, b)| a.to_bits() != b.to_bits()));
    }

    #[test]
    fn which_products_are_split() {
        assert_eq!(blocks([1024, 256, 784], 2), Some((true, 2)));
        assert_eq!(blocks([256, 1024, 784], 4), Some((false, 4)));
        assert_eq!(blocks([128, 128, 128], 2), None, "below flex's threshold");
        assert_eq!(blocks([1024, 256, 784], 1), None, "one thread");
        // Halves of 64×64 over 1,000 would be gemm's small case (slices of 512, not 2×500).
        assert_eq!(blocks([128, 64, 1000], 2), None);
        assert_eq!(blocks([130, 64, 1000], 2), Some((true, 2)));
        assert_eq!(blocks([3, 1_000_000, 8], 8), Some((false, 8)));
    }
}
