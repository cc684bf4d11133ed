//! `constant` — `torch.optim.lr_scheduler.ConstantLR`: multiply the learning rate by
//! `factor` until epoch `total_iters`, then restore it.
//!
//! PyTorch's chainable form (what `step()` computes; `lr` is the optimizer's current value):
//!
//! ```text
//! e = 0 (construction):   lr ← lr · factor
//! e = total_iters:        lr ← lr · (1 / factor)
//! otherwise:              lr ← lr
//! ```
//!
//! Closed form (used by `SequentialLR`'s `step(0)` at a milestone):
//! `base_lr · (factor + [e ≥ total_iters] · (1 − factor))`. The two differ in the last bits:
//! `0.1 · (1/3) · 3` is not `0.1`.
//!
//! ```
//! use descent_optim::schedule::{table, ConstantConfig, SchedulerConfig};
//! let config = SchedulerConfig::Constant(ConstantConfig { factor: 0.5, total_iters: 2 });
//! let lrs: Vec<f64> = table(&config, 0.1, None, 3)?.iter().map(|&(_, lr, _)| lr).collect();
//! for (lr, want) in lrs.iter().zip([0.05, 0.05, 0.1]) {
//!     assert!((lr - want).abs() < 1e-12, "{lrs:?}");
//! }
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::error::OptimError;

fn default_factor() -> f64 {
    1.0 / 3.0
}
fn default_total_iters() -> usize {
    5
}

/// `ConstantLR(optimizer, factor=1/3, total_iters=5)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConstantConfig {
    /// Multiplier applied until `total_iters` (PyTorch's default 1/3).
    #[serde(default = "default_factor")]
    pub factor: f64,
    /// Number of steps the factor is applied for (PyTorch's default 5).
    #[serde(default = "default_total_iters")]
    pub total_iters: usize,
}

impl Default for ConstantConfig {
    fn default() -> Self {
        Self { factor: default_factor(), total_iters: default_total_iters() }
    }
}

impl ConstantConfig {
    pub fn validate(&self) -> Result<(), OptimError> {
        // PyTorch's check and message.
        if self.factor > 1.0 || self.factor < 0.0 || self.factor.is_nan() {
            return Err(OptimError::invalid(
                "Constant multiplicative factor expected to be between 0 and 1.",
            ));
        }
        // Not checked by PyTorch: with factor = 0 its chainable form computes
        // lr · (1/0) = 0 · inf = NaN at total_iters.
        if self.factor == 0.0 {
            return Err(OptimError::invalid(
                "ConstantLR factor must be > 0: PyTorch's chainable form computes 0 * (1/0) = nan \
                 at total_iters",
            ));
        }
        // Not checked by PyTorch: with total_iters = 0 the factor is applied at construction
        // and never undone (the restoring branch needs e = total_iters = 0 again).
        if self.total_iters == 0 {
            return Err(OptimError::invalid(
                "ConstantLR total_iters must be a positive integer, but got 0: PyTorch would \
                 apply the factor forever",
            ));
        }
        Ok(())
    }

    /// PyTorch's chainable `get_lr`: the lr after stepping to epoch `e`, given the current `lr`.
    pub fn chain_lr(&self, lr: f64, e: i64) -> f64 {
        if e == 0 {
            return lr * self.factor;
        }
        if e != self.total_iters as i64 {
            return lr;
        }
        lr * (1.0 / self.factor)
    }

    /// PyTorch's `_get_closed_form_lr`.
    pub fn closed_form_lr(&self, base_lr: f64, e: i64) -> f64 {
        let on = if e >= self.total_iters as i64 { 1.0 - self.factor } else { 0.0 };
        base_lr * (self.factor + on)
    }
}
