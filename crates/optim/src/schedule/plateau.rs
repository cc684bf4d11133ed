//! `plateau` — `torch.optim.lr_scheduler.ReduceLROnPlateau`: cut the learning rate by
//! `factor` when a metric stops improving.
//!
//! On each `step_metric(m)`:
//!
//! ```text
//! better(m) = m < best·(1 − threshold)     mode min, threshold_mode rel
//!             m < best − threshold         mode min, threshold_mode abs
//!             m > best·(1 + threshold)     mode max, threshold_mode rel
//!             m > best + threshold         mode max, threshold_mode abs
//! if better(m): best ← m, bad ← 0   else bad ← bad + 1
//! if cooldown_counter > 0: cooldown_counter ← cooldown_counter − 1, bad ← 0
//! if bad > patience:
//!     new = max(lr·factor, min_lr);  lr ← new if lr − new > eps
//!     cooldown_counter ← cooldown, bad ← 0
//! ```
//!
//! `best` starts at +∞ (min) or −∞ (max). The lr is not changed at construction.
//!
//! ```
//! use descent_optim::schedule::{PlateauConfig, SchedulerConfig};
//! let config = SchedulerConfig::Plateau(PlateauConfig { patience: 0, ..PlateauConfig::default() });
//! let mut s = config.build(0.1, None)?;
//! s.step_metric(1.0); // the best so far
//! s.step_metric(1.0); // no better: one bad epoch > patience 0, lr × 0.1
//! assert!((s.lr() - 0.01).abs() < 1e-12);
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::group::Group;
use crate::check::check_finite;
use crate::error::OptimError;

fn default_factor() -> f64 {
    0.1
}
fn default_patience() -> usize {
    10
}
fn default_threshold() -> f64 {
    1e-4
}
fn default_eps() -> f64 {
    1e-8
}

/// `mode`: `"min"` or `"max"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum PlateauMode {
    #[default]
    Min,
    Max,
}

impl FromStr for PlateauMode {
    type Err = OptimError;
    fn from_str(s: &str) -> Result<Self, OptimError> {
        match s {
            "min" => Ok(Self::Min),
            "max" => Ok(Self::Max),
            other => Err(OptimError::invalid(format!("mode {other} is unknown!"))),
        }
    }
}
impl TryFrom<String> for PlateauMode {
    type Error = OptimError;
    fn try_from(s: String) -> Result<Self, OptimError> {
        s.parse()
    }
}
impl From<PlateauMode> for String {
    fn from(m: PlateauMode) -> String {
        m.to_string()
    }
}
impl fmt::Display for PlateauMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Min => "min",
            Self::Max => "max",
        })
    }
}

/// `threshold_mode`: `"rel"` or `"abs"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ThresholdMode {
    #[default]
    Rel,
    Abs,
}

impl FromStr for ThresholdMode {
    type Err = OptimError;
    fn from_str(s: &str) -> Result<Self, OptimError> {
        match s {
            "rel" => Ok(Self::Rel),
            "abs" => Ok(Self::Abs),
            other => Err(OptimError::invalid(format!("threshold mode {other} is unknown!"))),
        }
    }
}
impl TryFrom<String> for ThresholdMode {
    type Error = OptimError;
    fn try_from(s: String) -> Result<Self, OptimError> {
        s.parse()
    }
}
impl From<ThresholdMode> for String {
    fn from(m: ThresholdMode) -> String {
        m.to_string()
    }
}
impl fmt::Display for ThresholdMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Rel => "rel",
            Self::Abs => "abs",
        })
    }
}

/// `ReduceLROnPlateau(optimizer, mode='min', factor=0.1, patience=10, threshold=1e-4,
/// threshold_mode='rel', cooldown=0, min_lr=0, eps=1e-8)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlateauConfig {
    #[serde(default)]
    pub mode: PlateauMode,
    /// `new_lr = lr · factor` (PyTorch's default 0.1; must be < 1).
    #[serde(default = "default_factor")]
    pub factor: f64,
    /// Bad epochs tolerated before a cut (PyTorch's default 10).
    #[serde(default = "default_patience")]
    pub patience: usize,
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    #[serde(default)]
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a cut before counting bad epochs again (PyTorch's default 0).
    #[serde(default)]
    pub cooldown: usize,
    /// Lower bound on the lr (PyTorch's default 0; one value: descent has one param group).
    #[serde(default)]
    pub min_lr: f64,
    /// Cuts smaller than this are skipped (PyTorch's default 1e-8).
    #[serde(default = "default_eps")]
    pub eps: f64,
}

impl Default for PlateauConfig {
    fn default() -> Self {
        Self {
            mode: PlateauMode::Min,
            factor: default_factor(),
            patience: default_patience(),
            threshold: default_threshold(),
            threshold_mode: ThresholdMode::Rel,
            cooldown: 0,
            min_lr: 0.0,
            eps: default_eps(),
        }
    }
}

impl PlateauConfig {
    pub fn validate(&self) -> Result<(), OptimError> {
        // PyTorch's check and message (mode and threshold_mode are checked when parsed).
        if !(self.factor < 1.0) {
            return Err(OptimError::invalid("Factor should be < 1.0."));
        }
        // Not checked by PyTorch.
        check_finite("ReduceLROnPlateau", "factor", self.factor)?;
        check_finite("ReduceLROnPlateau", "threshold", self.threshold)?;
        check_finite("ReduceLROnPlateau", "min_lr", self.min_lr)?;
        check_finite("ReduceLROnPlateau", "eps", self.eps)?;
        Ok(())
    }

    /// PyTorch's `is_better`.
    pub fn is_better(&self, a: f64, best: f64) -> bool {
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }

    /// PyTorch's `mode_worse`: where `best` starts.
    pub fn mode_worse(&self) -> f64 {
        match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        }
    }
}

/// PyTorch's ReduceLROnPlateau state.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plateau {
    pub config: PlateauConfig,
    pub best: f64,
    pub num_bad_epochs: usize,
    pub cooldown_counter: usize,
    pub last_epoch: i64,
}

impl Plateau {
    pub(crate) fn new(config: &PlateauConfig) -> Self {
        Self {
            config: config.clone(),
            best: config.mode_worse(),
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
        }
    }

    /// PyTorch's `step(metrics)`.
    pub(crate) fn step(&mut self, g: &mut Group, current: f64) {
        self.last_epoch += 1;
        if self.config.is_better(current, self.best) {
            self.best = current;
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.config.patience {
            // _reduce_lr: Python's max(a, b) keeps a unless b > a.
            let old_lr = g.lr;
            let reduced = old_lr * self.config.factor;
            let new_lr = if self.config.min_lr > reduced { self.config.min_lr } else { reduced };
            if old_lr - new_lr > self.config.eps {
                g.lr = new_lr;
            }
            self.cooldown_counter = self.config.cooldown;
            self.num_bad_epochs = 0;
        }
    }
}
