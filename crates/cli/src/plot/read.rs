//! Reading `metrics.jsonl` for the charts.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use descent_train::TrainError;

// ---------------------------------------------------------------------------------------
// metrics.jsonl

/// One per-step line of `metrics.jsonl`. Values are `None` when absent or not finite.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPoint {
    pub step: u64,
    pub epoch: Option<u64>,
    pub lr: Option<f64>,
    pub loss: Option<f64>,
    pub momentum: Option<f64>,
}

/// One per-epoch line (a line without `step`). `end_step` is the last step of the epoch:
/// the largest `step` seen before this line, or — in a file without step lines — the
/// running sum of `steps`.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochPoint {
    pub epoch: u64,
    pub end_step: u64,
    pub train_loss: Option<f64>,
    pub valid_loss: Option<f64>,
    pub lr: Option<f64>,
}

/// A parsed `metrics.jsonl`; unknown keys are ignored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricsLog {
    pub path: PathBuf,
    pub steps: Vec<StepPoint>,
    pub epochs: Vec<EpochPoint>,
}

/// Reads and checks `path` (a `metrics.jsonl`). Errors name the file and the line.
pub fn read_metrics(path: &Path) -> Result<MetricsLog, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let partial = path.with_file_name("metrics.jsonl.partial");
        let hint = if path.file_name().is_some_and(|n| n == "metrics.jsonl") && partial.exists() {
            " (metrics.jsonl.partial exists: the run has not finished, or it failed)"
        } else {
            ""
        };
        TrainError::Data { path: path.to_path_buf(), msg: format!("cannot read: {e}{hint}") }
    })?;
    parse_metrics(&text, path)
}

/// Parses the text of a `metrics.jsonl`; `path` only names the file in errors.
pub fn parse_metrics(text: &str, path: &Path) -> Result<MetricsLog, TrainError> {
    let mut log = MetricsLog { path: path.to_path_buf(), ..Default::default() };
    let mut last_step: Option<u64> = None;
    let mut step_sum = 0u64;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let err = |msg: String| TrainError::Data { path: path.to_path_buf(), msg: format!("line {lineno}: {msg}") };
        let obj = parse_object(line).map_err(&err)?;
        let float = |key: &str| -> Result<Option<f64>, TrainError> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => Ok(n.as_f64().filter(|v| v.is_finite())),
                Some(other) => Err(err(format!("`{key}` must be a number, got {other}"))),
            }
        };
        let int = |key: &str| -> Result<Option<u64>, TrainError> {
            match obj.get(key) {
                None => Ok(None),
                Some(v) => {
                    v.as_u64().map(Some).ok_or_else(|| err(format!("`{key}` must be a non-negative integer, got {v}")))
                }
            }
        };
        let epoch = int("epoch")?;
        if let Some(step) = int("step")? {
            if !obj.contains_key("loss") {
                return Err(err("a step line (with `step`) needs a `loss`".into()));
            }
            log.steps.push(StepPoint {
                step,
                epoch,
                lr: float("lr")?,
                loss: float("loss")?,
                momentum: float("momentum")?,
            });
            last_step = Some(last_step.map_or(step, |s| s.max(step)));
        } else {
            let epoch =
                epoch.ok_or_else(|| err("a line needs a `step` (per-step) or an `epoch` (per-epoch) key".into()))?;
            if !obj.contains_key("train_loss") {
                return Err(err("an epoch line (without `step`) needs a `train_loss`".into()));
            }
            step_sum += int("steps")?.unwrap_or(1);
            log.epochs.push(EpochPoint {
                epoch,
                end_step: last_step.unwrap_or(step_sum),
                train_loss: float("train_loss")?,
                valid_loss: float("valid_loss")?,
                lr: float("lr")?,
            });
        }
    }
    if log.steps.is_empty() && log.epochs.is_empty() {
        return Err(TrainError::Data { path: path.to_path_buf(), msg: "no records: the file is empty".into() });
    }
    Ok(log)
}

/// One JSON object; bare `NaN` / `Infinity` (as Python's json writes them) read as null.
fn parse_object(line: &str) -> Result<Map<String, Value>, String> {
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(first) => {
            let patched = line.replace("-Infinity", "null").replace("Infinity", "null").replace("NaN", "null");
            if patched == line {
                return Err(format!("not valid JSON: {first}"));
            }
            serde_json::from_str(&patched).map_err(|_| format!("not valid JSON: {first}"))?
        }
    };
    match value {
        Value::Object(m) => Ok(m),
        other => Err(format!("expected a JSON object, got {other}")),
    }
}
