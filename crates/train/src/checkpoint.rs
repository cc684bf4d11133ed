//! Checkpoints that survive `kill -9` at any instant, and are checked before use.
//!
//! A checkpoint is a folder `RUN/checkpoints/epoch-NNNNNN/` holding the model (burnpack, which
//! keeps parameter ids, so the optimizer state re-attaches), the optimizer and scheduler
//! records (burnpack bytes), `state.json` (position, RNG state, early-stopping counters, and
//! how many bytes of `metrics.jsonl.partial` belong to it) and, written last, `manifest.json`
//! (each file's size and CRC32C, see [`crate::manifest`]). It is written into a hidden temp
//! folder, every file fsynced, then renamed into place and the parent fsynced: a crash leaves
//! either the whole checkpoint or none of it. A checkpoint taken inside an epoch (graceful
//! preemption) is `epoch-NNNNNN-step-SSSSSSSSS/`, NNNNNN the last completed epoch.
//!
//! Resume reads the newest checkpoint once, checks every byte against its manifest, and loads
//! only what passed; a damaged or incomplete one is reported and the one before it is used.
//! It truncates the metrics back to the checkpoint's length, so the final files equal an
//! uninterrupted run's, byte for byte.
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
use crate::manifest::{self, Manifest, VerifiedFiles, MANIFEST};
use crate::run_identity;

/// Everything besides tensors needed to continue exactly where the checkpoint was taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Last completed epoch.
    pub epoch: u64,
    /// Optimizer steps taken so far.
    pub step: u64,
    /// The data-order RNG's state after `epoch` (equally: at the start of epoch `epoch + 1`).
    pub rng: u64,
    /// Bytes of `metrics.jsonl.partial` written up to and including `epoch` (and the steps of
    /// `within`).
    pub metrics_len: u64,
    pub early_best: Option<f64>,
    pub early_bad_epochs: usize,
    /// Set when the checkpoint was taken inside epoch `epoch + 1` (graceful preemption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<WithinEpoch>,
    /// The weight average's `n_averaged` (`[averaging]` only; its weights are `averaged.bpk`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_averaged: Option<u64>,
}

/// How far into its epoch a preemption checkpoint is: the epoch's batch order is drawn again
/// from `rng`, its first `steps_done` steps skipped, and the epoch's loss sum carried on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WithinEpoch {
    pub steps_done: u64,
    /// Sum of the raw losses of those steps (the epoch's `train_loss` is the mean).
    pub loss_sum: f64,
}

impl CheckpointState {
    /// A run's start: nothing done, the data-order RNG at `seed`.
    pub fn fresh(seed: u64) -> Self {
        Self { epoch: 0, step: 0, rng: seed, metrics_len: 0, early_best: None, early_bad_epochs: 0, within: None, n_averaged: None }
    }
}

pub const MODEL: &str = "model.bpk";
pub const OPTIMIZER: &str = "optimizer.bpk";
pub const SCHEDULER: &str = "scheduler.bpk";
pub const STATE: &str = "state.json";
/// `kind = "lbfgs"`: its state (descent_optim::LbfgsState's bytes).
pub const LBFGS: &str = "lbfgs.bin";

/// A write or read error, naming the path; says so when the disk is full or a file-size limit
/// (`ulimit -f`) was hit.
pub fn io_error(path: &Path, what: &str, e: std::io::Error) -> TrainError {
    let hint = match e.raw_os_error() {
        Some(28) => " (the disk is full)",
        Some(27) => " (a file-size limit was hit: see `ulimit -f`)",
        _ => "",
    };
    TrainError::Output { path: path.to_path_buf(), msg: format!("{what}: {e}{hint}") }
}

fn io(path: &Path, what: &str, e: std::io::Error) -> TrainError {
    io_error(path, what, e)
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
    if let Err(e) = write_synced(&tmp, bytes) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| io(path, "cannot rename into place", e))?;
    sync_dir(dir)
}

pub fn sync_dir(dir: &Path) -> Result<(), TrainError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir, "cannot sync folder", e))
}

pub fn checkpoints_dir(run: &Path) -> PathBuf {
    run.join("checkpoints")
}

fn name(state: &CheckpointState) -> String {
    match state.within {
        None => format!("epoch-{:06}", state.epoch),
        Some(_) => format!("epoch-{:06}-step-{:09}", state.epoch, state.step),
    }
}

/// A checkpoint folder's place in the run: (last completed epoch, step for a mid-epoch one
/// else 0), which orders them by time.
fn order_key(folder: &str) -> Option<(u64, u64)> {
    let rest = folder.strip_prefix("epoch-")?;
    match rest.split_once("-step-") {
        Some((e, s)) => Some((e.parse().ok()?, s.parse().ok()?)),
        None => Some((rest.parse().ok()?, 0)),
    }
}

/// Writes one checkpoint from `files` (name, bytes) and `state`, its manifest last, then keeps
/// the newest `keep_last`. `crash_hook` lets tests kill the process half-way through a write.
pub fn save(
    run: &Path,
    files: &[(&str, Vec<u8>)],
    state: &CheckpointState,
    keep_last: usize,
    config_hash: &str,
) -> Result<PathBuf, TrainError> {
    let root = checkpoints_dir(run);
    std::fs::create_dir_all(&root).map_err(|e| io(&root, "cannot create", e))?;
    let tmp = root.join(format!(".tmp-{}", name(state)));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io(&tmp, "cannot clear", e))?;
    }
    std::fs::create_dir(&tmp).map_err(|e| io(&tmp, "cannot create", e))?;
    if let Err(e) = write_files(&tmp, files, state, config_hash) {
        // Frees what a full disk needs; the previous checkpoints are untouched.
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let dest = root.join(name(state));
    if dest.exists() {
        std::fs::remove_dir_all(&dest).map_err(|e| io(&dest, "cannot replace", e))?;
    }
    std::fs::rename(&tmp, &dest).map_err(|e| io(&dest, "cannot rename into place", e))?;
    sync_dir(&root)?;
    let all = list(run)?;
    if all.len() > keep_last {
        for old in &all[..all.len() - keep_last] {
            std::fs::remove_dir_all(old).map_err(|e| io(old, "cannot prune", e))?;
        }
    }
    Ok(dest)
}

/// The files, `state.json`, then the manifest of all of them, each fsynced, into `tmp`.
fn write_files(tmp: &Path, files: &[(&str, Vec<u8>)], state: &CheckpointState, config_hash: &str) -> Result<(), TrainError> {
    for (i, (file, bytes)) in files.iter().enumerate() {
        write_synced(&tmp.join(file), bytes)?;
        crash_point("checkpoint", state.epoch, i);
    }
    let json = serde_json::to_vec_pretty(state).map_err(|e| io(tmp, "cannot encode state", std::io::Error::other(e)))?;
    write_synced(&tmp.join(STATE), &json)?;
    let mut listed: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    listed.push((STATE, &json));
    let manifest = serde_json::to_vec_pretty(&Manifest::of(&listed, config_hash))
        .map_err(|e| io(tmp, "cannot encode manifest", std::io::Error::other(e)))?;
    write_atomic(&tmp.join(MANIFEST), &manifest)?;
    sync_dir(tmp)
}

/// Checkpoint folders (complete or not), oldest first.
pub fn list(run: &Path) -> Result<Vec<PathBuf>, TrainError> {
    let root = checkpoints_dir(run);
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(&root) else { return Ok(Vec::new()) };
    for e in entries.flatten() {
        if let Some(key) = order_key(&e.file_name().to_string_lossy()) {
            out.push((key, e.path()));
        }
    }
    out.sort();
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

/// A checkpoint whose every byte matched its manifest.
pub struct Verified {
    pub dir: PathBuf,
    pub files: VerifiedFiles,
    pub state: CheckpointState,
}

/// Checks checkpoint `dir` against its manifest and reads its state.
pub fn verify(dir: &Path, config_hash: &str) -> Result<Verified, String> {
    let files = manifest::verify(dir, config_hash)?;
    let state = files.get(STATE).ok_or(format!("{STATE}: not in the manifest"))?;
    let state = serde_json::from_slice(state).map_err(|e| format!("{STATE}: not a checkpoint state ({e})"))?;
    Ok(Verified { dir: dir.to_path_buf(), files, state })
}

/// The newest checkpoint that passes [`verify`], and one line for each newer one that did not
/// (which file, what is wrong, which checkpoint is used instead). An error when there were
/// checkpoints but none passed.
pub fn newest_good(run: &Path, config_hash: &str) -> Result<(Option<Verified>, Vec<String>), TrainError> {
    let mut damaged = Vec::new();
    for dir in list(run)?.into_iter().rev() {
        match verify(&dir, config_hash) {
            Ok(v) => {
                let using = folder_name(&v.dir);
                let lines = damaged.into_iter().map(|(d, e)| format!("warning: {}: {e}; resuming from {using} instead", d)).collect();
                return Ok((Some(v), lines));
            }
            Err(e) => damaged.push((dir.display().to_string(), e)),
        }
    }
    match damaged.first() {
        None => Ok((None, Vec::new())),
        Some((d, e)) => Err(TrainError::Output {
            path: checkpoints_dir(run),
            msg: format!(
                "no intact checkpoint to resume from ({} damaged; newest {d}: {e}); start the run again without --resume",
                damaged.len()
            ),
        }),
    }
}

fn folder_name(dir: &Path) -> String {
    dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The newest checkpoint of `run` that passes its manifest check, and its state.
pub fn latest(run: &Path) -> Result<Option<(PathBuf, CheckpointState)>, TrainError> {
    let path = run.join("run.json");
    let saved = std::fs::read(&path).map_err(|e| io(&path, "cannot read", e))?;
    let saved: serde_json::Value =
        serde_json::from_slice(&saved).map_err(|e| TrainError::Output { path: path.clone(), msg: format!("damaged: {e}") })?;
    Ok(newest_good(run, &run_identity::hash(&saved))?.0.map(|v| (v.dir, v.state)))
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

/// What a run folder holds once readied for a run: the checkpoint to continue from (none for
/// a fresh run, or a resumed one that stopped before its first), the warnings about damaged
/// newer ones, and the hash new checkpoints' manifests record.
pub struct Opened {
    pub resume_from: Option<Verified>,
    pub warnings: Vec<String>,
    pub config_hash: String,
}

/// True when `run` holds a run that `--resume auto` should continue: a `run.json` and a
/// checkpoint or metrics written.
pub fn holds_run(run: &Path) -> bool {
    let any_checkpoint = !list(run).unwrap_or_default().is_empty();
    let metrics = ["metrics.jsonl", "metrics.jsonl.partial"].iter().any(|f| run.join(f).exists());
    run.join("run.json").exists() && (any_checkpoint || metrics)
}

/// Readies the run folder and writes `run.json`. A fresh run clears what an earlier run left
/// there; a resume checks the folder holds this very run (key by key: only `epochs` may grow),
/// unfinished, and picks its newest intact checkpoint.
pub fn open_run(run: &Path, cfg: &RunConfig, device: DeviceChoice, resume: bool) -> Result<Opened, TrainError> {
    let out_err = |msg: String| TrainError::Output { path: run.to_path_buf(), msg };
    let (identity, bytes) = run_identity::identity(cfg, device).map_err(out_err)?;
    let config_hash = run_identity::hash(&identity);
    let mut opened = Opened { resume_from: None, warnings: Vec::new(), config_hash };
    if resume {
        check_resumable(run, &identity)?;
        (opened.resume_from, opened.warnings) = newest_good(run, &opened.config_hash)?;
    } else {
        for stale in [
            "metrics.jsonl",
            "metrics.jsonl.partial",
            "metrics.csv",
            "model.bpk",
            "model.safetensors",
            crate::averaging::AVERAGED,
            crate::averaging::AVERAGED_SAFETENSORS,
        ] {
            let _ = std::fs::remove_file(run.join(stale));
        }
        let _ = std::fs::remove_dir_all(checkpoints_dir(run));
    }
    std::fs::create_dir_all(run).map_err(|e| out_err(format!("cannot create run folder: {e}")))?;
    write_atomic(&run.join("run.json"), &bytes)?;
    Ok(opened)
}

/// A resume of `run` with the config `identity`: its `run.json` must match key by key (more
/// `epochs` allowed) and it must not have finished.
fn check_resumable(run: &Path, identity: &serde_json::Value) -> Result<(), TrainError> {
    let path = run.join("run.json");
    let bad = |msg: String| TrainError::Output { path: path.clone(), msg };
    let saved = std::fs::read(&path)
        .map_err(|_| TrainError::Output { path: run.to_path_buf(), msg: "not a descent run folder (no run.json); start it without --resume".into() })?;
    let saved: serde_json::Value = serde_json::from_slice(&saved).map_err(|e| bad(format!("damaged ({e})")))?;
    let grown = run_identity::compare(&saved, identity).map_err(bad)?;
    if run.join("metrics.jsonl").exists() {
        return Err(match grown {
            None => TrainError::AlreadyComplete(run.to_path_buf()),
            Some((old, new)) => TrainError::Output {
                path: run.to_path_buf(),
                msg: format!(
                    "this run finished its {old} epochs; a finished run keeps no checkpoint of its last epoch, so it cannot be extended to {new}: start a new run (or resume an unfinished one with more epochs)"
                ),
            },
        });
    }
    Ok(())
}

/// Saves a checkpoint of the run at `state`: the model, the optimizer and the schedules
/// (`named` as [`Schedules::named`](crate::schedules::Schedules::named) gives them), plus
/// `extra` files (name, bytes: L-BFGS's state, the weight average) in the same atomic checkpoint.
#[allow(clippy::too_many_arguments)]
pub fn save_training(
    run: &Path,
    model: &Model,
    optim: &ModuleOptimizer,
    extra: Vec<(&str, Vec<u8>)>,
    named: &[(String, &Scheduler)],
    state: &CheckpointState,
    keep_last: usize,
    config_hash: &str,
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
    files.extend(extra);
    save(run, &files, state, keep_last, config_hash)
}

/// Puts a verified checkpoint's model, optimizer and schedules back (from the bytes that
/// were checked, never from a second read of the files).
pub fn restore(
    ckpt: &Verified,
    model: Model,
    optim: ModuleOptimizer,
    named: Vec<(String, &mut Scheduler)>,
) -> Result<(Model, ModuleOptimizer), TrainError> {
    let bytes = |file: &str| {
        ckpt.files.get(file).cloned().ok_or_else(|| TrainError::Output { path: ckpt.dir.join(file), msg: "not in the manifest".into() })
    };
    let model = model_from_bytes(model, bytes(MODEL)?, &ckpt.dir.join(MODEL))?;
    let p = ckpt.dir.join(OPTIMIZER);
    let optim_bytes = bytes(OPTIMIZER)?;
    let optim = crate::panic_guard::guarded(&p, || {
        optim.from_bytes(Bytes::from_bytes_vec(optim_bytes)).map_err(|e| TrainError::Output { path: p.clone(), msg: e.to_string() })
    })?;
    if !named.is_empty() {
        let p = ckpt.dir.join(SCHEDULER);
        let bad = |msg: String| TrainError::Output { path: p.clone(), msg };
        let sched_bytes = bytes(SCHEDULER)?;
        crate::panic_guard::guarded(&p, || {
            let record = LrSchedulerRecord::from_bytes(Bytes::from_bytes_vec(sched_bytes)).map_err(|e| bad(e.to_string()))?;
            for (name, s) in named {
                s.try_load_record(&record.record(&name)).map_err(|e| bad(e.to_string()))?;
            }
            Ok(())
        })?;
    }
    Ok((model, optim))
}

/// A verified checkpoint's extra file `name` (as [`save_training`] got it), from the checked bytes.
pub fn extra_file<'a>(ckpt: &'a Verified, name: &str) -> Result<&'a Vec<u8>, TrainError> {
    ckpt.files.get(name).ok_or_else(|| TrainError::Output { path: ckpt.dir.join(name), msg: "not in the manifest".into() })
}

/// Loads burnpack `bytes` (a verified checkpoint's `name`) into `model`.
pub fn model_from_checkpoint(model: Model, ckpt: &Verified, name: &str) -> Result<Model, TrainError> {
    model_from_bytes(model, extra_file(ckpt, name)?.clone(), &ckpt.dir.join(name))
}

/// Checkpoint `dir`'s L-BFGS state.
pub fn restore_lbfgs(ckpt: &Verified) -> Result<descent_optim::LbfgsState, TrainError> {
    let p = ckpt.dir.join(LBFGS);
    let bad = |msg: String| TrainError::Output { path: p.clone(), msg };
    let bytes = ckpt.files.get(LBFGS).ok_or_else(|| bad("not in the manifest".into()))?;
    descent_optim::LbfgsState::from_bytes(bytes).map_err(|e| bad(e.to_string()))
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
    let bytes = std::fs::read(path).map_err(|e| io(path, "cannot read", e))?;
    model_from_bytes(model, bytes, path)
}

/// Loads burnpack `bytes` (read from `path`, which errors name) into `model`.
fn model_from_bytes(model: Model, bytes: Vec<u8>, path: &Path) -> Result<Model, TrainError> {
    let bad = |msg: String| TrainError::Output { path: path.to_path_buf(), msg };
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes)));
    let mut model = model;
    let r = crate::panic_guard::guarded(path, || model.load_from(&mut store).map_err(|e| bad(e.to_string())))?;
    if !r.errors.is_empty() || !r.missing.is_empty() {
        return Err(bad(format!("checkpoint does not fit the model: {r}")));
    }
    Ok(model)
}
