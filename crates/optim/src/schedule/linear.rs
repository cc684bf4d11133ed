//! `linear` — `torch.optim.lr_scheduler.LinearLR`: scale the learning rate by a factor that
//! moves linearly from `start_factor` to `end_factor` over `total_iters` epochs.
//!
//! Intended curve: `lr_e = base_lr · (s + (f − s)·min(e, T)/T)` (s = start_factor,
//! f = end_factor, T = total_iters). PyTorch's chainable form:
//!
//! ```text
//! e = 0:        lr ← lr · s
//! 0 < e ≤ T:    lr ← lr · (1 + (f − s) / (T·s + (e − 1)·(f − s)))
//! e > T:        lr ← lr
//! ```
//!
//! Closed form (SequentialLR's `step(0)`): `base_lr · (s + (f − s)·min(T, e)/T)`.
//!
//! ```
//! use descent_optim::schedule::{table, LinearConfig, SchedulerConfig};
//! let config = SchedulerConfig::Linear(LinearConfig { start_factor: 0.5, end_factor: 1.0, total_iters: 2 });
//! let lrs: Vec<f64> = table(&config, 0.1, None, 3)?.iter().map(|&(_, lr, _)| lr).collect();
//! for (lr, want) in lrs.iter().zip([0.05, 0.075, 0.1]) {
//!     assert!((lr - want).abs() < 1e-12, "{lrs:?}");
//! }
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::OptimError;

fn default_start_factor() -> f64 {
    1.0 / 3.0
}
fn default_end_factor() -> f64 {
    1.0
}
fn default_total_iters() -> usize {
    5
}

/// `LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinearConfig {
    /// Factor at epoch 0 (PyTorch's default 1/3).
    #[serde(default = "default_start_factor")]
    pub start_factor: f64,
    /// Factor from epoch `total_iters` on (PyTorch's default 1.0).
    #[serde(default = "default_end_factor")]
    pub end_factor: f64,
    /// Length of the ramp, in epochs (PyTorch's default 5).
    #[serde(default = "default_total_iters")]
    pub total_iters: usize,
}

impl Default for LinearConfig {
    fn default() -> Self {
        Self {
            start_factor: default_start_factor(),
            end_factor: default_end_factor(),
            total_iters: default_total_iters(),
        }
    }
}

impl LinearConfig {
    pub fn validate(&self) -> Result<(), OptimError> {
        // PyTorch's checks and messages (NaN is rejected too).
        if !(self.start_factor > 0.0 && self.start_factor <= 1.0) {
            return Err(OptimError::invalid(
                "Starting multiplicative factor expected to be greater than 0 and less or equal \
                 to 1.",
            ));
        }
        if !(self.end_factor >= 0.0 && self.end_factor <= 1.0) {
            return Err(OptimError::invalid(
                "Ending multiplicative factor expected to be between 0 and 1.",
            ));
        }
        // Not checked by PyTorch: with total_iters = 0 its chainable form stays at
        // start_factor forever and its closed form divides by zero.
        if self.total_iters == 0 {
            return Err(OptimError::invalid(
                "LinearLR total_iters must be a positive integer, but got 0: PyTorch would stay \
                 at start_factor forever (and its closed form divides by zero)",
            ));
        }
        Ok(())
    }

    /// PyTorch's chainable `get_lr`.
    pub fn chain_lr(&self, lr: f64, e: i64) -> f64 {
        let (s, f, t) = (self.start_factor, self.end_factor, self.total_iters as i64);
        if e == 0 {
            return lr * s;
        }
        if e > t {
            return lr;
        }
        lr * (1.0 + (f - s) / (t as f64 * s + (e - 1) as f64 * (f - s)))
    }

    /// PyTorch's `_get_closed_form_lr`.
    pub fn closed_form_lr(&self, base_lr: f64, e: i64) -> f64 {
        let (s, f, t) = (self.start_factor, self.end_factor, self.total_iters as i64);
        base_lr * (s + (f - s) * t.min(e) as f64 / t as f64)
    }
}
