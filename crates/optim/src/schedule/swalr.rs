//! `swalr` — `torch.optim.swa_utils.SWALR`: anneal the lr from wherever it is to a constant
//! `swa_lr` over `anneal_epochs` steps, then hold it.
//!
//! PyTorch works from the current lr and its own step count `s = _step_count − 1` (0 at the
//! construction step; `max(1, s)` when `anneal_epochs = 0`), with `n = max(1, anneal_epochs)`:
//!
//! ```text
//! α_prev = f(clamp((s − 1)/n, 0, 1))      α = f(clamp(s/n, 0, 1))
//! start  = swa_lr                          if α_prev = 1
//!        = (lr − α_prev·swa_lr)/(1 − α_prev)   otherwise   (undoes the previous step)
//! lr     ← swa_lr·α + start·(1 − α)
//! f(t)   = (1 − cos(π·t))/2   ("cos", the default)   or   t   ("linear")
//! ```
//!
//! Quirks kept: the construction step already anneals with `α = f(0) = 0` (the lr is
//! unchanged) and, since it counts as step 0, the lr reaches `swa_lr` after `anneal_epochs`
//! further steps; with `anneal_epochs = 0` even the construction step jumps to `swa_lr`.
//! It reads `_step_count`, not `last_epoch`, so at a SequentialLR milestone it simply
//! continues counting. No closed form.
//!
//! ```
//! use descent_optim::schedule::{table, SchedulerConfig, SwalrConfig};
//! let config = SchedulerConfig::Swalr(SwalrConfig { anneal_epochs: 2, ..SwalrConfig::new(0.01) });
//! let lrs: Vec<f64> = table(&config, 0.1, None, 4)?.iter().map(|&(_, lr, _)| lr).collect();
//! assert_eq!(lrs[0], 0.1);
//! assert!((lrs[1] - 0.055).abs() < 1e-15, "{lrs:?}");
//! assert_eq!(&lrs[2..], [0.01, 0.01]);
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use super::onecycle::AnnealStrategy;
use crate::check::{check_finite, py_float};
use crate::error::OptimError;

fn default_anneal_epochs() -> i64 {
    10
}

/// `SWALR(optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos")`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwalrConfig {
    /// The lr to anneal to and hold (required, as in PyTorch).
    pub swa_lr: f64,
    /// Steps of the annealing phase (PyTorch's default 10; signed so that a negative value
    /// gets PyTorch's message).
    #[serde(default = "default_anneal_epochs")]
    pub anneal_epochs: i64,
    /// `"cos"` (PyTorch's default) or `"linear"`.
    #[serde(default)]
    pub anneal_strategy: AnnealStrategy,
}

impl SwalrConfig {
    pub fn new(swa_lr: f64) -> Self {
        Self { swa_lr, anneal_epochs: default_anneal_epochs(), anneal_strategy: AnnealStrategy::Cos }
    }

    pub fn validate(&self) -> Result<(), OptimError> {
        // PyTorch's check and message.
        if self.anneal_epochs < 0 {
            return Err(OptimError::invalid(format!(
                "anneal_epochs must be equal or greater than 0, got {}",
                self.anneal_epochs
            )));
        }
        check_finite("SWALR", "swa_lr", self.swa_lr)?;
        // Not checked by PyTorch: a negative target learning rate.
        if self.swa_lr < 0.0 {
            return Err(OptimError::invalid(format!(
                "SWALR swa_lr must be >= 0, but got {}",
                py_float(self.swa_lr)
            )));
        }
        Ok(())
    }

    fn anneal(&self, t: f64) -> f64 {
        match self.anneal_strategy {
            AnnealStrategy::Cos => (1.0 - (PI * t).cos()) / 2.0,
            AnnealStrategy::Linear => t,
        }
    }

    /// PyTorch's `get_lr`, from the current lr and `_step_count` (already incremented for
    /// this step).
    pub fn chain_lr(&self, lr: f64, step_count: i64) -> f64 {
        let mut step = step_count - 1;
        if self.anneal_epochs == 0 {
            step = step.max(1);
        }
        let n = self.anneal_epochs.max(1) as f64;
        let prev_alpha = self.anneal(((step - 1) as f64 / n).clamp(0.0, 1.0));
        let start = if prev_alpha == 1.0 {
            self.swa_lr
        } else {
            (lr - prev_alpha * self.swa_lr) / (1.0 - prev_alpha)
        };
        let alpha = self.anneal((step as f64 / n).clamp(0.0, 1.0));
        self.swa_lr * alpha + start * (1.0 - alpha)
    }
}
