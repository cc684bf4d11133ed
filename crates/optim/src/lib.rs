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
//! | L1 / L2 penalties added to the loss | [`penalty`] |
//! | serde config the trainer builds optimizers from | [`config`] |
//! | state records (save / resume) | [`record`] |
//! | learning-rate schedules (PyTorch's `lr_scheduler`) | [`schedule`] |

pub mod config;
pub mod error;
pub mod penalty;
pub mod record;
pub mod schedule;
pub mod sgd;

pub use config::{BuiltOptimizer, OptimizerConfig};
pub use error::OptimError;
pub use schedule::{table, Scheduler, SchedulerConfig};
pub use sgd::{HyperParam, Sgd, SgdConfig, SgdState};
