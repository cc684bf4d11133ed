//! The CNN's 2×2 max-pool: `y[b, c, oy, ox] = max_{i,j ∈ {0,1}} x[b, c, 2·oy+i, 2·ox+j]`
//! (stride 2, no padding, an odd last row or column dropped), Burn's [`MaxPool2d`] with
//! `kernel_size = [2, 2]`.
//!
//! The gradient goes to the window's maximum: the first of equal values, the last NaN when
//! there is one (Burn's flex kernel and PyTorch both pick it so). On Burn's flex CPU backend in
//! f32 or f64 it runs descent's own kernel (one pass that keeps each window's winner as a
//! 2-bit position, and a backward that writes the gradient there) as a Burn backend extension;
//! everywhere else, and for other pools, it is `MaxPool2d::forward`. Both give the same
//! numbers, bit for bit.

use burn::nn::pool::MaxPool2d;
use burn::tensor::Tensor;

/// `pool.forward(x)`, on descent's kernel where it applies (module docs).
pub fn max_pool2d(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if host::applies(pool, &x) {
        return host::max_pool2x2(x);
    }
    pool.forward(x)
}

/// Whether [`max_pool2d`] runs descent's kernel for this pool and input (the crate's `flex`
/// feature, a flex device, f32/f64, a plain 2×2 pool with stride 2) rather than Burn's.
pub fn on_host_kernel(pool: &MaxPool2d, x: &Tensor<4>) -> bool {
    #[cfg(feature = "flex")]
    return host::applies(pool, x);
    #[cfg(not(feature = "flex"))]
    return {
        let _ = (pool, x);
        false
    };
}

/// The kernel on host slices: `x` holds `planes` images of `h × w`.
#[cfg(feature = "flex")]
mod kernel {
    use rayon::prelude::*;

    use crate::flex::Real;

    /// Planes per rayon task, at least.
    const PLANES: usize = 16;

    /// The pooled planes and, per output, its window's winner (`2·i + j`).
    ///
    /// Branch-free: on textured inputs which of four activations wins is not a pattern a branch
    /// predictor learns; the `if` version spent most of its time on mispredictions there (1.2
    /// ms against 0.18 ms for relu'd noise of the MNIST CNN's first pool's shape, one Zen 5
    /// core). Selects also let the row loop vectorise.
    pub fn forward<T: Real>(x: &[T], [h, w]: [usize; 2]) -> (Vec<T>, Vec<u8>) {
        let (ho, wo) = (h / 2, w / 2);
        let planes = x.len() / (h * w);
        let mut y = vec![T::ZERO; planes * ho * wo];
        let mut at = vec![0u8; planes * ho * wo];
        let (y_planes, at_planes) = (y.par_chunks_mut(ho * wo), at.par_chunks_mut(ho * wo));
        y_planes.zip(at_planes).zip(x.par_chunks(h * w)).with_min_len(PLANES).for_each(|((y, at), x)| {
            for (oy, (y, at)) in y.chunks_mut(wo).zip(at.chunks_mut(wo)).enumerate() {
                let (upper, lower) = (&x[2 * oy * w..][..2 * wo], &x[(2 * oy + 1) * w..][..2 * wo]);
                let windows = upper.chunks_exact(2).zip(lower.chunks_exact(2));
                for ((y, at), (u, l)) in y.iter_mut().zip(at.iter_mut()).zip(windows) {
                    let (mut best, mut k) = (u[0], 0);
                    for (kk, v) in [(1, u[1]), (2, l[0]), (3, l[1])] {
                        let take = (v > best) | v.is_nan();
                        best = if take { v } else { best };
                        k = if take { kk } else { k };
                    }
                    (*y, *at) = (best, k);
                }
            }
        });
        (y, at)
    }

    /// `∂x`: each output's gradient at its window's winner, 0 elsewhere.
    pub fn backward<T: Real>(dy: &[T], at: &[u8], [h, w]: [usize; 2]) -> Vec<T> {
        let (ho, wo) = (h / 2, w / 2);
        let planes = dy.len() / (ho * wo);
        let mut dx = vec![T::ZERO; planes * h * w];
        let sources = dy.par_chunks(ho * wo).zip(at.par_chunks(ho * wo));
        dx.par_chunks_mut(h * w).zip(sources).with_min_len(PLANES).for_each(|(dx, (dy, at))| {
            for (oy, (dy, at)) in dy.chunks(wo).zip(at.chunks(wo)).enumerate() {
                let rows = &mut dx[2 * oy * w..][..2 * w];
                for (ox, (&g, &k)) in dy.iter().zip(at).enumerate() {
                    rows[(k as usize / 2) * w + 2 * ox + (k as usize % 2)] = g;
                }
            }
        });
        dx
    }
}

#[cfg(feature = "flex")]
mod host {
    use std::sync::Arc;

    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::flex::FlexTensor;
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{Autodiff, Dispatch, Flex, backend_extension};
    use burn::nn::PaddingConfig2d;
    use burn::nn::pool::MaxPool2d;
    use burn::tensor::{DType, Tensor};

    use super::kernel;
    use crate::flex::{FlexReal, contiguous, on_flex};

    pub fn applies(pool: &MaxPool2d, x: &Tensor<4>) -> bool {
        let plain = pool.kernel_size == [2, 2]
            && pool.stride == [2, 2]
            && pool.dilation == [1, 1]
            && !pool.ceil_mode
            && matches!(pool.padding, PaddingConfig2d::Valid | PaddingConfig2d::Explicit(0, 0, 0, 0));
        let [_, _, h, w] = x.dims();
        plain && h >= 2 && w >= 2 && matches!(x.dtype(), DType::F32 | DType::F64) && on_flex(&x.device())
    }

    pub fn max_pool2x2(x: Tensor<4>) -> Tensor<4> {
        Tensor::from_dispatch(<Dispatch as HostMaxPool>::host_max_pool2x2(x.into_dispatch()))
    }

    /// descent's 2×2 max-pool as a Burn backend operation (flex, with and without autodiff).
    #[backend_extension(Flex, Autodiff)]
    pub trait HostMaxPool: burn::backend::Backend {
        fn host_max_pool2x2(x: FloatTensor<Self>) -> FloatTensor<Self>;
    }

    /// `[b, c, h, w]` of a flex tensor.
    fn dims(x: &FlexTensor) -> [usize; 4] {
        let s = x.layout().shape();
        [s[0], s[1], s[2], s[3]]
    }

    /// The output and the winners' positions.
    fn forward(x: FlexTensor) -> (FlexTensor, Vec<u8>) {
        let [b, c, h, w] = dims(&x);
        let x = contiguous(x);
        fn run<T: FlexReal>(x: &FlexTensor, [b, c, h, w]: [usize; 4]) -> (FlexTensor, Vec<u8>) {
            let (y, at) = kernel::forward(T::slice(x), [h, w]);
            (T::tensor(y, &[b, c, h / 2, w / 2]), at)
        }
        match x.dtype() {
            DType::F64 => run::<f64>(&x, [b, c, h, w]),
            _ => run::<f32>(&x, [b, c, h, w]),
        }
    }

    impl HostMaxPool for Flex {
        fn host_max_pool2x2(x: FlexTensor) -> FlexTensor {
            forward(x).0
        }
    }

    #[derive(Debug)]
    struct HostMaxPoolBackward;

    impl Backward<Flex, 1> for HostMaxPoolBackward {
        /// The winners' positions and the input's shape.
        type State = (Arc<Vec<u8>>, [usize; 4]);

        fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
            let [node_x] = ops.parents;
            let dy = contiguous(grads.consume::<Flex>(&ops.node));
            let (at, [b, c, h, w]) = ops.state;
            fn run<T: FlexReal>(dy: &FlexTensor, at: &[u8], [b, c, h, w]: [usize; 4]) -> FlexTensor {
                T::tensor(kernel::backward(T::slice(dy), at, [h, w]), &[b, c, h, w])
            }
            if let Some(node) = node_x {
                let dx = match dy.dtype() {
                    DType::F64 => run::<f64>(&dy, &at, [b, c, h, w]),
                    _ => run::<f32>(&dy, &at, [b, c, h, w]),
                };
                grads.register::<Flex>(node.id, dx);
            }
        }
    }

    impl<C: CheckpointStrategy> HostMaxPool for Autodiff<Flex, C> {
        fn host_max_pool2x2(x: FloatTensor<Self>) -> FloatTensor<Self> {
            let (x, node) = x.into_parts();
            let shape = dims(&x);
            let (y, at) = forward(x);
            match HostMaxPoolBackward.prepare::<C>([node]).compute_bound().stateful() {
                OpsKind::Tracked(prep) => prep.finish((Arc::new(at), shape), y),
                OpsKind::UnTracked(prep) => prep.finish(y),
            }
        }
    }
}
