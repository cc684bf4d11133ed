//! `lambda` — `torch.optim.lr_scheduler.LambdaLR`, with a Rust closure as `lr_lambda`:
//!
//! ```text
//! lr_e = base_lr · f(e)
//! ```
//!
//! Library only ([`Scheduler::lambda`](super::Scheduler::lambda)): a closure has no serde
//! form. The closure is not part of the saved state (as PyTorch does not pickle lambdas); a
//! record restores the step count into a scheduler built with the same closure.
//!
//! ```
//! use descent_optim::Scheduler;
//! let mut s = Scheduler::lambda(0.1, |epoch| 1.0 / (epoch as f64 + 1.0));
//! s.step();
//! assert_eq!(s.lr(), 0.05);
//! ```

use std::fmt;
use std::sync::Arc;

/// A shareable `lr_lambda`.
#[derive(Clone)]
pub(crate) struct LambdaFn(pub Arc<dyn Fn(usize) -> f64 + Send + Sync>);

impl LambdaFn {
    /// PyTorch's `get_lr`: `base_lr * lr_lambda(last_epoch)`.
    pub(crate) fn lr(&self, base_lr: f64, e: i64) -> f64 {
        base_lr * (self.0)(e.max(0) as usize)
    }
}

impl fmt::Debug for LambdaFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LambdaFn(<closure>)")
    }
}
