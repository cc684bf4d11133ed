//! descent-train: data, the three batching modes, the training loop, checkpoints and metrics.
//! The `descent` command that drives it is the descent-cli crate.
//!
//! A run is a [`RunConfig`] (TOML, checked before anything is written) and [`train`], which
//! reads like the seed's loop, one stage a module, each importing only the ones below it:
//!
//! | stage | module |
//! |---|---|
//! | the run, stage by stage | [`trainer`] |
//! | setup: data loaded and split, device, model seeded and checked | [`setup`] |
//! | one epoch: its steps, validation, early stopping, the periodic checkpoint | [`epoch`] |
//! | one optimizer step: micro-batches, penalties, clipping, divergence guard | [`step`] |
//! | base and group learning-rate schedules, in one place | [`schedules`] |
//! | the loss: data loss + the model's own penalty + L1/L2, assembled once | [`loss`] |
//! | every save and load: model, optimizer, scheduler, RNG | [`checkpoint`] |
//! | Burn decoders that panic on damaged bytes, made to return errors | [`panic_guard`] |
//! | `metrics.jsonl`: one schema, writer and reader | [`metrics`] |
//! | the config, its sections and its error lines | [`config`] |
//! | data files and generators; the three batching modes | [`data`], [`batching`] |
//! | the device choice (cpu = flex, ndarray, wgpu) | [`device`] |
//! | the memory a run needs, checked before allocating | [`memory`] |
//! | the process around a run: freed memory kept, the loop on a rayon worker | [`alloc`], [`pool`] |
//! | one owner per run folder: no silent overwrite, a lock | [`run_dir`] |
//! | the LR range test | [`lr_find`] |
//!
//! ```
//! use descent_train::{train, RunConfig, RunOptions};
//!
//! // The seed task: full-batch gradient descent with momentum, as examples/configs/seed-gd.toml.
//! let text = r#"
//!     epochs = 3
//!     [model]
//!     kind = "mlp"
//!     sizes = [10, 5, 1]
//!     [data]
//!     train = "../../fixtures/seed/train.csv"
//!     targets = ["y"]
//!     [batching]
//!     mode = "full"
//!     [optimizer]
//!     kind = "sgd"
//!     lr = 0.05
//!     momentum = 0.9
//! "#;
//! let cfg = RunConfig::parse(text, "run.toml".as_ref())?;
//! let out = tempfile::tempdir()?;
//! let opts = RunOptions { out_dir: out.path().to_path_buf(), quiet: true, ..Default::default() };
//! let run = train(&cfg, &opts)?;
//! assert_eq!(run.epochs.len(), 3);
//! assert!(run.epochs[2].train_loss < run.epochs[0].train_loss);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod alloc;
pub mod averaging;
pub mod batching;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod device;
pub mod epoch;
pub mod error;
#[cfg(feature = "learner")]
pub mod learner;
#[cfg(feature = "learner")]
pub mod learner_averaging;
pub mod loss;
pub mod lr_find;
pub mod manifest;
pub mod memory;
pub mod metrics;
pub mod panic_guard;
pub mod pool;
pub mod preempt;
pub mod progress;
pub mod rng;
pub mod run_dir;
pub mod run_identity;
pub mod schedules;
pub mod setup;
pub mod step;
pub mod trainer;

pub use config::RunConfig;
pub use error::TrainError;
pub use trainer::{train, RunOptions, RunSummary, RunTimings};
