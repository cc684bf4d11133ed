//! `onecycle` — `torch.optim.lr_scheduler.OneCycleLR` (Smith's 1cycle policy, fastai's
//! two-phase default or the paper's three phases).
//!
//! With `initial_lr = max_lr/div_factor` and `min_lr = initial_lr/final_div_factor`
//! (stored on the optimizer's param group, as PyTorch does), phases end at
//!
//! ```text
//! two-phase:    p·N − 1,              N − 1
//! three-phase:  p·N − 1,  2·p·N − 2,  N − 1          (p = pct_start, N = total_steps)
//! ```
//!
//! and within a phase from step `a` to `b`, with `pct = (step − a)/(b − a)`:
//!
//! ```text
//! lr       = anneal(start_lr, end_lr, pct)      initial→max, max→min       (two-phase)
//!                                               initial→max, max→initial, initial→min
//! momentum = anneal(start_m,  end_m,  pct)      max_m→base_m, base_m→max_m (, max_m→max_m)
//! cos:     anneal(s, e, pct) = e + (s − e)/2 · (cos(π·pct) + 1)
//! linear:  anneal(s, e, pct) = (e − s)·pct + s
//! ```
//!
//! The value is a pure function of the step ([`OneCycleConfig::lr_at`]); PyTorch raises once
//! the step exceeds `total_steps`, and so does [`Scheduler::try_step`](super::Scheduler::try_step).
//! `lr_0` is `max_lr + (initial_lr − max_lr)/2·2`, e.g. 0.040000000000000036 for
//! max_lr = 1, not 0.04 — PyTorch's rounding, reproduced.
//!
//! With `cycle_momentum` (the default) the optimizer's momentum is set to `max_momentum` at
//! construction and cycled inversely to the learning rate.
//!
//! ```
//! use descent_optim::schedule::{OneCycleConfig, SchedulerConfig};
//! // Warm up from max_lr/25 to 1.0 and anneal over 10 steps; momentum cycles 0.95 → 0.85 → 0.95.
//! let mut s = SchedulerConfig::OneCycle(OneCycleConfig::new(1.0, 10)).build(0.1, Some(0.9))?;
//! assert!((s.lr() - 0.04).abs() < 1e-12);
//! assert_eq!(s.momentum(), Some(0.95));
//! s.try_step()?;
//! assert!(s.lr() > 0.04);
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::group::Group;
use crate::check::check_finite;
use crate::check::py_float;
use crate::error::OptimError;

fn default_pct_start() -> f64 {
    0.3
}
fn default_true() -> bool {
    true
}
fn default_base_momentum() -> f64 {
    0.85
}
fn default_max_momentum() -> f64 {
    0.95
}
fn default_div_factor() -> f64 {
    25.0
}
fn default_final_div_factor() -> f64 {
    1e4
}

/// `anneal_strategy`: `"cos"` or `"linear"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AnnealStrategy {
    #[default]
    Cos,
    Linear,
}

impl FromStr for AnnealStrategy {
    type Err = OptimError;
    fn from_str(s: &str) -> Result<Self, OptimError> {
        match s {
            "cos" => Ok(Self::Cos),
            "linear" => Ok(Self::Linear),
            other => Err(OptimError::invalid(format!(
                "anneal_strategy must be one of 'cos' or 'linear', instead got {other}"
            ))),
        }
    }
}
impl TryFrom<String> for AnnealStrategy {
    type Error = OptimError;
    fn try_from(s: String) -> Result<Self, OptimError> {
        s.parse()
    }
}
impl From<AnnealStrategy> for String {
    fn from(a: AnnealStrategy) -> String {
        a.to_string()
    }
}
impl fmt::Display for AnnealStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cos => "cos",
            Self::Linear => "linear",
        })
    }
}

impl AnnealStrategy {
    /// PyTorch's `_annealing_cos` / `_annealing_linear`.
    pub fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            Self::Cos => {
                let cos_out = (PI * pct).cos() + 1.0;
                end + (start - end) / 2.0 * cos_out
            }
            Self::Linear => (end - start) * pct + start,
        }
    }
}

/// `OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
/// pct_start=0.3, anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85,
/// max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OneCycleConfig {
    /// Peak learning rate (required). The optimizer's own lr is ignored, as in PyTorch.
    pub max_lr: f64,
    /// Steps in the cycle; or give `epochs` and `steps_per_epoch`.
    #[serde(default)]
    pub total_steps: Option<i64>,
    #[serde(default)]
    pub epochs: Option<i64>,
    #[serde(default)]
    pub steps_per_epoch: Option<i64>,
    /// Fraction of the cycle spent increasing the lr (PyTorch's default 0.3).
    #[serde(default = "default_pct_start")]
    pub pct_start: f64,
    #[serde(default)]
    pub anneal_strategy: AnnealStrategy,
    /// Cycle the optimizer's momentum inversely to the lr (PyTorch's default true).
    #[serde(default = "default_true")]
    pub cycle_momentum: bool,
    #[serde(default = "default_base_momentum")]
    pub base_momentum: f64,
    #[serde(default = "default_max_momentum")]
    pub max_momentum: f64,
    /// `initial_lr = max_lr / div_factor` (PyTorch's default 25).
    #[serde(default = "default_div_factor")]
    pub div_factor: f64,
    /// `min_lr = initial_lr / final_div_factor` (PyTorch's default 1e4).
    #[serde(default = "default_final_div_factor")]
    pub final_div_factor: f64,
    #[serde(default)]
    pub three_phase: bool,
}

impl OneCycleConfig {
    pub fn new(max_lr: f64, total_steps: i64) -> Self {
        Self {
            max_lr,
            total_steps: Some(total_steps),
            epochs: None,
            steps_per_epoch: None,
            pct_start: default_pct_start(),
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: default_base_momentum(),
            max_momentum: default_max_momentum(),
            div_factor: default_div_factor(),
            final_div_factor: default_final_div_factor(),
            three_phase: false,
        }
    }

    /// `total_steps`, or `epochs · steps_per_epoch`, with PyTorch's checks and messages.
    pub fn resolved_total_steps(&self) -> Result<i64, OptimError> {
        if let Some(total_steps) = self.total_steps {
            if total_steps <= 0 {
                return Err(OptimError::invalid(format!(
                    "Expected positive integer total_steps, but got {total_steps}"
                )));
            }
            Ok(total_steps)
        } else if let (Some(epochs), Some(steps_per_epoch)) = (self.epochs, self.steps_per_epoch) {
            if epochs <= 0 {
                return Err(OptimError::invalid(format!(
                    "Expected positive integer epochs, but got {epochs}"
                )));
            }
            if steps_per_epoch <= 0 {
                return Err(OptimError::invalid(format!(
                    "Expected positive integer steps_per_epoch, but got {steps_per_epoch}"
                )));
            }
            epochs
                .checked_mul(steps_per_epoch)
                .ok_or_else(|| OptimError::invalid("OneCycleLR epochs * steps_per_epoch overflows"))
        } else {
            Err(OptimError::invalid(
                "You must define either total_steps OR (epochs AND steps_per_epoch)",
            ))
        }
    }

    /// PyTorch's checks, in its order, with its messages; `base_momentum` is the optimizer's
    /// momentum (`None`: the optimizer has none).
    pub fn validate(&self, base_momentum: Option<f64>) -> Result<(), OptimError> {
        self.resolved_total_steps()?;
        if !(self.pct_start >= 0.0 && self.pct_start <= 1.0) {
            return Err(OptimError::invalid(format!(
                "Expected float between 0 and 1 pct_start, but got {}",
                py_float(self.pct_start)
            )));
        }
        if self.cycle_momentum && base_momentum.is_none() {
            return Err(OptimError::invalid(
                "optimizer must support momentum or beta1 with `cycle_momentum` option enabled",
            ));
        }
        // Not checked by PyTorch.
        check_finite("OneCycleLR", "max_lr", self.max_lr)?;
        check_finite("OneCycleLR", "div_factor", self.div_factor)?;
        check_finite("OneCycleLR", "final_div_factor", self.final_div_factor)?;
        check_finite("OneCycleLR", "base_momentum", self.base_momentum)?;
        check_finite("OneCycleLR", "max_momentum", self.max_momentum)?;
        if self.div_factor == 0.0 || self.final_div_factor == 0.0 {
            return Err(OptimError::invalid(
                "OneCycleLR div_factor and final_div_factor must be non-zero (PyTorch raises \
                 ZeroDivisionError)",
            ));
        }
        Ok(())
    }

    /// The lr (and momentum, if `cycle_momentum`) of step `step` of a OneCycleLR that is the
    /// optimizer's only scheduler — PyTorch's value bit for bit. Errors like PyTorch past
    /// `total_steps`, or when a phase has zero length (ZeroDivisionError in PyTorch).
    pub fn lr_at(&self, step: usize) -> Result<(f64, Option<f64>), OptimError> {
        self.validate(Some(0.0))?;
        let mut group = Group::new(0.0, Some(0.0));
        let oc = OneCycle::attach(self, &mut group)?;
        let lr = oc.get_lr(step as i64, &mut group)?;
        Ok((lr, if self.cycle_momentum { group.momentum } else { None }))
    }
}

/// Which param-group entry a phase starts or ends at (PyTorch keeps them in the group).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Key {
    InitialLr,
    MaxLr,
    MinLr,
    MaxMomentum,
    BaseMomentum,
}

impl Key {
    fn read(self, g: &Group) -> Result<f64, OptimError> {
        let (v, name) = match self {
            Key::InitialLr => (g.initial_lr, "initial_lr"),
            Key::MaxLr => (g.max_lr, "max_lr"),
            Key::MinLr => (g.min_lr, "min_lr"),
            Key::MaxMomentum => (g.max_momentum, "max_momentum"),
            Key::BaseMomentum => (g.base_momentum, "base_momentum"),
        };
        v.ok_or_else(|| OptimError::invalid(format!("KeyError: '{name}'")))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Phase {
    pub end_step: f64,
    pub start_lr: Key,
    pub end_lr: Key,
    pub start_momentum: Key,
    pub end_momentum: Key,
}

/// PyTorch's OneCycleLR minus the param-group entries.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OneCycle {
    pub total_steps: i64,
    pub pct_start: f64,
    pub phases: Vec<Phase>,
    pub anneal: AnnealStrategy,
    pub cycle_momentum: bool,
}

impl OneCycle {
    /// The constructor up to `super().__init__`: writes `initial_lr`, `max_lr`, `min_lr`
    /// (and the momentum entries) into the group. `config` must be validated.
    pub(crate) fn attach(config: &OneCycleConfig, g: &mut Group) -> Result<Self, OptimError> {
        let total_steps = config.resolved_total_steps()?;
        let n = total_steps as f64;
        let p = config.pct_start;
        let phase = |end_step, start_lr, end_lr, start_momentum, end_momentum| Phase {
            end_step,
            start_lr,
            end_lr,
            start_momentum,
            end_momentum,
        };
        use Key::*;
        let phases = if config.three_phase {
            vec![
                phase(p * n - 1.0, InitialLr, MaxLr, MaxMomentum, BaseMomentum),
                phase(2.0 * p * n - 2.0, MaxLr, InitialLr, BaseMomentum, MaxMomentum),
                phase(n - 1.0, InitialLr, MinLr, MaxMomentum, MaxMomentum),
            ]
        } else {
            vec![
                phase(p * n - 1.0, InitialLr, MaxLr, MaxMomentum, BaseMomentum),
                phase(n - 1.0, MaxLr, MinLr, BaseMomentum, MaxMomentum),
            ]
        };
        let initial_lr = config.max_lr / config.div_factor;
        g.initial_lr = Some(initial_lr);
        g.max_lr = Some(config.max_lr);
        g.min_lr = Some(initial_lr / config.final_div_factor);
        if config.cycle_momentum {
            g.momentum = Some(config.max_momentum);
            g.max_momentum = Some(config.max_momentum);
            g.base_momentum = Some(config.base_momentum);
        }
        Ok(Self {
            total_steps,
            pct_start: p,
            phases,
            anneal: config.anneal_strategy,
            cycle_momentum: config.cycle_momentum,
        })
    }

    /// PyTorch's `get_lr` at `step_num` (= `last_epoch`); sets the group's momentum.
    pub(crate) fn get_lr(&self, step_num: i64, g: &mut Group) -> Result<f64, OptimError> {
        if step_num > self.total_steps {
            return Err(OptimError::invalid(format!(
                "Tried to step {step_num} times. The specified number of total steps is {}",
                self.total_steps
            )));
        }
        let s = step_num as f64;
        let last = self.phases.len() - 1;
        let mut start_step = 0.0;
        for (i, phase) in self.phases.iter().enumerate() {
            let end_step = phase.end_step;
            if s <= end_step || i == last {
                let denom = end_step - start_step;
                if denom == 0.0 {
                    // PyTorch raises ZeroDivisionError here (e.g. pct_start * total_steps
                    // = 1 makes the first phase end at step 0).
                    return Err(OptimError::invalid(format!(
                        "float division by zero: OneCycleLR phase {i} has zero length \
                         (pct_start={}, total_steps={})",
                        py_float(self.pct_start),
                        self.total_steps
                    )));
                }
                let pct = (s - start_step) / denom;
                let lr = self.anneal.anneal(phase.start_lr.read(g)?, phase.end_lr.read(g)?, pct);
                if self.cycle_momentum {
                    let m = self.anneal.anneal(
                        phase.start_momentum.read(g)?,
                        phase.end_momentum.read(g)?,
                        pct,
                    );
                    g.momentum = Some(m);
                }
                return Ok(lr);
            }
            start_step = phase.end_step;
        }
        unreachable!("the last phase always matches")
    }
}
