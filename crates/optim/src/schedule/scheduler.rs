//! [`Scheduler`]: a built schedule, PyTorch's scheduler and its param group in one, and its
//! Burn face, [`LrScheduler`] (whose `step()` returns the lr for the coming step, then
//! advances, so Burn's k-th call returns PyTorch's `lr[k]`).

use std::sync::Arc;

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;

use super::config::SchedulerConfig;
use super::group::Group;
use super::lambda::LambdaFn;
use super::record::{get, record_error, RECORD_FORMAT};
use super::tree::{Leaf, Node};
use crate::check::check_finite;
use crate::error::OptimError;

impl SchedulerConfig {
    /// Construct the scheduler as PyTorch's constructor does (including its construction
    /// step), on an optimizer whose configured lr is `base_lr` and whose momentum is
    /// `base_momentum` (`None` if it has no momentum term).
    pub fn build(&self, base_lr: f64, base_momentum: Option<f64>) -> Result<Scheduler, OptimError> {
        check_finite("optimizer", "lr", base_lr)?;
        let mut group = Group::new(base_lr, base_momentum);
        let node = Node::build(self, &mut group)?;
        Ok(Scheduler { group, node })
    }
}

/// `(step, lr, momentum)` for steps `0..steps`: the lr (and momentum, if the schedule cycles
/// it) that optimizer step `i` uses. A metric-driven schedule (`plateau`) stays at its
/// initial lr, as no metric is given.
pub fn table(
    config: &SchedulerConfig,
    base_lr: f64,
    base_momentum: Option<f64>,
    steps: usize,
) -> Result<Vec<(usize, f64, Option<f64>)>, OptimError> {
    let mut s = config.build(base_lr, base_momentum)?;
    let mut out = Vec::with_capacity(steps);
    for i in 0..steps {
        if i > 0 {
            s.try_step()?;
        }
        out.push((i, s.lr(), s.momentum()));
    }
    Ok(out)
}

/// A built schedule: PyTorch's scheduler together with the optimizer param-group values it
/// reads and writes (lr, momentum, `initial_lr`, …). Clone, Send and Sync.
#[derive(Clone, Debug)]
pub struct Scheduler {
    group: Group,
    node: Node,
}

impl Scheduler {
    /// `LambdaLR(optimizer, lr_lambda=f)` on an optimizer with lr `base_lr`:
    /// `lr_e = base_lr · f(e)`.
    pub fn lambda(base_lr: f64, f: impl Fn(usize) -> f64 + Send + Sync + 'static) -> Scheduler {
        let mut group = Group::new(base_lr, None);
        let node = Node::attach_leaf(&mut group, Leaf::Lambda(LambdaFn(Arc::new(f))))
            .expect("LambdaLR's construction step cannot fail");
        Scheduler { group, node }
    }

    /// `MultiplicativeLR(optimizer, lr_lambda=f)` on an optimizer with lr `base_lr`:
    /// `lr_e = lr_{e−1} · f(e)` (the config form, `kind = "multiplicative"`, is a constant
    /// `factor`). As for [`lambda`](Self::lambda), a record restores the step count into a
    /// scheduler built with the same closure.
    pub fn multiplicative(base_lr: f64, f: impl Fn(usize) -> f64 + Send + Sync + 'static) -> Scheduler {
        let mut group = Group::new(base_lr, None);
        let node = Node::attach_leaf(&mut group, Leaf::Multiplicative(LambdaFn(Arc::new(f))))
            .expect("MultiplicativeLR's construction step cannot fail");
        Scheduler { group, node }
    }

    /// The lr the next optimizer step uses (PyTorch: `param_groups[0]['lr']` now).
    pub fn lr(&self) -> f64 {
        self.group.lr
    }

    /// The momentum the next optimizer step uses; `Some` only if this schedule cycles it.
    pub fn momentum(&self) -> Option<f64> {
        if self.node.cycles_momentum() {
            self.group.momentum
        } else {
            None
        }
    }

    /// PyTorch's `scheduler.step()`. For `plateau`, which needs a metric, this does nothing
    /// (use [`step_metric`](Self::step_metric)).
    ///
    /// # Panics
    /// Where PyTorch raises: a one-cycle schedule stepped past `total_steps` ("Tried to step
    /// … times"). Use [`try_step`](Self::try_step) to get the error instead.
    pub fn step(&mut self) {
        if let Err(e) = self.try_step() {
            panic!("{e}");
        }
    }

    /// [`step`](Self::step), returning PyTorch's exception as an error.
    pub fn try_step(&mut self) -> Result<(), OptimError> {
        self.node.step(&mut self.group, false)
    }

    /// `ReduceLROnPlateau.step(metric)`; for every other schedule, the same as
    /// [`step`](Self::step).
    pub fn step_metric(&mut self, metric: f64) {
        match &mut self.node {
            Node::Plateau(p) => p.step(&mut self.group, metric),
            _ => self.step(),
        }
    }

    /// Whether [`step_metric`](Self::step_metric) must be used (only `plateau`: PyTorch's
    /// SequentialLR and ChainedScheduler refuse ReduceLROnPlateau).
    pub fn needs_metric(&self) -> bool {
        matches!(self.node, Node::Plateau(_))
    }

    /// PyTorch's `last_epoch`: the number of `step()`s taken (ChainedScheduler has none in
    /// PyTorch; here it counts its steps too).
    pub fn last_epoch(&self) -> i64 {
        self.node.last_epoch()
    }

    /// Restore a state saved by [`LrScheduler::to_record`] into a scheduler built from the
    /// same configuration. Nothing changes on error.
    pub fn try_load_record(&mut self, record: &LrSchedulerRecord) -> Result<(), OptimError> {
        let format: u64 = get(record, "format")?;
        if format != RECORD_FORMAT {
            return Err(record_error(format!("unknown record format {format}")));
        }
        let mut group = self.group.clone();
        group.load(&record.record("group"))?;
        let mut node = self.node.clone();
        node.load(&record.record("scheduler"))?;
        self.group = group;
        self.node = node;
        Ok(())
    }
}

impl LrScheduler for Scheduler {
    /// The lr for the coming optimizer step, then PyTorch's `scheduler.step()` (nothing for
    /// `plateau`, whose metric steps go through [`Scheduler::step_metric`]).
    fn step(&mut self) -> LearningRate {
        let lr = self.lr();
        Scheduler::step(self);
        lr
    }

    /// The full state: step counters, the current (recursive) lr and momentum, plateau's
    /// best / bad-epoch / cooldown counters, and every sub-scheduler's state.
    fn to_record(&self) -> LrSchedulerRecord {
        LrSchedulerRecord::new()
            .with_scalar("format", RECORD_FORMAT)
            .with_record("group", self.group.record())
            .with_record("scheduler", self.node.record())
    }

    /// # Panics
    /// If the record was not saved from a scheduler of the same configuration
    /// ([`Scheduler::try_load_record`] returns the error instead).
    fn load_record(&mut self, record: LrSchedulerRecord) {
        if let Err(e) = self.try_load_record(&record) {
            panic!("{e}");
        }
    }
}
