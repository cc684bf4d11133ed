//! `polynomial` — `torch.optim.lr_scheduler.PolynomialLR`: decay to 0 over `total_iters`
//! epochs along `(1 − e/T)^power`.
//!
//! Intended curve: `lr_e = base_lr · (1 − min(e, T)/T)^p`. PyTorch's chainable form:
//!
//! ```text
//! e = 0 or e > T:  lr ← lr
//! otherwise:       lr ← lr · ((1 − e/T) / (1 − (e − 1)/T))^p
//! ```
//!
//! Closed form (SequentialLR's `step(0)`): `base_lr · (1 − min(T, e)/T)^p`.
//!
//! ```
//! use descent_optim::schedule::{table, PolynomialConfig, SchedulerConfig};
//! let config = SchedulerConfig::Polynomial(PolynomialConfig { total_iters: 4, power: 1.0 });
//! let lrs: Vec<f64> = table(&config, 0.1, None, 5)?.iter().map(|&(_, lr, _)| lr).collect();
//! for (lr, want) in lrs.iter().zip([0.1, 0.075, 0.05, 0.025, 0.0]) {
//!     assert!((lr - want).abs() < 1e-12, "{lrs:?}");
//! }
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use serde::{Deserialize, Serialize};

use crate::check::check_finite;
use crate::error::OptimError;

fn default_total_iters() -> usize {
    5
}
fn default_power() -> f64 {
    1.0
}

/// `PolynomialLR(optimizer, total_iters=5, power=1.0)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolynomialConfig {
    /// Epochs until the learning rate reaches 0 (PyTorch's default 5).
    #[serde(default = "default_total_iters")]
    pub total_iters: usize,
    /// Power of the polynomial (PyTorch's default 1.0).
    #[serde(default = "default_power")]
    pub power: f64,
}

impl Default for PolynomialConfig {
    fn default() -> Self {
        Self { total_iters: default_total_iters(), power: default_power() }
    }
}

impl PolynomialConfig {
    pub fn validate(&self) -> Result<(), OptimError> {
        // PyTorch checks nothing.
        // total_iters = 0: no decay at all in its chainable form, ZeroDivisionError in its
        // closed form.
        if self.total_iters == 0 {
            return Err(OptimError::invalid(
                "PolynomialLR total_iters must be a positive integer, but got 0 (PyTorch's \
                 closed form divides by it)",
            ));
        }
        check_finite("PolynomialLR", "power", self.power)?;
        // power < 0: PyTorch raises ZeroDivisionError (0.0 ** negative) at e = total_iters.
        if self.power < 0.0 {
            return Err(OptimError::invalid(format!(
                "PolynomialLR power must be >= 0, but got {} (PyTorch raises ZeroDivisionError \
                 at total_iters)",
                crate::check::py_float(self.power)
            )));
        }
        Ok(())
    }

    /// PyTorch's chainable `get_lr`.
    pub fn chain_lr(&self, lr: f64, e: i64) -> f64 {
        let t = self.total_iters as i64;
        if e == 0 || e > t {
            return lr;
        }
        let decay_factor =
            ((1.0 - e as f64 / t as f64) / (1.0 - (e - 1) as f64 / t as f64)).powf(self.power);
        lr * decay_factor
    }

    /// PyTorch's `_get_closed_form_lr`.
    pub fn closed_form_lr(&self, base_lr: f64, e: i64) -> f64 {
        let t = self.total_iters as i64;
        base_lr * (1.0 - t.min(e) as f64 / t as f64).powf(self.power)
    }
}
