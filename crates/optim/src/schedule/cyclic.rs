//! `cyclic` — `torch.optim.lr_scheduler.CyclicLR` (Smith's cyclical learning rates).
//!
//! With `T = step_size_up + step_size_down` and `r = step_size_up / T` (as floats):
//!
//! ```text
//! cycle = ⌊1 + e/T⌋
//! x     = 1 + e/T − cycle                      position in the cycle, [0, 1)
//! s     = x/r                if x ≤ r          rising
//!         (x − 1)/(r − 1)    otherwise         falling
//! lr       = base_lr      + (max_lr − base_lr)·s · scale
//! momentum = max_momentum − (max_momentum − base_momentum)·s · scale
//! scale = 1                    triangular
//!         1 / 2^(cycle − 1)    triangular2
//!         γ^e                  exp_range
//! ```
//!
//! A pure function of the step ([`CyclicConfig::lr_at`]). At construction PyTorch sets the
//! optimizer's lr to `base_lr` and, with `cycle_momentum` (the default), its momentum to
//! `max_momentum`. `scale_fn` (a Python callable) cannot be given in a config; it is accepted
//! only as `null`, and `scale_mode` is then ignored, as PyTorch ignores it.
//!
//! ```
//! use descent_optim::schedule::{table, CyclicConfig, SchedulerConfig};
//! let config = SchedulerConfig::Cyclic(CyclicConfig { step_size_up: 2, ..CyclicConfig::new(0.01, 0.1) });
//! let lrs: Vec<f64> = table(&config, 0.1, Some(0.9), 5)?.iter().map(|&(_, lr, _)| lr).collect();
//! for (lr, want) in lrs.iter().zip([0.01, 0.055, 0.1, 0.055, 0.01]) {
//!     assert!((lr - want).abs() < 1e-12, "{lrs:?}");
//! }
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::group::Group;
use crate::check::check_finite;
use crate::check::py_float;
use crate::error::OptimError;

fn default_step_size_up() -> usize {
    2000
}
fn default_gamma() -> f64 {
    1.0
}
fn default_true() -> bool {
    true
}
fn default_base_momentum() -> f64 {
    0.8
}
fn default_max_momentum() -> f64 {
    0.9
}

/// `mode`: `"triangular"`, `"triangular2"` or `"exp_range"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CyclicMode {
    #[default]
    Triangular,
    Triangular2,
    ExpRange,
}

impl FromStr for CyclicMode {
    type Err = OptimError;
    fn from_str(s: &str) -> Result<Self, OptimError> {
        match s {
            "triangular" => Ok(Self::Triangular),
            "triangular2" => Ok(Self::Triangular2),
            "exp_range" => Ok(Self::ExpRange),
            // PyTorch's message (scale_fn is always None here).
            _ => Err(OptimError::invalid("mode is invalid and scale_fn is None")),
        }
    }
}
impl TryFrom<String> for CyclicMode {
    type Error = OptimError;
    fn try_from(s: String) -> Result<Self, OptimError> {
        s.parse()
    }
}
impl From<CyclicMode> for String {
    fn from(m: CyclicMode) -> String {
        m.to_string()
    }
}
impl fmt::Display for CyclicMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Triangular => "triangular",
            Self::Triangular2 => "triangular2",
            Self::ExpRange => "exp_range",
        })
    }
}

/// `scale_mode`: `"cycle"` or `"iterations"`. Only meaningful with a custom `scale_fn`, so
/// ignored (PyTorch overrides it from `mode` when `scale_fn` is None).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMode {
    #[default]
    Cycle,
    Iterations,
}

/// Accepts only `null` for `scale_fn`.
fn null_scale_fn<'de, D: Deserializer<'de>>(d: D) -> Result<(), D::Error> {
    match Option::<serde::de::IgnoredAny>::deserialize(d)? {
        None => Ok(()),
        Some(_) => Err(serde::de::Error::custom(
            "scale_fn must be null: a Python scale function cannot be given in a config (use \
             mode = \"triangular\", \"triangular2\" or \"exp_range\", or Scheduler::lambda)",
        )),
    }
}

/// `CyclicLR(optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None,
/// mode='triangular', gamma=1.0, scale_fn=None, scale_mode='cycle', cycle_momentum=True,
/// base_momentum=0.8, max_momentum=0.9)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CyclicConfig {
    /// Lower lr boundary (required); replaces the optimizer's lr, as in PyTorch.
    pub base_lr: f64,
    /// Upper lr boundary (required).
    pub max_lr: f64,
    /// Steps in the rising half (PyTorch's default 2000).
    #[serde(default = "default_step_size_up")]
    pub step_size_up: usize,
    /// Steps in the falling half (PyTorch's default: `step_size_up`).
    #[serde(default)]
    pub step_size_down: Option<usize>,
    #[serde(default)]
    pub mode: CyclicMode,
    /// Base of `exp_range`'s scale γ^e (PyTorch's default 1.0).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
    /// Always null (see the module docs).
    #[serde(default, deserialize_with = "null_scale_fn", skip_serializing)]
    pub scale_fn: (),
    /// Ignored, as PyTorch ignores it without a `scale_fn`.
    #[serde(default)]
    pub scale_mode: ScaleMode,
    /// Cycle the optimizer's momentum inversely to the lr (PyTorch's default true).
    #[serde(default = "default_true")]
    pub cycle_momentum: bool,
    #[serde(default = "default_base_momentum")]
    pub base_momentum: f64,
    #[serde(default = "default_max_momentum")]
    pub max_momentum: f64,
}

impl CyclicConfig {
    pub fn new(base_lr: f64, max_lr: f64) -> Self {
        Self {
            base_lr,
            max_lr,
            step_size_up: default_step_size_up(),
            step_size_down: None,
            mode: CyclicMode::Triangular,
            gamma: default_gamma(),
            scale_fn: (),
            scale_mode: ScaleMode::Cycle,
            cycle_momentum: true,
            base_momentum: default_base_momentum(),
            max_momentum: default_max_momentum(),
        }
    }

    /// `base_momentum` is the optimizer's momentum (`None`: the optimizer has none).
    pub fn validate(&self, base_momentum: Option<f64>) -> Result<(), OptimError> {
        // PyTorch's check and message.
        if self.cycle_momentum && base_momentum.is_none() {
            return Err(OptimError::invalid(
                "optimizer must support momentum or beta1 with `cycle_momentum` option enabled",
            ));
        }
        // Not checked by PyTorch.
        check_finite("CyclicLR", "base_lr", self.base_lr)?;
        check_finite("CyclicLR", "max_lr", self.max_lr)?;
        check_finite("CyclicLR", "gamma", self.gamma)?;
        check_finite("CyclicLR", "base_momentum", self.base_momentum)?;
        check_finite("CyclicLR", "max_momentum", self.max_momentum)?;
        // step_size_up = 0: PyTorch divides 0/0 (ZeroDivisionError) at the first step.
        // (step_size_down = 0 is fine: a sawtooth.)
        if self.step_size_up == 0 {
            return Err(OptimError::invalid(
                "CyclicLR step_size_up must be a positive integer, but got 0 (PyTorch raises \
                 ZeroDivisionError at the first step)",
            ));
        }
        // PyTorch accepts an inverted cycle; descent takes it for a typo.
        if self.max_lr < self.base_lr {
            return Err(OptimError::invalid(format!(
                "CyclicLR expects max_lr >= base_lr, but got max_lr={} and base_lr={}",
                py_float(self.max_lr),
                py_float(self.base_lr)
            )));
        }
        Ok(())
    }

    /// The lr (and momentum, if `cycle_momentum`) of step `step` — PyTorch's value bit for bit.
    pub fn lr_at(&self, step: usize) -> (f64, Option<f64>) {
        let c = Cyclic::new(self);
        let mut g = Group::new(self.base_lr, Some(self.max_momentum));
        let lr = c.get_lr(self.base_lr, step as i64, &mut g);
        (lr, if self.cycle_momentum { g.momentum } else { None })
    }
}

/// PyTorch's CyclicLR state that does not change (its `base_lrs` live in the common base).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cyclic {
    pub max_lr: f64,
    pub total_size: f64,
    pub step_ratio: f64,
    pub mode: CyclicMode,
    pub gamma: f64,
    /// `(base_momentum, max_momentum)` when cycling momentum.
    pub momentum: Option<(f64, f64)>,
}

impl Cyclic {
    pub(crate) fn new(c: &CyclicConfig) -> Self {
        let up = c.step_size_up as f64;
        let down = c.step_size_down.map_or(up, |d| d as f64);
        let total_size = up + down;
        Self {
            max_lr: c.max_lr,
            total_size,
            step_ratio: up / total_size,
            mode: c.mode,
            gamma: c.gamma,
            momentum: c.cycle_momentum.then_some((c.base_momentum, c.max_momentum)),
        }
    }

    /// The constructor's writes into the param group before `super().__init__`.
    pub(crate) fn attach(c: &CyclicConfig, g: &mut Group) {
        g.lr = c.base_lr;
        if c.cycle_momentum {
            g.momentum = Some(c.max_momentum);
            g.max_momentum = Some(c.max_momentum);
            g.base_momentum = Some(c.base_momentum);
        }
    }

    /// PyTorch's `get_lr` at `e` (= `last_epoch`); sets the group's momentum.
    pub(crate) fn get_lr(&self, base_lr: f64, e: i64, g: &mut Group) -> f64 {
        let ef = e as f64;
        let cycle = (1.0 + ef / self.total_size).floor();
        let x = 1.0 + ef / self.total_size - cycle;
        let scale_factor = if x <= self.step_ratio {
            x / self.step_ratio
        } else {
            (x - 1.0) / (self.step_ratio - 1.0)
        };
        let scale = match self.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2.0f64.powf(cycle - 1.0),
            CyclicMode::ExpRange => self.gamma.powf(ef),
        };
        let base_height = (self.max_lr - base_lr) * scale_factor;
        let lr = base_lr + base_height * scale;
        if let Some((base_m, max_m)) = self.momentum {
            let base_height = (max_m - base_m) * scale_factor;
            g.momentum = Some(max_m - base_height * scale);
        }
        lr
    }
}
