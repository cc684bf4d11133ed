//! The devices and readers the model tests share.

use burn::tensor::{Device, FloatDType, Tensor};

/// `device` in f64 (Burn fixes a device's dtype once per process: the first test sets it).
fn in_f64(mut d: Device) -> Device {
    if d.configure(FloatDType::F64).is_err() {
        assert_eq!(d.settings().float_dtype, FloatDType::F64, "device already initialised in another dtype");
    }
    d
}

/// Burn's flex CPU device with autodiff, in f64.
pub fn flex() -> Device {
    in_f64(Device::flex().autodiff())
}

/// Burn's ndarray CPU device (a device other than flex) with autodiff, in f64.
#[allow(deprecated)] // Device::ndarray: the non-flex CPU device these tests need
pub fn ndarray() -> Device {
    in_f64(Device::ndarray().autodiff())
}

pub fn vals<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}
