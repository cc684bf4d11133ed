//! A stride-1 2-D convolution as matrix products over host slices (im2col), image by image.
//!
//! With `K = C·kh·kw` patch entries and `S = Ho·Wo` output pixels, the patches of one image
//! `x_b: [C, H, W]` are the rows of `cols_b: [K, S]`, row `(c, i, j)`, column `(oy, ox)`:
//!
//! `cols_b[(c,i,j), (oy,ox)] = x_b[c, oy+i−ph, ox+j−pw]` (0 outside the image), and with the
//! weight's rows `W: [Co, K]`:
//!
//! - forward: `y_b = W·cols_b + bias`;
//! - weight gradient: `∂W = Σ_b dy_b·cols_bᵀ`;
//! - bias gradient: `∂bias[o] = Σ_b Σ_s dy_b[o, s]`;
//! - input gradient: `∂cols_b = Wᵀ·dy_b`, then each `∂x_b` element adds its (at most `kh·kw`)
//!   entries of `∂cols_b` back (col2im).
//!
//! `cols_b` is built in a per-task buffer that stays in cache (an image's patches are ~100 KB
//! for the MNIST CNN) and built again in the backward rather than kept: writing all of a
//! batch's patches to memory cost more than the products. Images go over rayon in fixed groups
//! of [`GROUP`]; each group sums its images' `∂W` in order and the groups' sums are added in
//! order, so every result is the same run after run and for any number of threads.

use core::ops::Range;

use rayon::prelude::*;

use crate::flex::Real;
use crate::host_gemm::{matmul, Mat};

/// Images per task; also the unit of `∂W`'s partial sums (fixed, so threads don't change bits).
const GROUP: usize = 4;

/// Shapes of one convolution: `x: [b, c, h, w]`, weight `[co, c, kh, kw]`, padding `[ph, pw]`
/// on both sides, stride 1, output `[b, co, ho, wo]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    pub b: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub co: usize,
    pub kh: usize,
    pub kw: usize,
    pub ph: usize,
    pub pw: usize,
}

impl Geometry {
    pub fn ho(&self) -> usize {
        self.h + 2 * self.ph + 1 - self.kh
    }
    pub fn wo(&self) -> usize {
        self.w + 2 * self.pw + 1 - self.kw
    }
    /// Patch entries per output pixel.
    pub fn k(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Output pixels per image.
    pub fn s(&self) -> usize {
        self.ho() * self.wo()
    }
    fn image_in(&self) -> usize {
        self.c * self.h * self.w
    }
    fn image_out(&self) -> usize {
        self.co * self.s()
    }
    fn groups(&self) -> usize {
        self.b.div_ceil(GROUP)
    }
    fn images(&self, group: usize) -> Range<usize> {
        group * GROUP..((group + 1) * GROUP).min(self.b)
    }

    /// For patch column `j`: the output columns `ox0..ox1` that read inside the image.
    fn columns(&self, j: usize) -> (usize, usize) {
        inside(j, self.pw, self.w, self.wo())
    }

    /// For patch row `i`: the output rows `oy0..oy1` that read inside the image.
    fn rows(&self, i: usize) -> (usize, usize) {
        inside(i, self.ph, self.h, self.ho())
    }

    /// For patch row `i` and output row `oy`: the input row read, if inside the image.
    fn row(&self, i: usize, oy: usize) -> Option<usize> {
        (oy + i).checked_sub(self.ph).filter(|&iy| iy < self.h)
    }

    /// `(c, i, j)` of patch row `r`.
    fn patch(&self, r: usize) -> (usize, usize, usize) {
        (r / (self.kh * self.kw), (r / self.kw) % self.kh, r % self.kw)
    }
}

/// Along one side: the outputs `o0..o1` (of `out`) whose tap `t`, at input `o + t − pad`, lands
/// inside `0..len`.
fn inside(t: usize, pad: usize, len: usize, out: usize) -> (usize, usize) {
    let o0 = pad.saturating_sub(t).min(out);
    let o1 = out.min((len + pad).saturating_sub(t));
    (o0, o1.max(o0))
}

/// The patches of one image `x_b: [c, h, w]` into `cols: [K, S]` (every element written).
fn im2col<T: Real>(x_b: &[T], g: &Geometry, cols: &mut [T]) {
    if g.wo() == g.w {
        return im2col_same(x_b, g, cols);
    }
    im2col_rows(x_b, g, cols)
}

/// [`im2col`] output row by output row (any padding).
fn im2col_rows<T: Real>(x_b: &[T], g: &Geometry, cols: &mut [T]) {
    let (s, wo) = (g.s(), g.wo());
    for (r, row) in cols.chunks_mut(s).enumerate() {
        let (c, i, j) = g.patch(r);
        let (ox0, ox1) = g.columns(j);
        let plane = &x_b[c * g.h * g.w..][..g.h * g.w];
        for (oy, out) in row.chunks_mut(wo).enumerate() {
            match g.row(i, oy) {
                Some(iy) => {
                    out[..ox0].fill(T::ZERO);
                    out[ox0..ox1].copy_from_slice(&plane[iy * g.w + ox0 + j - g.pw..][..ox1 - ox0]);
                    out[ox1..].fill(T::ZERO);
                }
                None => out.fill(T::ZERO),
            }
        }
    }
}

/// The valid part of patch row `(i, j)` where the output is as wide as the input (`wo = w`,
/// "same" padding across): output `f = oy·w + ox` reads input `f + shift` for every `f` in
/// `span`, except in the `wrapped` columns `ox` (those whose window sticks out of the image's
/// side: `f + shift` lands on the neighbouring row's other edge), which are outside the image.
struct Flat {
    span: Range<usize>,
    shift: isize,
    wrapped: Range<usize>,
}

impl Geometry {
    fn flat(&self, i: usize, j: usize) -> Flat {
        let w = self.w;
        let ((oy0, oy1), (ox0, ox1)) = (self.rows(i), self.columns(j));
        let span = if oy1 > oy0 && ox1 > ox0 { oy0 * w + ox0..(oy1 - 1) * w + ox1 } else { 0..0 };
        let shift = (i as isize - self.ph as isize) * w as isize + (j as isize - self.pw as isize);
        // Left of the image (j < pw) the first ox0 columns are outside, right of it the last.
        let wrapped = if j < self.pw { 0..ox0 } else { ox1..w };
        Flat { span, shift, wrapped }
    }
}

/// Zeroes the `wrapped` columns of a patch row of `w`-wide output rows.
fn zero_wrapped<T: Real>(row: &mut [T], wrapped: Range<usize>, w: usize) {
    for ox in wrapped {
        row.iter_mut().skip(ox).step_by(w).for_each(|v| *v = T::ZERO);
    }
}

/// [`im2col`] for `wo = w`: each patch row is one shifted copy of its input plane (the MNIST
/// CNN's rows are 14–28 wide; one copy per row of them cost more in calls than in bytes).
fn im2col_same<T: Real>(x_b: &[T], g: &Geometry, cols: &mut [T]) {
    let (s, w) = (g.s(), g.w);
    for (r, row) in cols.chunks_mut(s).enumerate() {
        let (c, i, j) = g.patch(r);
        let Flat { span, shift, wrapped } = g.flat(i, j);
        let plane = &x_b[c * g.h * w..][..g.h * w];
        row[..span.start].fill(T::ZERO);
        if !span.is_empty() {
            let from = (span.start as isize + shift) as usize;
            row[span.clone()].copy_from_slice(&plane[from..][..span.len()]);
        }
        row[span.end..].fill(T::ZERO);
        zero_wrapped(row, wrapped, w);
    }
}

/// `∂x_b: [c, h, w]` from `∂cols_b: [K, S]`: each element sums its patch entries, `(i, j)` in order.
fn col2im<T: Real>(dcols: &mut [T], g: &Geometry, dx_b: &mut [T]) {
    if g.wo() == g.w {
        return col2im_same(dcols, g, dx_b);
    }
    col2im_rows(dcols, g, dx_b)
}

/// [`col2im`] for `wo = w`, one shifted add per patch row. The wrapped column's entries are set
/// to 0 first and then added to the neighbouring row's edge: `v + 0 = v` exactly, as a sum
/// started from +0 is never −0 (every element's sum still adds its own entries in the same order).
fn col2im_same<T: Real>(dcols: &mut [T], g: &Geometry, dx_b: &mut [T]) {
    let (s, w) = (g.s(), g.w);
    dx_b.fill(T::ZERO);
    for (r, row) in dcols.chunks_mut(s).enumerate() {
        let (c, i, j) = g.patch(r);
        let Flat { span, shift, wrapped } = g.flat(i, j);
        zero_wrapped(row, wrapped, w);
        if span.is_empty() {
            continue;
        }
        let plane = &mut dx_b[c * g.h * w..][..g.h * w];
        let dst = &mut plane[(span.start as isize + shift) as usize..][..span.len()];
        dst.iter_mut().zip(&row[span]).for_each(|(d, &v)| *d += v);
    }
}

/// [`col2im`] output row by output row (any padding).
fn col2im_rows<T: Real>(dcols: &[T], g: &Geometry, dx_b: &mut [T]) {
    let (s, wo) = (g.s(), g.wo());
    dx_b.fill(T::ZERO);
    for (r, row) in dcols.chunks(s).enumerate() {
        let (c, i, j) = g.patch(r);
        let (ox0, ox1) = g.columns(j);
        let plane = &mut dx_b[c * g.h * g.w..][..g.h * g.w];
        for (oy, src) in row.chunks(wo).enumerate() {
            if let Some(iy) = g.row(i, oy) {
                let dst = &mut plane[iy * g.w + ox0 + j - g.pw..][..ox1 - ox0];
                dst.iter_mut().zip(&src[ox0..ox1]).for_each(|(d, &v)| *d += v);
            }
        }
    }
}

/// `Σ v` in eight interleaved partial sums (fixed order; they vectorise, one running sum does not).
fn sum<T: Real>(v: &[T]) -> T {
    let mut lanes = [T::ZERO; 8];
    let chunks = v.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        lanes.iter_mut().zip(c).for_each(|(l, &x)| *l += x);
    }
    let [a, b, c, d, e, f, g, h] = lanes;
    rest.iter().fold(((a + e) + (b + f)) + ((c + g) + (d + h)), |t, &x| t + x)
}

/// `y = conv(x, weight) + bias` as `[b, co, ho, wo]`.
pub(crate) fn forward<T: Real>(x: &[T], weight: &[T], bias: &[T], g: &Geometry) -> Vec<T> {
    let (k, s) = (g.k(), g.s());
    let mut y = vec![T::ZERO; g.b * g.image_out()];
    y.par_chunks_mut(GROUP * g.image_out()).enumerate().for_each(|(group, y_group)| {
        let mut cols = vec![T::ZERO; k * s];
        for (b, y_b) in g.images(group).zip(y_group.chunks_mut(g.image_out())) {
            im2col(&x[b * g.image_in()..][..g.image_in()], g, &mut cols);
            for (row, &v) in y_b.chunks_mut(s).zip(bias) {
                row.fill(v);
            }
            // SAFETY: W is [co, k] and cols [k, s], both whole slices.
            unsafe { matmul(y_b, true, Mat::rows(weight, k), Mat::rows(&cols, s), [g.co, s, k]) };
        }
    });
    y
}

/// Which gradients the backward computes.
pub(crate) struct Wanted {
    pub x: bool,
    pub weight: bool,
    pub bias: bool,
}

pub(crate) type Grads<T> = (Option<Vec<T>>, Option<Vec<T>>, Option<Vec<T>>);

/// `(∂x, ∂W, ∂bias)` from `dy: [b, co, ho, wo]`, each only when wanted.
pub(crate) fn backward<T: Real>(x: &[T], weight: &[T], dy: &[T], g: &Geometry, wanted: Wanted) -> Grads<T> {
    let (k, s) = (g.k(), g.s());
    // One group's images: ∂x into `dx_group` when given, and the group's shares of ∂W and ∂bias.
    let group = |group: usize, dx_group: Option<&mut [T]>| -> (Vec<T>, Vec<T>) {
        let mut cols = vec![T::ZERO; if wanted.weight { k * s } else { 0 }];
        let mut dcols = vec![T::ZERO; if dx_group.is_some() { k * s } else { 0 }];
        let mut dw = vec![T::ZERO; if wanted.weight { g.co * k } else { 0 }];
        let mut db = vec![T::ZERO; if wanted.bias { g.co } else { 0 }];
        let mut dx_images = dx_group.map(|d| d.chunks_mut(g.image_in()));
        for (nth, b) in g.images(group).enumerate() {
            let dy_b = &dy[b * g.image_out()..][..g.image_out()];
            if wanted.weight {
                im2col(&x[b * g.image_in()..][..g.image_in()], g, &mut cols);
                // SAFETY: dy_b is [co, s]; colsᵀ reads cols [k, s] transposed.
                unsafe { matmul(&mut dw, nth > 0, Mat::rows(dy_b, s), Mat::transposed(&cols, s), [g.co, k, s]) };
            }
            for (a, row) in db.iter_mut().zip(dy_b.chunks(s)) {
                *a += sum(row);
            }
            if let Some(dx_b) = dx_images.as_mut().and_then(|it| it.next()) {
                // SAFETY: Wᵀ reads W [co, k] transposed; dy_b is [co, s].
                unsafe { matmul(&mut dcols, false, Mat::transposed(weight, k), Mat::rows(dy_b, s), [k, s, g.co]) };
                col2im(&mut dcols, g, dx_b);
            }
        }
        (dw, db)
    };
    let mut dx = wanted.x.then(|| vec![T::ZERO; g.b * g.image_in()]);
    let partial: Vec<(Vec<T>, Vec<T>)> = match dx.as_mut() {
        Some(dx) => dx.par_chunks_mut(GROUP * g.image_in()).enumerate().map(|(i, d)| group(i, Some(d))).collect(),
        None => (0..g.groups()).into_par_iter().map(|i| group(i, None)).collect(),
    };
    // The groups' shares, added in group order.
    let add = |pick: fn(&(Vec<T>, Vec<T>)) -> &Vec<T>, len: usize| {
        let mut total = vec![T::ZERO; len];
        for p in &partial {
            total.iter_mut().zip(pick(p)).for_each(|(a, &v)| *a += v);
        }
        total
    };
    let dw = wanted.weight.then(|| add(|p| &p.0, g.co * k));
    let bias = wanted.bias.then(|| add(|p| &p.1, g.co));
    (dx, dw, bias)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values with signed zeros among them (the `v + 0` argument in [`col2im_same`]).
    fn values(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                match (s >> 33) % 11 {
                    0 => -0.0,
                    1 => 0.0,
                    r => ((s >> 40) % 2001) as f32 / 1000.0 - 1.0 + r as f32 * 1e-7,
                }
            })
            .collect()
    }

    #[test]
    fn the_shifted_copies_equal_the_row_by_row_patches_and_sums_to_the_bit() {
        // Square and odd kernels with "same" padding across (and some taller than the image).
        for (c, h, w, kh, kw) in [(1, 28, 28, 3, 3), (16, 14, 14, 3, 3), (2, 5, 7, 5, 5), (3, 2, 3, 5, 3), (1, 6, 4, 1, 1), (2, 7, 5, 3, 5)] {
            let (ph, pw) = (kh / 2, kw / 2);
            let g = Geometry { b: 1, c, h, w, co: 1, kh, kw, ph, pw };
            assert_eq!(g.wo(), g.w, "a 'same' geometry");
            let x = values(c * h * w, 7 + h as u64);
            let (mut rows, mut same) = (vec![f32::NAN; g.k() * g.s()], vec![f32::NAN; g.k() * g.s()]);
            im2col_rows(&x, &g, &mut rows);
            im2col_same(&x, &g, &mut same);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&rows), bits(&same), "im2col {c}x{h}x{w}, kernel {kh}x{kw}");
            let dcols = values(g.k() * g.s(), 3 + w as u64);
            let (mut dx_rows, mut dx_same) = (vec![f32::NAN; c * h * w], vec![f32::NAN; c * h * w]);
            col2im_rows(&dcols, &g, &mut dx_rows);
            col2im_same(&mut dcols.clone(), &g, &mut dx_same);
            assert_eq!(bits(&dx_rows), bits(&dx_same), "col2im {c}x{h}x{w}, kernel {kh}x{kw}");
            // Not vacuous: padding was written as zeros, inner entries are the image's.
            assert!(same.iter().any(|v| *v != 0.0) && !same.iter().any(|v| v.is_nan()));
        }
    }
}
