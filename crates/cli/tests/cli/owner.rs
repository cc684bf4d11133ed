//! One owner per run folder: a finished run is not replaced without `--overwrite`, the
//! default folder moves to the next free name, a second run on a folder in use fails at
//! once, and a model too large for the machine is refused before it is allocated.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::root;

/// A 2-epoch seed-task config in `dir`, named `name.toml`, with `sizes`.
fn config(dir: &Path, name: &str, sizes: &str) -> PathBuf {
    let text = format!(
        "epochs = 2\n[model]\nkind = \"mlp\"\nsizes = {sizes}\n[data]\ntrain = \"{}\"\ntargets = [\"y\"]\n[batching]\nmode = \"full\"\n[optimizer]\nkind = \"sgd\"\nlr = 0.05\n",
        root().join("fixtures/seed/train.csv").display()
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn descent(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_descent")).args(args).current_dir(cwd).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_one_error_line(o: &Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: ") && !err.contains("panicked"), "{err}");
    err
}

#[test]
fn a_finished_run_is_replaced_only_with_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "run", "[10, 5, 1]");
    let (cfg, out) = (cfg.to_str().unwrap(), dir.path().join("out"));
    let out_s = out.to_str().unwrap();
    let o = descent(dir.path(), &["train", "--quiet", "--config", cfg, "--out", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    let first = std::fs::read(out.join("metrics.jsonl")).unwrap();
    std::fs::write(out.join("metrics.jsonl"), b"the earlier run\n").unwrap();

    let o = descent(dir.path(), &["train", "--quiet", "--config", cfg, "--out", out_s]);
    let err = assert_one_error_line(&o);
    assert!(err.contains(&format!("{out_s}: already holds a finished run (run.json, metrics.jsonl")), "{err}");
    assert!(err.contains("--overwrite"), "{err}");
    assert_eq!(std::fs::read(out.join("metrics.jsonl")).unwrap(), b"the earlier run\n", "the refused run touched the folder");

    let o = descent(dir.path(), &["train", "--quiet", "--config", cfg, "--out", out_s, "--overwrite"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(out.join("metrics.jsonl")).unwrap(), first, "--overwrite reran the same run");
    // An empty folder is not a run: no --overwrite needed.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = descent(dir.path(), &["train", "--quiet", "--config", cfg, "--out", empty.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn without_out_a_fresh_run_takes_the_next_free_folder_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    config(dir.path(), "seedy", "[10, 5, 1]");
    let run = || descent(dir.path(), &["train", "--config", "seedy.toml"]);
    let o = run();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!stderr(&o).contains("holds an earlier run"), "{}", stderr(&o));
    let first = std::fs::read(dir.path().join("runs/seedy/metrics.jsonl")).unwrap();
    for n in [2, 3] {
        let o = run();
        assert!(o.status.success(), "{}", stderr(&o));
        let said = format!("runs/seedy holds an earlier run; writing this one to runs/seedy-{n}");
        assert!(stderr(&o).contains(&said), "{}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("runs/seedy-{n}/metrics.jsonl")));
        assert_eq!(std::fs::read(dir.path().join(format!("runs/seedy-{n}/metrics.jsonl"))).unwrap(), first);
    }
    assert_eq!(std::fs::read(dir.path().join("runs/seedy/metrics.jsonl")).unwrap(), first, "the first run was touched");
}

#[test]
fn a_second_run_on_a_folder_in_use_fails_at_once_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "run", "[10, 5, 1]");
    let out = dir.path().join("busy");
    std::fs::create_dir(&out).unwrap();
    // This test is the other run: it holds the folder's lock, as a running `descent` does.
    let mut lock = OpenOptions::new().create(true).truncate(true).write(true).open(out.join(".descent.lock")).unwrap();
    lock.try_lock().unwrap();
    writeln!(lock, "{}", std::process::id()).unwrap();
    let t0 = Instant::now();
    let o = descent(dir.path(), &["train", "--quiet", "--config", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let took = t0.elapsed();
    let err = assert_one_error_line(&o);
    let want = format!("{}: another descent run (pid {}) is using this folder", out.display(), std::process::id());
    assert!(err.contains(&want), "{err}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1, "the refused run wrote into the folder");
    // Released (as when the owner exits or is killed), the stale lock file blocks nothing.
    drop(lock);
    let o = descent(dir.path(), &["train", "--quiet", "--config", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_billion_unit_model_is_refused_in_under_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), "huge", "[10, 1000000000, 1]");
    let out = dir.path().join("out");
    let t0 = Instant::now();
    let o = descent(dir.path(), &["train", "--quiet", "--config", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let took = t0.elapsed();
    let err = assert_one_error_line(&o);
    // 10·10⁹ + 10⁹ + 10⁹ + 1 parameters, 4 bytes each; SGD without momentum keeps no state;
    // the 256-row batch keeps 2·(10⁹ + 1) activations a row.
    for part in [
        "not enough memory: this run needs ≈ 2.1 TB (1.2e10 parameters: weights 48.0 GB, gradients 48.0 GB, optimizer state 0 B (0× the weights); activations of a 256-row batch 2.0 TB; data 11.3 kB)",
        "but this machine has",
    ] {
        assert!(err.contains(part), "{err}");
    }
    assert!(took < Duration::from_secs(1), "the refusal took {took:?}");
    assert!(!out.exists(), "the refused run created {}", out.display());
}
