//! One epoch of a run: its optimizer steps (each written to `metrics.jsonl`), then
//! validation, the schedules' epoch step, the epoch's record, early stopping and the
//! periodic checkpoint; after each step, the checkpoint a SIGTERM or SIGINT asks for.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use descent_model::Model;

use crate::averaging::Averaging;
use crate::batching::Batch;
use crate::checkpoint::{self, CheckpointState, WithinEpoch};
use crate::config::{DType, ModelKind, Monitor, RunConfig};
use crate::error::TrainError;
use crate::loss::{correct, data_loss, Targets};
use crate::metrics::{as_dtype, EpochRecord, MetricsWriter, StepRecord};
use crate::preempt;
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
    /// What this run's checkpoint manifests record (see [`crate::run_identity::hash`]).
    pub config_hash: String,
    /// The weight average, with `[averaging]`.
    pub averaging: Option<Averaging>,
}

impl Training<'_> {
    /// Epoch `epoch`; returns the model after it, and whether early stopping ends the run.
    pub fn epoch(&mut self, mut model: Model, epoch: u64) -> Result<(Model, bool), TrainError> {
        let rng_at_start = self.rng.state();
        let batches = self.cfg.batching.steps(self.train.rows, &mut self.rng);
        // Resumed from inside this epoch: the same order, its first steps already taken.
        let (skip, mut sum) = self.state.within.take().map_or((0, 0.0), |w| (w.steps_done as usize, w.loss_sum));
        self.progress.start_epoch(epoch, batches.len() as u64);
        for (i, micro) in batches.iter().enumerate().skip(skip) {
            let loss;
            (model, loss) = self.step(model, micro, epoch)?;
            sum += loss;
            preempt::signal_point(self.state.step);
            if i + 1 < batches.len() {
                let within = WithinEpoch { steps_done: i as u64 + 1, loss_sum: sum };
                self.stop_if_asked(&model, epoch - 1, rng_at_start, Some(within))?;
            }
        }
        if let Some(a) = &mut self.averaging {
            a.after_epoch(&model, epoch)?;
        }
        // Validation and the best model see x for schedule-free kinds (optimizer.eval());
        // training and checkpoints continue from y (optimizer.train()). Others: no-ops.
        let x = self.stepper.eval(model);
        let rec = self.end_epoch(&x, epoch, sum / batches.len() as f64, batches.len() as u64)?;
        let stop = self.early_stopping(&rec, &x)?;
        self.epochs.push(rec);
        let model = self.stepper.train(x);
        self.checkpoint(&model, epoch, stop)?;
        Ok((model, stop))
    }

    /// After a SIGTERM or SIGINT: a checkpoint at this point (`done` epochs complete, the data
    /// RNG at `rng`, `within` the next epoch), then [`TrainError::Interrupted`]. Without a
    /// `[checkpoint]` section it is the run's only checkpoint (keep_last = 1).
    pub fn stop_if_asked(&mut self, model: &Model, done: u64, rng: u64, within: Option<WithinEpoch>) -> Result<(), TrainError> {
        let Some((signal, signo)) = preempt::requested() else { return Ok(()) };
        let keep_last = self.cfg.checkpoint.as_ref().map_or(1, |c| c.keep_last);
        let checkpoint = self.save(model, done, rng, within, keep_last)?;
        Err(TrainError::Interrupted { signal, signo, step: self.state.step, checkpoint })
    }

    fn save(&mut self, model: &Model, done: u64, rng: u64, within: Option<WithinEpoch>, keep_last: usize) -> Result<PathBuf, TrainError> {
        self.state.epoch = done;
        self.state.rng = rng;
        self.state.within = within;
        self.state.metrics_len = self.writer.sync()?;
        let named = self.schedules.named();
        let mut extra: Vec<(&str, Vec<u8>)> = Vec::new();
        extra.extend(self.stepper.lbfgs.as_ref().map(|l| (checkpoint::LBFGS, l.state.to_bytes())));
        if let Some(a) = &self.averaging {
            self.state.n_averaged = Some(a.n_averaged());
            extra.extend(a.checkpoint_file()?);
        }
        checkpoint::save_training(self.run, model, &self.stepper.optim, extra, &named, &self.state, keep_last, &self.config_hash)
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
        let rng = self.rng.state();
        self.save(model, epoch, rng, None, c.keep_last)?;
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
