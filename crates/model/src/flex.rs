//! Whether a tensor lives on Burn's flex CPU backend, where descent's host-side kernels apply.

use burn::backend::{DeviceOps, DispatchDeviceId};
use burn::tensor::Device;

/// Whether `device` is Burn's flex CPU device (with or without autodiff), whose tensors are
/// host memory: reading them is a copy, not a transfer, and its kernels are the ones descent's
/// own CPU paths were measured against.
pub fn on_flex(device: &Device) -> bool {
    // burn-dispatch puts the backend's id in the upper 8 bits of a device's type id.
    device.as_dispatch().id().type_id >> 8 == DispatchDeviceId::Flex as u16
}
