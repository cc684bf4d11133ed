//! Matrix factorisation for ratings (the "biased MF" of the Netflix-prize era).
//!
//! For a user `u` and an item `i`:
//!
//! `r̂(u, i) = μ + b_u + c_i + p_u · q_i`,  `p_u, q_i ∈ ℝ^dim`,
//!
//! with a learned global bias `μ`, user/item biases `b`, `c` and embeddings `p`, `q`
//! (initialised `N(0, init_std²)`, biases at 0). Input rows are `[user, item]` as numbers
//! (0-based ids); the output is `[B, 1]`, trained with MSE. The optional `l2` adds
//! `l2 · (1/B)·Σ_batch (‖p_u‖² + ‖q_i‖²)` to the loss the usual
//! per-sample weight-decay of MF, on the rows the batch touches only
//! ([`Mf::forward_with_penalty`]).

use burn::module::{Module, Param};
use burn::nn::{Embedding, EmbeddingConfig, Initializer};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::ModelError;

fn default_std() -> f64 {
    0.1
}

/// Config of an [`Mf`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfConfig {
    pub users: usize,
    pub items: usize,
    /// Embedding width.
    pub dim: usize,
    /// L2 weight on the batch's embeddings (0 = none).
    #[serde(default)]
    pub l2: f64,
    /// Std of the normal initialisation of the embeddings.
    #[serde(default = "default_std")]
    pub init_std: f64,
}

impl MfConfig {
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.users == 0 || self.items == 0 || self.dim == 0 {
            return Err(ModelError::Config(format!(
                "users = {}, items = {}, dim = {}: each must be at least 1",
                self.users, self.items, self.dim
            )));
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return Err(ModelError::Config(format!("l2 = {} must be a finite number ≥ 0", self.l2)));
        }
        if !(self.init_std > 0.0 && self.init_std.is_finite()) {
            return Err(ModelError::Config(format!("init_std = {} must be a finite number > 0", self.init_std)));
        }
        Ok(())
    }

    pub fn init(&self, device: &Device) -> Result<Mf, ModelError> {
        self.validate()?;
        let emb = |n: usize, d: usize, init: Initializer| EmbeddingConfig::new(n, d).with_initializer(init).init(device);
        let normal = Initializer::Normal { mean: 0.0, std: self.init_std };
        Ok(Mf {
            user: emb(self.users, self.dim, normal.clone()),
            item: emb(self.items, self.dim, normal),
            user_bias: emb(self.users, 1, Initializer::Zeros),
            item_bias: emb(self.items, 1, Initializer::Zeros),
            global_bias: Param::from_tensor(Tensor::zeros([1], device)),
            l2: self.l2,
        })
    }
}

#[derive(Module, Debug)]
pub struct Mf {
    pub user: Embedding,
    pub item: Embedding,
    pub user_bias: Embedding,
    pub item_bias: Embedding,
    pub global_bias: Param<Tensor<1>>,
    #[module(skip)]
    pub l2: f64,
}

impl Mf {
    /// `x: [B, 2]` (user, item) → predicted ratings `[B, 1]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.forward_with_penalty(x).0
    }

    /// The predictions and, when `l2 > 0`, `l2 · mean_batch(‖p_u‖² + ‖q_i‖²)` — from the same
    /// embedding lookups, so a training step gathers each row once.
    pub fn forward_with_penalty(&self, x: Tensor<2>) -> (Tensor<2>, Option<Tensor<1>>) {
        let [b, _] = x.dims();
        let ids = x.int();
        let (u, i) = (ids.clone().slice([0..b, 0..1]), ids.slice([0..b, 1..2]));
        let p: Tensor<2> = self.user.forward(u.clone()).reshape([b as i64, -1]);
        let q: Tensor<2> = self.item.forward(i.clone()).reshape([b as i64, -1]);
        let penalty = (self.l2 != 0.0).then(|| ((p.clone() * p.clone()).sum() + (q.clone() * q.clone()).sum()) * (self.l2 / b as f64));
        let dot = (p * q).sum_dim(1);
        let bu: Tensor<2> = self.user_bias.forward(u).reshape([b, 1]);
        let bi: Tensor<2> = self.item_bias.forward(i).reshape([b, 1]);
        (dot + bu + bi + self.global_bias.val().reshape([1, 1]), penalty)
    }

    pub fn users(&self) -> usize {
        self.user.weight.dims()[0]
    }
    pub fn items(&self) -> usize {
        self.item.weight.dims()[0]
    }
}
