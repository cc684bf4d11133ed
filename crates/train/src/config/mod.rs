//! The run config (TOML). Unknown keys are errors, relative paths resolve against the config
//! file's folder, and every check that can fail runs before anything is written.

mod averaging;
mod data;
mod errors;
mod model;
mod optimizer;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use averaging::{AveragingEvery, AveragingKind, AveragingSection};
pub use data::{DataKind, DataSection};
pub use model::{DataShape, ModelKind, ModelSection};
pub use optimizer::{GroupSection, OptimizerSection, SchedulerSection};

use crate::batching::BatchingConfig;
use crate::error::TrainError;
use errors::{one_line, precheck};

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
    /// Left out of `run.json` when absent, so runs without it keep their identity bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub averaging: Option<AveragingSection>,
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
                *p = Some(resolve(base, &q));
            }
        }
        if let Some(p) = &cfg.model.init_from {
            cfg.model.init_from = Some(resolve(base, p));
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
        if let Some(a) = &self.averaging {
            a.avg_fn(self.epochs)?;
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

/// `p` relative to a config file's folder.
fn resolve(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}
