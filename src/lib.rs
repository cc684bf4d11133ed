//! # descent
//!
//! The classic optimisation toolbox — gradient descent, mini-batch GD and SGD, momentum and
//! Nesterov, learning-rate schedules, L1/L2 regularisation — as PyTorch-exact software on
//! Burn 0.22. This facade re-exports the three libraries:
//!
//! - [`model`] (descent-model): networks, any Burn device, PyTorch weights in and out; Burn
//!   with no backend of its own;
//! - [`optim`] (descent-optim): optimizers as `burn::optim::Optimizer`s, built from parts,
//!   and PyTorch's learning-rate schedules as Burn `LrScheduler`s; no backend of its own
//!   (the fused CPU updates sit behind its default `fused` feature);
//! - [`train`] (descent-train): config, data, batching modes, the training loop in stages,
//!   checkpoints and metrics; it offers the cpu (flex), ndarray and wgpu devices.
//!
//! The `descent` command (train, schedule, lr-find, compare, bench, plot) is the descent-cli
//! crate, thin over these. Features: `wgpu` (default) and `learner` (burn-train's `Learner`).

pub use descent_model as model;
pub use descent_optim as optim;
pub use descent_train as train;
