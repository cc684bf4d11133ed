//! Run-time device choice: one model type, any backend.

use burn::tensor::{Device, FloatDType, Tensor};

use crate::config::{DType, DeviceChoice};
use crate::error::TrainError;

/// The device for `choice`, configured for `dtype`, checked to actually work.
///
/// A Burn device's default dtype can be set once per process; asking for a different one
/// later is an error rather than a silent mix of precisions.
pub fn make_device(choice: DeviceChoice, dtype: DType) -> Result<Device, TrainError> {
    if choice == DeviceChoice::Wgpu && dtype == DType::F64 {
        // Checked before touching the GPU: f64 is a CPU-backend feature here (most GPU
        // adapters, lavapipe included, lack f64 arithmetic in shaders).
        return Err(TrainError::Device(
            "dtype = \"f64\" runs on the CPU devices (cpu, ndarray); use dtype = \"f32\" with wgpu".into(),
        ));
    }
    let mut device = match choice {
        DeviceChoice::Cpu => Device::flex(),
        #[allow(deprecated)]
        DeviceChoice::Ndarray => Device::ndarray(),
        DeviceChoice::Wgpu => wgpu_device()?,
    };
    let want = match dtype {
        DType::F32 => FloatDType::F32,
        DType::F64 => FloatDType::F64,
    };
    if choice == DeviceChoice::Wgpu {
        probe(&device)?;
    }
    if !device.supports_dtype(want) {
        return Err(TrainError::Device(format!(
            "dtype = \"{}\" is not supported on device `{choice}`; use dtype = \"f32\" there",
            name(dtype)
        )));
    }
    if device.configure(want).is_err() {
        let have = device.settings().float_dtype;
        if have != want {
            return Err(TrainError::Device(format!(
                "device `{choice}` already runs in {have:?} in this process; dtype = \"{}\" needs a fresh process",
                name(dtype)
            )));
        }
    }
    Ok(device)
}

fn name(d: DType) -> &'static str {
    match d {
        DType::F32 => "f32",
        DType::F64 => "f64",
    }
}

#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device, TrainError> {
    Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device, TrainError> {
    Err(TrainError::Device(
        "this build of descent has no wgpu support; rebuild with `--features wgpu` (on by default)".into(),
    ))
}

/// wgpu initialises lazily and panics when no adapter exists; turn that into an error.
fn probe(device: &Device) -> Result<(), TrainError> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let d = device.clone();
    let ok = std::panic::catch_unwind(move || Tensor::<1>::zeros([1], &d).into_data()).is_ok();
    std::panic::set_hook(hook);
    if ok {
        Ok(())
    } else {
        Err(TrainError::Device(
            "no wgpu adapter found (no GPU driver; on Linux without a GPU install Mesa's lavapipe: \
             `apt-get install mesa-vulkan-drivers`)"
                .into(),
        ))
    }
}

/// Whether a wgpu adapter is usable here (for tests that may skip).
pub fn wgpu_available() -> bool {
    cfg!(feature = "wgpu") && wgpu_device().and_then(|d| probe(&d)).is_ok()
}
