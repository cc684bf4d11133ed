//! Checkpoints that survive `kill -9` at any instant.
//!
//! A checkpoint is a folder `RUN/checkpoints/epoch-NNNNNN/` holding the model (burnpack, which
//! keeps parameter ids, so the optimizer state re-attaches), the optimizer and scheduler
//! records (burnpack bytes) and `state.json` (position, RNG state, early-stopping counters,
//! and how many bytes of `metrics.jsonl.partial` belong to it). It is written into a hidden
//! temp folder, every file fsynced, then renamed into place and the parent fsynced: a crash
//! leaves either the whole checkpoint or none of it. Resume truncates the metrics back to the
//! checkpoint's length, so the final files equal an uninterrupted run's, byte for byte.
//!
//! All saving and loading of a run's model, optimizer, schedules and RNG state lives here.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::optim::ModuleOptimizer;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::Bytes;
use descent_model::Model;
use descent_optim::schedule::Scheduler;
use serde::{Deserialize, Serialize};

use crate::config::{DeviceChoice, RunConfig};
use crate::error::TrainError;

/// Everything besides tensors needed to continue exactly where the checkpoint was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Last completed epoch.
    pub epoch: u64,
    /// Optimizer steps taken so far.
    pub step: u64,
    /// The data-order RNG's state after `epoch`.
    pub rng: u64,
    /// Bytes of `metrics.jsonl.partial` written up to and including `epoch`.
    pub metrics_len: u64,
    pub early_best: Option<f64>,
    pub early_bad_epochs: usize,
}

impl CheckpointState {
    /// A run's start: nothing done, the data-order RNG at `seed`.
    pub fn fresh(seed: u64) -> Self {
        Self { epoch: 0, step: 0, rng: seed, metrics_len: 0, early_best: None, early_bad_epochs: 0 }
    }
}

pub const MODEL: &str = "model.bpk";
pub const OPTIMIZER: &str = "optimizer.bpk";
pub const SCHEDULER: &str = "scheduler.bpk";
pub const STATE: &str = "state.json";

fn io(path: &Path, what: &str, e: std::io::Error) -> TrainError {
    TrainError::Output { path: path.to_path_buf(), msg: format!("{what}: {e}") }
}

/// Writes `bytes` to `path` and fsyncs it.
pub fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let mut f = File::create(path).map_err(|e| io(path, "cannot create", e))?;
    f.write_all(bytes).map_err(|e| io(path, "cannot write", e))?;
    f.sync_all().map_err(|e| io(path, "cannot sync", e))
}

/// Atomically replaces `path` with `bytes` (temp file + fsync + rename + fsync of the folder).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), TrainError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    write_synced(&tmp, bytes)?;
    std::fs::rename(&tmp, path).map_err(|e| io(path, "cannot rename into place", e))?;
    sync_dir(dir)
}

pub fn sync_dir(dir: &Path) -> Result<(), TrainError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir, "cannot sync folder", e))
}

pub fn checkpoints_dir(run: &Path) -> PathBuf {
    run.join("checkpoints")
}

fn name(epoch: u64) -> String {
    format!("epoch-{epoch:06}")
}

/// Writes one checkpoint from `files` (name, bytes) and `state`, then keeps the newest
/// `keep_last`. `crash_hook` lets tests kill the process half-way through a write.
pub fn save(run: &Path, files: &[(&str, Vec<u8>)], state: &CheckpointState, keep_last: usize) -> Result<PathBuf, TrainError> {
    let root = checkpoints_dir(run);
    std::fs::create_dir_all(&root).map_err(|e| io(&root, "cannot create", e))?;
    let tmp = root.join(format!(".tmp-{}", name(state.epoch)));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, "cannot clear", e))?;
    }
    std::fs::create_dir(&tmp).map_err(|e| io(&tmp, "cannot create", e))?;
    for (i, (file, bytes)) in files.iter().enumerate() {
        write_synced(&tmp.join(file), bytes)?;
        crash_point("checkpoint", state.epoch, i);
    }
    let json = serde_json::to_vec_pretty(state).map_err(|e| io(&tmp, "cannot encode state", std::io::Error::other(e)))?;
    write_synced(&tmp.join(STATE), &json)?;
    sync_dir(&tmp)?;
    let dest = root.join(name(state.epoch));
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| io(&dest, "cannot replace", e))?;
    }
    std::fs::rename(&tmp, &dest).map_err(|e| io(&dest, "cannot rename into place", e))?;
    sync_dir(&root)?;
    let all = list(run)?;
    if all.len() > keep_last {
        for (_, old) in &all[..all.len() - keep_last] {
            std::fs::remove_dir_all(old).map_err(|e| io(old, "cannot prune", e))?;
        }
    }
    Ok(dest)
}

/// Complete checkpoints, oldest first.
pub fn list(run: &Path) -> Result<Vec<(u64, PathBuf)>, TrainError> {
    let root = checkpoints_dir(run);
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&root) else { return Ok(out) };
    for e in entries.flatten() {
        let file_name = e.file_name().to_string_lossy().into_owned();
        if let Some(n) = file_name.strip_prefix("epoch-").and_then(|n| n.parse::<u64>().ok()) {
            if e.path().join(STATE).exists() {
                out.push((n, e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The newest complete checkpoint and its state.
pub fn latest(run: &Path) -> Result<Option<(PathBuf, CheckpointState)>, TrainError> {
    let Some((_, dir)) = list(run)?.pop() else { return Ok(None) };
    let path = dir.join(STATE);
    let text = std::fs::read(&path).map_err(|e| io(&path, "cannot read", e))?;
    let state = serde_json::from_slice(&text)
        .map_err(|e| TrainError::Output { path: path.clone(), msg: format!("corrupt checkpoint state: {e}") })?;
    Ok(Some((dir, state)))
}

/// For crash tests: `DESCENT_CRASH_AT=checkpoint:<epoch>:<file index>` aborts the process
/// right after that file of that checkpoint is written (as a SIGKILL would).
pub fn crash_point(kind: &str, epoch: u64, index: usize) {
    if let Ok(spec) = std::env::var("DESCENT_CRASH_AT") {
        if spec == format!("{kind}:{epoch}:{index}") {
            std::process::abort();
        }
    }
}

/// The config as the run saw it; a resume must match it.
#[derive(Serialize)]
struct RunIdentity<'a> {
    config: &'a RunConfig,
    device: DeviceChoice,
}

/// Readies the run folder and writes `run.json`. A fresh run clears what an earlier run left
/// there; a resume checks the folder holds this very run, unfinished, and returns its newest
/// checkpoint (none when it stopped before the first).
pub fn open_run(
    run: &Path,
    cfg: &RunConfig,
    device: DeviceChoice,
    resume: bool,
) -> Result<Option<(PathBuf, CheckpointState)>, TrainError> {
    let out_err = |msg: String| TrainError::Output { path: run.to_path_buf(), msg };
    let identity = serde_json::to_vec_pretty(&RunIdentity { config: cfg, device }).map_err(|e| out_err(e.to_string()))?;
    let latest = if resume {
        if run.join("metrics.jsonl").exists() {
            return Err(out_err("this run is already complete (metrics.jsonl exists); nothing to resume".into()));
        }
        match std::fs::read(run.join("run.json")) {
            Ok(saved) if saved == identity => {}
            Ok(_) => return Err(out_err("the config differs from the one this run was started with (run.json); resume needs the same config".into())),
            Err(_) => return Err(out_err("not a descent run folder (no run.json); start it without --resume".into())),
        }
        latest(run)?
    } else {
        for stale in ["metrics.jsonl", "metrics.jsonl.partial", "metrics.csv", "model.bpk", "model.safetensors"] {
            let _ = std::fs::remove_file(run.join(stale));
        }
        let _ = std::fs::remove_dir_all(checkpoints_dir(run));
        None
    };
    std::fs::create_dir_all(run).map_err(|e| out_err(format!("cannot create run folder: {e}")))?;
    write_atomic(&run.join("run.json"), &identity)?;
    Ok(latest)
}

/// Saves a checkpoint of the run at `state`: the model, the optimizer and the schedules
/// (`named` as [`Schedules::named`](crate::schedules::Schedules::named) gives them).
pub fn save_training(
    run: &Path,
    model: &Model,
    optim: &ModuleOptimizer,
    named: &[(String, &Scheduler)],
    state: &CheckpointState,
    keep_last: usize,
) -> Result<PathBuf, TrainError> {
    let optim_bytes = optim
        .into_bytes()
        .map(|b| b.to_vec())
        .map_err(|e| TrainError::Output { path: run.join(OPTIMIZER), msg: e.to_string() })?;
    let mut files = vec![(MODEL, model_bytes(model)?), (OPTIMIZER, optim_bytes)];
    if !named.is_empty() {
        let record = named.iter().fold(LrSchedulerRecord::new(), |r, (name, s)| r.with_record(name, LrScheduler::to_record(*s)));
        let bytes = record.into_bytes().map_err(|e| TrainError::Output { path: run.join(SCHEDULER), msg: e.to_string() })?;
        files.push((SCHEDULER, bytes.to_vec()));
    }
    save(run, &files, state, keep_last)
}

/// Puts checkpoint `dir`'s model, optimizer and schedules back.
pub fn restore(
    dir: &Path,
    model: Model,
    optim: ModuleOptimizer,
    named: Vec<(String, &mut Scheduler)>,
) -> Result<(Model, ModuleOptimizer), TrainError> {
    let model = load_model(model, &dir.join(MODEL))?;
    let p = dir.join(OPTIMIZER);
    let bytes = std::fs::read(&p).map_err(|e| TrainError::Output { path: p.clone(), msg: format!("cannot read: {e}") })?;
    let optim = crate::panic_guard::guarded(&p, || {
        optim.from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| TrainError::Output { path: p.clone(), msg: e.to_string() })
    })?;
    if !named.is_empty() {
        let p = dir.join(SCHEDULER);
        let bad = |msg: String| TrainError::Output { path: p.clone(), msg };
        let bytes = std::fs::read(&p).map_err(|e| bad(format!("cannot read: {e}")))?;
        crate::panic_guard::guarded(&p, || {
            let record = LrSchedulerRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| bad(e.to_string()))?;
            for (name, s) in named {
                s.try_load_record(&record.record(&name)).map_err(|e| bad(e.to_string()))?;
            }
            Ok(())
        })?;
    }
    Ok((model, optim))
}

/// The model as burnpack bytes (`model.bpk`, `best.bpk`, a checkpoint's model).
pub fn model_bytes(model: &Model) -> Result<Vec<u8>, TrainError> {
    let fail = |e: String| TrainError::Output { path: "model.bpk".into(), msg: e };
    let mut store = BurnpackStore::from_bytes(None).clear_metadata();
    model.save_into(&mut store).map_err(|e| fail(e.to_string()))?;
    let bytes = store.get_bytes().map_err(|e| fail(e.to_string()))?;
    Ok(bytes.to_vec())
}

/// Loads burnpack `path` into `model`, which must have the same parameters.
pub fn load_model(model: Model, path: &Path) -> Result<Model, TrainError> {
    let bad = |msg: String| TrainError::Output { path: path.to_path_buf(), msg };
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes)));
    let mut model = model;
    let r = crate::panic_guard::guarded(path, || model.load_from(&mut store).map_err(|e| bad(e.to_string())))?;
    if !r.errors.is_empty() || !r.missing.is_empty() {
        return Err(bad(format!("checkpoint does not fit the model: {r}")));
    }
    Ok(model)
}
