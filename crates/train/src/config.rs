//! The run config (TOML). Unknown keys are errors, relative paths resolve against the config
//! file's folder, and every check that can fail runs before anything is written.

use std::path::{Path, PathBuf};

use descent_model::{Activation, Cell, CharRnnConfig, CnnConfig, MfConfig, MlpConfig, ModelConfig};
use descent_optim::schedule::SchedulerConfig;
use descent_optim::{NormType, OptimizerConfig};
use serde::{Deserialize, Serialize};

use crate::batching::BatchingConfig;
use crate::TrainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DType {
    #[default]
    F32,
    F64,
}

/// Where tensors live: `cpu` is Burn's flex backend (recommended), `ndarray` Burn's older
/// CPU backend, `wgpu` the GPU (Vulkan, Metal, DX12 — or lavapipe in software).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceChoice {
    #[default]
    Cpu,
    Ndarray,
    Wgpu,
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cpu" => Ok(Self::Cpu),
            "ndarray" => Ok(Self::Ndarray),
            "wgpu" => Ok(Self::Wgpu),
            other => Err(format!("unknown device `{other}`; expected cpu, ndarray or wgpu")),
        }
    }
}

impl std::fmt::Display for DeviceChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cpu => "cpu",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
        })
    }
}

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
fn check_kind_keys(section: &str, kind: &str, given: &[(&str, bool)], allowed: &[&str], required: &[&str]) -> Result<(), String> {
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

/// Where `[data]` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// `train` (and `valid`) CSV files with a header; `targets` names the target columns.
    #[default]
    Csv,
    /// MNIST-style IDX files: `images` + `labels` (and `valid_images` + `valid_labels`).
    Idx,
    /// The bundled UCI 8×8 digits (1,797 images).
    Digits,
    /// The bundled 5,000-image MNIST sample.
    #[serde(rename = "mnist_5k")]
    Mnist5k,
    /// A MovieLens-style `user,item,rating` file, `train` (and `valid`).
    Ratings,
    /// Generated ratings: `users`, `items`, `rank`, `density`, `noise_std`.
    SyntheticRatings,
    /// A UTF-8 corpus `train`; rows = `context` previous characters → the next one.
    Text,
}

/// `[data]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    #[serde(default)]
    pub kind: DataKind,
    pub train: Option<PathBuf>,
    pub targets: Option<Vec<String>>,
    /// A separate validation file (same layout as `train`).
    pub valid: Option<PathBuf>,
    /// Or hold out this fraction of `train` (0 < f < 1), chosen from `seed` (text: the
    /// corpus's tail).
    pub valid_fraction: Option<f64>,
    /// idx: images `[N, H, W]` and labels `[N]` files (raw or gzip).
    pub images: Option<PathBuf>,
    pub labels: Option<PathBuf>,
    pub valid_images: Option<PathBuf>,
    pub valid_labels: Option<PathBuf>,
    /// synthetic_ratings: the generator's parameters (its seed is the run's `seed`).
    pub users: Option<usize>,
    pub items: Option<usize>,
    pub rank: Option<usize>,
    pub density: Option<f64>,
    pub noise_std: Option<f64>,
    /// text: characters of context per row.
    pub context: Option<usize>,
}

impl DataSection {
    fn kind_name(&self) -> &'static str {
        match self.kind {
            DataKind::Csv => "csv",
            DataKind::Idx => "idx",
            DataKind::Digits => "digits",
            DataKind::Mnist5k => "mnist_5k",
            DataKind::Ratings => "ratings",
            DataKind::SyntheticRatings => "synthetic_ratings",
            DataKind::Text => "text",
        }
    }

    /// Checks that only this kind's keys are given and its required ones are there.
    pub fn check_keys(&self) -> Result<(), String> {
        let given = [
            ("train", self.train.is_some()),
            ("targets", self.targets.is_some()),
            ("valid", self.valid.is_some()),
            ("valid_fraction", self.valid_fraction.is_some()),
            ("images", self.images.is_some()),
            ("labels", self.labels.is_some()),
            ("valid_images", self.valid_images.is_some()),
            ("valid_labels", self.valid_labels.is_some()),
            ("users", self.users.is_some()),
            ("items", self.items.is_some()),
            ("rank", self.rank.is_some()),
            ("density", self.density.is_some()),
            ("noise_std", self.noise_std.is_some()),
            ("context", self.context.is_some()),
        ];
        let (allowed, required): (&[&str], &[&str]) = match self.kind {
            DataKind::Csv => (&["train", "targets", "valid", "valid_fraction"], &["train", "targets"]),
            DataKind::Idx => (&["images", "labels", "valid_images", "valid_labels", "valid_fraction"], &["images", "labels"]),
            DataKind::Digits | DataKind::Mnist5k => (&["valid_fraction"], &[]),
            DataKind::Ratings => (&["train", "valid", "valid_fraction"], &["train"]),
            DataKind::SyntheticRatings => {
                (&["users", "items", "rank", "density", "noise_std", "valid_fraction"], &["users", "items", "rank", "density", "noise_std"])
            }
            DataKind::Text => (&["train", "context", "valid_fraction"], &["train", "context"]),
        };
        check_kind_keys("data", self.kind_name(), &given, allowed, required)?;
        if self.valid_images.is_some() != self.valid_labels.is_some() {
            return Err("[data] give valid_images and valid_labels together".into());
        }
        Ok(())
    }

    /// The target column names (csv); the single fixed target otherwise.
    pub fn target_names(&self) -> Vec<String> {
        self.targets.clone().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    #[default]
    Mse,
    /// Logits against one integer class column (torch's `CrossEntropyLoss`).
    CrossEntropy,
}

/// `[checkpoint]`: a complete, atomically written checkpoint every `every_epochs` epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointSection {
    pub every_epochs: usize,
    #[serde(default = "two")]
    pub keep_last: usize,
}

fn two() -> usize {
    2
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    #[default]
    ValidLoss,
    TrainLoss,
}

/// `[early_stopping]`: stop after `patience` epochs without an improvement > `min_delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStoppingSection {
    pub patience: usize,
    #[serde(default)]
    pub min_delta: f64,
    #[serde(default)]
    pub monitor: Monitor,
}

/// `[loss]`: the data term plus the seed's penalties, `λ₂/(2m)·Σθ²` and `λ₁/m·Σ|θ|`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossSection {
    #[serde(default)]
    pub kind: LossKind,
    #[serde(default)]
    pub l2: f64,
    #[serde(default)]
    pub l1: f64,
}

/// When the scheduler steps: after each epoch (PyTorch's usual loop) or after each
/// optimizer step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interval {
    #[default]
    Epoch,
    Step,
}

/// `[scheduler]`: `interval` plus one of descent-optim's schedules (keys as PyTorch's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchedulerSection {
    pub interval: Interval,
    #[serde(flatten)]
    pub schedule: SchedulerConfig,
}

impl<'de> Deserialize<'de> for SchedulerSection {
    /// `interval` is taken out first so the schedule itself keeps rejecting unknown keys
    /// (serde's `flatten` would silently accept them).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(d)?;
        let interval = match table.remove("interval") {
            None => Interval::default(),
            Some(v) => Interval::deserialize(v).map_err(|e| D::Error::custom(format!("[scheduler] interval: {e}")))?,
        };
        let schedule = SchedulerConfig::deserialize(toml::Value::Table(table))
            .map_err(|e| D::Error::custom(format!("[scheduler] {}", e.message().trim())))?;
        Ok(Self { interval, schedule })
    }
}

/// `[optimizer]`: one of descent-optim's optimizers (keys as torch.optim's), plus what torch
/// does around `optimizer.step()`: gradient clipping (`clip_grad_norm` with `norm_type` and
/// `error_if_nonfinite`, as `torch.nn.utils.clip_grad_norm_`; or `clip_grad_value`) and
/// parameter groups (`[[optimizer.groups]]`, see [`GroupSection`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptimizerSection {
    #[serde(flatten)]
    pub config: OptimizerConfig,
    pub clip_grad_norm: Option<f64>,
    pub norm_type: NormType,
    pub error_if_nonfinite: bool,
    pub clip_grad_value: Option<f64>,
    pub groups: Vec<GroupSection>,
}

/// `[[optimizer.groups]]`: the parameters whose path (`layers.0.bias`) matches the regex
/// `params` get the base optimizer's keys with these overridden — torch's param_groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSection {
    pub params: String,
    /// The keys this group overrides.
    pub overrides: toml::Table,
    /// The base config with the overrides applied.
    #[serde(skip)]
    pub config: OptimizerConfig,
}

/// Keys of `[optimizer]` that belong to the trainer rather than to the optimizer itself.
const OPTIMIZER_EXTRAS: [&str; 5] = ["clip_grad_norm", "norm_type", "error_if_nonfinite", "clip_grad_value", "groups"];

impl OptimizerSection {
    pub fn lr(&self) -> f64 {
        self.config.lr()
    }

    fn from_table(mut table: toml::Table) -> Result<Self, String> {
        fn take<T: serde::de::DeserializeOwned>(t: &mut toml::Table, key: &str) -> Result<Option<T>, String> {
            t.remove(key).map(|v| T::deserialize(v).map_err(|e| format!("[optimizer] {key}: {}", e.message().trim()))).transpose()
        }
        let clip_grad_norm = take::<f64>(&mut table, "clip_grad_norm")?;
        let norm_type = take::<NormType>(&mut table, "norm_type")?.unwrap_or_default();
        let error_if_nonfinite = take::<bool>(&mut table, "error_if_nonfinite")?.unwrap_or(false);
        let clip_grad_value = take::<f64>(&mut table, "clip_grad_value")?;
        let raw_groups = take::<Vec<toml::Table>>(&mut table, "groups")?.unwrap_or_default();
        let config = OptimizerConfig::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| format!("[optimizer] {}", e.message().trim()))?;
        let mut groups = Vec::with_capacity(raw_groups.len());
        for (i, mut g) in raw_groups.into_iter().enumerate() {
            let at = format!("[[optimizer.groups]] #{}", i + 1);
            let params = match g.remove("params") {
                Some(toml::Value::String(p)) => p,
                Some(other) => return Err(format!("{at}: params must be a string (a regex over parameter paths such as `layers.0.bias`), got a {}", other.type_str())),
                None => return Err(format!("{at}: needs params = \"<regex>\" (e.g. \"bias$\")")),
            };
            if g.contains_key("kind") {
                return Err(format!("{at}: a group can't change the optimizer kind; it overrides the base optimizer's keys"));
            }
            if let Some(k) = g.keys().find(|k| OPTIMIZER_EXTRAS.contains(&k.as_str())) {
                return Err(format!("{at}: `{k}` applies to the whole model; set it in [optimizer]"));
            }
            let mut merged = table.clone();
            merged.extend(g.clone());
            let config = OptimizerConfig::deserialize(toml::Value::Table(merged)).map_err(|e| format!("{at}: {}", e.message().trim()))?;
            groups.push(GroupSection { params, overrides: g, config });
        }
        Ok(Self { config, clip_grad_norm, norm_type, error_if_nonfinite, clip_grad_value, groups })
    }

    /// Checks every argument and returns the built base optimizer.
    fn validate(&self) -> Result<descent_optim::BuiltOptimizer, String> {
        // NaN gets torch's own message from the optimizer's checks below.
        if self.lr().is_infinite() {
            return Err(format!("[optimizer] lr must be a finite number, got {}", self.lr()));
        }
        let built = self.config.build().map_err(|e| format!("[optimizer] {e}"))?;
        for (i, g) in self.groups.iter().enumerate() {
            let at = format!("[[optimizer.groups]] #{}", i + 1);
            descent_optim::param_group(&g.params).map_err(|e| format!("{at}: {e}"))?;
            if g.config.lr().is_infinite() {
                return Err(format!("{at}: lr must be a finite number, got {}", g.config.lr()));
            }
            g.config.build().map_err(|e| format!("{at}: {e}"))?;
        }
        match (self.clip_grad_norm, self.clip_grad_value) {
            (Some(_), Some(_)) => return Err("[optimizer] give either clip_grad_norm or clip_grad_value, not both".into()),
            (Some(m), None) if !(m > 0.0) || !m.is_finite() => {
                return Err(format!("[optimizer] clip_grad_norm must be a finite number > 0, got {m}"))
            }
            (None, Some(v)) if !(v > 0.0) || !v.is_finite() => {
                return Err(format!("[optimizer] clip_grad_value must be a finite number > 0, got {v}"))
            }
            _ => {}
        }
        if self.clip_grad_norm.is_none() && (self.norm_type != NormType::default() || self.error_if_nonfinite) {
            return Err("[optimizer] norm_type and error_if_nonfinite only apply with clip_grad_norm".into());
        }
        Ok(built)
    }
}

impl<'de> Deserialize<'de> for OptimizerSection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(d)?;
        Self::from_table(table).map_err(serde::de::Error::custom)
    }
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub epochs: usize,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub dtype: DType,
    #[serde(default)]
    pub device: DeviceChoice,
    pub model: ModelSection,
    pub data: DataSection,
    #[serde(default)]
    pub batching: BatchingConfig,
    #[serde(default)]
    pub loss: LossSection,
    pub optimizer: OptimizerSection,
    pub scheduler: Option<SchedulerSection>,
    pub checkpoint: Option<CheckpointSection>,
    pub early_stopping: Option<EarlyStoppingSection>,
}

impl RunConfig {
    /// Parses and checks `path`; relative paths inside become relative to its folder.
    pub fn load(path: &Path) -> Result<Self, TrainError> {
        let text = std::fs::read_to_string(path).map_err(|e| TrainError::Config {
            path: path.to_path_buf(),
            msg: format!("cannot read config: {e}"),
        })?;
        let mut cfg = Self::parse(&text, path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [
            &mut cfg.data.train,
            &mut cfg.data.valid,
            &mut cfg.data.images,
            &mut cfg.data.labels,
            &mut cfg.data.valid_images,
            &mut cfg.data.valid_labels,
        ] {
            if let Some(q) = p.take() {
                *p = Some(crate::data::resolve(base, &q));
            }
        }
        if let Some(p) = &cfg.model.init_from {
            cfg.model.init_from = Some(crate::data::resolve(base, p));
        }
        Ok(cfg)
    }

    pub fn has_validation(&self) -> bool {
        self.data.valid.is_some() || self.data.valid_fraction.is_some() || self.data.valid_images.is_some()
    }

    /// Parses TOML text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, TrainError> {
        let bad = |msg: String| TrainError::Config { path: path.to_path_buf(), msg };
        let doc: toml::Table = toml::from_str(text).map_err(|e| bad(one_line(&e, text)))?;
        precheck(&doc, text).map_err(bad)?;
        let cfg: RunConfig = toml::from_str(text).map_err(|e| bad(one_line(&e, text)))?;
        cfg.validate().map_err(bad)?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.epochs == 0 {
            return Err("epochs must be at least 1".into());
        }
        self.model.check_keys()?;
        self.data.check_keys()?;
        if self.model.kind == ModelKind::Mlp {
            self.model.mlp().validate().map_err(|e| format!("[model] {e}"))?;
        }
        self.batching.validate()?;
        for (key, v) in [("l2", self.loss.l2), ("l1", self.loss.l1)] {
            if !(v >= 0.0) || !v.is_finite() {
                return Err(format!("[loss] {key} must be a finite number ≥ 0, got {v}"));
            }
        }
        let built = self.optimizer.validate()?;
        if self.data.targets.as_ref().is_some_and(Vec::is_empty) {
            return Err("[data] targets is empty; name at least one target column".into());
        }
        if let Some(s) = &self.scheduler {
            s.schedule
                .build(built.lr, built.momentum.as_ref().map(|m| m.get()))
                .map_err(|e| format!("[scheduler] {e}"))?;
            if s.schedule.needs_metric() && s.interval == Interval::Step {
                return Err("[scheduler] kind = \"plateau\" steps once per epoch on a metric; use interval = \"epoch\"".into());
            }
        }
        if self.data.valid.is_some() && self.data.valid_fraction.is_some() {
            return Err("[data] give either valid or valid_fraction, not both".into());
        }
        if let Some(f) = self.data.valid_fraction {
            if !(f > 0.0 && f < 1.0) {
                return Err(format!("[data] valid_fraction must be between 0 and 1 (exclusive), got {f}"));
            }
        }
        if self.loss.kind == LossKind::CrossEntropy && self.model.kind == ModelKind::Mlp {
            if self.data.kind == DataKind::Csv && self.data.target_names().len() != 1 {
                return Err("[loss] kind = \"cross_entropy\" needs exactly one target column (the class index)".into());
            }
            if self.model.sizes.as_ref().and_then(|s| s.last()).copied().unwrap_or(0) < 2 {
                return Err("[loss] kind = \"cross_entropy\" needs [model] sizes to end with the number of classes (≥ 2)".into());
            }
        }
        if let Some(c) = &self.checkpoint {
            if c.every_epochs == 0 || c.keep_last == 0 {
                return Err("[checkpoint] every_epochs and keep_last must be at least 1".into());
            }
        }
        if let Some(e) = &self.early_stopping {
            if !(e.min_delta >= 0.0) {
                return Err(format!("[early_stopping] min_delta must be ≥ 0, got {}", e.min_delta));
            }
            if e.monitor == Monitor::ValidLoss && !self.has_validation() {
                return Err("[early_stopping] monitor = \"valid_loss\" needs a validation set ([data] valid or valid_fraction)".into());
            }
        }
        Ok(())
    }
}

/// toml's errors come as a multi-line snippet; keep the location and the message on one line.
fn one_line(e: &toml::de::Error, text: &str) -> String {
    let mut msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let snippet = text.lines().nth(line - 1).unwrap_or("").trim();
            // An enum key given a number or a bool: toml only says "wanted string or table";
            // name the accepted values.
            if msg.starts_with("wanted string") {
                let key = snippet.split('=').next().unwrap_or("").trim().trim_matches('"');
                if let Some(c) = choices(section_at(text, line).as_deref(), key) {
                    msg = format!("{key} must be one of {c}");
                }
            }
            format!("line {line}: {msg} (in `{snippet}`)")
        }
        None => msg,
    }
}

/// The accepted values of an enum-valued key, read off the type itself (serde lists its
/// variants when it meets an unknown one), so the list can't drift from the code.
fn choices(section: Option<&str>, key: &str) -> Option<String> {
    use serde::de::IntoDeserializer;
    fn variants<T: serde::de::DeserializeOwned>() -> Option<String> {
        let probe: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = "\u{0}".into_deserializer();
        let e = T::deserialize(probe).err()?.to_string();
        e.split_once("expected one of ").map(|(_, v)| v.to_string()).or_else(|| e.split_once("expected ").map(|(_, v)| v.to_string()))
    }
    match (section, key) {
        (None, "dtype") => variants::<DType>(),
        (None, "device") => variants::<DeviceChoice>(),
        (Some("model"), "kind") => variants::<ModelKind>(),
        (Some("model"), "activation") => variants::<Activation>(),
        (Some("batching"), "mode") => variants::<crate::batching::Mode>(),
        (Some("loss"), "kind") => variants::<LossKind>(),
        (Some("early_stopping"), "monitor") => variants::<Monitor>(),
        (Some("scheduler"), "interval") => variants::<Interval>(),
        _ => None,
    }
}

/// The `[table]` that line `line` (1-based) belongs to; `None` at the top level.
fn section_at(text: &str, line: usize) -> Option<String> {
    text.lines().take(line).filter_map(header).last()
}

fn header(l: &str) -> Option<String> {
    let t = l.trim();
    let t = t.split('#').next().unwrap_or("").trim();
    (t.starts_with('[') && !t.starts_with("[[") && t.ends_with(']')).then(|| t[1..t.len() - 1].trim().to_string())
}

/// 1-based line where `key` is set: inside `[section]`, or at the top level when `section`
/// is `None`. Falls back to the section's header line.
fn key_line(text: &str, section: Option<&str>, key: &str) -> Option<usize> {
    let mut current: Option<String> = None;
    let mut header_line = None;
    for (i, l) in text.lines().enumerate() {
        if let Some(h) = header(l) {
            current = Some(h);
            if current.as_deref() == section {
                header_line = Some(i + 1);
            }
            continue;
        }
        let k = l.split('=').next().unwrap_or("").trim().trim_matches('"');
        if l.contains('=') && k == key && current.as_deref() == section {
            return Some(i + 1);
        }
    }
    header_line
}

/// The sections that must be tables.
const SECTIONS: [&str; 8] = ["model", "data", "batching", "loss", "optimizer", "scheduler", "checkpoint", "early_stopping"];

/// Checks serde can't report well: a section given as a plain value, and the `kind`-tagged
/// sections, whose keys lose toml's line numbers inside serde's tagged enums. There each key
/// is tried alone with `kind` to find the one at fault, and its line is named.
fn precheck(doc: &toml::Table, text: &str) -> Result<(), String> {
    for s in SECTIONS {
        if let Some(v) = doc.get(s) {
            if !v.is_table() {
                let line = key_line(text, None, s).map(|l| format!("line {l}: ")).unwrap_or_default();
                return Err(format!("{line}`{s}` must be a table (a [{s}] section), got a {}", v.type_str()));
            }
        }
    }
    if let Some(toml::Value::Table(t)) = doc.get("optimizer") {
        let mut t = t.clone();
        t.retain(|k, _| !OPTIMIZER_EXTRAS.contains(&k));
        tagged::<OptimizerConfig>("optimizer", &t, text)?;
    }
    if let Some(toml::Value::Table(t)) = doc.get("scheduler") {
        let mut t = t.clone();
        t.remove("interval");
        tagged::<SchedulerConfig>("scheduler", &t, text)?;
    }
    Ok(())
}

fn tagged<T: serde::de::DeserializeOwned>(section: &str, table: &toml::Table, text: &str) -> Result<(), String> {
    let parse = |t: toml::Table| T::deserialize(toml::Value::Table(t)).map(|_| ()).map_err(|e| e.message().trim().replace('\n', " "));
    let Err(whole) = parse(table.clone()) else { return Ok(()) };
    let at = |key: &str| key_line(text, Some(section), key).map(|l| format!("line {l}: ")).unwrap_or_default();
    let Some(kind) = table.get("kind") else {
        return Err(format!("{}[{section}] needs a `kind` ({whole})", at("kind")));
    };
    let mut only_kind = toml::Table::new();
    only_kind.insert("kind".into(), kind.clone());
    if let Err(e) = parse(only_kind.clone()).or_else(|e| if e.starts_with("missing field") { Ok(()) } else { Err(e) }) {
        let e = match kind {
            toml::Value::String(_) => e,
            other => {
                let mut probe = toml::Table::new();
                probe.insert("kind".into(), toml::Value::String("\u{0}".into()));
                let list = parse(probe).err().and_then(|p| p.split_once("expected one of ").map(|(_, v)| v.to_string()));
                format!("must be a string, one of {}, got a {}", list.unwrap_or_default(), other.type_str())
            }
        };
        return Err(format!("{}[{section}] kind: {e}", at("kind")));
    }
    for (key, value) in table.iter().filter(|(k, _)| k.as_str() != "kind") {
        let mut one = only_kind.clone();
        one.insert(key.clone(), value.clone());
        // A required key missing from the probe is not this key's fault.
        if let Err(e) = parse(one).or_else(|e| if e.starts_with("missing field") { Ok(()) } else { Err(e) }) {
            let e = if e.contains(&format!("`{key}`")) { e } else { format!("{key}: {e}") };
            return Err(format!("{}[{section}] {e}", at(key)));
        }
    }
    Err(format!("{}[{section}] {whole}", at("kind")))
}
