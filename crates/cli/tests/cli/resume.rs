//! Kill a run with SIGKILL at random points — between steps and in the middle of a
//! checkpoint write — resume it, and compare with an uninterrupted run: equal bytes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::common::root;

fn config(dir: &Path) -> PathBuf {
    config_with(dir, "[optimizer]\nkind = \"sgd\"\nlr = 0.005\nmomentum = 0.5")
}

/// The resume test's run with `optimizer` as its `[optimizer]` section (and groups).
fn config_with(dir: &Path, optimizer: &str) -> PathBuf {
    let fx = root().join("fixtures/seed");
    let text = format!(
        r#"
epochs = 40
seed = 3
[model]
kind = "mlp"
sizes = [10, 5, 1]
init_from = "{}"
[data]
train = "{}"
targets = ["y"]
valid_fraction = 0.25
[batching]
mode = "stochastic"
{optimizer}
[checkpoint]
every_epochs = 1
keep_last = 2
"#,
        fx.join("init.safetensors").display(),
        fx.join("train.csv").display(),
    );
    let path = dir.join("run.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn cmd(config: &Path, out: &Path, resume: bool) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_descent"));
    c.args(["train", "--quiet", "--config", config.to_str().unwrap()]);
    if resume {
        c.args(["--resume", out.to_str().unwrap()]);
    } else {
        c.args(["--out", out.to_str().unwrap()]);
    }
    c.stdout(Stdio::null()).stderr(Stdio::piped());
    c
}

/// Resumes until the run completes (a kill before the first checkpoint restarts it).
fn finish(config: &Path, out: &Path) {
    for _ in 0..5 {
        let o: Output = cmd(config, out, true).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        if o.status.success() || err.contains("already complete") {
            return;
        }
        if err.contains("no run.json") {
            let o = cmd(config, out, false).output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            return;
        }
        panic!("resume failed: {err}");
    }
}

fn assert_same(reference: &Path, run: &Path, what: &str) {
    for f in ["metrics.jsonl", "metrics.csv", "model.safetensors"] {
        let (a, b) = (std::fs::read(reference.join(f)).unwrap(), std::fs::read(run.join(f)).unwrap_or_default());
        assert!(a == b, "{what}: {f} differs from the uninterrupted run");
    }
}

#[test]
fn sigkill_at_random_points_then_resume_gives_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let reference = dir.path().join("reference");
    let t0 = std::time::Instant::now();
    let o = cmd(&config, &reference, false).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let full = t0.elapsed();

    // Kill points spread over the whole run, from a fixed pseudo-random sequence.
    let mut rng = descent_train::rng::Rng::new(11);
    for k in 0..6 {
        let at = Duration::from_micros(rng.below(full.as_micros() as usize + 1) as u64);
        let out = dir.path().join(format!("killed-{k}"));
        let mut child = cmd(&config, &out, false).spawn().unwrap();
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        finish(&config, &out);
        assert_same(&reference, &out, &format!("killed at {at:?}"));
    }
}

#[test]
fn crash_in_the_middle_of_a_checkpoint_write_then_resume_gives_identical_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let reference = dir.path().join("reference");
    let o = cmd(&config, &reference, false).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // After the model file of checkpoint 5, and after the optimizer file of checkpoint 12.
    for spec in ["checkpoint:5:0", "checkpoint:12:1"] {
        let out = dir.path().join(spec.replace(':', "-"));
        let o = cmd(&config, &out, false).env("DESCENT_CRASH_AT", spec).output().unwrap();
        assert!(!o.status.success(), "{spec}: the crash hook did not fire");
        // The half-written checkpoint is invisible: the newest complete one is the previous.
        let epoch: u64 = spec.split(':').nth(1).unwrap().parse().unwrap();
        let (_, state) = descent_train::checkpoint::latest(&out).unwrap().unwrap();
        assert_eq!(state.epoch, epoch - 1, "{spec}");
        assert!(!out.join("metrics.jsonl").exists());
        finish(&config, &out);
        assert_same(&reference, &out, spec);
    }
}

#[test]
fn resume_refuses_a_different_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let out = dir.path().join("run");
    let o = cmd(&config, &out, false).env("DESCENT_CRASH_AT", "checkpoint:2:0").output().unwrap();
    assert!(!o.status.success());
    let text = std::fs::read_to_string(&config).unwrap().replace("lr = 0.005", "lr = 0.02");
    std::fs::write(&config, text).unwrap();
    let o = cmd(&config, &out, true).output().unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("run.json: [optimizer] lr changed from 0.005 to 0.02 since this run began"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

/// Mixed kinds: Muon on the weight matrices, AdamW (its own keys and lr schedule) on the
/// biases. Both groups' states go through the checkpoint; a crash and a resume give the
/// uninterrupted run's bytes.
#[test]
fn muon_with_an_adamw_group_resumes_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let optimizer = "[optimizer]\nkind = \"muon\"\nlr = 0.002\n[[optimizer.groups]]\nparams = \"bias$\"\nkind = \"adamw\"\nlr = 0.001\n[scheduler]\nkind = \"step\"\nstep_size = 10\ngamma = 0.5";
    let config = config_with(dir.path(), optimizer);
    let reference = dir.path().join("reference");
    let o = cmd(&config, &reference, false).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for spec in ["checkpoint:7:0", "checkpoint:23:1"] {
        let out = dir.path().join(spec.replace(':', "-"));
        let o = cmd(&config, &out, false).env("DESCENT_CRASH_AT", spec).output().unwrap();
        assert!(!o.status.success(), "{spec}: the crash hook did not fire");
        finish(&config, &out);
        assert_same(&reference, &out, spec);
    }
}

/// With `[averaging]` the checkpoints also hold the average and its count: killed anywhere
/// (also right after a checkpoint's `averaged.bpk`, its third file), the resumed run's
/// metrics (with `avg_valid_loss`) and `averaged.safetensors` equal the uninterrupted run's.
#[test]
fn the_weight_average_survives_sigkill_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(dir.path(), "[optimizer]\nkind = \"sgd\"\nlr = 0.005\nmomentum = 0.5\n[averaging]\nkind = \"ema\"\ndecay = 0.9\nstart_epoch = 3");
    let reference = dir.path().join("reference");
    let t0 = std::time::Instant::now();
    let o = cmd(&config, &reference, false).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let full = t0.elapsed();
    let metrics = std::fs::read_to_string(reference.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.matches("avg_valid_loss").count(), 38, "epochs 3..=40");
    let same = |out: &Path, what: &str| {
        assert_same(&reference, out, what);
        // As for model.safetensors (the .bpk files also hold parameter ids, which differ).
        let f = "averaged.safetensors";
        let (a, b) = (std::fs::read(reference.join(f)).unwrap(), std::fs::read(out.join(f)).unwrap_or_default());
        assert!(a == b, "{what}: {f} differs from the uninterrupted run");
    };
    // Before the first update (epoch 2), after the average of checkpoint 7, and after the
    // model file of checkpoint 20.
    for spec in ["checkpoint:2:0", "checkpoint:7:2", "checkpoint:20:0"] {
        let out = dir.path().join(spec.replace(':', "-"));
        let o = cmd(&config, &out, false).env("DESCENT_CRASH_AT", spec).output().unwrap();
        assert!(!o.status.success(), "{spec}: the crash hook did not fire");
        finish(&config, &out);
        same(&out, spec);
    }
    let mut rng = descent_train::rng::Rng::new(13);
    for k in 0..3 {
        let at = Duration::from_micros(rng.below(full.as_micros() as usize + 1) as u64);
        let out = dir.path().join(format!("killed-{k}"));
        let mut child = cmd(&config, &out, false).spawn().unwrap();
        std::thread::sleep(at);
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        finish(&config, &out);
        same(&out, &format!("killed at {at:?}"));
    }
}
