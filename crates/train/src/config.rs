//! The run config (TOML). Unknown keys are errors, relative paths resolve against the config
//! file's folder, and every check that can fail runs before anything is written.

use std::path::{Path, PathBuf};

use descent_model::{Activation, MlpConfig};
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LossKind {
    #[default]
    Mse,
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
        if let Some(p) = &cfg.model.init_from {
            cfg.model.init_from = Some(crate::data::resolve(base, p));
        }
        Ok(cfg)
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
        self.optimizer.build().map_err(|e| format!("[optimizer] {e}"))?;
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
