//! `chained` — `torch.optim.lr_scheduler.ChainedScheduler`: step every sub-scheduler, in
//! order, on each `step()`.
//!
//! ```text
//! construction:  build every sub-scheduler in order (each one's construction step acts on
//!                the lr the previous one left)
//! step():        sub_0.step(); sub_1.step(); …
//! ```
//!
//! The sub-schedulers share the optimizer's lr, so chainable ones compose multiplicatively:
//! each reads the lr the previous one wrote (e.g. constant + exponential gives
//! `lr · factor · γ^e` until `total_iters`). Closed-form ones (one-cycle, cyclic, warm
//! restarts, lambda) overwrite it.

use serde::{Deserialize, Serialize};

use super::{Group, Node, SchedulerConfig};
use crate::OptimError;

/// `ChainedScheduler(schedulers)`. TOML: `[[scheduler.schedulers]]` tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainedConfig {
    pub schedulers: Vec<SchedulerConfig>,
}

/// PyTorch's ChainedScheduler (plus a step counter for `last_epoch`, which PyTorch's class
/// does not have).
#[derive(Debug, Clone)]
pub(crate) struct Chained {
    pub last_epoch: i64,
    pub schedulers: Vec<Node>,
}

impl Chained {
    /// The constructor, given the sub-schedulers already built (in order).
    pub(crate) fn new(schedulers: Vec<Node>) -> Result<Self, OptimError> {
        const NAME: &str = "ChainedScheduler";
        // PyTorch's checks and messages.
        if schedulers.is_empty() {
            return Err(OptimError::invalid(format!(
                "{NAME} expects at least one scheduler to be chained, but got no scheduler."
            )));
        }
        for (idx, s) in schedulers.iter().enumerate() {
            if matches!(s, Node::Plateau(_)) {
                return Err(super::plateau_in_composite(NAME, idx));
            }
        }
        Ok(Self { last_epoch: 0, schedulers })
    }

    /// PyTorch's `step()`.
    pub(crate) fn step(&mut self, g: &mut Group) -> Result<(), OptimError> {
        for s in self.schedulers.iter_mut() {
            s.step(g, false)?;
        }
        self.last_epoch += 1;
        Ok(())
    }
}
