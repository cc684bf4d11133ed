//! One owner per run folder, and no run silently replaced.
//!
//! - A folder that already holds a run (any of [`RUN_FILES`]) is refused for a fresh run
//!   unless `overwrite` is set; resuming is for exactly such a folder and is not affected.
//! - The run holds an advisory lock on `RUN/.descent.lock` (`flock(LOCK_EX | LOCK_NB)`, through
//!   `File::try_lock`) from before it touches the folder until it ends; the OS drops it when
//!   the process exits, crashes or is killed, so a stale lock file never blocks a later run.
//!   A second run on the same folder fails at once, naming the pid written in the file.
//!   The lock file is never deleted: unlinking it while another process has it open would
//!   let two runs each lock a different file of the same name.
//! - Without `--out`, a fresh run takes the first free folder of `runs/<config>`,
//!   `runs/<config>-2`, `runs/<config>-3`, … ([`next_free_out_dir`]); resuming keeps the
//!   fixed `runs/<config>` ([`crate::trainer::default_out_dir`]).
//!
//! [`precheck`] runs before the data is loaded and creates nothing, so a refused or bad run
//! leaves the folder as it was; [`claim`] takes the lock right before the folder is written.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use crate::error::TrainError;

/// The lock file inside a run folder.
pub const LOCK: &str = ".descent.lock";

/// What makes a folder hold a run (finished or not).
pub const RUN_FILES: [&str; 6] = ["run.json", "metrics.jsonl", "metrics.jsonl.partial", "model.bpk", "model.safetensors", "checkpoints"];

/// Everything a run writes, cleared before an `overwrite` run starts.
const OUTPUTS: [&str; 10] = [
    "run.json",
    "metrics.jsonl",
    "metrics.jsonl.partial",
    "metrics.csv",
    "model.bpk",
    "model.safetensors",
    "best.bpk",
    "loss.svg",
    "lr.svg",
    "checkpoints",
];

/// The run's hold on its folder; dropping it (or the process ending) releases the lock.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

/// The [`RUN_FILES`] present in `dir`.
pub fn run_files(dir: &Path) -> Vec<&'static str> {
    RUN_FILES.iter().copied().filter(|f| dir.join(f).exists()).collect()
}

fn out_err(dir: &Path, msg: String) -> TrainError {
    TrainError::Output { path: dir.to_path_buf(), msg }
}

fn busy(dir: &Path) -> TrainError {
    let mut text = String::new();
    let _ = File::open(dir.join(LOCK)).and_then(|mut f| f.read_to_string(&mut text));
    match text.trim().parse::<u32>() {
        Ok(pid) => out_err(dir, format!("another descent run (pid {pid}) is using this folder")),
        Err(_) => out_err(dir, "another descent run is using this folder".into()),
    }
}

/// Whether another process holds `dir`'s lock (never creates the lock file).
pub fn is_locked(dir: &Path) -> bool {
    let Ok(f) = File::open(dir.join(LOCK)) else { return false };
    matches!(f.try_lock(), Err(TryLockError::WouldBlock))
}

/// The refusal for a fresh run over an earlier one.
fn holds_run(dir: &Path, found: &[&str]) -> TrainError {
    let what = if found.contains(&"metrics.jsonl") { "a finished run" } else { "an earlier run" };
    out_err(
        dir,
        format!(
            "already holds {what} ({}); pass --overwrite to replace it, --resume to continue an unfinished one, or choose another --out",
            found.join(", ")
        ),
    )
}

/// The checks [`claim`] makes, without creating or changing anything: the folder is not in
/// use by another run, and (unless `overwrite` or `resume`) holds no run.
pub fn precheck(dir: &Path, overwrite: bool, resume: bool) -> Result<(), TrainError> {
    if is_locked(dir) {
        return Err(busy(dir));
    }
    let found = run_files(dir);
    if !overwrite && !resume && !found.is_empty() {
        return Err(holds_run(dir, &found));
    }
    Ok(())
}

/// Creates `dir`, locks it for this run and, for an `overwrite` run, clears what an earlier
/// run left there.
pub fn claim(dir: &Path, overwrite: bool, resume: bool) -> Result<RunLock, TrainError> {
    std::fs::create_dir_all(dir).map_err(|e| out_err(dir, format!("cannot create run folder: {e}")))?;
    let path = dir.join(LOCK);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| out_err(&path, format!("cannot create the lock file: {e}")))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(busy(dir)),
        Err(TryLockError::Error(e)) => return Err(out_err(&path, format!("cannot lock: {e}"))),
    }
    // Only the owner writes its pid, so a reader sees it or an empty file.
    let write_pid = || -> std::io::Result<()> {
        file.set_len(0)?;
        (&file).write_all(format!("{}\n", std::process::id()).as_bytes())
    };
    write_pid().map_err(|e| out_err(&path, format!("cannot write: {e}")))?;
    let found = run_files(dir);
    if !resume && !found.is_empty() {
        if !overwrite {
            return Err(holds_run(dir, &found));
        }
        clear(dir)?;
    }
    Ok(RunLock { _file: file })
}

fn clear(dir: &Path) -> Result<(), TrainError> {
    for name in OUTPUTS {
        let p = dir.join(name);
        let gone = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        match gone {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(out_err(&p, format!("cannot remove the earlier run's file: {e}")));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Whether a fresh run may use `dir` without `overwrite`: it does not exist, or holds no run
/// and no other run has it.
pub fn is_free(dir: &Path) -> bool {
    !dir.exists() || (dir.is_dir() && run_files(dir).is_empty() && !is_locked(dir))
}

/// The folder a fresh run of `config` without `--out` uses: `runs/<config>` when free, else
/// the first free `runs/<config>-N`, N = 2, 3, ….
pub fn next_free_out_dir(config: &Path) -> PathBuf {
    let base = crate::trainer::default_out_dir(config);
    if is_free(&base) {
        return base;
    }
    let mut n = 2u64;
    loop {
        let mut name = base.clone().into_os_string();
        name.push(format!("-{n}"));
        let candidate = PathBuf::from(name);
        if is_free(&candidate) {
            return candidate;
        }
        n += 1;
    }
}
