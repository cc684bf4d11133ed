//! The serde face of descent-optim: `[optimizer] kind = "adam", lr = …` in a trainer config
//! becomes an [`OptimizerConfig`], and [`OptimizerConfig::build`] a ready Burn optimizer.
//!
//! `kind` is torch's class name in lower case: `sgd`, `adam`, `adamw`, `rmsprop`, `adagrad`,
//! `adadelta`, `adamax`, `nadam`, `radam`, `asgd`, `rprop`, `adafactor`, `muon`, `lbfgs`, plus `lion`
//! and the `schedulefree` package's `sgd_schedule_free` / `adamw_schedule_free`.
//!
//! `lbfgs` is closure-driven ([`Lbfgs::step`](crate::Lbfgs::step)), not a per-tensor Burn
//! optimizer: [`OptimizerConfig::build`] refuses it with an error that says so.

use burn::optim::{ModuleOptimizer, Optimizer};
use serde::{Deserialize, Serialize};

use crate::adadelta::AdadeltaConfig;
use crate::adafactor::AdafactorConfig;
use crate::adagrad::AdagradConfig;
use crate::adam::AdamConfig;
use crate::adamax::AdamaxConfig;
use crate::adamw::AdamWConfig;
use crate::asgd::AsgdConfig;
use crate::adamw_schedule_free::AdamWScheduleFreeConfig;
use crate::error::OptimError;
use crate::hyper::HyperParam;
use crate::lbfgs::LbfgsConfig;
use crate::lion::LionConfig;
use crate::muon::MuonConfig;
use crate::nadam::NAdamConfig;
use crate::radam::RAdamConfig;
use crate::rmsprop::RmsPropConfig;
use crate::rprop::RpropConfig;
use crate::schedule_free::ScheduleFreeMode;
use crate::sgd::SgdConfig;
use crate::sgd_schedule_free::SgdScheduleFreeConfig;

/// Every optimizer descent offers, tagged by `kind`; keys are torch.optim's argument names.
///
/// ```
/// use descent_optim::OptimizerConfig;
/// let config: OptimizerConfig =
///     serde_json::from_str(r#"{"kind": "adamw", "lr": 3e-4, "weight_decay": 0.1}"#).unwrap();
/// let built = config.build()?; // torch's checks, then a Burn ModuleOptimizer
/// assert_eq!(built.lr, 3e-4);
/// assert_eq!(built.momentum.unwrap().get(), 0.9); // β₁, for cycling schedules
/// # Ok::<(), descent_optim::OptimError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerConfig {
    Sgd(SgdConfig),
    Adam(AdamConfig),
    #[serde(rename = "adamw")]
    AdamW(AdamWConfig),
    #[serde(rename = "rmsprop")]
    RmsProp(RmsPropConfig),
    Adagrad(AdagradConfig),
    Adadelta(AdadeltaConfig),
    Adamax(AdamaxConfig),
    #[serde(rename = "nadam")]
    NAdam(NAdamConfig),
    #[serde(rename = "radam")]
    RAdam(RAdamConfig),
    Lion(LionConfig),
    Asgd(AsgdConfig),
    Rprop(RpropConfig),
    Adafactor(AdafactorConfig),
    Muon(MuonConfig),
    /// torch.optim.LBFGS: closure-driven, see [`OptimizerConfig::build`].
    Lbfgs(LbfgsConfig),
    SgdScheduleFree(SgdScheduleFreeConfig),
    #[serde(rename = "adamw_schedule_free")]
    AdamWScheduleFree(AdamWScheduleFreeConfig),
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::Sgd(SgdConfig::default())
    }
}

/// What to do with a freshly built optimizer of whatever kind (see
/// [`OptimizerConfig::with_built`]): make it a whole-module optimizer, add it as a parameter
/// group, …
pub trait WithOptimizer {
    type Out;
    fn apply<O: Optimizer>(self, optimizer: O, momentum: Option<HyperParam>) -> Self::Out;
}

/// A built optimizer with the knobs a schedule may turn between steps.
#[derive(Clone)]
pub struct BuiltOptimizer {
    pub optimizer: ModuleOptimizer,
    /// The configured (initial) learning rate.
    pub lr: f64,
    /// The momentum (SGD, RMSprop, Muon) or β₁ (Adam family, Lion) that cycling schedules set,
    /// as torch's one-cycle sets `momentum` or `betas[0]`; `None` when the optimizer has no such
    /// term (Adagrad, Adadelta, ASGD, Rprop, Adafactor).
    pub momentum: Option<HyperParam>,
    /// The train / eval switch of a schedule-free optimizer (`None` for the others): the
    /// parameters it steps are y, and [`eval`](crate::schedule_free::eval) gives x.
    pub schedule_free: Option<ScheduleFreeMode>,
}

impl OptimizerConfig {
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd(c) => c.lr,
            OptimizerConfig::Adam(c) => c.lr,
            OptimizerConfig::AdamW(c) => c.lr,
            OptimizerConfig::RmsProp(c) => c.lr,
            OptimizerConfig::Adagrad(c) => c.lr,
            OptimizerConfig::Adadelta(c) => c.lr,
            OptimizerConfig::Adamax(c) => c.lr,
            OptimizerConfig::NAdam(c) => c.lr,
            OptimizerConfig::RAdam(c) => c.lr,
            OptimizerConfig::Lion(c) => c.lr,
            OptimizerConfig::Asgd(c) => c.lr,
            OptimizerConfig::Rprop(c) => c.lr,
            OptimizerConfig::Adafactor(c) => c.lr,
            OptimizerConfig::Muon(c) => c.lr,
            OptimizerConfig::Lbfgs(c) => c.lr,
            OptimizerConfig::SgdScheduleFree(c) => c.lr,
            OptimizerConfig::AdamWScheduleFree(c) => c.lr,
        }
    }

    /// torch's checks, then the whole-module Burn optimizer. An error for `lbfgs`, which is
    /// driven by a closure ([`LbfgsConfig::build`] → [`Lbfgs::step`](crate::Lbfgs::step)).
    pub fn build(&self) -> Result<BuiltOptimizer, OptimError> {
        struct Whole(f64);
        impl WithOptimizer for Whole {
            type Out = BuiltOptimizer;
            fn apply<O: Optimizer>(self, optimizer: O, momentum: Option<HyperParam>) -> BuiltOptimizer {
                BuiltOptimizer { optimizer: optimizer.into(), lr: self.0, momentum, schedule_free: None }
            }
        }
        let lr = self.lr();
        let with_mode = |optimizer: ModuleOptimizer, mode| BuiltOptimizer { optimizer, lr, momentum: None, schedule_free: Some(mode) };
        match self {
            OptimizerConfig::SgdScheduleFree(c) => {
                let o = c.build()?;
                let mode = o.mode();
                Ok(with_mode(o.into(), mode))
            }
            OptimizerConfig::AdamWScheduleFree(c) => {
                let o = c.build()?;
                let mode = o.mode();
                Ok(with_mode(o.into(), mode))
            }
            _ => self.with_built(Whole(lr)),
        }
    }

    /// Builds the concrete optimizer of this kind (checking its arguments) and hands it, with
    /// its momentum / β₁ handle, to `w`: the one place that matches on the kind.
    pub fn with_built<W: WithOptimizer>(&self, w: W) -> Result<W::Out, OptimError> {
        Ok(match self {
            OptimizerConfig::Sgd(c) => {
                let o = c.build()?;
                let m = o.momentum();
                w.apply(o, Some(m))
            }
            OptimizerConfig::Adam(c) => {
                let o = c.build()?;
                let m = o.beta1();
                w.apply(o, Some(m))
            }
            OptimizerConfig::AdamW(c) => {
                let o = c.build()?;
                let m = o.beta1();
                w.apply(o, Some(m))
            }
            OptimizerConfig::RmsProp(c) => {
                let o = c.build()?;
                let m = o.momentum();
                w.apply(o, Some(m))
            }
            OptimizerConfig::Adagrad(c) => w.apply(c.build()?, None),
            OptimizerConfig::Adadelta(c) => w.apply(c.build()?, None),
            OptimizerConfig::Adamax(c) => {
                let o = c.build()?;
                let m = o.beta1();
                w.apply(o, Some(m))
            }
            OptimizerConfig::NAdam(c) => {
                let o = c.build()?;
                let m = o.beta1();
                w.apply(o, Some(m))
            }
            OptimizerConfig::RAdam(c) => {
                let o = c.build()?;
                let m = o.beta1();
                w.apply(o, Some(m))
            }
            OptimizerConfig::Lion(c) => {
                let o = c.build()?;
                let m = o.beta1();
                w.apply(o, Some(m))
            }
            OptimizerConfig::Asgd(c) => w.apply(c.build()?, None),
            OptimizerConfig::Rprop(c) => w.apply(c.build()?, None),
            OptimizerConfig::Adafactor(c) => w.apply(c.build()?, None),
            OptimizerConfig::Muon(c) => {
                let o = c.build()?;
                let m = o.momentum();
                w.apply(o, Some(m))
            }
            OptimizerConfig::Lbfgs(c) => {
                c.validate()?;
                return Err(OptimError::invalid(LBFGS_IS_NO_MODULE_OPTIMIZER));
            }
            OptimizerConfig::SgdScheduleFree(c) => w.apply(c.build()?, None),
            OptimizerConfig::AdamWScheduleFree(c) => w.apply(c.build()?, None),
        })
    }
}

/// Why `lbfgs` has no [`ModuleOptimizer`].
pub const LBFGS_IS_NO_MODULE_OPTIMIZER: &str = "LBFGS is not a per-parameter Burn optimizer: it needs a closure that \
re-evaluates the loss (build it with LbfgsConfig::build and call Lbfgs::step)";
