//! `metrics.jsonl`: one JSON object per optimizer step (`step`, `epoch`, `lr`, `loss`), and
//! one per epoch without a `step` key. Floats print in their shortest round-trip form, so
//! the file is byte-identical between two runs that computed the same numbers.
//!
//! The one schema of the file: [`StepRecord`] and [`EpochRecord`], written by
//! [`MetricsWriter`] and read back by [`read`] / [`parse`] (resume, charts, reports).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::TrainError;

/// One optimizer step: `loss` is the batch loss (penalties included) computed before the
/// step's update, `lr` the rate that update used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub step: u64,
    pub epoch: u64,
    pub lr: f64,
    pub loss: f64,
    /// The momentum (or β₁) the step used, when a schedule cycles it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    /// Global L2 norm of the gradient, before any clipping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grad_norm: Option<f64>,
}

/// One epoch: the mean of its batch losses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: u64,
    pub train_loss: f64,
    /// The lr after the epoch (what the next epoch starts with).
    pub lr: f64,
    pub steps: u64,
    /// Mean data loss on the validation set (no penalties), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_accuracy: Option<f64>,
    /// `exp(valid_loss)` for a char model (cross-entropy in nats per character).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_perplexity: Option<f64>,
    /// The weight average's (`[averaging]`) `valid_loss` / `valid_accuracy`, once it holds
    /// an update; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_valid_loss: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_valid_accuracy: Option<f64>,
}

/// Writes to `metrics.jsonl.partial` and renames into place on [`finish`](Self::finish), so
/// a failed run never leaves a `metrics.jsonl` that looks complete.
pub struct MetricsWriter {
    file: std::io::BufWriter<std::fs::File>,
    partial: PathBuf,
    target: PathBuf,
}

impl MetricsWriter {
    /// Opens `dir/metrics.jsonl.partial` keeping its first `keep` bytes (0 for a fresh run,
    /// a checkpoint's `metrics_len` on resume: lines written after it are dropped).
    pub fn open(dir: &Path, keep: u64) -> Result<Self, TrainError> {
        let target = dir.join("metrics.jsonl");
        let partial = dir.join("metrics.jsonl.partial");
        let fail = |e: std::io::Error| TrainError::Output { path: partial.clone(), msg: format!("cannot open: {e}") };
        let file = std::fs::OpenOptions::new().create(true).truncate(false).read(true).write(true).open(&partial).map_err(fail)?;
        file.set_len(keep).map_err(fail)?;
        let mut file = file;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(keep)).map_err(fail)?;
        Ok(Self { file: std::io::BufWriter::new(file), partial, target })
    }

    /// The records already in the file (after a resume).
    pub fn replay(&self) -> Result<(Vec<StepRecord>, Vec<EpochRecord>), TrainError> {
        let text = std::fs::read_to_string(&self.partial).map_err(|e| self.fail(e.to_string()))?;
        parse(&text, &self.partial)
    }

    /// Flushes and fsyncs; returns the file's length (what a checkpoint records).
    pub fn sync(&mut self) -> Result<u64, TrainError> {
        self.file.flush().map_err(|e| self.io_fail(e))?;
        self.file.get_ref().sync_all().map_err(|e| self.io_fail(e))?;
        self.file.get_ref().metadata().map(|m| m.len()).map_err(|e| self.fail(e.to_string()))
    }

    pub fn write<T: Serialize>(&mut self, record: &T) -> Result<(), TrainError> {
        let line = serde_json::to_string(record).map_err(|e| self.fail(e.to_string()))?;
        writeln!(self.file, "{line}").map_err(|e| self.io_fail(e))
    }

    /// A write error, saying when the disk is full or a file-size limit was hit.
    fn io_fail(&self, e: std::io::Error) -> TrainError {
        crate::checkpoint::io_error(&self.partial, "cannot write", e)
    }

    fn fail(&self, msg: String) -> TrainError {
        TrainError::Output { path: self.partial.clone(), msg: format!("cannot write: {msg}") }
    }

    pub fn finish(mut self) -> Result<PathBuf, TrainError> {
        self.sync()?;
        std::fs::rename(&self.partial, &self.target).map_err(|e| self.fail(e.to_string()))?;
        Ok(self.target)
    }
}

/// Reads a finished run's `metrics.jsonl` (see [`parse`]); a file without records is an
/// error. Errors name the file, and the line at fault.
pub fn read(path: &Path) -> Result<(Vec<StepRecord>, Vec<EpochRecord>), TrainError> {
    let text = read_text(path)?;
    let (steps, epochs) = parse(&text, path)?;
    if steps.is_empty() && epochs.is_empty() {
        return Err(TrainError::Data { path: path.to_path_buf(), msg: "no records: the file is empty".into() });
    }
    Ok((steps, epochs))
}

/// The text of `path`; when it cannot be read and a `metrics.jsonl.partial` stands beside it,
/// the error says the run has not finished.
pub fn read_text(path: &Path) -> Result<String, TrainError> {
    std::fs::read_to_string(path).map_err(|e| {
        let partial = path.with_file_name("metrics.jsonl.partial");
        let hint = if path.file_name().is_some_and(|n| n == "metrics.jsonl") && partial.exists() {
            " (metrics.jsonl.partial exists: the run has not finished, or it failed)"
        } else {
            ""
        };
        TrainError::Data { path: path.to_path_buf(), msg: format!("cannot read: {e}{hint}") }
    })
}

/// Parses `metrics.jsonl` text: a line with `step` is a [`StepRecord`], one without an
/// [`EpochRecord`]; `path` only names the file in errors. What the writer writes reads back
/// bit for bit. Files from elsewhere (Python's json) are read leniently: unknown keys are
/// ignored; `null` and bare `NaN` / `Infinity` (serde writes a non-finite float as `null`)
/// read as NaN, or `None` for an optional value; a missing `epoch` of a step reads as 0, a
/// missing `lr` as NaN, a missing `steps` of an epoch as 1.
pub fn parse(text: &str, path: &Path) -> Result<(Vec<StepRecord>, Vec<EpochRecord>), TrainError> {
    let (mut steps, mut epochs) = (Vec::new(), Vec::new());
    for record in parse_records(text, path)? {
        match record {
            Record::Step(s) => steps.push(s),
            Record::Epoch(e) => epochs.push(e),
        }
    }
    Ok((steps, epochs))
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Step(StepRecord),
    Epoch(EpochRecord),
}

/// [`parse`], keeping the lines' order (where each epoch line stands among the step lines).
pub fn parse_records(text: &str, path: &Path) -> Result<Vec<Record>, TrainError> {
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |msg: String| TrainError::Data { path: path.to_path_buf(), msg: format!("line {}: {msg}", i + 1) };
        let obj = parse_object(line).map_err(err)?;
        let epoch = int(&obj, "epoch").map_err(err)?;
        records.push(match int(&obj, "step").map_err(err)? {
            Some(step) => Record::Step(step_record(&obj, step, epoch).map_err(err)?),
            None => Record::Epoch(epoch_record(&obj, epoch).map_err(err)?),
        });
    }
    Ok(records)
}

fn step_record(obj: &Map<String, Value>, step: u64, epoch: Option<u64>) -> Result<StepRecord, String> {
    if !obj.contains_key("loss") {
        return Err("a step line (with `step`) needs a `loss`".into());
    }
    Ok(StepRecord {
        step,
        epoch: epoch.unwrap_or(0),
        lr: float(obj, "lr")?.unwrap_or(f64::NAN),
        loss: float(obj, "loss")?.unwrap_or(f64::NAN),
        momentum: float(obj, "momentum")?,
        grad_norm: float(obj, "grad_norm")?,
    })
}

fn epoch_record(obj: &Map<String, Value>, epoch: Option<u64>) -> Result<EpochRecord, String> {
    let epoch = epoch.ok_or("a line needs a `step` (per-step) or an `epoch` (per-epoch) key")?;
    if !obj.contains_key("train_loss") {
        return Err("an epoch line (without `step`) needs a `train_loss`".into());
    }
    Ok(EpochRecord {
        epoch,
        steps: int(obj, "steps")?.unwrap_or(1),
        train_loss: float(obj, "train_loss")?.unwrap_or(f64::NAN),
        valid_loss: float(obj, "valid_loss")?,
        lr: float(obj, "lr")?.unwrap_or(f64::NAN),
        valid_accuracy: float(obj, "valid_accuracy")?,
        valid_perplexity: float(obj, "valid_perplexity")?,
        avg_valid_loss: float(obj, "avg_valid_loss")?,
        avg_valid_accuracy: float(obj, "avg_valid_accuracy")?,
    })
}

/// A float value; `None` when absent or `null`.
fn float(obj: &Map<String, Value>, key: &str) -> Result<Option<f64>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(format!("`{key}` must be a number, got {other}")),
    }
}

fn int(obj: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| format!("`{key}` must be a non-negative integer, got {v}")),
    }
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

/// `metrics.csv`: the per-epoch lines, for a spreadsheet.
pub fn write_csv(path: &Path, epochs: &[EpochRecord]) -> Result<(), TrainError> {
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut text = String::from("epoch,train_loss,valid_loss,valid_accuracy,lr,steps\n");
    for e in epochs {
        text.push_str(&format!(
            "{},{},{},{},{},{}\n",
            e.epoch,
            e.train_loss,
            opt(e.valid_loss),
            opt(e.valid_accuracy),
            e.lr,
            e.steps
        ));
    }
    crate::checkpoint::write_atomic(path, text.as_bytes())
}

/// The value as the run's dtype saw it: an f32 loss prints as `0.53`, not `0.5299999713897705`.
pub fn as_dtype(x: f64, f32_run: bool) -> f64 {
    if f32_run {
        let v = x as f32;
        format!("{v}").parse().unwrap_or(x)
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_the_writer_writes_reads_back_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let step = |step, loss: f64, momentum| StepRecord {
            step,
            epoch: 1,
            lr: 0.1,
            loss: as_dtype(loss, true),
            momentum,
            grad_norm: Some(std::f64::consts::PI),
        };
        let steps = vec![step(1, 0.123456789, None), step(2, 1e-30, Some(0.85))];
        let epoch = EpochRecord {
            epoch: 1,
            train_loss: 0.1 + 0.2,
            lr: 1e-3 / 3.0,
            steps: 2,
            valid_loss: Some(f64::MIN_POSITIVE),
            valid_accuracy: None,
            valid_perplexity: Some(1.5),
            avg_valid_loss: Some(0.25),
            avg_valid_accuracy: None,
        };
        let mut w = MetricsWriter::open(dir.path(), 0).unwrap();
        for s in &steps {
            w.write(s).unwrap();
        }
        w.write(&epoch).unwrap();
        let path = w.finish().unwrap();
        let (s, e) = read(&path).unwrap();
        assert_eq!((s, e), (steps, vec![epoch]));
    }

    #[test]
    fn other_writers_read_leniently_and_bad_lines_are_named() {
        let text = "{\"step\":1,\"loss\":null,\"extra\":[1]}\n\n{\"epoch\":1,\"train_loss\":NaN,\"valid_loss\":null}\n";
        let (s, e) = parse(text, Path::new("m.jsonl")).unwrap();
        assert!(s[0].loss.is_nan() && s[0].lr.is_nan() && s[0].epoch == 0);
        assert!(e[0].train_loss.is_nan() && e[0].valid_loss.is_none() && e[0].steps == 1);
        let e = parse("{\"step\":1,\"loss\":1}\n{oops\n", Path::new("m.jsonl")).unwrap_err().to_string();
        assert!(e.starts_with("m.jsonl: line 2: not valid JSON"), "{e}");
        let e = parse("{\"step\":1,\"lr\":\"x\",\"loss\":1}\n", Path::new("m.jsonl")).unwrap_err().to_string();
        assert!(e.contains("line 1: `lr` must be a number"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("metrics.jsonl"), "\n").unwrap();
        assert!(read(&dir.path().join("metrics.jsonl")).unwrap_err().to_string().contains("empty"));
    }
}
