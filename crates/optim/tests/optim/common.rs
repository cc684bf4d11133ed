//! Shared test helpers: an f64 flex device and tensor ⇄ Vec conversions.
#![allow(dead_code)]

use burn::tensor::{Device, FloatDType, Tensor, TensorData};

/// Burn's flex device in f64. Every test in a test binary that uses this runs in f64, so
/// the first call fixes the process-wide default dtype.
pub fn device() -> Device {
    let mut d = Device::flex();
    if d.configure(FloatDType::F64).is_err() {
        assert_eq!(d.settings().float_dtype, FloatDType::F64, "device already initialised in another dtype");
    }
    d
}

pub fn t1(v: &[f64]) -> Tensor<1> {
    Tensor::from_data(TensorData::new(v.to_vec(), [v.len()]), &device())
}

pub fn tn(v: &[f64], shape: &[usize]) -> Tensor<2> {
    assert_eq!(shape.len(), 2);
    Tensor::from_data(TensorData::new(v.to_vec(), [shape[0], shape[1]]), &device())
}

pub fn vec<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.to_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

pub fn assert_close(actual: &[f64], expected: &[f64], tol: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        let scale = e.abs().max(1.0);
        assert!((a - e).abs() <= tol * scale, "{what}[{i}]: got {a}, expected {e} (tol {tol})");
    }
}
