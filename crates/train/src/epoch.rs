//! One epoch of a run: its optimizer steps (each written to `metrics.jsonl`), then
//! validation, the schedules' epoch step, the epoch's record, early stopping and the
//! periodic checkpoint.

use std::path::Path;

use burn::tensor::Device;
use descent_model::Model;

use crate::averaging::Averaging;
use crate::batching::Batch;
use crate::checkpoint::{self, CheckpointState};
use crate::config::{DType, ModelKind, Monitor, RunConfig};
use crate::error::TrainError;
use crate::loss::{correct, data_loss, Targets};
use crate::metrics::{as_dtype, EpochRecord, MetricsWriter, StepRecord};
use crate::progress::Progress;
use crate::rng::Rng;
use crate::schedules::Schedules;
use crate::setup::Split;
use crate::step::{At, Stepper};

/// A run in progress: what its epochs read and update.
pub struct Training<'a> {
    pub cfg: &'a RunConfig,
    /// The run folder.
    pub run: &'a Path,
    pub device: Device,
    pub train: Split,
    pub valid: Option<Split>,
    pub stepper: Stepper,
    pub schedules: Schedules,
    /// The data order's RNG.
    pub rng: Rng,
    /// Steps taken and early-stopping counters: what a checkpoint saves besides tensors.
    pub state: CheckpointState,
    pub writer: MetricsWriter,
    pub steps: Vec<StepRecord>,
    pub epochs: Vec<EpochRecord>,
    pub progress: Progress,
    /// The weight average, with `[averaging]`.
    pub averaging: Option<Averaging>,
}

impl Training<'_> {
    /// Epoch `epoch`; returns the model after it, and whether early stopping ends the run.
    pub fn epoch(&mut self, mut model: Model, epoch: u64) -> Result<(Model, bool), TrainError> {
        let batches = self.cfg.batching.steps(self.train.rows, &mut self.rng);
        self.progress.start_epoch(epoch, batches.len() as u64);
        let mut sum = 0.0;
        for micro in &batches {
            let loss;
            (model, loss) = self.step(model, micro, epoch)?;
            sum += loss;
        }
        if let Some(a) = &mut self.averaging {
            a.after_epoch(&model, epoch)?;
        }
        let rec = self.end_epoch(&model, epoch, sum / batches.len() as f64, batches.len() as u64)?;
        let stop = self.early_stopping(&rec, &model)?;
        self.epochs.push(rec);
        self.checkpoint(&model, epoch, stop)?;
        Ok((model, stop))
    }

    /// Gives up after `e`: keeps `metrics.jsonl.partial` (what happened before the failure)
    /// but never a complete-looking `metrics.jsonl`.
    pub fn abandon(&mut self, e: TrainError) -> TrainError {
        self.progress.finish();
        let _ = self.writer.sync();
        e
    }

    fn f32_run(&self) -> bool {
        self.cfg.dtype == DType::F32
    }

    /// One optimizer step and its record; returns the model and the step's raw loss.
    fn step(&mut self, model: Model, micro: &[Batch], epoch: u64) -> Result<(Model, f64), TrainError> {
        self.state.step += 1;
        let (lr, momentum) = self.schedules.for_step();
        let at = At { step: self.state.step, epoch, lr };
        let (model, seen) = self.stepper.step(model, &self.train, micro, &self.device, at)?;
        if let Some(a) = &mut self.averaging {
            a.after_step(&model, epoch)?;
        }
        self.schedules.after_step(at.step)?;
        let f32_run = self.f32_run();
        let loss = as_dtype(seen.loss, f32_run);
        let grad_norm = Some(as_dtype(seen.grad_norm, f32_run));
        let record = StepRecord { step: at.step, epoch, lr, loss, momentum, grad_norm };
        self.writer.write(&record)?;
        self.progress.step(record.loss, lr);
        self.steps.push(record);
        Ok((model, seen.loss))
    }

    /// Validation, the schedules' epoch step, and the epoch's record, written.
    fn end_epoch(&mut self, model: &Model, epoch: u64, train_loss: f64, steps: u64) -> Result<EpochRecord, TrainError> {
        let f32_run = self.f32_run();
        let (valid_loss, valid_accuracy) = match &self.valid {
            Some(v) => {
                let (l, a) = evaluate(model, v, &self.device);
                (Some(as_dtype(l, f32_run)), a)
            }
            None => (None, None),
        };
        let avg = match (&self.averaging, &self.valid) {
            (Some(a), Some(v)) => a.evaluate(v, &self.device),
            _ => None,
        };
        self.schedules.after_epoch(epoch, valid_loss.unwrap_or(train_loss))?;
        let char_model = self.cfg.model.kind == ModelKind::CharRnn;
        let rec = EpochRecord {
            epoch,
            train_loss: as_dtype(train_loss, f32_run),
            lr: self.schedules.lr(),
            steps,
            valid_loss,
            valid_accuracy,
            valid_perplexity: valid_loss.filter(|_| char_model).map(|l| as_dtype(l.exp(), f32_run)),
            avg_valid_loss: avg.map(|(l, _)| as_dtype(l, f32_run)),
            avg_valid_accuracy: avg.and_then(|(_, a)| a),
        };
        self.writer.write(&rec)?;
        self.progress.end_epoch(&rec, self.cfg.epochs as u64);
        Ok(rec)
    }

    /// Counts epochs without improvement and keeps the best model in `best.bpk`; true when
    /// `patience` runs out.
    fn early_stopping(&mut self, rec: &EpochRecord, model: &Model) -> Result<bool, TrainError> {
        let Some(es) = &self.cfg.early_stopping else { return Ok(false) };
        let value = match es.monitor {
            Monitor::ValidLoss => rec.valid_loss.unwrap_or(f64::NAN),
            Monitor::TrainLoss => rec.train_loss,
        };
        if self.state.early_best.is_none_or(|best| value < best - es.min_delta) {
            self.state.early_best = Some(value);
            self.state.early_bad_epochs = 0;
            checkpoint::write_atomic(&self.run.join("best.bpk"), &checkpoint::model_bytes(model)?)?;
            Ok(false)
        } else {
            self.state.early_bad_epochs += 1;
            Ok(self.state.early_bad_epochs >= es.patience)
        }
    }

    /// The `[checkpoint]` due after `epoch` (none after the last epoch, or when stopping).
    fn checkpoint(&mut self, model: &Model, epoch: u64, stop: bool) -> Result<(), TrainError> {
        let Some(c) = &self.cfg.checkpoint else { return Ok(()) };
        if epoch % c.every_epochs as u64 != 0 || epoch >= self.cfg.epochs as u64 || stop {
            return Ok(());
        }
        self.state.epoch = epoch;
        self.state.rng = self.rng.state();
        self.state.metrics_len = self.writer.sync()?;
        let named = self.schedules.named();
        let mut extra = Vec::new();
        if let Some(a) = &self.averaging {
            self.state.n_averaged = Some(a.n_averaged());
            extra.extend(a.checkpoint_file()?);
        }
        checkpoint::save_training_with(self.run, model, &self.stepper.optim, &named, extra, &self.state, c.keep_last)?;
        Ok(())
    }
}

/// Mean data loss (and accuracy for classification) over a split, in chunks.
pub fn evaluate(model: &Model, split: &Split, device: &Device) -> (f64, Option<f64>) {
    const CHUNK: usize = 4096;
    let (mut loss_sum, mut hits) = (0.0, 0usize);
    let mut start = 0;
    while start < split.rows {
        let end = (start + CHUNK).min(split.rows);
        let (x, y) = split.batch(&Batch::Range(start, end), device);
        let out = model.forward(x);
        loss_sum += data_loss(out.clone(), &y).into_scalar::<f64>() * (end - start) as f64;
        if let Targets::Classes(c) = &y {
            hits += correct(out, c);
        }
        start = end;
    }
    let acc = matches!(split.y, Targets::Classes(_)).then(|| hits as f64 / split.rows as f64);
    (loss_sum / split.rows as f64, acc)
}
