//! Character-level language model: the previous `T` characters predict the next one.
//!
//! Input rows are `T` character ids `c_1 … c_T` (as numbers); then
//!
//! `e_t = E[c_t]` (embedding), `h_t = RNN(e_t, h_{t−1})` (GRU or LSTM, `h_0 = 0`),
//! `z = W·h_T + b` — logits over the vocabulary for `c_{T+1}`, trained with cross-entropy;
//! the perplexity is `exp(mean cross-entropy)`.

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Gru, GruConfig, Linear, LinearConfig, Lstm, LstmConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// The recurrent cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    #[default]
    Gru,
    Lstm,
}

/// Config of a [`CharRnn`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CharRnnConfig {
    /// Number of distinct characters.
    pub vocab: usize,
    /// Embedding width.
    pub embed: usize,
    /// Hidden state width.
    pub hidden: usize,
    #[serde(default)]
    pub cell: Cell,
}

impl CharRnnConfig {
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.vocab < 2 || self.embed == 0 || self.hidden == 0 {
            return Err(ModelError::Config(format!(
                "vocab = {} (≥ 2), embed = {} and hidden = {} (≥ 1) out of range",
                self.vocab, self.embed, self.hidden
            )));
        }
        Ok(())
    }

    pub fn init(&self, device: &Device) -> Result<CharRnn, ModelError> {
        self.validate()?;
        let rnn = match self.cell {
            Cell::Gru => Rnn::Gru(GruConfig::new(self.embed, self.hidden, true).init(device)),
            Cell::Lstm => Rnn::Lstm(LstmConfig::new(self.embed, self.hidden, true).init(device)),
        };
        Ok(CharRnn {
            embed: EmbeddingConfig::new(self.vocab, self.embed).init(device),
            rnn,
            head: LinearConfig::new(self.hidden, self.vocab).init(device),
        })
    }
}

#[derive(Module, Debug)]
pub enum Rnn {
    Gru(Gru),
    Lstm(Lstm),
}

#[derive(Module, Debug)]
pub struct CharRnn {
    pub embed: Embedding,
    pub rnn: Rnn,
    pub head: Linear,
}

impl CharRnn {
    /// `x: [B, T]` character ids → next-character logits `[B, vocab]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let e = self.embed.forward(x.int());
        let last: Tensor<2> = match &self.rnn {
            Rnn::Gru(g) => crate::gru::gru_last(g, e),
            Rnn::Lstm(l) => crate::lstm::lstm_last(l, e),
        };
        crate::linear::linear(&self.head, last)
    }

    pub fn vocab(&self) -> usize {
        self.head.weight.dims()[1]
    }
}
