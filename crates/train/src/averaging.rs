//! The run's weight average (`[averaging]`): an [`AveragedModel`] of the trained model,
//! updated after each optimizer step or each epoch from `start_epoch` on, evaluated on the
//! validation set each epoch (`avg_valid_loss`, `avg_valid_accuracy`), saved in every
//! checkpoint (its weights and `n_averaged`) and written as `averaged.bpk` /
//! `averaged.safetensors` at the end.
//!
//! It only reads the model's weights: the training itself (every loss, every step) is the
//! same with or without it.

use std::path::Path;

use burn::tensor::Device;
use descent_model::{save_safetensors, Model};
use descent_optim::averaging::AveragedModel;

use crate::checkpoint::{self, Verified};
use crate::config::{AveragingEvery, AveragingSection, RunConfig};
use crate::epoch::evaluate;
use crate::error::TrainError;
use crate::setup::Split;

pub const AVERAGED: &str = "averaged.bpk";
pub const AVERAGED_SAFETENSORS: &str = "averaged.safetensors";

/// The average and when it is updated.
pub struct Averaging {
    section: AveragingSection,
    avg: AveragedModel<Model>,
}

fn invalid(e: impl std::fmt::Display) -> TrainError {
    TrainError::Config { path: "[averaging]".into(), msg: e.to_string() }
}

impl Averaging {
    /// The run's average, if it has an `[averaging]` section: a copy of `model`, not yet
    /// counted.
    pub fn new(cfg: &RunConfig, model: &Model) -> Result<Option<Self>, TrainError> {
        let Some(section) = &cfg.averaging else { return Ok(None) };
        let avg_fn = section.avg_fn(cfg.epochs).map_err(invalid)?;
        Ok(Some(Self { section: section.clone(), avg: AveragedModel::new(model, avg_fn) }))
    }

    fn due(&self, every: AveragingEvery, epoch: u64) -> bool {
        self.section.every == every && epoch >= self.section.start_epoch as u64
    }

    /// After an optimizer step of `epoch`.
    pub fn after_step(&mut self, model: &Model, epoch: u64) -> Result<(), TrainError> {
        if self.due(AveragingEvery::Step, epoch) {
            self.avg.update(model).map_err(invalid)?;
        }
        Ok(())
    }

    /// After the last step of `epoch` (before validation).
    pub fn after_epoch(&mut self, model: &Model, epoch: u64) -> Result<(), TrainError> {
        if self.due(AveragingEvery::Epoch, epoch) {
            self.avg.update(model).map_err(invalid)?;
        }
        Ok(())
    }

    pub fn n_averaged(&self) -> u64 {
        self.avg.n_averaged()
    }

    /// The average's validation loss and accuracy; `None` before its first update.
    pub fn evaluate(&self, valid: &Split, device: &Device) -> Option<(f64, Option<f64>)> {
        (self.n_averaged() > 0).then(|| evaluate(self.avg.module(), valid, device))
    }

    /// The checkpoint file (burnpack, as `model.bpk`), once the average holds an update.
    pub fn checkpoint_file(&self) -> Result<Option<(&'static str, Vec<u8>)>, TrainError> {
        if self.n_averaged() == 0 {
            return Ok(None);
        }
        Ok(Some((AVERAGED, checkpoint::model_bytes(self.avg.module())?)))
    }

    /// Puts a checkpoint's average back (`n_averaged` from its state; 0: nothing saved yet).
    pub fn restore(&mut self, ckpt: &Verified, n_averaged: u64) -> Result<(), TrainError> {
        if n_averaged == 0 {
            return Ok(());
        }
        let module = checkpoint::model_from_checkpoint(self.avg.module().clone(), ckpt, AVERAGED)?;
        self.avg = AveragedModel::from_parts(module, self.avg.avg_fn(), n_averaged);
        Ok(())
    }

    /// The averaged model, once it took an update.
    pub fn into_model(self) -> Option<Model> {
        (self.n_averaged() > 0).then(|| self.avg.into_module())
    }

    /// `averaged.bpk` and `averaged.safetensors` (PyTorch layout, as `model.safetensors`) in
    /// the run folder; nothing when the average never took an update (early stopping before
    /// `start_epoch`).
    pub fn write_final(&self, run: &Path) -> Result<(), TrainError> {
        if self.n_averaged() == 0 {
            return Ok(());
        }
        checkpoint::write_atomic(&run.join(AVERAGED), &checkpoint::model_bytes(self.avg.module())?)?;
        save_safetensors(self.avg.module(), &run.join(AVERAGED_SAFETENSORS))?;
        Ok(())
    }
}
