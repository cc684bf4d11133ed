//! `kind = "lbfgs"` and the schedule-free kinds end to end: every batching mode trains, a run
//! killed in the middle of a checkpoint write resumes to the same bytes, and what torch
//! refuses is refused.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::root;

/// A seed-task run with `batching` and `optimizer` (TOML lines), checkpoints every epoch.
fn config(dir: &Path, name: &str, batching: &str, optimizer: &str) -> PathBuf {
    let fx = root().join("fixtures/seed");
    let text = format!(
        "epochs = 6\nseed = 3\ndtype = \"f64\"\n[model]\nkind = \"mlp\"\nsizes = [10, 5, 1]\ninit_from = \"{}\"\n\
         [data]\ntrain = \"{}\"\ntargets = [\"y\"]\nvalid_fraction = 0.25\n[batching]\n{batching}\n\
         [optimizer]\n{optimizer}\n[checkpoint]\nevery_epochs = 1\nkeep_last = 2\n",
        fx.join("init.safetensors").display(),
        fx.join("train.csv").display()
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn train(config: &Path, out: &Path, resume: bool, crash_at: Option<&str>) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_descent"));
    c.args(["train", "--quiet", "--config", config.to_str().unwrap()]);
    c.args([if resume { "--resume" } else { "--out" }, out.to_str().unwrap()]);
    if let Some(spec) = crash_at {
        c.env("DESCENT_CRASH_AT", spec);
    }
    c.stdout(Stdio::null()).stderr(Stdio::piped()).output().unwrap()
}

fn epoch_losses(run: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("step").is_none())
        .map(|v| v["train_loss"].as_f64().unwrap())
        .collect()
}

const LBFGS: &str = "kind = \"lbfgs\"\nlr = 1.0\nmax_iter = 4\nhistory_size = 5\nline_search_fn = \"strong_wolfe\"";
const LBFGS_FIXED: &str = "kind = \"lbfgs\"\nlr = 0.1\nmax_iter = 3\nhistory_size = 4";

#[test]
fn closure_and_schedule_free_kinds_train_and_resume_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("lbfgs-full", "mode = \"full\"", LBFGS),
        ("lbfgs-full-accumulate", "mode = \"full\"\naccumulate = 3", LBFGS),
        ("lbfgs-mini", "mode = \"mini\"\nbatch_size = 64", LBFGS_FIXED),
        ("lbfgs-mini-accumulate", "mode = \"mini\"\nbatch_size = 32\naccumulate = 2", LBFGS_FIXED),
        ("lbfgs-stochastic", "mode = \"stochastic\"", "kind = \"lbfgs\"\nlr = 0.01\nmax_iter = 2\nhistory_size = 3"),
        ("sgd-schedule-free", "mode = \"mini\"\nbatch_size = 32", "kind = \"sgd_schedule_free\"\nlr = 0.05\nwarmup_steps = 10"),
        ("adamw-schedule-free", "mode = \"mini\"\nbatch_size = 32", "kind = \"adamw_schedule_free\"\nlr = 0.01\nweight_decay = 0.01"),
    ];
    for (name, batching, optimizer) in cases {
        let config = config(dir.path(), name, batching, optimizer);
        let reference = dir.path().join(format!("{name}-reference"));
        let o = train(&config, &reference, false, None);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let losses = epoch_losses(&reference);
        assert!(losses.iter().all(|l| l.is_finite()) && losses[5] < losses[0], "{name}: epoch losses {losses:?}");
        // Killed after the first file of checkpoint 3 (and, for L-BFGS, after its state file
        // of checkpoint 4 was written but before the checkpoint was complete).
        for spec in ["checkpoint:3:0", "checkpoint:4:2"] {
            let out = dir.path().join(format!("{name}-{}", spec.replace(':', "-")));
            let o = train(&config, &out, false, Some(spec));
            if o.status.success() {
                // No file index 2 in this kind's checkpoints: nothing to crash in.
                continue;
            }
            let o = train(&config, &out, true, None);
            assert!(o.status.success(), "{name} {spec}: {}", String::from_utf8_lossy(&o.stderr));
            for f in ["metrics.jsonl", "metrics.csv", "model.safetensors"] {
                let (a, b) = (std::fs::read(reference.join(f)).unwrap(), std::fs::read(out.join(f)).unwrap());
                assert!(a == b, "{name} {spec}: {f} differs from the uninterrupted run");
            }
        }
    }
}

#[test]
fn lr_find_refuses_lbfgs_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path(), "lbfgs", "mode = \"full\"", LBFGS);
    let o = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(["lr-find", "--config", config.to_str().unwrap(), "--out", dir.path().join("lr").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("lbfgs") && err.contains("lr range test"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

fn first_step(run: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

/// An L-BFGS step logs its first evaluation: at the initial weights, the same loss and
/// gradient norm, bit for bit, as the first step of any other optimizer on that batch.
#[test]
fn lbfgs_logs_its_first_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    for batching in ["mode = \"full\"", "mode = \"full\"\naccumulate = 3", "mode = \"mini\"\nbatch_size = 32\naccumulate = 2"] {
        let runs: Vec<serde_json::Value> = [LBFGS, "kind = \"sgd\"\nlr = 0.1"]
            .iter()
            .enumerate()
            .map(|(i, optimizer)| {
                let config = config(dir.path(), &format!("first-{i}"), batching, optimizer);
                let out = dir.path().join(format!("first-{i}-{}", batching.len()));
                let o = train(&config, &out, false, None);
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                first_step(&out)
            })
            .collect();
        assert_eq!(runs[0]["loss"], runs[1]["loss"], "{batching}");
        assert_eq!(runs[0]["grad_norm"], runs[1]["grad_norm"], "{batching}");
        assert_eq!(runs[0]["lr"].as_f64(), Some(1.0));
    }
}

/// The two example configs train the seed task well under the mean predictor's loss.
#[test]
fn the_lbfgs_and_schedule_free_examples_beat_the_mean_predictor() {
    let var_y = 1.4126896504798894;
    for name in ["seed-lbfgs", "seed-schedule-free"] {
        let dir = tempfile::tempdir().unwrap();
        let o = train(&root().join(format!("examples/configs/{name}.toml")), dir.path(), false, None);
        assert!(o.status.success(), "{name}: {}", String::from_utf8_lossy(&o.stderr));
        let loss = *epoch_losses(dir.path()).last().unwrap();
        assert!(loss < 0.1 * var_y, "{name}: final epoch loss {loss} is not well under {var_y}");
    }
}
