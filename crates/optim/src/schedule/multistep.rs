//! `multistep` — `torch.optim.lr_scheduler.MultiStepLR`: decay by `gamma` at each milestone.
//!
//! PyTorch keeps the milestones in a `Counter`, so order does not matter and a repeated
//! milestone decays once per repetition. Chainable form:
//!
//! ```text
//! lr ← lr · γ^count(e)    if e is a milestone (count = how many times it is listed)
//! lr ← lr                 otherwise
//! ```
//!
//! Closed form (SequentialLR's `step(0)`): `base_lr · γ^#{m ∈ milestones : m ≤ e}`.
//! Powers use `pow`, as Python's `**` does.
//!
//! ```
//! use descent_optim::schedule::{table, MultiStepConfig, SchedulerConfig};
//! let config = SchedulerConfig::MultiStep(MultiStepConfig::new(vec![1, 3]));
//! let lrs: Vec<f64> = table(&config, 0.1, None, 4)?.iter().map(|&(_, lr, _)| lr).collect();
//! for (lr, want) in lrs.iter().zip([0.1, 0.01, 0.01, 0.001]) {
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

/// `MultiStepLR(optimizer, milestones, gamma=0.1)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiStepConfig {
    /// Epoch indices (required). Any order; repeats compound, as in PyTorch.
    pub milestones: Vec<usize>,
    /// Multiplicative factor (PyTorch's default 0.1).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

impl MultiStepConfig {
    pub fn new(milestones: Vec<usize>) -> Self {
        Self { milestones, gamma: default_gamma() }
    }

    pub fn validate(&self) -> Result<(), OptimError> {
        // PyTorch checks nothing. Unsorted or repeated milestones are meaningful for its
        // Counter, so they are accepted; a negative gamma is not.
        check_finite("MultiStepLR", "gamma", self.gamma)?;
        if self.gamma < 0.0 {
            return Err(OptimError::invalid(format!(
                "MultiStepLR gamma must be >= 0, but got {}",
                crate::check::py_float(self.gamma)
            )));
        }
        Ok(())
    }

    /// PyTorch's chainable `get_lr`.
    pub fn chain_lr(&self, lr: f64, e: i64) -> f64 {
        let count = self.milestones.iter().filter(|&&m| m as i64 == e).count();
        if count == 0 {
            return lr;
        }
        lr * self.gamma.powf(count as f64)
    }

    /// PyTorch's `_get_closed_form_lr` (`bisect_right` over the sorted milestones).
    pub fn closed_form_lr(&self, base_lr: f64, e: i64) -> f64 {
        let passed = self.milestones.iter().filter(|&&m| m as i64 <= e).count();
        base_lr * self.gamma.powf(passed as f64)
    }
}
