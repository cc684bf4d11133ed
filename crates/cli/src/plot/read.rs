//! The charts' view of a run's `metrics.jsonl`: the records as descent-train's reader returns
//! them ([`descent_train::metrics::read`], the one schema), with values that cannot be drawn
//! (absent or not finite) as `None`, and each epoch placed at the step that ends it.

use std::path::{Path, PathBuf};

use descent_train::metrics::{self, Record};
use descent_train::TrainError;

/// One per-step line. Values are `None` when absent or not finite.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPoint {
    pub step: u64,
    pub lr: Option<f64>,
    pub loss: Option<f64>,
    pub momentum: Option<f64>,
}

/// One per-epoch line. `end_step` is the last step of the epoch: the largest `step` seen
/// before this line, or — in a file without step lines — the running sum of `steps`.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochPoint {
    pub epoch: u64,
    pub end_step: u64,
    pub train_loss: Option<f64>,
    pub valid_loss: Option<f64>,
    /// The weight average's validation loss (`[averaging]` runs).
    pub avg_valid_loss: Option<f64>,
    pub lr: Option<f64>,
}

/// A run's metrics, ready to draw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsLog {
    pub path: PathBuf,
    pub steps: Vec<StepPoint>,
    pub epochs: Vec<EpochPoint>,
}

/// Reads and checks `path` (a `metrics.jsonl`). Errors name the file and the line.
pub fn read_metrics(path: &Path) -> Result<MetricsLog, TrainError> {
    parse_metrics(&metrics::read_text(path)?, path)
}

/// Parses the text of a `metrics.jsonl`; `path` only names the file in errors.
pub fn parse_metrics(text: &str, path: &Path) -> Result<MetricsLog, TrainError> {
    let records = metrics::parse_records(text, path)?;
    if records.is_empty() {
        return Err(TrainError::Data { path: path.to_path_buf(), msg: "no records: the file is empty".into() });
    }
    let finite = |v: f64| Some(v).filter(|v| v.is_finite());
    let mut log = MetricsLog { path: path.to_path_buf(), ..Default::default() };
    let (mut last_step, mut step_sum) = (None::<u64>, 0u64);
    for record in records {
        match record {
            Record::Step(s) => {
                last_step = Some(last_step.map_or(s.step, |l| l.max(s.step)));
                log.steps.push(StepPoint {
                    step: s.step,
                    lr: finite(s.lr),
                    loss: finite(s.loss),
                    momentum: s.momentum.and_then(finite),
                });
            }
            Record::Epoch(e) => {
                step_sum += e.steps;
                log.epochs.push(EpochPoint {
                    epoch: e.epoch,
                    end_step: last_step.unwrap_or(step_sum),
                    train_loss: finite(e.train_loss),
                    valid_loss: e.valid_loss.and_then(finite),
                    avg_valid_loss: e.avg_valid_loss.and_then(finite),
                    lr: finite(e.lr),
                });
            }
        }
    }
    Ok(log)
}
