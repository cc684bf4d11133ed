//! A dense layer, `y = x·W + b` with Burn's [`Linear`] parameters, and its backward
//!
//! `∂x = g·Wᵀ`, `∂W = xᵀ·g`, `∂b = Σ_rows g` (`g = ∂L/∂y`).
//!
//! On Burn's flex CPU backend in f32 or f64 the product `x·W` is a Burn operation of descent's
//! whose forward and both backward products run on descent's split `gemm` (`host_gemm.rs`: one
//! block per thread instead of `gemm`'s own split) — the products Burn's `linear` runs, with
//! the same bits. The bias is added as Burn adds it (reshaped to a `[1, n]` row, then flex's
//! broadcast add), so the graph has Burn's nodes at Burn's depths and every parameter's
//! gradient terms arrive in Burn's order: one fused node for product and bias changed that
//! order, and with it the last bit of a bias's gradient under an L2 penalty (`θ·θ` gives it
//! two more terms). Everywhere else (other devices, no bias) it is `Linear::forward`.
//!
//! Its outputs are also written once: flex's matmul zeroes each output and copies it into an
//! aligned buffer (docs/speed.md, upstream report 4), which at batch 1 was a fifth of the MNIST
//! MLP's step (its 784×256 weight gradient). Measured against `Linear::forward` (2 threads,
//! AMD EPYC, medians of 8 alternating rounds): MNIST MLP samples/s ×1.52 at batch 1, ×1.10 at
//! 32, ×1.05 at 128, ×1.12 at 1024.

use burn::nn::Linear;
use burn::tensor::Tensor;

/// `layer.forward(x)`, on descent's products where they apply (module docs).
pub fn linear(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    #[cfg(feature = "flex")]
    if let Some(bias) = host::applies(layer, &x) {
        return host::linear(layer, x, bias);
    }
    layer.forward(x)
}

/// Whether [`linear`] runs descent's kernel for this layer and input (the crate's `flex`
/// feature, a flex device, f32/f64, a bias, an input as wide as the layer) rather than Burn's.
pub fn on_host_kernel(layer: &Linear, x: &Tensor<2>) -> bool {
    #[cfg(feature = "flex")]
    return host::applies(layer, x).is_some();
    #[cfg(not(feature = "flex"))]
    return { let _ = (layer, x); false };
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
    use burn::nn::Linear;
    use burn::tensor::{DType, Tensor};

    use crate::flex::{FlexReal, contiguous, on_flex};
    use crate::host_gemm::{Mat, matmul};

    /// The bias, when descent's products compute what `layer.forward(x)` does.
    pub fn applies(layer: &Linear, x: &Tensor<2>) -> Option<Tensor<1>> {
        let bias = layer.bias.as_ref()?.val();
        let dtype = matches!(x.dtype(), DType::F32 | DType::F64);
        // A mismatched width: Burn's forward says what is wrong.
        let fits = x.dims()[1] == layer.weight.dims()[0];
        (dtype && fits && on_flex(&x.device())).then_some(bias)
    }

    /// Burn's `linear` for a 2-D input, node for node: the product, the bias reshaped to a
    /// `[1, n]` row, their sum (module docs).
    pub fn linear(layer: &Linear, x: Tensor<2>, bias: Tensor<1>) -> Tensor<2> {
        let weight = layer.weight.val();
        let n = weight.dims()[1];
        let xw = <Dispatch as HostMatmul>::host_matmul(x.into_dispatch(), weight.into_dispatch());
        Tensor::<2>::from_dispatch(xw) + bias.reshape([1, n])
    }

    /// `x·W` as a Burn backend operation (flex, with and without autodiff).
    #[backend_extension(Flex, Autodiff)]
    pub trait HostMatmul: burn::backend::Backend {
        fn host_matmul(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self>;
    }

    impl HostMatmul for Flex {
        fn host_matmul(x: FlexTensor, weight: FlexTensor) -> FlexTensor {
            forward(&contiguous(x), &contiguous(weight))
        }
    }

    /// `[rows, inputs, outputs]` of `x·W`.
    fn dims(x: &FlexTensor, weight: &FlexTensor) -> [usize; 3] {
        let (xs, ws) = (x.layout().shape(), weight.layout().shape());
        [xs[0], ws[0], ws[1]]
    }

    /// `x·W`; both must be contiguous (`contiguous`).
    fn forward(x: &FlexTensor, weight: &FlexTensor) -> FlexTensor {
        fn run<T: FlexReal>(x: &FlexTensor, w: &FlexTensor, [m, k, n]: [usize; 3]) -> FlexTensor {
            let mut y = vec![T::ZERO; m * n];
            unsafe { matmul(&mut y, false, Mat::rows(T::slice(x), k), Mat::rows(T::slice(w), n), [m, n, k]) };
            T::tensor(y, &[m, n])
        }
        let d = dims(x, weight);
        match x.dtype() {
            DType::F64 => run::<f64>(x, weight, d),
            _ => run::<f32>(x, weight, d),
        }
    }

    #[derive(Debug)]
    struct HostMatmulBackward;

    impl Backward<Flex, 2> for HostMatmulBackward {
        /// The input and the weight (contiguous).
        type State = (FlexTensor, FlexTensor);

        fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
            let [node_x, node_w] = ops.parents;
            let g = contiguous(grads.consume::<Flex>(&ops.node));
            let (x, weight) = ops.state;
            let d = dims(&x, &weight);
            let wanted = [node_x.is_some(), node_w.is_some()];
            let [dx, dw] = match g.dtype() {
                DType::F64 => products::<f64>(&x, &weight, &g, d, wanted),
                _ => products::<f32>(&x, &weight, &g, d, wanted),
            };
            for (node, grad) in [node_x, node_w].into_iter().zip([dx, dw]) {
                if let (Some(node), Some(grad)) = (node, grad) {
                    grads.register::<Flex>(node.id, grad);
                }
            }
        }
    }

    /// `∂x = g·Wᵀ` and `∂W = xᵀ·g`, each when `wanted`.
    fn products<T: FlexReal>(x: &FlexTensor, w: &FlexTensor, g: &FlexTensor, [m, k, n]: [usize; 3], wanted: [bool; 2]) -> [Option<FlexTensor>; 2] {
        let (x, w, g) = (T::slice(x), T::slice(w), T::slice(g));
        let dx = wanted[0].then(|| {
            let mut dx = vec![T::ZERO; m * k];
            unsafe { matmul(&mut dx, false, Mat::rows(g, n), Mat::transposed(w, n), [m, k, n]) };
            T::tensor(dx, &[m, k])
        });
        let dw = wanted[1].then(|| {
            let mut dw = vec![T::ZERO; k * n];
            unsafe { matmul(&mut dw, false, Mat::transposed(x, k), Mat::rows(g, n), [k, n, m]) };
            T::tensor(dw, &[k, n])
        });
        [dx, dw]
    }

    impl<C: CheckpointStrategy> HostMatmul for Autodiff<Flex, C> {
        fn host_matmul(x: FloatTensor<Self>, weight: FloatTensor<Self>) -> FloatTensor<Self> {
            let (x, node_x) = x.into_parts();
            let (weight, node_w) = weight.into_parts();
            let (x, weight) = (contiguous(x), contiguous(weight));
            let y = forward(&x, &weight);
            match HostMatmulBackward.prepare::<C>([node_x, node_w]).compute_bound().stateful() {
                OpsKind::Tracked(prep) => prep.finish((x, weight), y),
                OpsKind::UnTracked(prep) => prep.finish(y),
            }
        }
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use burn::nn::LinearConfig;
    use burn::tensor::{activation, Device, Distribution, TensorData};

    fn bits<const D: usize>(t: Tensor<D>) -> Vec<u32> {
        t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap().into_iter().map(f32::to_bits).collect()
    }

    /// Output and the input, weight and bias gradients, as f32 bits, of `relu(x·W + b)` through
    /// descent's layer and through Burn's, under the loss `Σ y ⊙ r + Σ W ⊙ W` (`r` a fixed
    /// pattern; the product with itself gives the weight three gradient terms, whose sum
    /// depends on the order the graph delivers them in).
    fn runs(layer: &Linear, x: Tensor<2>) -> [[Vec<u32>; 4]; 2] {
        let x = x.require_grad();
        [true, false].map(|ours| {
            let y = activation::relu(if ours { linear(layer, x.clone()) } else { layer.forward(x.clone()) });
            let n = y.dims().iter().product::<usize>();
            let r: Vec<f32> = (0..n).map(|i| (i % 7) as f32 - 2.5).collect();
            let r = Tensor::<2>::from_data(TensorData::new(r, y.dims()), &y.device());
            let w = layer.weight.val();
            let grads = ((y.clone() * r).sum() + (w.clone() * w.clone()).sum().mul_scalar(0.37)).backward();
            let b = layer.bias.as_ref().unwrap().val();
            [bits(y), bits(x.grad(&grads).unwrap()), bits(w.grad(&grads).unwrap()), bits(b.grad(&grads).unwrap())]
        })
    }

    #[test]
    fn f32_layers_equal_burns_linear_to_the_bit() {
        let d = Device::flex().autodiff();
        // The seed MLP's and the MNIST MLP's layers (split products among them), odd sizes.
        for (rows, i, o) in [(32, 10, 5), (32, 5, 1), (128, 784, 256), (1024, 784, 256), (1024, 256, 10), (7, 3, 2)] {
            let layer = LinearConfig::new(i, o).init(&d);
            let x = Tensor::<2>::random([rows, i], Distribution::Normal(0.0, 1.0), &d);
            assert!(on_host_kernel(&layer, &x));
            let [ours, burns] = runs(&layer, x);
            for (j, what) in ["output", "x grad", "weight grad", "bias grad"].iter().enumerate() {
                assert!(ours[j] == burns[j], "{what} of {rows}×{i}→{o}");
            }
        }
    }

    #[test]
    fn two_layers_under_a_penalty_on_every_parameter_give_burns_gradients() {
        // `relu(x·W₁ + b₁)·W₂ + b₂` against targets, plus `Σ θ·θ` over all four parameters:
        // each bias then gets three gradient terms, from nodes at three depths.
        let d = Device::flex().autodiff();
        let (l1, l2) = (LinearConfig::new(10, 5).init(&d), LinearConfig::new(5, 1).init(&d));
        let params = |l: &Linear| [l.weight.val(), l.bias.as_ref().unwrap().val().unsqueeze::<2>()];
        for _ in 0..20 {
            let x = Tensor::<2>::random([32, 10], Distribution::Normal(0.0, 1.0), &d);
            let t = Tensor::<2>::random([32, 1], Distribution::Normal(0.0, 1.0), &d);
            let [ours, burns] = [true, false].map(|ours| {
                let f = |l: &Linear, x: Tensor<2>| if ours { linear(l, x) } else { l.forward(x) };
                let y = f(&l2, activation::relu(f(&l1, x.clone())));
                let mut loss = (y - t.clone()).powi_scalar(2).mean();
                for p in params(&l1).into_iter().chain(params(&l2)) {
                    loss = loss + (p.clone() * p).sum().mul_scalar(1.5e-5);
                }
                let grads = loss.backward();
                [&l1, &l2].map(|l| [bits(l.weight.val().grad(&grads).unwrap()), bits(l.bias.as_ref().unwrap().val().grad(&grads).unwrap())])
            });
            assert!(ours == burns);
        }
    }

    #[test]
    fn other_layers_are_burns_forward() {
        let d = Device::flex().autodiff();
        let x = Tensor::<2>::random([4, 3], Distribution::Normal(0.0, 1.0), &d);
        let no_bias = LinearConfig::new(3, 2).with_bias(false).init(&d);
        assert!(!on_host_kernel(&no_bias, &x));
        assert_eq!(bits(linear(&no_bias, x.clone())), bits(no_bias.forward(x)));
    }
}
