//! descent-train: data, the three batching modes, the training loop, checkpoints and metrics.
//! The `descent` command that drives it is the descent-cli crate.

pub mod alloc;
pub mod batching;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod device;
pub mod epoch;
pub mod error;
#[cfg(feature = "learner")]
pub mod learner;
pub mod loss;
pub mod lr_find;
pub mod metrics;
pub mod progress;
pub mod rng;
pub mod schedules;
pub mod setup;
pub mod step;
pub mod trainer;

pub use config::RunConfig;
pub use error::TrainError;
pub use trainer::{train, RunOptions, RunSummary};
