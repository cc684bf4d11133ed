//! `multiplicative` — `torch.optim.lr_scheduler.MultiplicativeLR`: multiply the current lr
//! by a factor of the epoch at every step.
//!
//! ```text
//! construction:  lr ← lr
//! step():        e ← e + 1;  lr ← lr · f(e)
//! ```
//!
//! so `lr_e = ((base_lr · f(1)) · f(2)) ⋯ · f(e)`, one product at a time (rounding
//! accumulates, as in PyTorch). The config form takes a constant `factor` (`f(e) = factor`,
//! PyTorch's `lr_lambda=lambda epoch: factor`); the library also takes any closure of the
//! epoch ([`Scheduler::multiplicative`](super::Scheduler::multiplicative)), like PyTorch's
//! `lr_lambda`. There is no closed form: at a SequentialLR milestone (`step(0)`, not the
//! construction step) PyTorch 2.15 multiplies by `f(0)`, and so does descent.
//!
//! ```
//! use descent_optim::schedule::{table, MultiplicativeConfig, SchedulerConfig};
//! let config = SchedulerConfig::Multiplicative(MultiplicativeConfig { factor: 0.5 });
//! let lrs: Vec<f64> = table(&config, 0.1, None, 4)?.iter().map(|&(_, lr, _)| lr).collect();
//! assert_eq!(lrs, [0.1, 0.05, 0.025, 0.0125]);
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use serde::{Deserialize, Serialize};

use super::lambda::LambdaFn;
use crate::check::{check_finite, py_float};
use crate::error::OptimError;

/// `MultiplicativeLR(optimizer, lr_lambda=lambda epoch: factor)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiplicativeConfig {
    /// The constant multiplier applied at every step (required: PyTorch's `lr_lambda` has
    /// no default).
    pub factor: f64,
}

impl MultiplicativeConfig {
    pub fn validate(&self) -> Result<(), OptimError> {
        check_finite("MultiplicativeLR", "factor", self.factor)?;
        // Not checked by PyTorch: a negative factor makes every other learning rate negative.
        if self.factor < 0.0 {
            return Err(OptimError::invalid(format!(
                "MultiplicativeLR factor must be >= 0, but got {}",
                py_float(self.factor)
            )));
        }
        Ok(())
    }

    /// The constant `lr_lambda`.
    pub(crate) fn lambda(&self) -> LambdaFn {
        let factor = self.factor;
        LambdaFn(std::sync::Arc::new(move |_| factor))
    }
}

/// PyTorch's `get_lr`: the construction step (`initial`, PyTorch's `_is_initial`) keeps the
/// lr; every later step multiplies it by `f(last_epoch)`.
pub(crate) fn chain_lr(f: &LambdaFn, lr: f64, e: i64, initial: bool) -> f64 {
    if initial {
        return lr;
    }
    lr * (f.0)(e.max(0) as usize)
}
