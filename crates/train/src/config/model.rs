//! `[model]`: `kind` and that kind's keys, and the one kind-keys check `[data]` shares.

use std::path::PathBuf;

use descent_model::{Activation, Cell, CharRnnConfig, CnnConfig, MfConfig, MlpConfig, ModelConfig};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Mlp,
    Cnn,
    Mf,
    CharRnn,
}

/// `[model]`: `kind` and that kind's keys (one flat table, so a wrong type is reported at its
/// line; a key of another kind is an error naming the kind's own keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    pub kind: ModelKind,
    /// mlp: widths, input first.
    pub sizes: Option<Vec<usize>>,
    /// mlp: between layers.
    pub activation: Option<Activation>,
    /// mlp: PyTorch weights (safetensors, `layers.{i}.weight` / `.bias`) to start from.
    pub init_from: Option<PathBuf>,
    /// cnn: `[height, width]` (default: from the data when it knows, e.g. idx, digits).
    pub image: Option<[usize; 2]>,
    /// cnn: channels of each conv → ReLU → 2×2 max-pool block.
    pub channels: Option<Vec<usize>>,
    /// cnn: odd kernel side (default 3).
    pub kernel_size: Option<usize>,
    /// cnn: optional dense layer width (default 0 = none); char_rnn: hidden state width.
    pub hidden: Option<usize>,
    /// cnn: number of classes.
    pub classes: Option<usize>,
    /// mf: number of users / items (default: from the data).
    pub users: Option<usize>,
    pub items: Option<usize>,
    /// mf: embedding width.
    pub dim: Option<usize>,
    /// mf: L2 on the batch's embeddings.
    pub l2: Option<f64>,
    /// mf: std of the embeddings' normal init (default 0.1).
    pub init_std: Option<f64>,
    /// char_rnn: vocabulary size (default: from the corpus).
    pub vocab: Option<usize>,
    /// char_rnn: embedding width.
    pub embed: Option<usize>,
    /// char_rnn: `gru` (default) or `lstm`.
    pub cell: Option<Cell>,
}

/// What the data tells the model config when the config leaves it out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DataShape {
    pub image: Option<[usize; 2]>,
    pub users: Option<usize>,
    pub items: Option<usize>,
    pub vocab: Option<usize>,
}

/// The one check both kind-tagged sections (`[model]`, `[data]`) make: only the keys of this
/// `kind` are given, and its required ones are there. `given` pairs each optional key's name
/// with whether it is set.
pub(super) fn check_kind_keys(section: &str, kind: &str, given: &[(&str, bool)], allowed: &[&str], required: &[&str]) -> Result<(), String> {
    let given: Vec<&str> = given.iter().filter_map(|&(k, set)| set.then_some(k)).collect();
    if let Some(k) = given.iter().find(|k| !allowed.contains(k)) {
        return Err(format!("[{section}] `{k}` is not a key of kind = \"{kind}\" (its keys: kind, {})", allowed.join(", ")));
    }
    if let Some(k) = required.iter().find(|k| !given.contains(k)) {
        return Err(format!("[{section}] missing field `{k}` (required by kind = \"{kind}\")"));
    }
    Ok(())
}

impl ModelSection {
    fn kind_name(&self) -> &'static str {
        match self.kind {
            ModelKind::Mlp => "mlp",
            ModelKind::Cnn => "cnn",
            ModelKind::Mf => "mf",
            ModelKind::CharRnn => "char_rnn",
        }
    }

    /// Each optional key and whether it is set.
    fn given(&self) -> [(&'static str, bool); 16] {
        [
            ("sizes", self.sizes.is_some()),
            ("activation", self.activation.is_some()),
            ("init_from", self.init_from.is_some()),
            ("image", self.image.is_some()),
            ("channels", self.channels.is_some()),
            ("kernel_size", self.kernel_size.is_some()),
            ("hidden", self.hidden.is_some()),
            ("classes", self.classes.is_some()),
            ("users", self.users.is_some()),
            ("items", self.items.is_some()),
            ("dim", self.dim.is_some()),
            ("l2", self.l2.is_some()),
            ("init_std", self.init_std.is_some()),
            ("vocab", self.vocab.is_some()),
            ("embed", self.embed.is_some()),
            ("cell", self.cell.is_some()),
        ]
    }

    /// Keys of this kind: (allowed, required).
    fn keys(&self) -> (&'static [&'static str], &'static [&'static str]) {
        match self.kind {
            ModelKind::Mlp => (&["sizes", "activation", "init_from"], &["sizes"]),
            ModelKind::Cnn => (&["image", "channels", "kernel_size", "hidden", "classes"], &["channels", "classes"]),
            ModelKind::Mf => (&["users", "items", "dim", "l2", "init_std"], &["dim"]),
            ModelKind::CharRnn => (&["vocab", "embed", "hidden", "cell"], &["embed", "hidden"]),
        }
    }

    /// Checks that only this kind's keys are given and its required ones are there.
    pub fn check_keys(&self) -> Result<(), String> {
        let (allowed, required) = self.keys();
        check_kind_keys("model", self.kind_name(), &self.given(), allowed, required)
    }

    /// The mlp config (kind = "mlp").
    pub fn mlp(&self) -> MlpConfig {
        MlpConfig { sizes: self.sizes.clone().unwrap_or_default(), activation: self.activation.unwrap_or_default() }
    }

    /// The model config, with what the config leaves out taken from the data.
    pub fn model_config(&self, data: &DataShape) -> Result<ModelConfig, String> {
        self.check_keys()?;
        let need = |v: Option<usize>, key: &str, from: &str| {
            v.ok_or_else(|| format!("[model] `{key}` is needed: this data ({from}) does not say it"))
        };
        let cfg = match self.kind {
            ModelKind::Mlp => ModelConfig::Mlp(self.mlp()),
            ModelKind::Cnn => ModelConfig::Cnn(CnnConfig {
                image: self.image.or(data.image).ok_or("[model] `image = [height, width]` is needed for CSV data")?,
                channels: self.channels.clone().unwrap_or_default(),
                kernel_size: self.kernel_size.unwrap_or(3),
                hidden: self.hidden.unwrap_or(0),
                classes: self.classes.unwrap_or(0),
            }),
            ModelKind::Mf => ModelConfig::Mf(MfConfig {
                users: need(self.users.or(data.users), "users", "not ratings")?,
                items: need(self.items.or(data.items), "items", "not ratings")?,
                dim: self.dim.unwrap_or(0),
                l2: self.l2.unwrap_or(0.0),
                init_std: self.init_std.unwrap_or(0.1),
            }),
            ModelKind::CharRnn => ModelConfig::CharRnn(CharRnnConfig {
                vocab: need(self.vocab.or(data.vocab), "vocab", "not text")?,
                embed: self.embed.unwrap_or(0),
                hidden: self.hidden.unwrap_or(0),
                cell: self.cell.unwrap_or_default(),
            }),
        };
        Ok(cfg)
    }
}
