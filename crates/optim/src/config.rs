//! The serde face of descent-optim: `[optimizer] kind = "sgd", lr = …` in a trainer config
//! becomes an [`OptimizerConfig`], and [`OptimizerConfig::build`] a ready Burn optimizer.

use burn::optim::ModuleOptimizer;
use serde::{Deserialize, Serialize};

use crate::{HyperParam, OptimError, SgdConfig};

/// Every optimizer descent offers, tagged by `kind`; keys are torch.optim's argument names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerConfig {
    Sgd(SgdConfig),
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::Sgd(SgdConfig::default())
    }
}

/// A built optimizer with the knobs a schedule may turn between steps.
#[derive(Clone)]
pub struct BuiltOptimizer {
    pub optimizer: ModuleOptimizer,
    /// The configured (initial) learning rate.
    pub lr: f64,
    /// The momentum (SGD) or β₁ (Adam family) that cycling schedules set; `None` when the
    /// optimizer has no such term.
    pub momentum: Option<HyperParam>,
}

impl OptimizerConfig {
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd(c) => c.lr,
        }
    }

    pub fn build(&self) -> Result<BuiltOptimizer, OptimError> {
        match self {
            OptimizerConfig::Sgd(c) => {
                let sgd = c.build()?;
                let momentum = Some(sgd.momentum());
                Ok(BuiltOptimizer { optimizer: sgd.into(), lr: c.lr, momentum })
            }
        }
    }
}
