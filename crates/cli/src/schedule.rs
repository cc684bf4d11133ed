//! `descent schedule`: the lr (and the momentum, where the schedule cycles it) that each
//! optimizer step of a run would use, before training with it.
//!
//! The `[optimizer]` and `[scheduler]` sections are read from a config (a whole run config,
//! or a file holding just those two). With `interval = "epoch"` the schedule advances every
//! `steps_per_epoch` optimizer steps — given on the command line, or worked out from the
//! run config's data and `[batching]` — and with `interval = "step"` after every step, exactly
//! as the trainer does; step `i` (from 1) is the step whose metrics line would log that lr.
//! `plateau` needs a metric to move and stays at its initial lr here.

use std::path::{Path, PathBuf};

use descent_optim::schedule::Scheduler;
use serde::Deserialize;

use descent_train::config::{Interval, OptimizerSection, RunConfig, SchedulerSection};
use descent_train::TrainError;

use crate::plot::{stacked_line_charts_svg, ChartSpec, Series};

/// One row of the table: what optimizer step `step` (from 1) uses.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScheduleRow {
    pub step: usize,
    /// Known when the steps per epoch are (given, or counted from the run config's data).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epoch: Option<usize>,
    pub lr: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
}

/// The two sections `descent schedule` needs.
#[derive(Debug, Clone)]
pub struct SchedulePlan {
    pub optimizer: OptimizerSection,
    pub scheduler: SchedulerSection,
    /// Steps per epoch from the run config's data, when it is a whole run config.
    pub steps_per_epoch: Option<usize>,
}

/// Reads `[optimizer]` and `[scheduler]` from `path`.
pub fn load_plan(path: &Path) -> Result<SchedulePlan, TrainError> {
    let bad = |msg: String| TrainError::Config { path: path.to_path_buf(), msg };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read config: {e}")))?;
    // A whole run config: checked as `descent train` checks it, and its data tells the
    // number of steps per epoch.
    let doc: toml::Table = toml::from_str(&text).map_err(|e| bad(format!("not valid TOML: {}", e.message().trim())))?;
    if doc.contains_key("data") {
        let cfg = RunConfig::load(path)?;
        let scheduler = cfg.scheduler.clone().ok_or_else(|| bad("has no [scheduler] section to show".into()))?;
        let steps_per_epoch = Some(cfg.batching.steps_per_epoch(train_rows(&cfg)?));
        return Ok(SchedulePlan { optimizer: cfg.optimizer, scheduler, steps_per_epoch });
    }
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Sections {
        optimizer: OptimizerSection,
        scheduler: SchedulerSection,
    }
    let s: Sections = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|sp| format!("line {}: ", text[..sp.start.min(text.len())].matches('\n').count() + 1));
        bad(format!("{}{} (a schedule file holds [optimizer] and [scheduler])", line.unwrap_or_default(), e.message().trim()))
    })?;
    Ok(SchedulePlan { optimizer: s.optimizer, scheduler: s.scheduler, steps_per_epoch: None })
}

/// Rows in the training split of a run config (after its validation split), for any data kind.
fn train_rows(cfg: &RunConfig) -> Result<usize, TrainError> {
    Ok(descent_train::data::load(&cfg.data, cfg.seed)?.train.rows)
}

/// The lr (and momentum) of optimizer steps 1..=steps, stepping the schedule as the trainer
/// does.
pub fn schedule_rows(plan: &SchedulePlan, steps: usize, steps_per_epoch: Option<usize>) -> Result<Vec<ScheduleRow>, TrainError> {
    let bad = |msg: String| TrainError::Config { path: PathBuf::from("[scheduler]"), msg };
    let (built, _) = descent_train::step::build_base(&plan.optimizer.config)
        .map_err(|e| TrainError::Config { path: PathBuf::from("[optimizer]"), msg: e.to_string() })?;
    let mut s: Scheduler = plan
        .scheduler
        .schedule
        .build(built.lr, built.momentum.as_ref().map(|m| m.get()))
        .map_err(|e| bad(e.to_string()))?;
    let per_epoch = steps_per_epoch.or(plan.steps_per_epoch);
    if per_epoch.is_none() && plan.scheduler.interval == Interval::Epoch {
        return Err(bad("interval = \"epoch\": give --steps-per-epoch K (or a whole run config, whose data sets it)".into()));
    }
    if per_epoch == Some(0) {
        return Err(bad("--steps-per-epoch must be at least 1".into()));
    }
    let mut rows = Vec::with_capacity(steps);
    for step in 1..=steps {
        rows.push(ScheduleRow { step, epoch: per_epoch.map(|k| (step - 1) / k + 1), lr: s.lr(), momentum: s.momentum() });
        let epoch_ends = per_epoch.is_some_and(|k| step % k == 0);
        let advance = match plan.scheduler.interval {
            Interval::Step => true,
            Interval::Epoch => epoch_ends,
        };
        if advance && !s.needs_metric() {
            s.try_step().map_err(|e| bad(format!("after step {step}: {e}")))?;
        }
    }
    Ok(rows)
}

/// `step[,epoch],lr[,momentum]` with a header.
pub fn to_csv(rows: &[ScheduleRow]) -> String {
    let with_m = rows.iter().any(|r| r.momentum.is_some());
    let with_e = rows.iter().any(|r| r.epoch.is_some());
    let mut out = String::from("step");
    out.push_str(if with_e { ",epoch,lr" } else { ",lr" });
    out.push_str(if with_m { ",momentum\n" } else { "\n" });
    for r in rows {
        out.push_str(&r.step.to_string());
        if let Some(e) = r.epoch {
            out.push_str(&format!(",{e}"));
        }
        out.push_str(&format!(",{}", r.lr));
        if with_m {
            out.push(',');
            if let Some(m) = r.momentum {
                out.push_str(&m.to_string());
            }
        }
        out.push('\n');
    }
    out
}

/// One JSON object per line, as `metrics.jsonl`'s step lines.
pub fn to_jsonl(rows: &[ScheduleRow]) -> String {
    rows.iter().map(|r| serde_json::to_string(r).unwrap_or_default() + "\n").collect()
}

/// lr per step, and a momentum panel when the schedule cycles it.
pub fn plot(rows: &[ScheduleRow], title: &str, out: &Path) -> Result<(), TrainError> {
    let mut charts = vec![(
        ChartSpec { title: format!("Learning rate — {title}"), x_label: "step".into(), y_label: "lr".into(), log_y: false },
        vec![Series::new("lr", rows.iter().map(|r| (r.step as f64, r.lr)).collect())],
    )];
    if rows.iter().any(|r| r.momentum.is_some()) {
        charts.push((
            ChartSpec { title: format!("Momentum — {title}"), x_label: "step".into(), y_label: "momentum".into(), log_y: false },
            vec![Series::new("momentum", rows.iter().filter_map(|r| r.momentum.map(|m| (r.step as f64, m))).collect())],
        ));
    }
    let svg = stacked_line_charts_svg(&charts)?;
    descent_train::checkpoint::write_atomic(out, svg.as_bytes())
}
