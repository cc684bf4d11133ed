//! descent-optim: PyTorch-exact optimizers and learning-rate schedules for Burn 0.22.
//!
//! Every optimizer implements [`burn::optim::Optimizer`], so it becomes a Burn
//! [`ModuleOptimizer`](burn::optim::ModuleOptimizer) with `.into()` and works in a
//! hand-written loop as well as in burn-train's `Learner`. Argument names, defaults, update
//! order and validation errors follow `torch.optim`.
//!
//! | concept | file |
//! |---|---|
//! | gradient descent, momentum, Nesterov, weight decay, proximal L1 | [`sgd`] |
//! | Adam (+ AMSGrad), and the family's shared helpers | [`adam`] |
//! | AdamW (decoupled weight decay) | [`adamw`] |
//! | RMSprop (centered, momentum) | [`rmsprop`] |
//! | Adagrad (lr decay, initial accumulator) | [`adagrad`] |
//! | Adadelta | [`adadelta`] |
//! | Adamax (infinity-norm Adam) | [`adamax`] |
//! | NAdam (Nesterov Adam, momentum decay) | [`nadam`] |
//! | RAdam (rectified Adam) | [`radam`] |
//! | Lion (sign momentum; paper / optax) | [`lion`] |
//! | parameter groups (torch's `param_groups`: own lr / weight decay by name pattern) | [`groups`] |
//! | global-norm and value gradient clipping (`clip_grad_norm_`, `clip_grad_value_`) | [`clip`] |
//! | L1 / L2 penalties added to the loss | [`penalty`] |
//! | serde config the trainer builds optimizers from | [`config`] |
//! | state records (save / resume) | [`record`] |
//! | learning-rate schedules (PyTorch's `lr_scheduler`) | [`schedule`] |

#[macro_use]
pub mod hyper;
pub mod record;

mod check;
pub mod error;
#[cfg(feature = "fused")]
mod fused;
pub mod parts;
pub mod regularization;

pub mod adadelta;
pub mod adagrad;
pub mod adam;
mod adam_core;
pub mod adamax;
pub mod adamw;
pub mod lion;
pub mod nadam;
pub mod radam;
pub mod rmsprop;
pub mod sgd;

pub mod clip;
pub mod config;
pub mod groups;
pub mod schedule;

/// L1 / L2 loss penalties; kept at their old path, now in [`regularization`].
pub mod penalty {
    pub use crate::regularization::Penalty;
}

pub use adadelta::{Adadelta, AdadeltaConfig, AdadeltaState};
pub use adagrad::{Adagrad, AdagradConfig, AdagradState};
pub use adam::{Adam, AdamConfig, AdamState};
pub use adamax::{Adamax, AdamaxConfig, AdamaxState};
pub use adamw::{AdamW, AdamWConfig};
pub use clip::{clip_grad_norm, clip_grad_norm_tensors, clip_grad_value, clip_grad_value_tensors, NormType};
pub use config::{BuiltOptimizer, OptimizerConfig};
pub use lion::{Lion, LionConfig, LionState};
pub use nadam::{NAdam, NAdamConfig, NAdamState};
pub use radam::{RAdam, RAdamConfig, RAdamState};
pub use rmsprop::{RmsProp, RmsPropConfig, RmsPropState};
pub use error::OptimError;
pub use groups::{param_group, GroupKnobs, GroupLr};
pub use schedule::{table, BoundScheduler, Scheduler, SchedulerConfig};
pub use hyper::HyperParam;
pub use regularization::{Penalty, WeightDecay};
pub use sgd::{Sgd, SgdConfig, SgdState};
