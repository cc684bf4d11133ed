//! Learning-rate schedules that reproduce `torch.optim.lr_scheduler` (PyTorch 2.5), value
//! for value, including PyTorch's recursive ("chainable") arithmetic where it differs from
//! the closed form.
//!
//! A [`SchedulerConfig`] (serde, tagged by `kind`, keys named as PyTorch's constructor
//! arguments with its defaults) builds a [`Scheduler`] for an optimizer's learning rate and
//! momentum. The scheduler plays the role of PyTorch's scheduler *and* of the optimizer's
//! param group it writes into: [`Scheduler::lr`] is `param_groups[0]['lr']`,
//! [`Scheduler::step`] is `scheduler.step()`. It also implements Burn's
//! [`LrScheduler`], whose `step()` returns the lr for the coming optimizer step and then
//! advances, so Burn's k-th call returns PyTorch's `lr[k]`.
//!
//! | descent `kind` | PyTorch class | Burn 0.22 (`burn::lr_scheduler`) |
//! |---|---|---|
//! | `constant` | `ConstantLR(factor=1/3, total_iters=5)` | none. Burn's `Constant(lr)` / `ConstantLr` is a fixed lr, not a temporary factor |
//! | `step` | `StepLR(step_size, gamma=0.1)` | `step::StepLrSchedulerConfig(initial_lr, step_size, gamma=0.1)`: same default, but an absolute `initial_lr` and the closed form `initial_lr·γ.powi(k)` (not PyTorch's repeated product; can differ in the last bits) |
//! | `multistep` | `MultiStepLR(milestones, gamma=0.1)` | none |
//! | `exponential` | `ExponentialLR(gamma)` | `exponential::ExponentialLrSchedulerConfig(initial_lr, gamma)`: recursive like PyTorch but starts from `(initial_lr/γ)·γ` (may be off by an ulp); rejects `initial_lr ∉ (0, 1]` and `γ ∉ (0, 1]` |
//! | `cosine` | `CosineAnnealingLR(T_max, eta_min=0)` | `cosine::CosineAnnealingLrSchedulerConfig(initial_lr, num_iters, min_lr=0)`: the closed form (PyTorch recurses), requires `initial_lr ∈ (0, 1]`, `min_lr ≤ initial_lr` |
//! | `cosine_warm_restarts` | `CosineAnnealingWarmRestarts(T_0, T_mult=1, eta_min=0)` | none |
//! | `linear` | `LinearLR(start_factor=1/3, end_factor=1, total_iters=5)` | `linear::LinearLrSchedulerConfig(initial_lr, final_lr, num_iters)`: absolute lrs without defaults instead of factors, closed form `final − (final − initial)/n · remaining` |
//! | `polynomial` | `PolynomialLR(total_iters=5, power=1)` | none |
//! | `onecycle` | `OneCycleLR(max_lr, total_steps, …)` | none |
//! | `cyclic` | `CyclicLR(base_lr, max_lr, step_size_up=2000, …)` | none |
//! | `plateau` | `ReduceLROnPlateau(mode='min', factor=0.1, patience=10, …)` | none (Burn's trait has no metric) |
//! | `sequential` | `SequentialLR(schedulers, milestones)` | `sequential::SequentialLrSchedulerConfig(schedulers, milestones)`: each sub-scheduler has its own absolute lr and starts from its own step 0 when it takes over — no shared lr, no `step(0)` closed form; milestones must be > 0 and strictly increasing (descent requires the same) |
//! | `chained` | `ChainedScheduler(schedulers)` | `composed::ComposedLrSchedulerConfig(schedulers, reduction=Prod)` combines independent lrs by product/sum/mean — not PyTorch's chaining on a shared lr |
//! | — ([`Scheduler::lambda`]) | `LambdaLR(lr_lambda)` | none. Burn's `noam::NoamLrSchedulerConfig(factor, warmup_steps=4000, model_size=512)` is one fixed lambda (transformer warm-up), with no PyTorch class |
//!
//! Validation happens in [`SchedulerConfig::build`] (or while parsing, for string-valued
//! arguments) with PyTorch's messages where PyTorch checks; where PyTorch accepts a value
//! that breaks its own arithmetic (a zero period, a zero factor, …) descent rejects it too,
//! and each such check says so in a comment.
//!
//! Momentum: one-cycle and cyclic (with `cycle_momentum`, PyTorch's default) also set the
//! optimizer's momentum (SGD's `momentum`, Adam's β₁) each step; [`Scheduler::momentum`]
//! gives the value for the coming step, to be written into the optimizer's
//! [`HyperParam`](crate::HyperParam).

pub mod bound;
pub mod chained;
pub mod constant;
pub mod cosine;
pub mod cosine_warm_restarts;
pub mod cyclic;
pub mod exponential;
pub mod lambda;
pub mod linear;
pub mod multistep;
pub mod onecycle;
pub mod plateau;
pub mod polynomial;
pub mod sequential;
pub mod step;

use std::sync::Arc;

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;
use burn::store::burn_pack::Scalar;
use serde::{Deserialize, Serialize};

pub use bound::BoundScheduler;
pub use chained::ChainedConfig;
pub use constant::ConstantConfig;
pub use cosine::CosineConfig;
pub use cosine_warm_restarts::CosineWarmRestartsConfig;
pub use cyclic::{CyclicConfig, CyclicMode, ScaleMode};
pub use exponential::ExponentialConfig;
pub use linear::LinearConfig;
pub use multistep::MultiStepConfig;
pub use onecycle::{AnnealStrategy, OneCycleConfig};
pub use plateau::{PlateauConfig, PlateauMode, ThresholdMode};
pub use polynomial::PolynomialConfig;
pub use sequential::SequentialConfig;
pub use step::StepConfig;

use crate::check::py_float;
use crate::OptimError;
use chained::Chained;
use cosine_warm_restarts::WarmRestarts;
use cyclic::Cyclic;
use lambda::LambdaFn;
use onecycle::OneCycle;
use plateau::Plateau;
use sequential::Sequential;

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
    Sequential(SequentialConfig),
    Chained(ChainedConfig),
}

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

    /// Whether the schedule is driven by a metric ([`Scheduler::step_metric`]).
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
            Self::Sequential(_) => "SequentialLR",
            Self::Chained(_) => "ChainedScheduler",
        }
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

// ---------------------------------------------------------------------------------------
// The machinery: a param group shared by a tree of PyTorch schedulers.

const RECORD_FORMAT: u64 = 1;

/// The optimizer's param group as PyTorch's schedulers see it: its lr and momentum, and the
/// entries schedulers store in it (`initial_lr`; one-cycle's `max_lr`, `min_lr`,
/// `max_momentum`, `base_momentum`). Sub-schedulers of a composite share it, as they share
/// the optimizer in PyTorch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub lr: f64,
    pub initial_lr: Option<f64>,
    /// `None`: the optimizer has no momentum term.
    pub momentum: Option<f64>,
    pub max_lr: Option<f64>,
    pub min_lr: Option<f64>,
    pub max_momentum: Option<f64>,
    pub base_momentum: Option<f64>,
}

impl Group {
    pub(crate) fn new(lr: f64, momentum: Option<f64>) -> Self {
        Self {
            lr,
            initial_lr: None,
            momentum,
            max_lr: None,
            min_lr: None,
            max_momentum: None,
            base_momentum: None,
        }
    }

    fn optional(&self) -> [(&'static str, Option<f64>); 6] {
        [
            ("initial_lr", self.initial_lr),
            ("momentum", self.momentum),
            ("max_lr", self.max_lr),
            ("min_lr", self.min_lr),
            ("max_momentum", self.max_momentum),
            ("base_momentum", self.base_momentum),
        ]
    }

    fn record(&self) -> LrSchedulerRecord {
        let mut r = LrSchedulerRecord::new().with_scalar("lr", self.lr);
        for (key, value) in self.optional() {
            if let Some(v) = value {
                r = r.with_scalar(key, v);
            }
        }
        r
    }

    fn load(&mut self, r: &LrSchedulerRecord) -> Result<(), OptimError> {
        for (key, value) in self.optional() {
            if value.is_some() != r.scalar::<f64>(key).is_some() {
                return Err(record_error(format!("param group entry `{key}` does not match")));
            }
        }
        self.lr = get(r, "lr")?;
        let slot = |k: &str| r.scalar::<f64>(k);
        self.initial_lr = slot("initial_lr");
        self.momentum = slot("momentum");
        self.max_lr = slot("max_lr");
        self.min_lr = slot("min_lr");
        self.max_momentum = slot("max_momentum");
        self.base_momentum = slot("base_momentum");
        Ok(())
    }
}

/// `LRScheduler`'s own state: `base_lrs[0]`, `last_epoch`, `_step_count`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Base {
    pub base_lr: f64,
    pub last_epoch: i64,
    pub step_count: i64,
}

/// The schedulers that follow `LRScheduler.step`: `get_lr()` normally, the closed form (or
/// `get_lr()` where there is none) for `step(0)`.
#[derive(Debug, Clone)]
pub(crate) enum Leaf {
    Constant(ConstantConfig),
    Step(StepConfig),
    MultiStep(MultiStepConfig),
    Exponential(ExponentialConfig),
    Cosine(CosineConfig),
    Linear(LinearConfig),
    Polynomial(PolynomialConfig),
    OneCycle(OneCycle),
    Cyclic(Cyclic),
    Lambda(LambdaFn),
}

impl Leaf {
    fn get_lr(&self, b: &Base, g: &mut Group) -> Result<f64, OptimError> {
        let (lr, e) = (g.lr, b.last_epoch);
        Ok(match self {
            Leaf::Constant(c) => c.chain_lr(lr, e),
            Leaf::Step(c) => c.chain_lr(lr, e),
            Leaf::MultiStep(c) => c.chain_lr(lr, e),
            Leaf::Exponential(c) => c.chain_lr(lr, e),
            Leaf::Cosine(c) => c.chain_lr(lr, b.base_lr, e, b.step_count),
            Leaf::Linear(c) => c.chain_lr(lr, e),
            Leaf::Polynomial(c) => c.chain_lr(lr, e),
            Leaf::OneCycle(o) => o.get_lr(e, g)?,
            Leaf::Cyclic(c) => c.get_lr(b.base_lr, e, g),
            Leaf::Lambda(f) => f.lr(b.base_lr, e),
        })
    }

    /// `_get_closed_form_lr`, for the classes that have one.
    fn closed_form(&self, b: &Base) -> Option<f64> {
        let (base, e) = (b.base_lr, b.last_epoch);
        match self {
            Leaf::Constant(c) => Some(c.closed_form_lr(base, e)),
            Leaf::Step(c) => Some(c.closed_form_lr(base, e)),
            Leaf::MultiStep(c) => Some(c.closed_form_lr(base, e)),
            Leaf::Exponential(c) => Some(c.closed_form_lr(base, e)),
            Leaf::Cosine(c) => Some(c.closed_form_lr(base, e)),
            Leaf::Linear(c) => Some(c.closed_form_lr(base, e)),
            Leaf::Polynomial(c) => Some(c.closed_form_lr(base, e)),
            Leaf::OneCycle(_) | Leaf::Cyclic(_) | Leaf::Lambda(_) => None,
        }
    }

    fn kind(&self) -> u64 {
        match self {
            Leaf::Constant(_) => 1,
            Leaf::Step(_) => 2,
            Leaf::MultiStep(_) => 3,
            Leaf::Exponential(_) => 4,
            Leaf::Cosine(_) => 5,
            Leaf::Linear(_) => 7,
            Leaf::Polynomial(_) => 8,
            Leaf::OneCycle(_) => 9,
            Leaf::Cyclic(_) => 10,
            Leaf::Lambda(_) => 14,
        }
    }
}

const KIND_WARM_RESTARTS: u64 = 6;
const KIND_PLATEAU: u64 = 11;
const KIND_SEQUENTIAL: u64 = 12;
const KIND_CHAINED: u64 = 13;

/// One PyTorch scheduler (possibly a composite of others).
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Leaf(Base, Leaf),
    WarmRestarts(Base, WarmRestarts),
    Plateau(Plateau),
    Sequential(Sequential),
    Chained(Chained),
}

impl Node {
    /// PyTorch's constructor for `config` on the param group `g` (which it may modify).
    pub(crate) fn build(config: &SchedulerConfig, g: &mut Group) -> Result<Node, OptimError> {
        use SchedulerConfig as C;
        match config {
            C::Constant(c) => {
                c.validate()?;
                Self::attach_leaf(g, Leaf::Constant(c.clone()))
            }
            C::Step(c) => {
                c.validate()?;
                Self::attach_leaf(g, Leaf::Step(c.clone()))
            }
            C::MultiStep(c) => {
                c.validate()?;
                Self::attach_leaf(g, Leaf::MultiStep(c.clone()))
            }
            C::Exponential(c) => {
                c.validate()?;
                Self::attach_leaf(g, Leaf::Exponential(c.clone()))
            }
            C::Cosine(c) => {
                c.validate()?;
                Self::attach_leaf(g, Leaf::Cosine(c.clone()))
            }
            C::Linear(c) => {
                c.validate()?;
                Self::attach_leaf(g, Leaf::Linear(c.clone()))
            }
            C::Polynomial(c) => {
                c.validate()?;
                Self::attach_leaf(g, Leaf::Polynomial(c.clone()))
            }
            C::OneCycle(c) => {
                c.validate(g.momentum)?;
                let oc = OneCycle::attach(c, g)?;
                Self::attach_leaf(g, Leaf::OneCycle(oc))
            }
            C::Cyclic(c) => {
                c.validate(g.momentum)?;
                Cyclic::attach(c, g);
                let mut node = Self::attach_leaf(g, Leaf::Cyclic(Cyclic::new(c)))?;
                // PyTorch sets `self.base_lrs = base_lrs` only after `super().__init__`, so
                // the construction step used the group's `initial_lr`.
                if let Node::Leaf(b, _) = &mut node {
                    b.base_lr = c.base_lr;
                }
                Ok(node)
            }
            C::CosineWarmRestarts(c) => {
                c.validate()?;
                let base_lr = *g.initial_lr.get_or_insert(g.lr);
                let mut node = Node::WarmRestarts(
                    Base { base_lr, last_epoch: -1, step_count: 0 },
                    WarmRestarts { config: c.clone(), t_i: c.t_0, t_cur: -1 },
                );
                node.initial_step(g)?;
                Ok(node)
            }
            C::Plateau(c) => {
                c.validate()?;
                Ok(Node::Plateau(Plateau::new(c)))
            }
            C::Sequential(c) => {
                let subs = c
                    .schedulers
                    .iter()
                    .map(|s| Node::build(s, g))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Node::Sequential(Sequential::new(c, subs, g)?))
            }
            C::Chained(c) => {
                let subs = c
                    .schedulers
                    .iter()
                    .map(|s| Node::build(s, g))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Node::Chained(Chained::new(subs)?))
            }
        }
    }

    /// `LRScheduler.__init__(optimizer, last_epoch=-1)`: `initial_lr` defaults to the current
    /// lr and becomes `base_lr`; then the construction step.
    pub(crate) fn attach_leaf(g: &mut Group, leaf: Leaf) -> Result<Node, OptimError> {
        let base_lr = *g.initial_lr.get_or_insert(g.lr);
        let mut node = Node::Leaf(Base { base_lr, last_epoch: -1, step_count: 0 }, leaf);
        node.initial_step(g)?;
        Ok(node)
    }

    /// `scheduler.step()` (`epoch0 = false`) or `scheduler.step(0)` (`epoch0 = true`, only
    /// from SequentialLR, whose sub-schedulers are never composites).
    pub(crate) fn step(&mut self, g: &mut Group, epoch0: bool) -> Result<(), OptimError> {
        match self {
            Node::Leaf(b, leaf) => {
                b.step_count += 1;
                let lr = if epoch0 {
                    b.last_epoch = 0;
                    match leaf.closed_form(b) {
                        Some(lr) => lr,
                        None => leaf.get_lr(b, g)?,
                    }
                } else {
                    b.last_epoch += 1;
                    leaf.get_lr(b, g)?
                };
                g.lr = lr;
            }
            Node::WarmRestarts(b, w) => {
                // CosineAnnealingWarmRestarts overrides step(); `_step_count` is untouched.
                if epoch0 || b.last_epoch < 0 {
                    w.t_i = w.config.t_0;
                    w.t_cur = 0;
                    b.last_epoch = 0;
                } else {
                    b.last_epoch += 1;
                    w.t_cur += 1;
                    if w.t_cur >= w.t_i {
                        w.t_cur -= w.t_i;
                        w.t_i = w.t_i.saturating_mul(w.config.t_mult);
                    }
                }
                g.lr = w.config.formula(b.base_lr, w.t_cur, w.t_i);
            }
            // No metric: nothing to do.
            Node::Plateau(_) => {}
            Node::Sequential(s) => s.step(g)?,
            Node::Chained(c) => c.step(g)?,
        }
        Ok(())
    }

    /// `_initial_step()`: `_step_count = 0`, then `step()`.
    pub(crate) fn initial_step(&mut self, g: &mut Group) -> Result<(), OptimError> {
        match self {
            Node::Leaf(b, _) | Node::WarmRestarts(b, _) => b.step_count = 0,
            _ => unreachable!("SequentialLR only re-initializes plain schedulers"),
        }
        self.step(g, false)
    }

    /// SequentialLR's `scheduler.last_epoch -= 1`.
    pub(crate) fn undo(&mut self) {
        match self {
            Node::Leaf(b, _) | Node::WarmRestarts(b, _) => b.last_epoch -= 1,
            _ => unreachable!("SequentialLR only holds plain schedulers"),
        }
    }

    fn last_epoch(&self) -> i64 {
        match self {
            Node::Leaf(b, _) | Node::WarmRestarts(b, _) => b.last_epoch,
            Node::Plateau(p) => p.last_epoch,
            Node::Sequential(s) => s.last_epoch,
            Node::Chained(c) => c.last_epoch,
        }
    }

    fn cycles_momentum(&self) -> bool {
        match self {
            Node::Leaf(_, Leaf::OneCycle(o)) => o.cycle_momentum,
            Node::Leaf(_, Leaf::Cyclic(c)) => c.momentum.is_some(),
            Node::Leaf(..) | Node::WarmRestarts(..) | Node::Plateau(_) => false,
            Node::Sequential(s) => s.schedulers.iter().any(Node::cycles_momentum),
            Node::Chained(c) => c.schedulers.iter().any(Node::cycles_momentum),
        }
    }

    fn kind(&self) -> u64 {
        match self {
            Node::Leaf(_, leaf) => leaf.kind(),
            Node::WarmRestarts(..) => KIND_WARM_RESTARTS,
            Node::Plateau(_) => KIND_PLATEAU,
            Node::Sequential(_) => KIND_SEQUENTIAL,
            Node::Chained(_) => KIND_CHAINED,
        }
    }

    fn record(&self) -> LrSchedulerRecord {
        let r = LrSchedulerRecord::new().with_scalar("kind", self.kind());
        let base = |r: LrSchedulerRecord, b: &Base| {
            r.with_scalar("base_lr", b.base_lr)
                .with_scalar("last_epoch", b.last_epoch)
                .with_scalar("step_count", b.step_count)
        };
        let children = |mut r: LrSchedulerRecord, subs: &[Node]| {
            r = r.with_scalar("len", subs.len() as u64);
            for (i, s) in subs.iter().enumerate() {
                r = r.with_record(&i.to_string(), s.record());
            }
            r
        };
        match self {
            Node::Leaf(b, _) => base(r, b),
            Node::WarmRestarts(b, w) => {
                base(r, b).with_scalar("T_i", w.t_i).with_scalar("T_cur", w.t_cur)
            }
            Node::Plateau(p) => r
                .with_scalar("best", p.best)
                .with_scalar("num_bad_epochs", p.num_bad_epochs as u64)
                .with_scalar("cooldown_counter", p.cooldown_counter as u64)
                .with_scalar("last_epoch", p.last_epoch),
            Node::Sequential(s) => {
                children(r.with_scalar("last_epoch", s.last_epoch), &s.schedulers)
            }
            Node::Chained(c) => children(r.with_scalar("last_epoch", c.last_epoch), &c.schedulers),
        }
    }

    fn load(&mut self, r: &LrSchedulerRecord) -> Result<(), OptimError> {
        let kind: u64 = get(r, "kind")?;
        if kind != self.kind() {
            return Err(record_error(format!(
                "saved scheduler kind {kind} is not this scheduler's kind {}",
                self.kind()
            )));
        }
        fn load_base(b: &mut Base, r: &LrSchedulerRecord) -> Result<(), OptimError> {
            b.base_lr = get(r, "base_lr")?;
            b.last_epoch = get(r, "last_epoch")?;
            b.step_count = get(r, "step_count")?;
            Ok(())
        }
        fn load_children(subs: &mut [Node], r: &LrSchedulerRecord) -> Result<(), OptimError> {
            let len: u64 = get(r, "len")?;
            if len != subs.len() as u64 {
                return Err(record_error(format!(
                    "{len} saved sub-schedulers, this scheduler has {}",
                    subs.len()
                )));
            }
            for (i, s) in subs.iter_mut().enumerate() {
                s.load(&r.record(&i.to_string()))?;
            }
            Ok(())
        }
        match self {
            Node::Leaf(b, _) => load_base(b, r)?,
            Node::WarmRestarts(b, w) => {
                load_base(b, r)?;
                w.t_i = get(r, "T_i")?;
                w.t_cur = get(r, "T_cur")?;
            }
            Node::Plateau(p) => {
                p.best = get(r, "best")?;
                p.num_bad_epochs = get(r, "num_bad_epochs")?;
                p.cooldown_counter = get(r, "cooldown_counter")?;
                p.last_epoch = get(r, "last_epoch")?;
            }
            Node::Sequential(s) => {
                s.last_epoch = get(r, "last_epoch")?;
                load_children(&mut s.schedulers, r)?;
            }
            Node::Chained(c) => {
                c.last_epoch = get(r, "last_epoch")?;
                load_children(&mut c.schedulers, r)?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Helpers.

fn record_error(msg: impl std::fmt::Display) -> OptimError {
    OptimError::invalid(format!(
        "scheduler record does not match this scheduler's configuration: {msg}"
    ))
}

fn get<V: TryFrom<Scalar>>(r: &LrSchedulerRecord, key: &str) -> Result<V, OptimError> {
    r.scalar::<V>(key).ok_or_else(|| record_error(format!("missing or mistyped entry `{key}`")))
}

/// PyTorch's message when a composite is given a ReduceLROnPlateau.
pub(crate) fn plateau_in_composite(class: &str, idx: usize) -> OptimError {
    OptimError::invalid(format!(
        "{class} does not support `ReduceLROnPlateau` scheduler as it requires additional \
         kwargs to be specified when calling `step`, but got one at index {idx} in the given \
         schedulers sequence."
    ))
}

/// Rejects NaN and ±inf (PyTorch does not check; they make every later lr NaN or inf).
pub(crate) fn check_finite(class: &str, name: &str, value: f64) -> Result<(), OptimError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(OptimError::invalid(format!(
            "{class} {name} must be a finite number, but got {}",
            py_float(value)
        )))
    }
}
