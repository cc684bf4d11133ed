//! `metrics.jsonl`: one JSON object per optimizer step (`step`, `epoch`, `lr`, `loss`), and
//! one per epoch without a `step` key. Floats print in their shortest round-trip form, so
//! the file is byte-identical between two runs that computed the same numbers.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::TrainError;

/// One optimizer step: `loss` is the batch loss (penalties included) computed before the
/// step's update, `lr` the rate that update used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    pub step: u64,
    pub epoch: u64,
    pub lr: f64,
    pub loss: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
}

/// One epoch: the mean of its batch losses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochRecord {
    pub epoch: u64,
    pub train_loss: f64,
    pub lr: f64,
    pub steps: u64,
}

/// Writes to `metrics.jsonl.partial` and renames into place on [`finish`](Self::finish), so
/// a failed run never leaves a `metrics.jsonl` that looks complete.
pub struct MetricsWriter {
    file: std::io::BufWriter<std::fs::File>,
    partial: PathBuf,
    target: PathBuf,
}

impl MetricsWriter {
    pub fn create(dir: &Path) -> Result<Self, TrainError> {
        let target = dir.join("metrics.jsonl");
        let partial = dir.join("metrics.jsonl.partial");
        let file = std::fs::File::create(&partial)
            .map_err(|e| TrainError::Output { path: partial.clone(), msg: format!("cannot create: {e}") })?;
        Ok(Self { file: std::io::BufWriter::new(file), partial, target })
    }

    pub fn write<T: Serialize>(&mut self, record: &T) -> Result<(), TrainError> {
        let line = serde_json::to_string(record).map_err(|e| self.fail(e.to_string()))?;
        writeln!(self.file, "{line}").map_err(|e| self.fail(e.to_string()))
    }

    fn fail(&self, msg: String) -> TrainError {
        TrainError::Output { path: self.partial.clone(), msg: format!("cannot write: {msg}") }
    }

    pub fn finish(mut self) -> Result<PathBuf, TrainError> {
        self.file.flush().map_err(|e| self.fail(e.to_string()))?;
        self.file.get_ref().sync_all().map_err(|e| self.fail(e.to_string()))?;
        std::fs::rename(&self.partial, &self.target).map_err(|e| self.fail(e.to_string()))?;
        Ok(self.target)
    }

    /// Drops the partial file (a failed run).
    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.partial);
    }
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
