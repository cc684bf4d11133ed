//! The chaining tree: one node per PyTorch scheduler, composites (SequentialLR,
//! ChainedScheduler) holding their sub-schedulers, all acting on one shared [`Group`].

use super::config::{SchedulerConfig, SequentialConfig};
use super::cosine_warm_restarts::WarmRestarts;
use super::cyclic::Cyclic;
use super::group::Group;
use super::lambda::LambdaFn;
use super::onecycle::OneCycle;
use super::plateau::Plateau;
use super::constant::ConstantConfig;
use super::cosine::CosineConfig;
use super::exponential::ExponentialConfig;
use super::linear::LinearConfig;
use super::multiplicative;
use super::multistep::MultiStepConfig;
use super::polynomial::PolynomialConfig;
use super::step::StepConfig;
use super::swalr::SwalrConfig;
use crate::error::OptimError;

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
    Multiplicative(LambdaFn),
    Swalr(SwalrConfig),
}

impl Leaf {
    /// `initial`: PyTorch's `_is_initial`, true only in the construction step.
    fn get_lr(&self, b: &Base, g: &mut Group, initial: bool) -> Result<f64, OptimError> {
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
            Leaf::Multiplicative(f) => multiplicative::chain_lr(f, lr, e, initial),
            Leaf::Swalr(c) => c.chain_lr(lr, b.step_count),
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
            Leaf::OneCycle(_)
            | Leaf::Cyclic(_)
            | Leaf::Lambda(_)
            | Leaf::Multiplicative(_)
            | Leaf::Swalr(_) => None,
        }
    }

    pub(crate) fn kind(&self) -> u64 {
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
            Leaf::Multiplicative(_) => 15,
            Leaf::Swalr(_) => 16,
        }
    }
}

pub(crate) const KIND_WARM_RESTARTS: u64 = 6;
pub(crate) const KIND_PLATEAU: u64 = 11;
pub(crate) const KIND_SEQUENTIAL: u64 = 12;
pub(crate) const KIND_CHAINED: u64 = 13;

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
            C::Constant(c) => Self::checked_leaf(g, c.validate(), Leaf::Constant(c.clone())),
            C::Step(c) => Self::checked_leaf(g, c.validate(), Leaf::Step(c.clone())),
            C::MultiStep(c) => Self::checked_leaf(g, c.validate(), Leaf::MultiStep(c.clone())),
            C::Exponential(c) => Self::checked_leaf(g, c.validate(), Leaf::Exponential(c.clone())),
            C::Cosine(c) => Self::checked_leaf(g, c.validate(), Leaf::Cosine(c.clone())),
            C::Linear(c) => Self::checked_leaf(g, c.validate(), Leaf::Linear(c.clone())),
            C::Polynomial(c) => Self::checked_leaf(g, c.validate(), Leaf::Polynomial(c.clone())),
            C::Multiplicative(c) => Self::checked_leaf(g, c.validate(), Leaf::Multiplicative(c.lambda())),
            C::Swalr(c) => Self::checked_leaf(g, c.validate(), Leaf::Swalr(c.clone())),
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

    /// [`attach_leaf`](Self::attach_leaf) once the config's own checks passed.
    fn checked_leaf(g: &mut Group, checks: Result<(), OptimError>, leaf: Leaf) -> Result<Node, OptimError> {
        checks?;
        Self::attach_leaf(g, leaf)
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
                // PyTorch 2.15's SequentialLR calls `_update_lr(0)`, which leaves
                // `_step_count` alone (2.5's `step(0)` counted it; of the schedulers here
                // only SWALR reads the count at that point).
                if !epoch0 {
                    b.step_count += 1;
                }
                let lr = if epoch0 {
                    b.last_epoch = 0;
                    match leaf.closed_form(b) {
                        Some(lr) => lr,
                        None => leaf.get_lr(b, g, false)?,
                    }
                } else {
                    b.last_epoch += 1;
                    leaf.get_lr(b, g, b.step_count == 1)?
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

    pub(crate) fn last_epoch(&self) -> i64 {
        match self {
            Node::Leaf(b, _) | Node::WarmRestarts(b, _) => b.last_epoch,
            Node::Plateau(p) => p.last_epoch,
            Node::Sequential(s) => s.last_epoch,
            Node::Chained(c) => c.last_epoch,
        }
    }

    pub(crate) fn cycles_momentum(&self) -> bool {
        match self {
            Node::Leaf(_, Leaf::OneCycle(o)) => o.cycle_momentum,
            Node::Leaf(_, Leaf::Cyclic(c)) => c.momentum.is_some(),
            Node::Leaf(..) | Node::WarmRestarts(..) | Node::Plateau(_) => false,
            Node::Sequential(s) => s.schedulers.iter().any(Node::cycles_momentum),
            Node::Chained(c) => c.schedulers.iter().any(Node::cycles_momentum),
        }
    }

}

/// PyTorch's message when a composite is given a ReduceLROnPlateau.
pub(crate) fn plateau_in_composite(class: &str, idx: usize) -> OptimError {
    OptimError::invalid(format!(
        "{class} does not support `ReduceLROnPlateau` scheduler as it requires additional \
         kwargs to be specified when calling `step`, but got one at index {idx} in the given \
         schedulers sequence."
    ))
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
                return Err(plateau_in_composite(NAME, idx));
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
                return Err(plateau_in_composite(NAME, idx));
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
