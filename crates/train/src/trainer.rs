//! A run, stage by stage: setup ([`prepare`]), the optimizer and its schedules
//! ([`Stepper::build`]), the run folder (fresh, or resumed from its newest checkpoint), the
//! epochs ([`Training::epoch`]: steps, validation, early stopping, checkpoints), and the
//! finished run's files.

use std::path::{Path, PathBuf};
use std::time::Instant;

use descent_model::{save_safetensors, Model};

use crate::averaging::Averaging;
use crate::checkpoint::{self, CheckpointState};
use crate::config::{DeviceChoice, RunConfig};
use crate::epoch::Training;
use crate::error::TrainError;
use crate::metrics::{EpochRecord, MetricsWriter, StepRecord};
use crate::progress::Progress;
use crate::rng::Rng;
use crate::setup::{prepare, Prepared};
use crate::step::Stepper;

/// How to run a config.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run folder: `metrics.jsonl`, `model.bpk`, `model.safetensors`, checkpoints.
    pub out_dir: PathBuf,
    /// Overrides the config's `device`.
    pub device: Option<DeviceChoice>,
    /// No progress output on stderr.
    pub quiet: bool,
    /// Continue the run in `out_dir` from its newest intact checkpoint (see
    /// [`checkpoint::open_run`]).
    pub resume: bool,
    /// Replace a run already in `out_dir` (without it, a fresh run there is refused).
    pub overwrite: bool,
}

/// What a finished run returns (the same numbers as `metrics.jsonl`).
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub steps: Vec<StepRecord>,
    pub epochs: Vec<EpochRecord>,
    pub metrics_path: PathBuf,
    pub model_path: PathBuf,
    pub model: Model,
    /// text data: the unigram model's perplexity on the validation split (the baseline a
    /// char model's `valid_perplexity` is compared with).
    pub unigram_perplexity: Option<f64>,
    /// Set when early stopping ended the run before `epochs`.
    pub stopped_early: Option<u64>,
    /// Where the run's wall time went (`descent bench --apps`); written to no file.
    pub timings: RunTimings,
    /// The weight average (`[averaging]`), once it took an update (`averaged.bpk`).
    pub averaged: Option<Model>,
}

/// Wall seconds of a run's stages, measured around them in [`train`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunTimings {
    /// Data loaded and split, device, seeded model, optimizer and schedules, run folder opened.
    pub setup_s: f64,
    /// Each epoch run here: its steps, validation, early stopping and checkpoint.
    pub epoch_s: Vec<f64>,
    /// The finished run's files: models, `metrics.csv`, `metrics.jsonl`.
    pub finish_s: f64,
}

impl RunSummary {
    pub fn final_epoch_loss(&self) -> f64 {
        self.epochs.last().map(|e| e.train_loss).unwrap_or(f64::NAN)
    }
}

/// Trains `cfg` and writes the run folder. On error nothing complete-looking is left behind.
pub fn train(cfg: &RunConfig, opts: &RunOptions) -> Result<RunSummary, TrainError> {
    let choice = opts.device.unwrap_or(cfg.device);
    let start = Instant::now();
    crate::run_dir::precheck(&opts.out_dir, opts.overwrite, opts.resume)?;
    let prepared = prepare(cfg, choice)?;
    if let (Some(p), false) = (prepared.unigram_perplexity, opts.quiet) {
        eprintln!("unigram baseline perplexity on the validation text: {p:.4}");
    }
    let (train_split, valid_split) = prepared.splits(cfg);
    let Prepared { device, mut model, unigram_perplexity, .. } = prepared;
    let (mut stepper, mut schedules) = Stepper::build(cfg, &model)?;

    // Where to start: fresh, or from the newest checkpoint of the run being resumed.
    let run = opts.out_dir.as_path();
    // Held until the run returns; the OS releases it if the process dies.
    let _lock = crate::run_dir::claim(run, opts.overwrite, opts.resume)?;
    let mut state = CheckpointState::fresh(cfg.seed);
    let opened = checkpoint::open_run(run, cfg, choice, opts.resume)?;
    for warning in &opened.warnings {
        eprintln!("{warning}");
    }
    if let Some(ckpt) = &opened.resume_from {
        (model, stepper.optim) = checkpoint::restore(ckpt, model, stepper.optim, schedules.named_mut())?;
        if let Some(lbfgs) = &mut stepper.lbfgs {
            lbfgs.state = checkpoint::restore_lbfgs(ckpt)?;
        }
        state = ckpt.state.clone();
    }
    // A copy of the model the run continues from; a checkpoint's average replaces it.
    let mut averaging = Averaging::new(cfg, &model)?;
    if let (Some(a), Some(ckpt)) = (&mut averaging, &opened.resume_from) {
        a.restore(ckpt, ckpt.state.n_averaged.unwrap_or(0))?;
    }
    let writer = MetricsWriter::open(run, state.metrics_len)?;
    let (steps, epochs) = writer.replay()?;
    let first_epoch = state.epoch + 1;
    let mut t = Training {
        cfg,
        run,
        device,
        train: train_split,
        valid: valid_split,
        stepper,
        schedules,
        rng: Rng::new(state.rng),
        state,
        writer,
        steps,
        epochs,
        progress: Progress::new(opts.quiet),
        config_hash: opened.config_hash,
        averaging,
    };

    let mut stopped_early = None;
    let mut timings = RunTimings { setup_s: start.elapsed().as_secs_f64(), ..Default::default() };
    for epoch in first_epoch..=cfg.epochs as u64 {
        let stop;
        let epoch_start = Instant::now();
        (model, stop) = t.epoch(model, epoch).map_err(|e| t.abandon(e))?;
        timings.epoch_s.push(epoch_start.elapsed().as_secs_f64());
        if stop {
            stopped_early = Some(epoch);
            break;
        }
        if epoch < cfg.epochs as u64 {
            let rng = t.rng.state();
            t.stop_if_asked(&model, epoch, rng, None).map_err(|e| t.abandon(e))?;
        }
    }
    t.progress.finish();
    // The saved model is what is evaluated: x for schedule-free kinds.
    let model = t.stepper.eval(model);
    let finish_start = Instant::now();
    let mut summary = finish(t, model, unigram_perplexity, stopped_early)?;
    timings.finish_s = finish_start.elapsed().as_secs_f64();
    summary.timings = timings;
    Ok(summary)
}

/// The finished run's files: the model (burnpack and safetensors), `metrics.csv`,
/// `metrics.jsonl` moved into place. (The charts are the CLI's: `descent_cli::plot::plot_run`.)
fn finish(t: Training, model: Model, unigram_perplexity: Option<f64>, stopped_early: Option<u64>) -> Result<RunSummary, TrainError> {
    let model_path = t.run.join("model.bpk");
    checkpoint::write_atomic(&model_path, &checkpoint::model_bytes(&model)?)?;
    save_safetensors(&model, &t.run.join("model.safetensors"))?;
    if let Some(a) = &t.averaging {
        a.write_final(t.run)?;
    }
    let averaged = t.averaging.and_then(|a| a.into_model());
    crate::metrics::write_csv(&t.run.join("metrics.csv"), &t.epochs)?;
    let metrics_path = t.writer.finish()?;
    let timings = RunTimings::default();
    Ok(RunSummary { steps: t.steps, epochs: t.epochs, metrics_path, model_path, model, unigram_perplexity, stopped_early, timings, averaged })
}

/// Default run folder for a config: `runs/<config file stem>` (the one `--resume` uses; a
/// fresh run takes [`crate::run_dir::next_free_out_dir`]).
pub fn default_out_dir(config: &Path) -> PathBuf {
    let stem = config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    PathBuf::from("runs").join(stem)
}
