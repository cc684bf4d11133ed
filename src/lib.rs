//! # descent
//!
//! The classic optimisation toolbox — gradient descent, mini-batch GD and SGD, momentum and
//! Nesterov, learning-rate schedules, L1/L2 regularisation — as PyTorch-exact software on
//! Burn 0.22. This facade re-exports the three crates:
//!
//! - [`model`] (descent-model): networks, any Burn device, PyTorch weights in and out;
//! - [`optim`] (descent-optim): optimizers as `burn::optim::Optimizer`s;
//! - [`train`] (descent-train): data, batching modes, the training loop, the `descent` CLI.

pub use descent_model as model;
pub use descent_optim as optim;
pub use descent_train as train;
