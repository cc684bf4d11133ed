//! `[averaging]`: keep an average of the weights while training (PyTorch's
//! `torch.optim.swa_utils.AveragedModel`), see [`descent_optim::averaging`].
//!
//! ```toml
//! [averaging]
//! kind = "ema"          # or "swa"
//! decay = 0.999         # ema only: avg ← avg + (1 − decay)·(θ − avg)  (torch's default)
//! every = "step"        # update after each optimizer step, or "epoch": after each epoch
//! start_epoch = 1       # the first epoch whose updates count (its first update copies θ)
//! ```

use descent_optim::averaging::AvgFn;
use serde::{Deserialize, Serialize};

/// `kind`: which average.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AveragingKind {
    /// Exponential moving average, `get_ema_multi_avg_fn(decay)`.
    Ema,
    /// Stochastic weight averaging (the running mean), `get_swa_multi_avg_fn()`.
    Swa,
}

/// `every`: when the average takes the model's weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AveragingEvery {
    /// After each optimizer step.
    #[default]
    Step,
    /// After each epoch's last step.
    Epoch,
}

fn one() -> usize {
    1
}

/// `[averaging]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AveragingSection {
    pub kind: AveragingKind,
    /// EMA only; torch's default 0.999.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decay: Option<f64>,
    #[serde(default)]
    pub every: AveragingEvery,
    /// The first epoch (from 1) whose updates count.
    #[serde(default = "one")]
    pub start_epoch: usize,
}

/// torch's `get_ema_multi_avg_fn` default.
pub const DEFAULT_DECAY: f64 = 0.999;

impl AveragingSection {
    /// The update function; checks the keys against the run's `epochs`.
    pub fn avg_fn(&self, epochs: usize) -> Result<AvgFn, String> {
        if self.start_epoch == 0 {
            return Err("[averaging] start_epoch counts epochs from 1, got 0".into());
        }
        if self.start_epoch > epochs {
            return Err(format!(
                "[averaging] start_epoch = {} is after the last epoch (epochs = {epochs}): the average would never be updated",
                self.start_epoch
            ));
        }
        match (self.kind, self.decay) {
            (AveragingKind::Swa, Some(_)) => {
                Err("[averaging] decay applies to kind = \"ema\" only (swa is the plain running mean)".into())
            }
            (AveragingKind::Swa, None) => Ok(AvgFn::Swa),
            (AveragingKind::Ema, decay) => {
                let decay = decay.unwrap_or(DEFAULT_DECAY);
                AvgFn::ema(decay).map_err(|_| format!("[averaging] decay must be in [0, 1], got {decay}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(toml: &str) -> AveragingSection {
        toml::from_str(toml).unwrap()
    }

    #[test]
    fn defaults_are_torchs() {
        let s = section("kind = \"ema\"");
        assert_eq!((s.every, s.start_epoch, s.decay), (AveragingEvery::Step, 1, None));
        assert_eq!(s.avg_fn(1).unwrap(), AvgFn::Ema { decay: 0.999 });
        assert_eq!(section("kind = \"swa\"\nevery = \"epoch\"").avg_fn(3).unwrap(), AvgFn::Swa);
        assert_eq!(section("kind = \"ema\"\ndecay = 0.0").avg_fn(1).unwrap(), AvgFn::Ema { decay: 0.0 });
    }

    #[test]
    fn bad_values_give_one_line_naming_the_key() {
        let err = |t: &str, epochs| section(t).avg_fn(epochs).unwrap_err();
        assert_eq!(err("kind = \"ema\"\ndecay = 1.5", 1), "[averaging] decay must be in [0, 1], got 1.5");
        assert!(err("kind = \"ema\"\ndecay = nan", 1).contains("got NaN"));
        assert!(err("kind = \"swa\"\ndecay = 0.9", 1).contains("decay applies to kind = \"ema\" only"));
        assert!(err("kind = \"swa\"\nstart_epoch = 4", 3).contains("start_epoch = 4 is after the last epoch (epochs = 3)"));
        assert!(err("kind = \"swa\"\nstart_epoch = 0", 3).contains("counts epochs from 1"));
        assert!(toml::from_str::<AveragingSection>("kind = \"swa\"\nevery = \"batch\"").is_err());
    }
}
