//! `cosine_warm_restarts` — `torch.optim.lr_scheduler.CosineAnnealingWarmRestarts` (SGDR).
//!
//! ```text
//! η_e = η_min + (base_lr − η_min)·(1 + cos(π·T_cur/T_i))/2
//! ```
//!
//! where `T_cur` counts epochs since the last restart and `T_i` is the current period:
//! starting from `T_cur = 0, T_i = T_0`, each step does `T_cur += 1`, and when
//! `T_cur ≥ T_i`: `T_cur −= T_i; T_i ·= T_mult`. PyTorch evaluates the formula afresh each
//! step (it is not chainable), so the value is a pure function of the step: [`lr_at`].
//!
//! [`lr_at`]: CosineWarmRestartsConfig::lr_at
//!
//! ```
//! use descent_optim::schedule::{table, CosineWarmRestartsConfig, SchedulerConfig};
//! let config = SchedulerConfig::CosineWarmRestarts(CosineWarmRestartsConfig::new(2));
//! let lrs: Vec<f64> = table(&config, 0.1, None, 4)?.iter().map(|&(_, lr, _)| lr).collect();
//! for (lr, want) in lrs.iter().zip([0.1, 0.05, 0.1, 0.05]) {
//!     assert!((lr - want).abs() < 1e-12, "{lrs:?}");
//! }
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::check::check_finite;
use crate::error::OptimError;

fn default_t_mult() -> i64 {
    1
}

/// `CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineWarmRestartsConfig {
    /// Length of the first period, in epochs (required).
    #[serde(rename = "T_0")]
    pub t_0: i64,
    /// Growth factor of the period after each restart (PyTorch's default 1).
    #[serde(rename = "T_mult", default = "default_t_mult")]
    pub t_mult: i64,
    /// Minimum learning rate (PyTorch's default 0).
    #[serde(default)]
    pub eta_min: f64,
}

impl CosineWarmRestartsConfig {
    pub fn new(t_0: i64) -> Self {
        Self { t_0, t_mult: default_t_mult(), eta_min: 0.0 }
    }

    /// PyTorch's checks and messages.
    pub fn validate(&self) -> Result<(), OptimError> {
        if self.t_0 <= 0 {
            return Err(OptimError::invalid(format!(
                "Expected positive integer T_0, but got {}",
                self.t_0
            )));
        }
        if self.t_mult < 1 {
            return Err(OptimError::invalid(format!(
                "Expected integer T_mult >= 1, but got {}",
                self.t_mult
            )));
        }
        check_finite("CosineAnnealingWarmRestarts", "eta_min", self.eta_min)
    }

    /// `(T_cur, T_i)` after `step` steps, as PyTorch's incremental update leaves them.
    pub fn phase_at(&self, step: usize) -> (i64, i64) {
        let mut t_i = self.t_0;
        let mut rest = step as i64;
        while rest >= t_i {
            rest -= t_i;
            t_i = t_i.saturating_mul(self.t_mult);
        }
        (rest, t_i)
    }

    /// The learning rate of step `step` (PyTorch's value, bit for bit).
    pub fn lr_at(&self, base_lr: f64, step: usize) -> f64 {
        let (t_cur, t_i) = self.phase_at(step);
        self.formula(base_lr, t_cur, t_i)
    }

    /// PyTorch's `get_lr`.
    pub(crate) fn formula(&self, base_lr: f64, t_cur: i64, t_i: i64) -> f64 {
        let eta = self.eta_min;
        eta + (base_lr - eta) * (1.0 + (PI * t_cur as f64 / t_i as f64).cos()) / 2.0
    }
}

/// The mutable part of PyTorch's scheduler.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WarmRestarts {
    pub config: CosineWarmRestartsConfig,
    pub t_i: i64,
    pub t_cur: i64,
}
