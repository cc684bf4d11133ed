//! Hyper-parameters: the live ones a schedule turns between steps ([`HyperParam`]), and the
//! one macro every optimizer config is declared with, so that names, defaults, serde keys and
//! `with_*` setters come from a single table per optimizer.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A hyper-parameter that may change between steps while the optimizer is owned by a
/// `ModuleOptimizer` (Burn's `Optimizer::step` takes `&self`). Clones share the value.
///
/// ```
/// use descent_optim::HyperParam;
/// let momentum = HyperParam::new(0.9);
/// let seen_by_optimizer = momentum.clone();
/// momentum.set(0.85);
/// assert_eq!(seen_by_optimizer.get(), 0.85);
/// ```
#[derive(Clone, Debug)]
pub struct HyperParam(Arc<AtomicU64>);

impl HyperParam {
    pub fn new(value: f64) -> Self {
        Self(Arc::new(AtomicU64::new(value.to_bits())))
    }
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
    pub fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed)
    }
}

/// Declares a torch-style optimizer config: the struct (serde keys = field names, unknown keys
/// rejected, a missing key takes its default), `Default`, `new(lr)` and one `with_<field>`
/// setter per field, and `init()` from the config's `build()`. Each field is written `name: type = default`.
macro_rules! optim_config {
    ($(#[$meta:meta])* pub struct $name:ident {
        $($(#[$fmeta:meta])* $field:ident: $ty:ty = $default:expr),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty),*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $($field: $default),* }
            }
        }

        impl $name {
            /// This learning rate, the defaults for everything else.
            pub fn new(lr: f64) -> Self {
                Self { lr, ..Self::default() }
            }
            /// The whole-module optimizer, as Burn's `*Config::init` gives.
            pub fn init(&self) -> Result<burn::optim::ModuleOptimizer, crate::OptimError> {
                Ok(self.build()?.into())
            }
            paste::paste! {
                $(
                    #[doc = concat!("Sets `", stringify!($field), "`.")]
                    pub fn [<with_ $field>](mut self, $field: $ty) -> Self {
                        self.$field = $field;
                        self
                    }
                )*
            }
        }
    };
}
