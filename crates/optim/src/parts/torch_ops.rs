//! ATen's fused in-place kernels written as tensor operations in ATen's order, so an update
//! built from them rounds as torch's does.

use burn::tensor::Tensor;

/// `torch.lerp(start, end, weight)` as ATen's scalar kernel writes it: `start + w·(end − start)`
/// for |w| < 0.5, `end − (end − start)·(1 − w)` otherwise.
pub fn lerp<const D: usize>(start: Tensor<D>, end: Tensor<D>, weight: f64) -> Tensor<D> {
    if weight.abs() < 0.5 {
        start.clone() + (end - start).mul_scalar(weight)
    } else {
        end.clone() - (end - start).mul_scalar(1.0 - weight)
    }
}

/// `acc.mul_(decay).addcmul_(x, x, value=1 − decay)`: `decay·acc + ((1 − decay)·x)·x`.
pub fn ema_square<const D: usize>(acc: Tensor<D>, x: Tensor<D>, decay: f64) -> Tensor<D> {
    acc.mul_scalar(decay) + x.clone().mul_scalar(1.0 - decay) * x
}

/// `param.addcdiv_(t1, t2, value=v)`: `param + (v·t1)/t2`.
pub fn addcdiv<const D: usize>(param: Tensor<D>, t1: Tensor<D>, t2: Tensor<D>, value: f64) -> Tensor<D> {
    param + t1.mul_scalar(value) / t2
}
