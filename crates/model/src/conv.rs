//! The CNN's 2-D convolution: `y[b, o] = bias[o] + Σ_{c,i,j} W[o, c, i, j] · x[b, c, y+i−p, x+j−p]`
//! (stride 1, zero padding `p`), Burn's [`Conv2d`] parameters.
//!
//! On Burn's flex CPU backend in f32 or f64 it runs descent's own kernel (`im2col.rs`: image by
//! image, the patches in a buffer that stays in cache, then matrix products for the forward and
//! the two gradients) as a Burn backend extension with its own backward; everywhere else, and
//! for strides, dilations, groups or a missing bias, it is `Conv2d::forward`. Both give the
//! same numbers up to float rounding (the summation order of the products differs).

use burn::nn::conv::Conv2d;
use burn::tensor::Tensor;

/// `conv.forward(x)`, on descent's kernel where it applies (module docs).
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if let Some((padding, bias)) = host::applies(conv, &x) {
        return host::conv2d(conv, x, bias, padding);
    }
    conv.forward(x)
}

/// Whether [`conv2d`] runs descent's kernel for this convolution and input (the crate's
/// `flex` feature, a flex device, f32/f64, stride 1, no dilation or groups, a bias, symmetric
/// padding) rather than Burn's.
pub fn on_host_kernel(conv: &Conv2d, x: &Tensor<4>) -> bool {
    #[cfg(feature = "flex")]
    return host::applies(conv, x).is_some();
    #[cfg(not(feature = "flex"))]
    return { let _ = (conv, x); false };
}

#[cfg(feature = "flex")]
mod host {
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::flex::FlexTensor;
    use burn::backend::tensor::FloatTensor;
    use burn::backend::{Autodiff, Dispatch, Flex, backend_extension};
    use burn::nn::PaddingConfig2d;
    use burn::nn::conv::Conv2d;
    use burn::tensor::{DType, Tensor};

    use crate::flex::{FlexReal, contiguous, on_flex};
    use crate::im2col::{self, Geometry, Wanted};

    /// The zero padding `[ph, pw]` and the bias when descent's kernel computes what
    /// `conv.forward(x)` does.
    pub fn applies(conv: &Conv2d, x: &Tensor<4>) -> Option<([usize; 2], Tensor<1>)> {
        let bias = conv.bias.as_ref()?.val();
        let plain = conv.stride == [1, 1] && conv.dilation == [1, 1] && conv.groups == 1;
        let dtype = matches!(x.dtype(), DType::F32 | DType::F64);
        if !(plain && dtype && on_flex(&x.device())) {
            return None;
        }
        let [kh, kw] = conv.kernel_size;
        let [_, _, h, w] = x.dims();
        let padding = match conv.padding {
            PaddingConfig2d::Same if kh % 2 == 1 && kw % 2 == 1 => Some([kh / 2, kw / 2]),
            PaddingConfig2d::Valid => Some([0, 0]),
            PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => Some([top, left]),
            _ => None,
        }?;
        // A kernel wider than the padded image: Burn's conv says what is wrong.
        (h + 2 * padding[0] >= kh && w + 2 * padding[1] >= kw).then_some((padding, bias))
    }

    pub fn conv2d(conv: &Conv2d, x: Tensor<4>, bias: Tensor<1>, padding: [usize; 2]) -> Tensor<4> {
        let (x, weight, bias) = (x.into_dispatch(), conv.weight.val().into_dispatch(), bias.into_dispatch());
        let y = <Dispatch as HostConv>::host_conv2d(x, weight, bias, padding[0], padding[1]);
        Tensor::from_dispatch(y)
    }

    /// descent's convolution as a Burn backend operation (flex, with and without autodiff).
    #[backend_extension(Flex, Autodiff)]
    pub trait HostConv: burn::backend::Backend {
        fn host_conv2d(
            x: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            bias: FloatTensor<Self>,
            ph: usize,
            pw: usize,
        ) -> FloatTensor<Self>;
    }

    impl HostConv for Flex {
        fn host_conv2d(x: FlexTensor, weight: FlexTensor, bias: FlexTensor, ph: usize, pw: usize) -> FlexTensor {
            let g = geometry(&x, &weight, [ph, pw]);
            forward(&contiguous(x), &contiguous(weight), &contiguous(bias), &g)
        }
    }

    fn geometry(x: &FlexTensor, weight: &FlexTensor, [ph, pw]: [usize; 2]) -> Geometry {
        let (xs, ws) = (x.layout().shape(), weight.layout().shape());
        Geometry { b: xs[0], c: xs[1], h: xs[2], w: xs[3], co: ws[0], kh: ws[2], kw: ws[3], ph, pw }
    }

    /// The output; `x`, `weight` and `bias` must be contiguous (`contiguous`).
    fn forward(x: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor, g: &Geometry) -> FlexTensor {
        fn run<T: FlexReal>(x: &FlexTensor, w: &FlexTensor, b: &FlexTensor, g: &Geometry) -> FlexTensor {
            T::tensor(im2col::forward(T::slice(x), T::slice(w), T::slice(b), g), &[g.b, g.co, g.ho(), g.wo()])
        }
        match x.dtype() {
            DType::F64 => run::<f64>(x, weight, bias, g),
            _ => run::<f32>(x, weight, bias, g),
        }
    }

    #[derive(Debug)]
    struct HostConvBackward;

    impl Backward<Flex, 3> for HostConvBackward {
        /// The input and the weight (contiguous: the graph's own buffers unless a view had to be
        /// copied), the shapes.
        type State = (FlexTensor, FlexTensor, Geometry);

        fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
            let [node_x, node_w, node_b] = ops.parents;
            let dy = contiguous(grads.consume::<Flex>(&ops.node));
            let (x, weight, g) = ops.state;
            let wanted = Wanted { x: node_x.is_some(), weight: node_w.is_some(), bias: node_b.is_some() };
            fn run<T: FlexReal>(x: &FlexTensor, w: &FlexTensor, dy: &FlexTensor, g: &Geometry, wanted: Wanted) -> [Option<FlexTensor>; 3] {
                let (dx, dw, db) = im2col::backward(T::slice(x), T::slice(w), T::slice(dy), g, wanted);
                [
                    dx.map(|v| T::tensor(v, &[g.b, g.c, g.h, g.w])),
                    dw.map(|v| T::tensor(v, &[g.co, g.c, g.kh, g.kw])),
                    db.map(|v| T::tensor(v, &[g.co])),
                ]
            }
            let found = match dy.dtype() {
                DType::F64 => run::<f64>(&x, &weight, &dy, &g, wanted),
                _ => run::<f32>(&x, &weight, &dy, &g, wanted),
            };
            for (node, grad) in [node_x, node_w, node_b].into_iter().zip(found) {
                if let (Some(node), Some(grad)) = (node, grad) {
                    grads.register::<Flex>(node.id, grad);
                }
            }
        }
    }

    impl<C: CheckpointStrategy> HostConv for Autodiff<Flex, C> {
        fn host_conv2d(
            x: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            bias: FloatTensor<Self>,
            ph: usize,
            pw: usize,
        ) -> FloatTensor<Self> {
            let (x, node_x) = x.into_parts();
            let (weight, node_w) = weight.into_parts();
            let (bias, node_b) = bias.into_parts();
            let g = geometry(&x, &weight, [ph, pw]);
            let (x, weight, bias) = (contiguous(x), contiguous(weight), contiguous(bias));
            let y = forward(&x, &weight, &bias, &g);
            match HostConvBackward.prepare::<C>([node_x, node_w, node_b]).compute_bound().stateful() {
                OpsKind::Tracked(prep) => prep.finish((x, weight, g), y),
                OpsKind::UnTracked(prep) => prep.finish(y),
            }
        }
    }
}
