//! A [`Scheduler`] bound to its optimizer's momentum, for loops that only pass an lr.
//!
//! Burn's [`LrScheduler`] — what burn-train's `Learner` drives — hands the optimizer nothing
//! but an lr. One-cycle and cyclic schedules also set the momentum (SGD's μ, Adam's β₁) for
//! every step, as PyTorch's write `param_groups[0]['momentum']`. A [`BoundScheduler`] does
//! that in the same `LrScheduler::step()`: it writes the coming step's momentum into the
//! optimizer's [`HyperParam`], then returns the coming step's lr, so the optimizer step that
//! follows uses both. For schedules that leave the momentum alone it is the plain
//! [`Scheduler`].
//!
//! ```
//! use burn::lr_scheduler::LrScheduler;
//! use descent_optim::schedule::{OneCycleConfig, SchedulerConfig};
//! use descent_optim::{OptimizerConfig, SgdConfig};
//! let optim = OptimizerConfig::Sgd(SgdConfig::new(0.1).with_momentum(0.9)).build()?;
//! let mut bound = SchedulerConfig::OneCycle(OneCycleConfig::new(1.0, 10)).build_for(&optim)?;
//! let lr = LrScheduler::step(&mut bound);
//! assert!((lr - 0.04).abs() < 1e-12);
//! assert_eq!(optim.momentum.unwrap().get(), 0.95);
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::LearningRate;

use super::{Scheduler, SchedulerConfig};
use crate::config::BuiltOptimizer;
use crate::error::OptimError;
use crate::hyper::HyperParam;

/// See the [module docs](self).
#[derive(Clone, Debug)]
pub struct BoundScheduler {
    scheduler: Scheduler,
    momentum: Option<HyperParam>,
}

impl BoundScheduler {
    /// The schedule itself: its `lr()` and `momentum()` are those of the coming step.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }
}

impl Scheduler {
    /// Bind this schedule to an optimizer's momentum knob (`None`: nothing to write).
    pub fn bind_momentum(self, momentum: Option<HyperParam>) -> BoundScheduler {
        BoundScheduler { scheduler: self, momentum }
    }
}

impl SchedulerConfig {
    /// [`build`](Self::build) on `optimizer`'s lr and momentum, bound to its momentum knob:
    /// ready for burn-train's `Learner::new(model, optimizer.optimizer, scheduler)`.
    pub fn build_for(&self, optimizer: &BuiltOptimizer) -> Result<BoundScheduler, OptimError> {
        let scheduler = self.build(optimizer.lr, optimizer.momentum.as_ref().map(HyperParam::get))?;
        Ok(scheduler.bind_momentum(optimizer.momentum.clone()))
    }
}

impl LrScheduler for BoundScheduler {
    /// Writes the coming step's momentum (if the schedule cycles it), then returns the coming
    /// step's lr and advances, as [`Scheduler`]'s `LrScheduler::step`.
    fn step(&mut self) -> LearningRate {
        if let (Some(m), Some(knob)) = (self.scheduler.momentum(), self.momentum.as_ref()) {
            knob.set(m);
        }
        LrScheduler::step(&mut self.scheduler)
    }

    fn to_record(&self) -> LrSchedulerRecord {
        self.scheduler.to_record()
    }

    /// # Panics
    /// As [`Scheduler`]'s `load_record`, if the record is from another configuration.
    fn load_record(&mut self, record: LrSchedulerRecord) {
        self.scheduler.load_record(record)
    }
}

#[cfg(test)]
mod tests {
    use burn::lr_scheduler::LrScheduler;

    use crate::config::OptimizerConfig;
    use crate::schedule::{table, OneCycleConfig, SchedulerConfig};
    use crate::sgd::SgdConfig;

    /// Each Burn `step()` returns the lr of PyTorch's step k and has just written step k's
    /// momentum into the optimizer: the pairs `table` gives.
    #[test]
    fn writes_each_steps_momentum_before_returning_its_lr() {
        let sgd = OptimizerConfig::Sgd(SgdConfig::new(0.1).with_momentum(0.9));
        let built = sgd.build().unwrap();
        let knob = built.momentum.clone().unwrap();
        let config = SchedulerConfig::OneCycle(OneCycleConfig::new(0.5, 10));
        let expected = table(&config, built.lr, Some(0.9), 10).unwrap();
        let mut bound = config.build_for(&built).unwrap();
        for (k, lr, momentum) in expected {
            let got = LrScheduler::step(&mut bound);
            assert_eq!(got, lr, "lr of step {k}");
            assert_eq!(Some(knob.get()), momentum, "momentum of step {k}");
        }
        // The cycle is cosine-shaped: lr rises from 0.02 to 0.5, momentum falls from 0.95.
        let first = table(&config, 0.1, Some(0.9), 1).unwrap()[0];
        assert!((first.1 - 0.02).abs() < 1e-15 && first.2 == Some(0.95), "{first:?}");
    }
}
