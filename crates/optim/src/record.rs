//! Optimizer state records (save / resume) and the one rule for where loaded state lands.
//!
//! `#[derive(RecordState)]` only compiles inside burn-optim, so descent's state structs are
//! declared through [`optim_state!`](crate::optim_state), which writes the record (one leaf per
//! field, named as torch's `state_dict` names it), `to_device` and [`land`] for them.
//!
//! Loading runs in two stages, because Burn rebuilds a state before it knows the parameter:
//!
//! 1. `state_unflatten` materialises each tensor in the dtype it was saved in, on the CPU
//!    (flex) device when the `fused` feature (default) is on. Burn passes `Device::default()`,
//!    which is the GPU when wgpu is compiled in: an f64 state would lose its low bits there,
//!    or fail to load. Without `fused` descent-optim knows no CPU device, and the state waits
//!    on the device Burn passes.
//! 2. The first step on the parameter calls [`land`]: the state moves to the parameter's
//!    device and dtype. Every optimizer's state goes through this one function.

use burn::optim::{StateSink, StateSource};
use burn::tensor::{Device, Tensor};

/// The rule for loaded optimizer state: it lives on the device, and in the dtype, of the
/// parameter it belongs to. A no-op for state the optimizer made itself.
///
/// The dtype changes first, where the state waits: a GPU without f64 could not hold, let
/// alone cast, an f64 state.
pub fn land<const D: usize>(state: Tensor<D>, param: &Tensor<D>) -> Tensor<D> {
    let dtype = param.dtype();
    let state = if state.dtype() != dtype { state.cast(dtype) } else { state };
    let device = param.device();
    if state.device() != device {
        state.to_device(&device)
    } else {
        state
    }
}

/// Where a state tensor waits between loading and its parameter's first step (stage 1 above).
fn holding_device(device: &Device) -> Device {
    #[cfg(feature = "fused")]
    {
        let _ = device;
        Device::flex()
    }
    #[cfg(not(feature = "fused"))]
    {
        device.clone()
    }
}

pub fn push_tensor<const D: usize>(out: &mut StateSink, prefix: &str, leaf: &str, t: &Tensor<D>) {
    out.push_tensor(prefix, leaf, t.to_data());
}

pub fn push_opt_tensor<const D: usize>(out: &mut StateSink, prefix: &str, leaf: &str, t: &Option<Tensor<D>>) {
    if let Some(t) = t {
        push_tensor(out, prefix, leaf, t);
    }
}

/// A saved state tensor, in its saved dtype, on the holding device (stage 1 above).
pub fn take_tensor<const D: usize>(
    src: &mut StateSource,
    prefix: &str,
    leaf: &str,
    device: &Device,
) -> Option<Tensor<D>> {
    src.take_tensor(prefix, leaf).map(|data| {
        let dtype = data.dtype();
        Tensor::from_data(data, (&holding_device(device), dtype))
    })
}

/// One field of a state struct: how it is recorded, loaded, moved and landed.
pub trait StateField<const D: usize>: Sized {
    fn push(&self, out: &mut StateSink, prefix: &str, leaf: &str);
    /// `None` when a required leaf is missing (an optional one loads as `Some(None)`).
    fn take(src: &mut StateSource, prefix: &str, leaf: &str, device: &Device) -> Option<Self>;
    fn to_device(self, device: &Device) -> Self;
    fn land(self, param: &Tensor<D>) -> Self;
}

/// Step counters (torch's `state["step"]`) and f64 scalars such as NAdam's `mu_product`.
macro_rules! scalar_field {
    ($t:ty) => {
        impl<const D: usize> StateField<D> for $t {
            fn push(&self, out: &mut StateSink, prefix: &str, leaf: &str) {
                out.push_scalar(prefix, leaf, (*self).into());
            }
            fn take(src: &mut StateSource, prefix: &str, leaf: &str, _: &Device) -> Option<Self> {
                src.take_scalar(prefix, leaf).and_then(|s| <$t>::try_from(s).ok())
            }
            fn to_device(self, _: &Device) -> Self {
                self
            }
            fn land(self, _: &Tensor<D>) -> Self {
                self
            }
        }
    };
}
scalar_field!(u64);
scalar_field!(f64);

impl<const D: usize> StateField<D> for Tensor<D> {
    fn push(&self, out: &mut StateSink, prefix: &str, leaf: &str) {
        push_tensor(out, prefix, leaf, self);
    }
    fn take(src: &mut StateSource, prefix: &str, leaf: &str, device: &Device) -> Option<Self> {
        take_tensor(src, prefix, leaf, device)
    }
    fn to_device(self, device: &Device) -> Self {
        Tensor::to_device(self, device)
    }
    fn land(self, param: &Tensor<D>) -> Self {
        land(self, param)
    }
}

impl<const D: usize> StateField<D> for Option<Tensor<D>> {
    fn push(&self, out: &mut StateSink, prefix: &str, leaf: &str) {
        push_opt_tensor(out, prefix, leaf, self);
    }
    fn take(src: &mut StateSource, prefix: &str, leaf: &str, device: &Device) -> Option<Self> {
        Some(take_tensor(src, prefix, leaf, device))
    }
    fn to_device(self, device: &Device) -> Self {
        self.map(|t| t.to_device(device))
    }
    fn land(self, param: &Tensor<D>) -> Self {
        self.map(|t| land(t, param))
    }
}

/// Declares a per-parameter state struct `Name<const D: usize>` whose fields are
/// [`StateField`]s, with its [`RecordState`](burn::optim::RecordState) (each field one leaf,
/// named after the field), `to_device` and `land` (every field through [`land`]).
#[macro_export]
macro_rules! optim_state {
    ($(#[$meta:meta])* pub struct $name:ident<const D: usize> {
        $($(#[$fmeta:meta])* pub $field:ident: $ty:ty),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Clone, Debug)]
        pub struct $name<const D: usize> {
            $($(#[$fmeta])* pub $field: $ty),*
        }

        impl<const D: usize> burn::optim::RecordState for $name<D> {
            fn state_flatten(&self, prefix: &str, out: &mut burn::optim::StateSink) {
                $($crate::record::StateField::<D>::push(&self.$field, out, prefix, stringify!($field));)*
            }
            fn state_unflatten(
                prefix: &str,
                src: &mut burn::optim::StateSource,
                device: &burn::tensor::Device,
            ) -> Option<Self> {
                Some(Self {
                    $($field: <$ty as $crate::record::StateField<D>>::take(src, prefix, stringify!($field), device)?),*
                })
            }
        }

        impl<const D: usize> $name<D> {
            /// Every tensor moved to `device` (Burn's `Optimizer::to_device`).
            pub fn to_device(self, device: &burn::tensor::Device) -> Self {
                Self { $($field: $crate::record::StateField::<D>::to_device(self.$field, device)),* }
            }
            /// Every tensor on `param`'s device and in its dtype (descent_optim::record::land).
            pub fn land(self, param: &burn::tensor::Tensor<D>) -> Self {
                Self { $($field: $crate::record::StateField::<D>::land(self.$field, param)),* }
            }
        }
    };
}
