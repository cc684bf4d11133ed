//! Hand-written [`RecordState`] helpers: `#[derive(RecordState)]` only compiles inside
//! burn-optim, so descent's state types flatten themselves with these.

use burn::optim::{StateSink, StateSource};
use burn::tensor::{Device, Tensor};

pub fn push_tensor<const D: usize>(out: &mut StateSink, prefix: &str, leaf: &str, t: &Tensor<D>) {
    out.push_tensor(prefix, leaf, t.to_data());
}

pub fn push_opt_tensor<const D: usize>(
    out: &mut StateSink,
    prefix: &str,
    leaf: &str,
    t: &Option<Tensor<D>>,
) {
    if let Some(t) = t {
        push_tensor(out, prefix, leaf, t);
    }
}

/// Burn loads optimizer state onto `Device::default()`, which is the GPU (f32) when the wgpu
/// feature is on: an f64 state would lose its low bits there before `Optimizer::to_device`
/// moves it to the parameter's device. The state is therefore materialised on the CPU (flex)
/// device, in the process's float dtype, and moved from there; `_device` is ignored.
pub fn take_tensor<const D: usize>(
    src: &mut StateSource,
    prefix: &str,
    leaf: &str,
    _device: &Device,
) -> Option<Tensor<D>> {
    src.take_tensor(prefix, leaf).map(|data| Tensor::from_data(data, &Device::flex()))
}
