//! What a model will hold, from its config alone (nothing is allocated), so a run can
//! refuse a model too large for the machine before asking for the memory.
//!
//! Parameters (equal to Burn's `Module::num_params` of the built model; tested below):
//!
//! - mlp `sizes = [n₀ … n_L]`: `Σ_l (n_{l−1}·n_l + n_l)` (weights and biases)
//! - cnn: `Σ_k (c_{k−1}·c_k·k² + c_k)` (c₀ = 1) + the dense layers `flat·hidden + hidden` and
//!   `head_in·classes + classes`, `flat = c_K·h·w` after the pools
//! - mf: `(users + items)·dim + users + items + 1` (embeddings, biases, global bias)
//! - char_rnn: `vocab·embed + g·(embed·hidden + hidden² + 2·hidden) + hidden·vocab + vocab`,
//!   g = 3 gates (GRU) or 4 (LSTM)
//!
//! Activations per sample are the values a forward pass keeps for the backward one: each
//! layer's output before and after its nonlinearity (2 per unit), an estimate, not a count.
//! Counts saturate at `u128::MAX` instead of overflowing.

use crate::{Cell, CharRnnConfig, CnnConfig, MfConfig, MlpConfig, ModelConfig};

fn mul(a: u128, b: u128) -> u128 {
    a.saturating_mul(b)
}

fn u(v: usize) -> u128 {
    v as u128
}

/// A dense layer `n_in → n_out` with bias.
fn linear(n_in: usize, n_out: usize) -> u128 {
    mul(u(n_in), u(n_out)).saturating_add(u(n_out))
}

impl ModelConfig {
    /// Trainable scalars of the model this config builds.
    pub fn parameter_count(&self) -> u128 {
        match self {
            ModelConfig::Mlp(c) => mlp_params(c),
            ModelConfig::Cnn(c) => cnn_params(c),
            ModelConfig::Mf(c) => mf_params(c),
            ModelConfig::CharRnn(c) => char_rnn_params(c),
        }
    }

    /// Activation values one sample keeps for the backward pass (an estimate); `features`
    /// is the input width (a char model's context length).
    pub fn activations_per_sample(&self, features: usize) -> u128 {
        match self {
            ModelConfig::Mlp(c) => c.sizes.iter().skip(1).fold(0u128, |a, &n| a.saturating_add(mul(2, u(n)))),
            ModelConfig::Cnn(c) => cnn_activations(c),
            ModelConfig::Mf(c) => mul(4, u(c.dim)).saturating_add(4),
            ModelConfig::CharRnn(c) => {
                let gates = if c.cell == Cell::Lstm { 4 } else { 3 };
                let per_char = u(c.embed).saturating_add(mul(2 * gates, u(c.hidden)));
                mul(u(features.max(1)), per_char).saturating_add(mul(2, u(c.vocab)))
            }
        }
    }
}

fn mlp_params(c: &MlpConfig) -> u128 {
    c.sizes.windows(2).fold(0u128, |a, w| a.saturating_add(linear(w[0], w[1])))
}

fn cnn_params(c: &CnnConfig) -> u128 {
    let k2 = mul(u(c.kernel_size), u(c.kernel_size));
    let mut total = 0u128;
    let mut c_in = 1;
    for &ch in &c.channels {
        total = total.saturating_add(mul(mul(u(c_in), u(ch)), k2)).saturating_add(u(ch));
        c_in = ch;
    }
    let (_, [h, w]) = c.plan();
    let flat = c_in.saturating_mul(h).saturating_mul(w);
    if c.hidden > 0 {
        total.saturating_add(linear(flat, c.hidden)).saturating_add(linear(c.hidden, c.classes))
    } else {
        total.saturating_add(linear(flat, c.classes))
    }
}

/// Conv output, ReLU output and pooled output of each block, then the dense layers.
fn cnn_activations(c: &CnnConfig) -> u128 {
    let (pools, _) = c.plan();
    let mut side = c.image.map(u);
    let mut total = 0u128;
    for (&ch, pool) in c.channels.iter().zip(pools) {
        let full = mul(mul(u(ch), side[0]), side[1]);
        if pool {
            side = side.map(|v| v / 2);
        }
        total = total.saturating_add(mul(2, full)).saturating_add(mul(mul(u(ch), side[0]), side[1]));
    }
    total.saturating_add(mul(2, u(c.hidden))).saturating_add(mul(2, u(c.classes)))
}

fn mf_params(c: &MfConfig) -> u128 {
    let rows = u(c.users).saturating_add(u(c.items));
    mul(rows, u(c.dim)).saturating_add(rows).saturating_add(1)
}

fn char_rnn_params(c: &CharRnnConfig) -> u128 {
    let gates = if c.cell == Cell::Lstm { 4 } else { 3 };
    let gate = linear(c.embed, c.hidden).saturating_add(linear(c.hidden, c.hidden));
    mul(u(c.vocab), u(c.embed)).saturating_add(mul(gates, gate)).saturating_add(linear(c.hidden, c.vocab))
}

#[cfg(test)]
mod tests {
    use burn::module::Module;
    use burn::tensor::Device;

    use super::*;
    use crate::{Activation, Model};

    fn built(cfg: &ModelConfig) -> u128 {
        let device = Device::flex();
        let n = match cfg.init(&device).unwrap() {
            Model::Mlp(m) => m.num_params(),
            Model::Cnn(m) => m.num_params(),
            Model::Mf(m) => m.num_params(),
            Model::CharRnn(m) => m.num_params(),
        };
        n as u128
    }

    #[test]
    fn parameter_count_equals_the_built_models() {
        let configs = [
            ModelConfig::Mlp(MlpConfig::seed()),
            ModelConfig::Mlp(MlpConfig { sizes: vec![7, 13, 11, 3], activation: Activation::Tanh }),
            ModelConfig::Cnn(CnnConfig { image: [8, 8], channels: vec![16, 32], kernel_size: 3, hidden: 0, classes: 10 }),
            ModelConfig::Cnn(CnnConfig { image: [7, 5], channels: vec![4, 6, 2], kernel_size: 5, hidden: 9, classes: 3 }),
            ModelConfig::Mf(MfConfig { users: 30, items: 17, dim: 4, l2: 0.0, init_std: 0.1 }),
            ModelConfig::CharRnn(CharRnnConfig { vocab: 20, embed: 8, hidden: 16, cell: Cell::Gru }),
            ModelConfig::CharRnn(CharRnnConfig { vocab: 11, embed: 5, hidden: 7, cell: Cell::Lstm }),
        ];
        for cfg in &configs {
            assert_eq!(cfg.parameter_count(), built(cfg), "{cfg:?}");
        }
        // 10·5 + 5 + 5·1 + 1, by hand.
        assert_eq!(configs[0].parameter_count(), 61);
    }

    #[test]
    fn huge_sizes_saturate_instead_of_overflowing() {
        let cfg = ModelConfig::Mlp(MlpConfig { sizes: vec![usize::MAX, usize::MAX, usize::MAX], activation: Activation::Relu });
        assert_eq!(cfg.parameter_count(), u128::MAX);
        let cfg = ModelConfig::Mlp(MlpConfig { sizes: vec![10, 1_000_000_000, 1], activation: Activation::Relu });
        assert_eq!(cfg.parameter_count(), 12_000_000_001);
        assert_eq!(cfg.activations_per_sample(10), 2_000_000_002);
    }
}
