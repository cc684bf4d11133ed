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

/// Float types descent's host kernels run in (Burn's f32 and f64 tensors): the arithmetic the
/// gate passes ([`gates`](crate::gates)) and the flex kernels share.
pub(crate) trait Real:
    Copy
    + Send
    + Sync
    + 'static
    + PartialOrd
    + core::ops::AddAssign
    + core::ops::Add<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::Mul<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    fn is_nan(self) -> bool;
}

/// The typed views of flex tensors the host kernels read and write.
#[cfg(feature = "flex")]
pub(crate) trait FlexReal: Real {
    /// The elements of a contiguous tensor of this dtype (see [`contiguous`]).
    fn slice(t: &burn::backend::flex::FlexTensor) -> &[Self];
    fn tensor(values: Vec<Self>, shape: &[usize]) -> burn::backend::flex::FlexTensor;
}

macro_rules! real {
    ($t:ty) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
        }
        #[cfg(feature = "flex")]
        impl FlexReal for $t {
            fn slice(t: &burn::backend::flex::FlexTensor) -> &[Self] {
                t.as_slice::<$t>().unwrap_or_else(|| unreachable!("a contiguous {} tensor", stringify!($t)))
            }
            fn tensor(values: Vec<Self>, shape: &[usize]) -> burn::backend::flex::FlexTensor {
                burn::backend::flex::FlexTensor::from_data(burn::tensor::TensorData::new(values, shape.to_vec()))
            }
        }
    };
}
real!(f32);
real!(f64);

/// `t` with its elements in order from offset 0 (a copy only when it is a view).
#[cfg(feature = "flex")]
pub(crate) fn contiguous(t: burn::backend::flex::FlexTensor) -> burn::backend::flex::FlexTensor {
    if t.is_contiguous() && t.layout().start_offset() == 0 { t } else { t.to_contiguous() }
}
