//! `step` — `torch.optim.lr_scheduler.StepLR`: decay by `gamma` every `step_size` epochs.
//!
//! PyTorch's chainable form:
//!
//! ```text
//! lr ← lr · γ     if e > 0 and e mod step_size = 0
//! lr ← lr         otherwise
//! ```
//!
//! so `lr_e = (((base_lr · γ) · γ) ⋯)` with ⌊e / step_size⌋ factors, multiplied one at a
//! time. Closed form (SequentialLR's `step(0)`): `base_lr · γ^⌊e / step_size⌋` via `pow`,
//! which can differ from the chainable value in the last bit.
//!
//! ```
//! use descent_optim::schedule::{table, StepConfig, SchedulerConfig};
//! let config = SchedulerConfig::Step(StepConfig::new(2));
//! let lrs: Vec<f64> = table(&config, 0.1, None, 5)?.iter().map(|&(_, lr, _)| lr).collect();
//! for (lr, want) in lrs.iter().zip([0.1, 0.1, 0.01, 0.01, 0.001]) {
//!     assert!((lr - want).abs() < 1e-12, "{lrs:?}");
//! }
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::check::check_finite;
use crate::error::OptimError;

fn default_gamma() -> f64 {
    0.1
}

/// `StepLR(optimizer, step_size, gamma=0.1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepConfig {
    /// Period of the decay, in epochs (required, as in PyTorch).
    pub step_size: usize,
    /// Multiplicative factor (PyTorch's default 0.1).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

impl StepConfig {
    pub fn new(step_size: usize) -> Self {
        Self { step_size, gamma: default_gamma() }
    }

    pub fn validate(&self) -> Result<(), OptimError> {
        // Not checked by PyTorch, which fails with ZeroDivisionError (`e % 0`) at the first
        // step.
        if self.step_size == 0 {
            return Err(OptimError::invalid(
                "StepLR step_size must be a positive integer, but got 0 (PyTorch raises \
                 ZeroDivisionError at the first step)",
            ));
        }
        check_finite("StepLR", "gamma", self.gamma)?;
        // Not checked by PyTorch: a negative gamma makes every other learning rate negative.
        if self.gamma < 0.0 {
            return Err(OptimError::invalid(format!(
                "StepLR gamma must be >= 0, but got {}",
                crate::check::py_float(self.gamma)
            )));
        }
        Ok(())
    }

    /// PyTorch's chainable `get_lr`.
    pub fn chain_lr(&self, lr: f64, e: i64) -> f64 {
        if e == 0 || e.rem_euclid(self.step_size as i64) != 0 {
            return lr;
        }
        lr * self.gamma
    }

    /// PyTorch's `_get_closed_form_lr`.
    pub fn closed_form_lr(&self, base_lr: f64, e: i64) -> f64 {
        base_lr * self.gamma.powf(e.div_euclid(self.step_size as i64) as f64)
    }
}
