//! The run's learning-rate (and cycled momentum) schedules in one place: the base schedule,
//! and a copy for each parameter group with its own lr, started from that lr (torch keeps a
//! base_lr per group). Each step reads its rates here; the schedules step per optimizer step
//! or per epoch, as `[scheduler] interval` says.

use std::path::PathBuf;

use descent_optim::schedule::Scheduler;
use descent_optim::{GroupKnobs, HyperParam};

use crate::config::{Interval, RunConfig};
use crate::error::TrainError;

/// A parameter group's knobs, its configured lr and, when it has its own lr and the run a
/// schedule, its copy of the schedule.
struct Group {
    knobs: GroupKnobs,
    lr: f64,
    schedule: Option<Scheduler>,
}

pub struct Schedules {
    interval: Interval,
    /// The optimizer's configured lr: the rate when there is no schedule.
    base_lr: f64,
    base: Option<Scheduler>,
    /// The base optimizer's momentum (or β₁), which a cycling schedule sets.
    momentum: Option<HyperParam>,
    groups: Vec<Group>,
}

fn config_err(msg: String) -> TrainError {
    TrainError::Config { path: PathBuf::from("[scheduler]"), msg }
}

impl Schedules {
    /// The base schedule (if the config has one) from the optimizer's `lr` and `momentum`.
    pub fn new(cfg: &RunConfig, base_lr: f64, momentum: Option<HyperParam>) -> Result<Self, TrainError> {
        let interval = cfg.scheduler.as_ref().map(|s| s.interval).unwrap_or_default();
        let mut s = Self { interval, base_lr, base: None, momentum, groups: Vec::new() };
        s.base = s.build(cfg, base_lr)?;
        Ok(s)
    }

    fn build(&self, cfg: &RunConfig, lr: f64) -> Result<Option<Scheduler>, TrainError> {
        let Some(section) = &cfg.scheduler else { return Ok(None) };
        let momentum = self.momentum.as_ref().map(|m| m.get());
        section.schedule.build(lr, momentum).map(Some).map_err(|e| config_err(e.to_string()))
    }

    /// Adds a parameter group; `own_lr`: it runs its own copy of the schedule from `lr`.
    pub fn add_group(&mut self, cfg: &RunConfig, knobs: GroupKnobs, lr: f64, own_lr: bool) -> Result<(), TrainError> {
        let schedule = if own_lr { self.build(cfg, lr)? } else { None };
        self.groups.push(Group { knobs, lr, schedule });
        Ok(())
    }

    /// The lr the next step uses, and the momentum when a schedule cycles it; sets the
    /// groups' knobs to theirs, as PyTorch's param_groups hold them.
    pub fn for_step(&self) -> (f64, Option<f64>) {
        let lr = self.lr();
        let momentum = self.base.as_ref().and_then(|s| s.momentum());
        if let Some(m) = momentum {
            for knob in self.momentum.iter().chain(self.groups.iter().filter_map(|g| g.knobs.momentum.as_ref())) {
                knob.set(m);
            }
        }
        for g in &self.groups {
            if let Some(knob) = &g.knobs.lr {
                knob.set(g.schedule.as_ref().map(|s| s.lr()).unwrap_or(g.lr));
            }
        }
        (lr, momentum)
    }

    /// The base rate now (after an epoch: what the next one starts with).
    pub fn lr(&self) -> f64 {
        self.base.as_ref().map(|s| s.lr()).unwrap_or(self.base_lr)
    }

    /// After optimizer step `step`: steps the schedules when they run per step.
    pub fn after_step(&mut self, step: u64) -> Result<(), TrainError> {
        if self.interval == Interval::Step {
            for s in self.all_mut() {
                s.try_step().map_err(|e| config_err(format!("at step {step}: {e}")))?;
            }
        }
        Ok(())
    }

    /// After epoch `epoch`: steps the schedules when they run per epoch; ReduceLROnPlateau
    /// watches `metric` (the validation loss when there is one).
    pub fn after_epoch(&mut self, epoch: u64, metric: f64) -> Result<(), TrainError> {
        if self.interval == Interval::Epoch {
            for s in self.all_mut() {
                if s.needs_metric() {
                    s.step_metric(metric);
                } else {
                    s.try_step().map_err(|e| config_err(format!("after epoch {epoch}: {e}")))?;
                }
            }
        }
        Ok(())
    }

    /// Every schedule with its name in a checkpoint (`base`, `group1`, …); none without a
    /// base schedule.
    pub fn named(&self) -> Vec<(String, &Scheduler)> {
        let groups = self.groups.iter().enumerate().filter_map(|(i, g)| Some((format!("group{}", i + 1), g.schedule.as_ref()?)));
        self.base.iter().map(|s| ("base".to_string(), s)).chain(groups).collect()
    }

    /// As [`named`](Self::named), to load a checkpoint into.
    pub fn named_mut(&mut self) -> Vec<(String, &mut Scheduler)> {
        let groups =
            self.groups.iter_mut().enumerate().filter_map(|(i, g)| Some((format!("group{}", i + 1), g.schedule.as_mut()?)));
        self.base.iter_mut().map(|s| ("base".to_string(), s)).chain(groups).collect()
    }

    fn all_mut(&mut self) -> impl Iterator<Item = &mut Scheduler> {
        self.base.iter_mut().chain(self.groups.iter_mut().filter_map(|g| g.schedule.as_mut()))
    }
}
