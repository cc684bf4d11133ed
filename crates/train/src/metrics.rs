//! `metrics.jsonl`: one JSON object per optimizer step (`step`, `epoch`, `lr`, `loss`), and
//! one per epoch without a `step` key. Floats print in their shortest round-trip form, so
//! the file is byte-identical between two runs that computed the same numbers.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::TrainError;

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
        let (mut steps, mut epochs) = (Vec::new(), Vec::new());
        for (i, line) in text.lines().enumerate() {
            let bad = |e: serde_json::Error| TrainError::Output { path: self.partial.clone(), msg: format!("line {}: {e}", i + 1) };
            if line.contains("\"step\"") {
                steps.push(serde_json::from_str(line).map_err(bad)?);
            } else {
                epochs.push(serde_json::from_str(line).map_err(bad)?);
            }
        }
        Ok((steps, epochs))
    }

    /// Flushes and fsyncs; returns the file's length (what a checkpoint records).
    pub fn sync(&mut self) -> Result<u64, TrainError> {
        self.file.flush().map_err(|e| self.fail(e.to_string()))?;
        self.file.get_ref().sync_all().map_err(|e| self.fail(e.to_string()))?;
        self.file.get_ref().metadata().map(|m| m.len()).map_err(|e| self.fail(e.to_string()))
    }

    pub fn write<T: Serialize>(&mut self, record: &T) -> Result<(), TrainError> {
        let line = serde_json::to_string(record).map_err(|e| self.fail(e.to_string()))?;
        writeln!(self.file, "{line}").map_err(|e| self.fail(e.to_string()))
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
