//! Checkpoint integrity, graceful preemption and write errors, end to end on the `descent`
//! binary: a damaged newest checkpoint is reported in one line and the previous one used;
//! SIGTERM / SIGINT at seeded steps, then the same `--resume auto` command, give the bytes of
//! an uninterrupted run; a file-size limit gives a clear error and a resumable run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::root;

/// The seed task (192 training rows): `stochastic` takes 192 steps an epoch.
const STOCHASTIC: &str = r#"
[batching]
mode = "stochastic"
[optimizer]
kind = "sgd"
lr = 0.005
momentum = 0.5
"#;

/// Shuffled mini-batches of 16 accumulated in pairs (6 steps an epoch) under a per-step
/// one-cycle schedule: the batch order, the accumulation and the schedule's state all resume.
const MINI_ONECYCLE: &str = r#"
[batching]
mode = "mini"
batch_size = 16
accumulate = 2
[optimizer]
kind = "sgd"
lr = 0.01
momentum = 0.9
[scheduler]
kind = "onecycle"
max_lr = 0.05
total_steps = 40
interval = "step"
"#;

const CHECKPOINTS: &str = "[checkpoint]\nevery_epochs = 1\nkeep_last = 2\n";

fn config(dir: &Path, file: &str, epochs: u32, rest: &str) -> PathBuf {
    let fx = root().join("fixtures/seed");
    let text = format!(
        "epochs = {epochs}\nseed = 3\n[model]\nkind = \"mlp\"\nsizes = [10, 5, 1]\ninit_from = \"{}\"\n[data]\ntrain = \"{}\"\ntargets = [\"y\"]\nvalid_fraction = 0.25\n{rest}",
        fx.join("init.safetensors").display(),
        fx.join("train.csv").display()
    );
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

/// `descent train --quiet --config CONFIG` plus `args`, with `env` set.
fn descent(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_descent"));
    c.args(["train", "--quiet", "--config", config.to_str().unwrap()]).args(args);
    c.envs(env.iter().copied()).stdout(Stdio::null()).stderr(Stdio::piped());
    c.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn run_ok(config: &Path, args: &[&str]) {
    let o = descent(config, args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The files a finished run leaves, compared byte for byte. (`model.bpk` holds Burn's
/// parameter ids, drawn afresh by every process, so two uninterrupted runs differ there too;
/// `model.safetensors` holds the same weights without them.)
fn assert_same(reference: &Path, run: &Path, what: &str) {
    for f in ["metrics.jsonl", "metrics.csv", "model.safetensors"] {
        let (a, b) = (std::fs::read(reference.join(f)).unwrap(), std::fs::read(run.join(f)).unwrap_or_default());
        assert!(a == b, "{what}: {f} differs from the uninterrupted run");
    }
}

fn checkpoint_names(run: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// A run killed while writing checkpoint 4 (so checkpoints 2 and 3 stand), with `damage`
/// done to checkpoint 3; returns the resume's stderr after checking its final files.
fn resume_after_damage(dir: &Path, case: &str, damage: impl FnOnce(&Path)) -> String {
    let config = config(dir, "run.toml", 6, &format!("{STOCHASTIC}{CHECKPOINTS}"));
    let reference = dir.join("reference");
    if !reference.join("metrics.jsonl").exists() {
        run_ok(&config, &["--out", s(&reference)]);
    }
    let out = dir.join(case);
    let o = descent(&config, &["--out", s(&out)], &[("DESCENT_CRASH_AT", "checkpoint:4:0")]);
    assert!(!o.status.success(), "{case}: the crash hook did not fire");
    assert_eq!(checkpoint_names(&out), [".tmp-epoch-000004", "epoch-000002", "epoch-000003"], "{case}");
    damage(&out.join("checkpoints/epoch-000003"));
    let o = descent(&config, &["--resume", s(&out)], &[]);
    let err = stderr(&o);
    assert!(o.status.success(), "{case}: {err}");
    assert_same(&reference, &out, case);
    err
}

#[test]
fn a_flipped_byte_in_the_newest_checkpoint_is_reported_in_one_line_and_the_previous_one_used() {
    let dir = tempfile::tempdir().unwrap();
    let err = resume_after_damage(dir.path(), "flipped", |ckpt| {
        let path = ckpt.join("model.bpk");
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 8; // inside the last parameter's data
        bytes[at] ^= 0x01;
        std::fs::write(&path, bytes).unwrap();
    });
    assert_eq!(err.lines().count(), 1, "{err}");
    let line = err.trim_end();
    assert!(line.starts_with("warning: ") && line.contains("checkpoints/epoch-000003: model.bpk: CRC32C "), "{line}");
    assert!(line.ends_with("(the file is damaged); resuming from epoch-000002 instead"), "{line}");
}

#[test]
fn a_truncated_or_missing_manifest_or_a_short_file_falls_back_to_the_previous_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let err = resume_after_damage(dir.path(), "truncated-manifest", |ckpt| {
        let path = ckpt.join("manifest.json");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    });
    assert!(err.contains("epoch-000003: manifest.json: damaged (") && err.contains("resuming from epoch-000002"), "{err}");
    let err = resume_after_damage(dir.path(), "missing-manifest", |ckpt| std::fs::remove_file(ckpt.join("manifest.json")).unwrap());
    assert!(err.contains("epoch-000003: manifest.json: cannot read (") && err.contains("the checkpoint is incomplete"), "{err}");
    let err = resume_after_damage(dir.path(), "short-optimizer", |ckpt| {
        let path = ckpt.join("optimizer.bpk");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..100]).unwrap();
    });
    assert!(err.contains("epoch-000003: optimizer.bpk: 100 bytes, the manifest says "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn with_every_checkpoint_damaged_resume_refuses_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "run.toml", 6, &format!("{STOCHASTIC}{CHECKPOINTS}"));
    let out = dir.path().join("run");
    let o = descent(&config, &["--out", s(&out)], &[("DESCENT_CRASH_AT", "checkpoint:4:0")]);
    assert!(!o.status.success());
    for name in ["epoch-000002", "epoch-000003"] {
        std::fs::write(out.join("checkpoints").join(name).join("state.json"), "{}").unwrap();
    }
    let o = descent(&config, &["--resume", s(&out)], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no intact checkpoint to resume from (2 damaged; newest ") && err.contains("state.json: "), "{err}");
    assert!(!out.join("metrics.jsonl").exists());
}

/// Interrupts a `--resume auto` run with `signals` (one `DESCENT_SIGNAL_AT` spec per start,
/// e.g. `500:TERM`), checks each exit status and resume hint, finishes it with the same
/// command, and compares with `reference`.
fn interrupt_and_resume(config: &Path, reference: &Path, out: &Path, signals: &[String]) {
    let args = ["--out", s(out), "--resume", "auto"];
    for spec in signals {
        let o = descent(config, &args, &[("DESCENT_SIGNAL_AT", spec)]);
        let err = stderr(&o);
        let (code, name) = if spec.ends_with("TERM") { (143, "SIGTERM") } else { (130, "SIGINT") };
        assert_eq!(o.status.code(), Some(code), "{spec}: {err}");
        let step = spec.split(':').next().unwrap();
        assert!(err.starts_with(&format!("stopped by {name} after step {step}; checkpoint ")), "{spec}: {err}");
        let again = format!("to resume: descent train --config {} --resume {} --quiet", s(config), s(out));
        assert!(err.lines().nth(1) == Some(again.as_str()), "{spec}: {err}");
    }
    run_ok(config, &args);
    assert_same(reference, out, &format!("{signals:?}"));
}

#[test]
fn sigterm_and_sigint_at_seeded_steps_then_the_same_resume_auto_command_give_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "run.toml", 6, &format!("{STOCHASTIC}{CHECKPOINTS}"));
    let reference = dir.path().join("reference");
    run_ok(&config, &["--out", s(&reference), "--resume", "auto"]);
    // 1152 steps; two interruptions per run at pseudo-random steps (seeded), the second later.
    let mut rng = descent_train::rng::Rng::new(2024);
    for k in 0..3 {
        let a = 1 + rng.below(1100) as u64;
        let b = a + 1 + rng.below((1151 - a) as usize) as u64;
        let signals = [format!("{a}:TERM"), format!("{b}:INT")];
        interrupt_and_resume(&config, &reference, &dir.path().join(format!("run-{k}")), &signals);
    }
    // The last step of an epoch (checkpoint between epochs) and the very first step.
    interrupt_and_resume(&config, &reference, &dir.path().join("boundary"), &["384:TERM".into(), "385:TERM".into()]);
    interrupt_and_resume(&config, &reference, &dir.path().join("first"), &["1:INT".into()]);
}

#[test]
fn preemption_resumes_shuffled_accumulated_batches_and_a_per_step_schedule_exactly_without_a_checkpoint_section() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "run.toml", 6, MINI_ONECYCLE);
    let reference = dir.path().join("reference");
    run_ok(&config, &["--out", s(&reference)]);
    assert_eq!(std::fs::read_to_string(reference.join("metrics.jsonl")).unwrap().lines().count(), 36 + 6);
    let out = dir.path().join("run");
    interrupt_and_resume(&config, &reference, &out, &["10:TERM".into(), "24:TERM".into(), "35:INT".into()]);
    // Without [checkpoint], only the newest preemption checkpoint is kept.
    assert_eq!(checkpoint_names(&out), ["epoch-000005-step-000000035"]);
}

#[test]
fn a_second_sigint_exits_at_once_without_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "run.toml", 6, &format!("{STOCHASTIC}{CHECKPOINTS}"));
    let out = dir.path().join("run");
    let o = descent(&config, &["--out", s(&out)], &[("DESCENT_SIGNAL_AT", "300:INT,300:INT")]);
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    // Step 300 is in epoch 2: only the periodic checkpoint of epoch 1 exists.
    assert_eq!(checkpoint_names(&out), ["epoch-000001"]);
    let reference = dir.path().join("reference");
    run_ok(&config, &["--out", s(&reference)]);
    run_ok(&config, &["--out", s(&out), "--resume", "auto"]);
    assert_same(&reference, &out, "after a second SIGINT");
}

#[test]
fn a_real_sigterm_from_outside_checkpoints_and_exits_143() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "run.toml", 40, &format!("{STOCHASTIC}{CHECKPOINTS}"));
    let out = dir.path().join("run");
    let mut c = Command::new(env!("CARGO_BIN_EXE_descent"));
    c.args(["train", "--quiet", "--config", s(&config), "--out", s(&out)]).stdout(Stdio::null()).stderr(Stdio::piped());
    let child = c.spawn().unwrap();
    // Once the first epoch's lines are being written, the run is in its loop (40 epochs
    // take seconds).
    let partial = out.join("metrics.jsonl.partial");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::fs::metadata(&partial).map(|m| m.len() < 1000).unwrap_or(true) {
        assert!(std::time::Instant::now() < deadline, "the run wrote no metrics within 60 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let kill = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    assert!(stderr(&o).contains("to resume: descent train --config "), "{}", stderr(&o));
    let reference = dir.path().join("reference");
    run_ok(&config, &["--out", s(&reference)]);
    run_ok(&config, &["--resume", s(&out)]);
    assert_same(&reference, &out, "SIGTERM from kill");
}

#[test]
fn resume_on_a_finished_run_exits_0_and_resume_auto_starts_a_missing_run() {
    let dir = tempfile::tempdir().unwrap();
    let two = config(dir.path(), "run.toml", 2, STOCHASTIC);
    let out = dir.path().join("run");
    // Nothing there yet: auto starts it.
    run_ok(&two, &["--out", s(&out), "--resume", "auto"]);
    let before = std::fs::read(out.join("metrics.jsonl")).unwrap();
    for args in [["--resume", s(&out), "", ""], ["--out", s(&out), "--resume", "auto"]] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        let o = descent(&two, &args, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stderr(&o).contains("this run is already complete (metrics.jsonl exists); nothing to resume"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read(out.join("metrics.jsonl")).unwrap(), before);
    // More epochs cannot extend a finished run (it keeps no final checkpoint): said, exit 1.
    let more = config(dir.path(), "more.toml", 3, STOCHASTIC);
    let o = descent(&more, &["--resume", s(&out)], &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("this run finished its 2 epochs; a finished run keeps no checkpoint of its last epoch, so it cannot be extended to 3"), "{}", stderr(&o));
}

#[test]
fn more_epochs_continue_an_unfinished_run_and_other_changes_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let config4 = config(dir.path(), "four.toml", 4, &format!("{STOCHASTIC}{CHECKPOINTS}"));
    let config6 = config(dir.path(), "six.toml", 6, &format!("{STOCHASTIC}{CHECKPOINTS}"));
    let reference = dir.path().join("reference");
    run_ok(&config6, &["--out", s(&reference)]);
    let out = dir.path().join("run");
    let o = descent(&config4, &["--out", s(&out)], &[("DESCENT_SIGNAL_AT", "500:TERM")]);
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    let three = config(dir.path(), "three.toml", 3, &format!("{STOCHASTIC}{CHECKPOINTS}"));
    let o = descent(&three, &["--resume", s(&out)], &[]);
    assert!(stderr(&o).contains("run.json: epochs changed from 4 to 3 since this run began; it may only grow"), "{}", stderr(&o));
    let seeded = config(dir.path(), "seeded.toml", 6, &format!("{}{CHECKPOINTS}", STOCHASTIC.replace("momentum = 0.5", "momentum = 0.25")));
    let o = descent(&seeded, &["--resume", s(&out)], &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("run.json: [optimizer] momentum changed from 0.5 to 0.25 since this run began"), "{err}");
    // 4 → 6 epochs: the run goes on to 6, as if it had been started with 6.
    run_ok(&config6, &["--resume", s(&out)]);
    assert_same(&reference, &out, "epochs raised from 4 to 6 on resume");
}

/// `prlimit` (util-linux) is there to set a file-size limit; says so when it is not.
fn prlimit_available() -> bool {
    let there = Command::new("prlimit").arg("--version").output().is_ok();
    if !there {
        println!("skipped: prlimit (util-linux) is not installed");
    }
    there
}

/// `descent train --quiet --config CONFIG --out OUT` under a file-size limit of `bytes`.
fn train_under_fsize(bytes: u64, config: &Path, out: &Path) -> Output {
    Command::new("prlimit")
        .arg(format!("--fsize={bytes}"))
        .args([env!("CARGO_BIN_EXE_descent"), "train", "--quiet", "--config", s(config), "--out", s(out)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_file_size_limit_gives_a_clear_error_and_the_run_resumes_to_identical_bytes() {
    if !prlimit_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "run.toml", 6, &format!("{STOCHASTIC}{CHECKPOINTS}"));
    let reference = dir.path().join("reference");
    run_ok(&config, &["--out", s(&reference)]);
    let out = dir.path().join("run");
    // metrics.jsonl ends near 90 kB (≈75 bytes a step): 40 000 bytes stop it in epoch 3.
    let o = train_under_fsize(40000, &config, &out);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("metrics.jsonl.partial: cannot write: File too large"), "{err}");
    assert!(err.contains("(a file-size limit was hit: see `ulimit -f`)"), "{err}");
    assert!(err.contains("checkpoints/epoch-000002 is intact, resume with: descent train --config "), "{err}");
    assert_eq!(checkpoint_names(&out), ["epoch-000001", "epoch-000002"]);
    assert!(!out.join("metrics.jsonl").exists());
    run_ok(&config, &["--resume", s(&out)]);
    assert_same(&reference, &out, "after a file-size limit");
}

#[test]
fn a_file_size_limit_during_a_checkpoint_write_leaves_no_half_written_checkpoint() {
    if !prlimit_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // A 10→40→1 MLP: model.bpk is 2820 bytes, over a 2500-byte limit that run.json (≈1.6 kB)
    // and the metrics of full-batch epochs stay under.
    let full = "[batching]\nmode = \"full\"\n[optimizer]\nkind = \"sgd\"\nlr = 0.005\nmomentum = 0.5\n";
    let config = config(dir.path(), "run.toml", 4, &format!("{full}{CHECKPOINTS}"));
    let text = std::fs::read_to_string(&config).unwrap();
    let text: String = text.lines().filter(|l| !l.starts_with("init_from")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&config, text.replace("sizes = [10, 5, 1]", "sizes = [10, 40, 1]")).unwrap();
    let reference = dir.path().join("reference");
    run_ok(&config, &["--out", s(&reference)]);
    let out = dir.path().join("run");
    let o = train_under_fsize(2500, &config, &out);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("checkpoints/.tmp-epoch-000001/model.bpk: cannot write: File too large"), "{err}");
    // The half-written checkpoint is gone; with none complete, the same command starts afresh.
    assert!(checkpoint_names(&out).is_empty(), "{:?}", checkpoint_names(&out));
    run_ok(&config, &["--out", s(&out), "--resume", "auto"]);
    assert_same(&reference, &out, "after a failed checkpoint write");
}
