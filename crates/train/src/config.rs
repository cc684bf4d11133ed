//! The run config (TOML). Unknown keys are errors, relative paths resolve against the config
//! file's folder, and every check that can fail runs before anything is written.

use std::path::{Path, PathBuf};

use descent_model::{Activation, MlpConfig};
use descent_optim::schedule::SchedulerConfig;
use descent_optim::OptimizerConfig;
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
}

/// `[model]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    pub kind: ModelKind,
    pub sizes: Vec<usize>,
    #[serde(default)]
    pub activation: Activation,
    /// PyTorch weights (safetensors, `layers.{i}.weight` / `.bias`) to start from.
    pub init_from: Option<PathBuf>,
}

impl ModelSection {
    pub fn mlp(&self) -> MlpConfig {
        MlpConfig { sizes: self.sizes.clone(), activation: self.activation }
    }
}

/// `[data]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    pub train: PathBuf,
    pub targets: Vec<String>,
    /// A separate validation CSV (same columns as `train`).
    pub valid: Option<PathBuf>,
    /// Or hold out this fraction of `train` (0 < f < 1), chosen from `seed`.
    pub valid_fraction: Option<f64>,
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
    pub optimizer: OptimizerConfig,
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
        cfg.data.train = crate::data::resolve(base, &cfg.data.train);
        if let Some(p) = &cfg.data.valid {
            cfg.data.valid = Some(crate::data::resolve(base, p));
        }
        if let Some(p) = &cfg.model.init_from {
            cfg.model.init_from = Some(crate::data::resolve(base, p));
        }
        Ok(cfg)
    }

    pub fn has_validation(&self) -> bool {
        self.data.valid.is_some() || self.data.valid_fraction.is_some()
    }

    /// Parses TOML text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, TrainError> {
        let bad = |msg: String| TrainError::Config { path: path.to_path_buf(), msg };
        let cfg: RunConfig = toml::from_str(text).map_err(|e| bad(one_line(&e, text)))?;
        cfg.validate().map_err(bad)?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.epochs == 0 {
            return Err("epochs must be at least 1".into());
        }
        self.model.mlp().validate().map_err(|e| format!("[model] {e}"))?;
        self.batching.validate()?;
        for (key, v) in [("l2", self.loss.l2), ("l1", self.loss.l1)] {
            if !(v >= 0.0) || !v.is_finite() {
                return Err(format!("[loss] {key} must be a finite number ≥ 0, got {v}"));
            }
        }
        let built = self.optimizer.build().map_err(|e| format!("[optimizer] {e}"))?;
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
        if self.loss.kind == LossKind::CrossEntropy {
            if self.data.targets.len() != 1 {
                return Err("[loss] kind = \"cross_entropy\" needs exactly one target column (the class index)".into());
            }
            if self.model.sizes.last().copied().unwrap_or(0) < 2 {
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
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let snippet = text.lines().nth(line - 1).unwrap_or("").trim();
            format!("line {line}: {msg} (in `{snippet}`)")
        }
        None => msg,
    }
}
