//! One type over every network descent trains, picked at run time by `kind`.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::{CharRnn, CharRnnConfig, Cnn, CnnConfig, Mf, MfConfig, Mlp, MlpConfig, ModelError};

/// A model config tagged by `kind` (`mlp`, `cnn`, `mf`, `char_rnn`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelConfig {
    Mlp(MlpConfig),
    Cnn(CnnConfig),
    Mf(MfConfig),
    CharRnn(CharRnnConfig),
}

impl ModelConfig {
    pub fn validate(&self) -> Result<(), ModelError> {
        match self {
            ModelConfig::Mlp(c) => c.validate(),
            ModelConfig::Cnn(c) => c.validate(),
            ModelConfig::Mf(c) => c.validate(),
            ModelConfig::CharRnn(c) => c.validate(),
        }
    }

    pub fn init(&self, device: &Device) -> Result<Model, ModelError> {
        Ok(match self {
            ModelConfig::Mlp(c) => Model::Mlp(c.init(device)?),
            ModelConfig::Cnn(c) => Model::Cnn(c.init(device)?),
            ModelConfig::Mf(c) => Model::Mf(c.init(device)?),
            ModelConfig::CharRnn(c) => Model::CharRnn(c.init(device)?),
        })
    }
}

/// Any of descent's networks; every one maps a `[B, features]` float tensor to `[B, outputs]`.
#[derive(Module, Debug)]
pub enum Model {
    Mlp(Mlp),
    Cnn(Cnn),
    Mf(Mf),
    CharRnn(CharRnn),
}

impl Model {
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Model::Mlp(m) => m.forward(x),
            Model::Cnn(m) => m.forward(x),
            Model::Mf(m) => m.forward(x),
            Model::CharRnn(m) => m.forward(x),
        }
    }

    /// The output and the model's own penalty on the batch (MF's embedding L2), to add to
    /// the loss; one pass, so MF looks its embeddings up once per step.
    pub fn forward_with_penalty(&self, x: Tensor<2>) -> (Tensor<2>, Option<Tensor<1>>) {
        match self {
            Model::Mf(m) => m.forward_with_penalty(x),
            _ => (self.forward(x), None),
        }
    }

    pub fn as_mlp(&self) -> Option<&Mlp> {
        match self {
            Model::Mlp(m) => Some(m),
            _ => None,
        }
    }
}
