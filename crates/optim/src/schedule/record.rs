//! Schedule state records: every counter, the shared group's entries and each
//! sub-scheduler's state, so a resumed schedule continues bit for bit.

use burn::lr_scheduler::LrSchedulerRecord;

use super::group::Group;
use super::tree::{Base, Node, KIND_CHAINED, KIND_PLATEAU, KIND_SEQUENTIAL, KIND_WARM_RESTARTS};
use crate::error::OptimError;

pub(crate) const RECORD_FORMAT: u64 = 1;

impl Group {
    pub(crate) fn record(&self) -> LrSchedulerRecord {
        let mut r = LrSchedulerRecord::new().with_scalar("lr", self.lr);
        for (key, value) in self.optional() {
            if let Some(v) = value {
                r = r.with_scalar(key, v);
            }
        }
        r
    }

    pub(crate) fn load(&mut self, r: &LrSchedulerRecord) -> Result<(), OptimError> {
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

impl Node {
    fn kind(&self) -> u64 {
        match self {
            Node::Leaf(_, leaf) => leaf.kind(),
            Node::WarmRestarts(..) => KIND_WARM_RESTARTS,
            Node::Plateau(_) => KIND_PLATEAU,
            Node::Sequential(_) => KIND_SEQUENTIAL,
            Node::Chained(_) => KIND_CHAINED,
        }
    }

    pub(crate) fn record(&self) -> LrSchedulerRecord {
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

    pub(crate) fn load(&mut self, r: &LrSchedulerRecord) -> Result<(), OptimError> {
        let kind: u64 = get(r, "kind")?;
        if kind != self.kind() {
            return Err(record_error(format!(
                "saved scheduler kind {kind} is not this scheduler's kind {}",
                self.kind()
            )));
        }
        pub(crate) fn load_base(b: &mut Base, r: &LrSchedulerRecord) -> Result<(), OptimError> {
            b.base_lr = get(r, "base_lr")?;
            b.last_epoch = get(r, "last_epoch")?;
            b.step_count = get(r, "step_count")?;
            Ok(())
        }
        pub(crate) fn load_children(subs: &mut [Node], r: &LrSchedulerRecord) -> Result<(), OptimError> {
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

pub(crate) fn record_error(msg: impl std::fmt::Display) -> OptimError {
    OptimError::invalid(format!("scheduler record does not match this scheduler's configuration: {msg}"))
}

/// A record scalar of the type the field has (burn_pack's `Scalar` converts to each).
pub(crate) trait Entry: Sized {
    fn read(r: &LrSchedulerRecord, key: &str) -> Option<Self>;
}

macro_rules! entry {
    ($($t:ty),*) => {$(
        impl Entry for $t {
            fn read(r: &LrSchedulerRecord, key: &str) -> Option<Self> {
                r.scalar::<$t>(key)
            }
        }
    )*};
}
entry!(f64, i64, u64, usize);

pub(crate) fn get<V: Entry>(r: &LrSchedulerRecord, key: &str) -> Result<V, OptimError> {
    V::read(r, key).ok_or_else(|| record_error(format!("missing or mistyped entry `{key}`")))
}
