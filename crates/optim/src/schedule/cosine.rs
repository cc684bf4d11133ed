//! `cosine` — `torch.optim.lr_scheduler.CosineAnnealingLR`.
//!
//! The intended curve is `η_e = η_min + (η_max − η_min)·(1 + cos(π·e/T_max))/2` with
//! `η_max = base_lr`, but PyTorch computes it recursively from the current lr:
//!
//! ```text
//! e = 0:                          lr ← lr
//! (e − 1 − T_max) mod 2T_max = 0:  lr ← lr + (base_lr − η_min)·(1 − cos(π/T_max))/2
//! otherwise:                      lr ← (1 + cos(π·e/T_max)) / (1 + cos(π·(e−1)/T_max))
//!                                        · (lr − η_min) + η_min
//! ```
//!
//! Past `T_max` the recursion keeps following the cosine back up (period 2·T_max), and each
//! value carries the rounding of all earlier steps, so it differs from the closed form in
//! the last bits. (A branch for `_step_count == 1 and e > 0`, reached only when resuming
//! with `last_epoch`, uses the closed form; it is kept for fidelity.)
//!
//! Closed form (SequentialLR's `step(0)`): `η_min + (base_lr − η_min)·(1 + cos(π·e/T_max))/2`.
//!
//! ```
//! use descent_optim::schedule::{table, CosineConfig, SchedulerConfig};
//! let config = SchedulerConfig::Cosine(CosineConfig::new(4));
//! let lrs: Vec<f64> = table(&config, 0.1, None, 5)?.iter().map(|&(_, lr, _)| lr).collect();
//! for (lr, want) in lrs.iter().zip([0.1, 0.08535533905932738, 0.05, 0.014644660940672627, 0.0]) {
//!     assert!((lr - want).abs() < 1e-12, "{lrs:?}");
//! }
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::check::check_finite;
use crate::error::OptimError;

/// `CosineAnnealingLR(optimizer, T_max, eta_min=0.0)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosineConfig {
    /// Half-period, in epochs (required, as in PyTorch).
    #[serde(rename = "T_max")]
    pub t_max: usize,
    /// Minimum learning rate (PyTorch's default 0).
    #[serde(default)]
    pub eta_min: f64,
}

impl CosineConfig {
    pub fn new(t_max: usize) -> Self {
        Self { t_max, eta_min: 0.0 }
    }

    pub fn validate(&self) -> Result<(), OptimError> {
        // Not checked by PyTorch, which fails with ZeroDivisionError at the first step.
        if self.t_max == 0 {
            return Err(OptimError::invalid(
                "CosineAnnealingLR T_max must be a positive integer, but got 0 (PyTorch raises \
                 ZeroDivisionError at the first step)",
            ));
        }
        check_finite("CosineAnnealingLR", "eta_min", self.eta_min)
    }

    /// PyTorch's chainable `get_lr`. `step_count` is PyTorch's `_step_count` (already
    /// incremented for this step).
    pub fn chain_lr(&self, lr: f64, base_lr: f64, e: i64, step_count: i64) -> f64 {
        let t = self.t_max as f64;
        let eta = self.eta_min;
        if e == 0 {
            lr
        } else if step_count == 1 && e > 0 {
            eta + (base_lr - eta) * (1.0 + ((e as f64) * PI / t).cos()) / 2.0
        } else if (e - 1 - self.t_max as i64).rem_euclid(2 * self.t_max as i64) == 0 {
            lr + (base_lr - eta) * (1.0 - (PI / t).cos()) / 2.0
        } else {
            (1.0 + (PI * (e as f64) / t).cos()) / (1.0 + (PI * ((e - 1) as f64) / t).cos())
                * (lr - eta)
                + eta
        }
    }

    /// PyTorch's `_get_closed_form_lr`.
    pub fn closed_form_lr(&self, base_lr: f64, e: i64) -> f64 {
        let eta = self.eta_min;
        eta + (base_lr - eta) * (1.0 + (PI * (e as f64) / self.t_max as f64).cos()) / 2.0
    }
}
