//! The serde face of the schedules: [`SchedulerConfig`], tagged by `kind`, and the two
//! composites whose configs nest it (kept here so the recursive types live in one module).

use serde::{Deserialize, Serialize};

use super::constant::ConstantConfig;
use super::cosine::CosineConfig;
use super::cosine_warm_restarts::CosineWarmRestartsConfig;
use super::cyclic::CyclicConfig;
use super::exponential::ExponentialConfig;
use super::linear::LinearConfig;
use super::multiplicative::MultiplicativeConfig;
use super::multistep::MultiStepConfig;
use super::onecycle::OneCycleConfig;
use super::plateau::PlateauConfig;
use super::polynomial::PolynomialConfig;
use super::step::StepConfig;
use super::swalr::SwalrConfig;

/// Every schedule descent offers, tagged by `kind`; keys are PyTorch's argument names.
///
/// ```toml
/// [scheduler]
/// kind = "sequential"
/// milestones = [10]
/// [[scheduler.schedulers]]
/// kind = "linear"
/// start_factor = 0.1
/// total_iters = 10
/// [[scheduler.schedulers]]
/// kind = "cosine"
/// T_max = 50
/// ```
///
/// The same from Rust, or from any serde format:
///
/// ```
/// use descent_optim::schedule::SchedulerConfig;
/// let config: SchedulerConfig = serde_json::from_str(r#"{"kind": "step", "step_size": 2}"#).unwrap();
/// assert_eq!(config.torch_class(), "StepLR");
/// let mut scheduler = config.build(0.1, None)?;
/// scheduler.step();
/// scheduler.step();
/// assert!((scheduler.lr() - 0.01).abs() < 1e-12);
/// # Ok::<(), descent_optim::OptimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SchedulerConfig {
    Constant(ConstantConfig),
    Step(StepConfig),
    #[serde(rename = "multistep")]
    MultiStep(MultiStepConfig),
    Exponential(ExponentialConfig),
    Cosine(CosineConfig),
    CosineWarmRestarts(CosineWarmRestartsConfig),
    Linear(LinearConfig),
    Polynomial(PolynomialConfig),
    #[serde(rename = "onecycle")]
    OneCycle(OneCycleConfig),
    Cyclic(CyclicConfig),
    Plateau(PlateauConfig),
    Multiplicative(MultiplicativeConfig),
    Swalr(SwalrConfig),
    Sequential(SequentialConfig),
    Chained(ChainedConfig),
}

impl SchedulerConfig {
    /// Whether the schedule is driven by a metric
    /// ([`Scheduler::step_metric`](super::Scheduler::step_metric)).
    pub fn needs_metric(&self) -> bool {
        matches!(self, SchedulerConfig::Plateau(_))
    }

    /// PyTorch's class name.
    pub fn torch_class(&self) -> &'static str {
        match self {
            Self::Constant(_) => "ConstantLR",
            Self::Step(_) => "StepLR",
            Self::MultiStep(_) => "MultiStepLR",
            Self::Exponential(_) => "ExponentialLR",
            Self::Cosine(_) => "CosineAnnealingLR",
            Self::CosineWarmRestarts(_) => "CosineAnnealingWarmRestarts",
            Self::Linear(_) => "LinearLR",
            Self::Polynomial(_) => "PolynomialLR",
            Self::OneCycle(_) => "OneCycleLR",
            Self::Cyclic(_) => "CyclicLR",
            Self::Plateau(_) => "ReduceLROnPlateau",
            Self::Multiplicative(_) => "MultiplicativeLR",
            Self::Swalr(_) => "SWALR",
            Self::Sequential(_) => "SequentialLR",
            Self::Chained(_) => "ChainedScheduler",
        }
    }
}

/// `sequential`: `torch.optim.lr_scheduler.SequentialLR`: hand the optimizer to one
/// scheduler after another at the milestones.
///
/// ```text
/// construction:  build every sub-scheduler in order (each one's construction step acts on
///                the shared lr), reset lr to initial_lr, undo one step of each
///                (last_epoch −= 1), and redo the first one's construction step
/// step():        e ← e + 1;  i = #{m ∈ milestones : m ≤ e}
///                sub_i.step(0)   if i > 0 and milestones[i−1] = e     (PyTorch 2.5)
///                sub_i.step()    otherwise
/// ```
///
/// `step(0)` is PyTorch's deprecated epoch form: the sub-scheduler's `last_epoch` becomes 0
/// and its *closed form* is used where it has one, so at a milestone the lr jumps to what
/// that sub-scheduler gives at epoch 0 (usually its `base_lr`, the optimizer's initial lr),
/// after which its chainable form continues from there; one without a closed form
/// (MultiplicativeLR, SWALR) takes a non-initial chainable step at epoch 0. PyTorch 2.15
/// calls `_update_lr(0)`, which (unlike 2.5's `step(0)`) does not count a step, which only
/// SWALR notices. All sub-schedulers share the one learning rate.
///
/// `SequentialLR(optimizer, schedulers, milestones)`. TOML: `[[scheduler.schedulers]]`
/// tables, one per sub-scheduler, each with its own `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequentialConfig {
    pub schedulers: Vec<SchedulerConfig>,
    /// Steps at which the next scheduler takes over (one fewer than `schedulers`).
    pub milestones: Vec<usize>,
}

/// `chained`: `torch.optim.lr_scheduler.ChainedScheduler`: step every sub-scheduler, in
/// order, on each `step()`.
///
/// ```text
/// construction:  build every sub-scheduler in order (each one's construction step acts on
///                the lr the previous one left)
/// step():        sub_0.step(); sub_1.step(); …
/// ```
///
/// The sub-schedulers share the optimizer's lr, so chainable ones compose multiplicatively:
/// each reads the lr the previous one wrote (e.g. constant + exponential gives
/// `lr · factor · γ^e` until `total_iters`). Closed-form ones (one-cycle, cyclic, warm
/// restarts, lambda) overwrite it.
///
/// `ChainedScheduler(schedulers)`. TOML: `[[scheduler.schedulers]]` tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainedConfig {
    pub schedulers: Vec<SchedulerConfig>,
}
