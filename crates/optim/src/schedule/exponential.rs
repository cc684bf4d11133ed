//! `exponential` — `torch.optim.lr_scheduler.ExponentialLR`: decay by `gamma` every epoch.
//!
//! PyTorch's chainable form:
//!
//! ```text
//! e = 0:   lr ← lr
//! e > 0:   lr ← lr · γ
//! ```
//!
//! i.e. `lr_e = ((base_lr · γ) · γ) ⋯` multiplied one factor at a time. Closed form
//! (SequentialLR's `step(0)`): `base_lr · γ^e` via `pow`.
//!
//! ```
//! use descent_optim::schedule::{table, ExponentialConfig, SchedulerConfig};
//! let config = SchedulerConfig::Exponential(ExponentialConfig::new(0.5));
//! let lrs: Vec<f64> = table(&config, 0.1, None, 3)?.iter().map(|&(_, lr, _)| lr).collect();
//! for (lr, want) in lrs.iter().zip([0.1, 0.05, 0.025]) {
//!     assert!((lr - want).abs() < 1e-12, "{lrs:?}");
//! }
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::check::check_finite;
use crate::error::OptimError;

/// `ExponentialLR(optimizer, gamma)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExponentialConfig {
    /// Multiplicative factor per epoch (required, as in PyTorch).
    pub gamma: f64,
}

impl ExponentialConfig {
    pub fn new(gamma: f64) -> Self {
        Self { gamma }
    }

    pub fn validate(&self) -> Result<(), OptimError> {
        // PyTorch checks nothing; a negative gamma alternates the sign of the learning rate.
        check_finite("ExponentialLR", "gamma", self.gamma)?;
        if self.gamma < 0.0 {
            return Err(OptimError::invalid(format!(
                "ExponentialLR gamma must be >= 0, but got {}",
                crate::check::py_float(self.gamma)
            )));
        }
        Ok(())
    }

    /// PyTorch's chainable `get_lr`.
    pub fn chain_lr(&self, lr: f64, e: i64) -> f64 {
        if e == 0 {
            return lr;
        }
        lr * self.gamma
    }

    /// PyTorch's `_get_closed_form_lr`.
    pub fn closed_form_lr(&self, base_lr: f64, e: i64) -> f64 {
        base_lr * self.gamma.powf(e as f64)
    }
}
