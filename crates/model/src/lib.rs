//! descent-model: the networks descent trains.
//!
//! Every model is one type that runs on any Burn [`Device`](burn::tensor::Device) chosen at
//! run time, is built from a serde config, and can start from PyTorch weights.

pub mod activation;
pub mod error;
pub mod mlp;
pub mod weights;

pub use activation::Activation;
pub use error::ModelError;
pub use mlp::{Mlp, MlpConfig};
pub use weights::{load_safetensors, save_safetensors};
