//! `[optimizer]` (with clipping and parameter groups) and `[scheduler]`: descent-optim's
//! configs, with the trainer's own keys taken out first so the optimizer and the schedule
//! keep rejecting unknown keys (serde's `flatten` would silently accept them).

use descent_optim::schedule::SchedulerConfig;
use descent_optim::{NormType, OptimizerConfig};
use serde::{Deserialize, Serialize};

use super::Interval;

/// `[scheduler]`: `interval` plus one of descent-optim's schedules (keys as PyTorch's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchedulerSection {
    pub interval: Interval,
    #[serde(flatten)]
    pub schedule: SchedulerConfig,
}

impl<'de> Deserialize<'de> for SchedulerSection {
    /// `interval` is taken out first so the schedule itself keeps rejecting unknown keys
    /// (serde's `flatten` would silently accept them).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(d)?;
        let interval = match table.remove("interval") {
            None => Interval::default(),
            Some(v) => Interval::deserialize(v).map_err(|e| D::Error::custom(format!("[scheduler] interval: {e}")))?,
        };
        let schedule = SchedulerConfig::deserialize(toml::Value::Table(table))
            .map_err(|e| D::Error::custom(format!("[scheduler] {}", e.message().trim())))?;
        Ok(Self { interval, schedule })
    }
}

/// `[optimizer]`: one of descent-optim's optimizers (keys as torch.optim's), plus what torch
/// does around `optimizer.step()`: gradient clipping (`clip_grad_norm` with `norm_type` and
/// `error_if_nonfinite`, as `torch.nn.utils.clip_grad_norm_`; or `clip_grad_value`) and
/// parameter groups (`[[optimizer.groups]]`, see [`GroupSection`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OptimizerSection {
    #[serde(flatten)]
    pub config: OptimizerConfig,
    pub clip_grad_norm: Option<f64>,
    pub norm_type: NormType,
    pub error_if_nonfinite: bool,
    pub clip_grad_value: Option<f64>,
    pub groups: Vec<GroupSection>,
}

/// `[[optimizer.groups]]`: the parameters whose path (`layers.0.bias`) matches the regex
/// `params` get the base optimizer's keys with these overridden — torch's param_groups.
/// A group that sets `kind` runs that optimizer instead, with only its own keys and that
/// kind's defaults (nothing is taken from the base), and its own copy of the lr schedule
/// from its lr — as two torch optimizers side by side, e.g. Muon for the weight matrices and
/// AdamW for the rest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSection {
    pub params: String,
    /// The keys this group overrides (with `kind`: all of its keys).
    pub overrides: toml::Table,
    /// The base config with the overrides applied, or the group's own kind.
    #[serde(skip)]
    pub config: OptimizerConfig,
}

impl GroupSection {
    /// The group runs an optimizer kind of its own (it set `kind`).
    pub fn own_kind(&self) -> bool {
        self.overrides.contains_key("kind")
    }

    /// The group steps with its own lr: it set `lr`, or runs its own kind.
    pub fn own_lr(&self) -> bool {
        self.own_kind() || self.overrides.contains_key("lr")
    }
}

/// Keys of `[optimizer]` that belong to the trainer rather than to the optimizer itself.
pub(super) const OPTIMIZER_EXTRAS: [&str; 5] = ["clip_grad_norm", "norm_type", "error_if_nonfinite", "clip_grad_value", "groups"];

impl OptimizerSection {
    pub fn lr(&self) -> f64 {
        self.config.lr()
    }

    fn from_table(mut table: toml::Table) -> Result<Self, String> {
        fn take<T: serde::de::DeserializeOwned>(t: &mut toml::Table, key: &str) -> Result<Option<T>, String> {
            t.remove(key).map(|v| T::deserialize(v).map_err(|e| format!("[optimizer] {key}: {}", e.message().trim()))).transpose()
        }
        let clip_grad_norm = take::<f64>(&mut table, "clip_grad_norm")?;
        let norm_type = take::<NormType>(&mut table, "norm_type")?.unwrap_or_default();
        let error_if_nonfinite = take::<bool>(&mut table, "error_if_nonfinite")?.unwrap_or(false);
        let clip_grad_value = take::<f64>(&mut table, "clip_grad_value")?;
        let raw_groups = take::<Vec<toml::Table>>(&mut table, "groups")?.unwrap_or_default();
        let config = OptimizerConfig::deserialize(toml::Value::Table(table.clone()))
            .map_err(|e| format!("[optimizer] {}", e.message().trim()))?;
        let mut groups = Vec::with_capacity(raw_groups.len());
        for (i, mut g) in raw_groups.into_iter().enumerate() {
            let at = format!("[[optimizer.groups]] #{}", i + 1);
            let params = match g.remove("params") {
                Some(toml::Value::String(p)) => p,
                Some(other) => return Err(format!("{at}: params must be a string (a regex over parameter paths such as `layers.0.bias`), got a {}", other.type_str())),
                None => return Err(format!("{at}: needs params = \"<regex>\" (e.g. \"bias$\")")),
            };
            if let Some(k) = g.keys().find(|k| OPTIMIZER_EXTRAS.contains(&k.as_str())) {
                return Err(format!("{at}: `{k}` applies to the whole model; set it in [optimizer]"));
            }
            // With its own kind a group is a whole optimizer config; else it overrides the base.
            let mut merged = if g.contains_key("kind") { toml::Table::new() } else { table.clone() };
            merged.extend(g.clone());
            let config = OptimizerConfig::deserialize(toml::Value::Table(merged)).map_err(|e| format!("{at}: {}", e.message().trim()))?;
            groups.push(GroupSection { params, overrides: g, config });
        }
        Ok(Self { config, clip_grad_norm, norm_type, error_if_nonfinite, clip_grad_value, groups })
    }

    /// Checks every argument and returns the built base optimizer.
    pub(super) fn validate(&self) -> Result<descent_optim::BuiltOptimizer, String> {
        // NaN gets torch's own message from the optimizer's checks below.
        if self.lr().is_infinite() {
            return Err(format!("[optimizer] lr must be a finite number, got {}", self.lr()));
        }
        self.refuse_unsupported()?;
        let (built, _) = crate::step::build_base(&self.config).map_err(|e| format!("[optimizer] {e}"))?;
        for (i, g) in self.groups.iter().enumerate() {
            let at = format!("[[optimizer.groups]] #{}", i + 1);
            descent_optim::param_group(&g.params).map_err(|e| format!("{at}: {e}"))?;
            if g.config.lr().is_infinite() {
                return Err(format!("{at}: lr must be a finite number, got {}", g.config.lr()));
            }
            g.config.build().map_err(|e| format!("{at}: {e}"))?;
        }
        match (self.clip_grad_norm, self.clip_grad_value) {
            (Some(_), Some(_)) => return Err("[optimizer] give either clip_grad_norm or clip_grad_value, not both".into()),
            (Some(m), None) if !(m > 0.0) || !m.is_finite() => {
                return Err(format!("[optimizer] clip_grad_norm must be a finite number > 0, got {m}"))
            }
            (None, Some(v)) if !(v > 0.0) || !v.is_finite() => {
                return Err(format!("[optimizer] clip_grad_value must be a finite number > 0, got {v}"))
            }
            _ => {}
        }
        if self.clip_grad_norm.is_none() && (self.norm_type != NormType::default() || self.error_if_nonfinite) {
            return Err("[optimizer] norm_type and error_if_nonfinite only apply with clip_grad_norm".into());
        }
        Ok(built)
    }
}

impl OptimizerSection {
    /// What torch refuses, or what has no meaning, for the closure-driven and schedule-free
    /// kinds.
    fn refuse_unsupported(&self) -> Result<(), String> {
        let clipping = self.clip_grad_norm.is_some() || self.clip_grad_value.is_some();
        match &self.config {
            OptimizerConfig::Lbfgs(_) if !self.groups.is_empty() => {
                Err("[optimizer] LBFGS doesn't support per-parameter options (parameter groups)".into())
            }
            OptimizerConfig::Lbfgs(_) if clipping => Err(
                "[optimizer] kind = \"lbfgs\" evaluates the loss several times inside one step; clip_grad_norm / clip_grad_value do not apply to it"
                    .into(),
            ),
            OptimizerConfig::SgdScheduleFree(_) | OptimizerConfig::AdamWScheduleFree(_) if !self.groups.is_empty() => {
                Err("[optimizer] the schedule-free kinds do not support [[optimizer.groups]] (one train/eval switch covers all parameters)".into())
            }
            _ => Ok(()),
        }
    }
}

impl<'de> Deserialize<'de> for OptimizerSection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(d)?;
        Self::from_table(table).map_err(serde::de::Error::custom)
    }
}
