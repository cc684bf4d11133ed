//! `sequential` — `torch.optim.lr_scheduler.SequentialLR`: hand the optimizer to one
//! scheduler after another at the milestones.
//!
//! ```text
//! construction:  build every sub-scheduler in order (each one's construction step acts on
//!                the shared lr), reset lr to initial_lr, undo one step of each
//!                (last_epoch −= 1), and redo the first one's construction step
//! step():        e ← e + 1;  i = #{m ∈ milestones : m ≤ e}
//!                sub_i.step(0)   if i > 0 and milestones[i−1] = e     (PyTorch 2.5)
//!                sub_i.step()    otherwise
//! ```
//!
//! `step(0)` is PyTorch's deprecated epoch form: the sub-scheduler's `last_epoch` becomes 0
//! and its *closed form* is used where it has one, so at a milestone the lr jumps to what
//! that sub-scheduler gives at epoch 0 (usually its `base_lr`, the optimizer's initial lr),
//! after which its chainable form continues from there. All sub-schedulers share the one
//! learning rate.

use serde::{Deserialize, Serialize};

use super::{Group, Node, SchedulerConfig};
use crate::OptimError;

/// `SequentialLR(optimizer, schedulers, milestones)`. TOML: `[[scheduler.schedulers]]`
/// tables, one per sub-scheduler, each with its own `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequentialConfig {
    pub schedulers: Vec<SchedulerConfig>,
    /// Steps at which the next scheduler takes over (one fewer than `schedulers`).
    pub milestones: Vec<usize>,
}

/// PyTorch's SequentialLR state.
#[derive(Debug, Clone)]
pub(crate) struct Sequential {
    pub last_epoch: i64,
    pub milestones: Vec<usize>,
    pub schedulers: Vec<Node>,
}

impl Sequential {
    /// The constructor, given the sub-schedulers already built (in order) on `g`.
    pub(crate) fn new(
        config: &SequentialConfig,
        mut schedulers: Vec<Node>,
        g: &mut Group,
    ) -> Result<Self, OptimError> {
        const NAME: &str = "SequentialLR";
        // PyTorch's checks, order and messages.
        if schedulers.is_empty() {
            return Err(OptimError::invalid(format!(
                "{NAME} expects at least one scheduler, but got no scheduler."
            )));
        }
        for (idx, s) in schedulers.iter().enumerate() {
            if matches!(s, Node::Plateau(_)) {
                return Err(super::plateau_in_composite(NAME, idx));
            }
        }
        let milestones = config.milestones.clone();
        if milestones.len() != schedulers.len() - 1 {
            return Err(OptimError::invalid(format!(
                "Sequential Schedulers expects number of schedulers provided to be one more than \
                 the number of milestone points, but got number of schedulers {} and the number \
                 of milestones to be equal to {}",
                schedulers.len(),
                milestones.len()
            )));
        }
        for (idx, s) in schedulers.iter().enumerate() {
            match s {
                // PyTorch: `scheduler.last_epoch -= 1` raises AttributeError.
                Node::Chained(_) => {
                    return Err(OptimError::invalid(format!(
                        "{NAME} cannot contain a ChainedScheduler (index {idx}): PyTorch raises \
                         AttributeError: 'ChainedScheduler' object has no attribute 'last_epoch'"
                    )))
                }
                // PyTorch: `scheduler.step(0)` at a milestone raises TypeError.
                Node::Sequential(_) => {
                    return Err(OptimError::invalid(format!(
                        "{NAME} cannot contain a SequentialLR (index {idx}): PyTorch calls \
                         step(0) on it at its milestone, which SequentialLR.step() does not take"
                    )))
                }
                _ => {}
            }
        }
        // Not checked by PyTorch, whose bisect_right then picks schedulers nonsensically.
        for (i, &m) in milestones.iter().enumerate() {
            if m == 0 || (i > 0 && m <= milestones[i - 1]) {
                return Err(OptimError::invalid(format!(
                    "{NAME} milestones must be positive and strictly increasing, but got {:?}",
                    milestones
                )));
            }
        }

        // Reset learning rates back to initial values.
        g.lr = g.initial_lr.unwrap_or(g.lr);
        // "Undo" the step performed by other schedulers.
        for s in schedulers.iter_mut() {
            s.undo();
        }
        // Perform the initial step for only the first scheduler.
        schedulers[0].initial_step(g)?;
        Ok(Self { last_epoch: 0, milestones, schedulers })
    }

    /// PyTorch's `step()`.
    pub(crate) fn step(&mut self, g: &mut Group) -> Result<(), OptimError> {
        self.last_epoch += 1;
        let e = self.last_epoch;
        let idx = self.milestones.iter().filter(|&&m| m as i64 <= e).count();
        let at_milestone = idx > 0 && self.milestones[idx - 1] as i64 == e;
        self.schedulers[idx].step(g, at_milestone)
    }
}
