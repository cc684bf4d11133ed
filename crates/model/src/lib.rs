//! descent-model: the networks descent trains.
//!
//! Every model is one type that runs on any Burn [`Device`](burn::tensor::Device) chosen at
//! run time, is built from a serde config, and can start from PyTorch weights. The crate asks
//! Burn for modules and safetensors only (`store`, `safetensors`): the binary that uses it
//! picks the backends. Its `flex` feature (descent-train turns it on) adds descent's CPU
//! kernels for the dense layers' products and the CNN's convolution and pool, which name
//! Burn's flex backend and hook into autodiff through Burn's backend extensions
//! (`extension`); without it those layers are Burn's own.
//!
//! | network | file |
//! |---|---|
//! | the seed MLP (any sizes, any activation) | [`mlp`] |
//! | its dense layer (and the CNN's and the char model's), on descent's products on the CPU (flex) | [`linear`], `host_gemm.rs` |
//! | a small CNN for digit images | [`cnn`] |
//! | its convolution, on descent's im2col kernel on the CPU (flex) | [`conv`], `im2col.rs` |
//! | its 2×2 max-pool, on descent's kernel on the CPU (flex) | [`max_pool`] |
//! | matrix factorisation (user and item embeddings, biases) | [`mf`] |
//! | a character-level GRU / LSTM | [`char_rnn`] |
//! | the GRU's and the LSTM's last hidden state in few, large ops | [`gru`], [`lstm`] |
//! | on flex, the GRU's whole sequence as one operation with its own backward | `gru_sequence.rs` |
//! | exp, sigmoid, tanh for f32 that vectorise | [`fast_math`] |
//! | whether a device is the CPU (flex) one | [`flex`] |
//! | gates on the host, linked to autodiff by their derivatives | [`gates`] |
//! | one type for all, chosen by `kind` | [`model`] |
//! | parameter and activation counts from a config, before any allocation | [`size`] |
//! | PyTorch weights in and out (safetensors) | [`weights`] |

pub mod activation;
pub mod char_rnn;
pub mod cnn;
pub mod conv;
pub mod error;
pub mod fast_math;
pub mod flex;
pub mod gates;
pub mod mf;
pub mod mlp;
pub mod model;
pub mod gru;
pub mod linear;
#[cfg(feature = "flex")]
mod gru_sequence;
#[cfg(feature = "flex")]
mod host_gemm;
#[cfg(feature = "flex")]
mod im2col;
pub mod lstm;
pub mod max_pool;
pub mod size;
pub mod weights;

pub use activation::Activation;
pub use error::ModelError;
pub use char_rnn::{Cell, CharRnn, CharRnnConfig};
pub use cnn::{Cnn, CnnConfig};
pub use mf::{Mf, MfConfig};
pub use mlp::{Mlp, MlpConfig};
pub use model::{Model, ModelConfig};
pub use weights::{load_safetensors, load_safetensors_bytes, save_safetensors};
