//! `descent bench --apps`: one epoch of the two quick applications end to end, each line
//! parsed, its times positive and consistent with each other, its step count the data's.

use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use descent_train::data::ratings::SyntheticRatings;
use serde_json::Value;

fn number(v: &Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {v}"))
}

/// Optimizer steps of one epoch of examples/configs/recommender-mf.toml: its generated
/// ratings, 20% held out, batches of 256.
fn mf_steps_per_epoch() -> usize {
    let g = SyntheticRatings { users: 300, items: 200, rank: 3, density: 0.5, noise_std: 0.5, seed: 0 };
    let rows = g.generate().rows;
    let train = rows - (rows as f64 * 0.2).round() as usize;
    train.div_ceil(256)
}

#[test]
fn bench_apps_quick_times_one_epoch_of_each_app() {
    let start = Instant::now();
    let t0 = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args(["bench", "--apps", "--quick", "--json", "--filter", "digits,recommender"])
        .env("BENCH_T0", format!("{t0:.6}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    let apps: Vec<&str> = lines.iter().map(|v| v["app"].as_str().unwrap_or("")).collect();
    assert_eq!(apps, ["digits-cnn", "recommender-mf"], "{text}");
    // ⌈1438 / 32⌉ (1,797 digits less 359 held out), and the MF data's own count.
    let want_steps = [45, mf_steps_per_epoch()];
    for (v, want) in lines.iter().zip(want_steps) {
        assert_eq!(v["name"], "app");
        assert_eq!(v["device"], "cpu");
        assert_eq!(v["epochs"], 1, "{v}");
        assert_eq!(v["steps"].as_u64(), Some(want as u64), "{v}");
        assert!(v["threads"].as_u64().unwrap() >= 1, "{v}");
        let epochs: Vec<f64> = v["epoch_s"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(epochs.len(), 1, "{v}");
        let (setup, median, train, total, since) =
            (number(v, "setup_s"), number(v, "median_epoch_s"), number(v, "train_s"), number(v, "total_s"), number(v, "since_t0_s"));
        for x in [setup, median, train, total] {
            assert!(x.is_finite() && x > 0.0, "{v}");
        }
        assert_eq!(median, epochs[0], "{v}");
        assert_eq!(train, epochs[0], "{v}");
        // The parts lie inside the whole, and the whole inside the time since the process was started.
        assert!(setup + train <= total && total <= since && since < 120.0, "{v}");
    }
    // One epoch learns something: the digits' loss is below chance (ln 10 = 2.303), and
    // the MF's held-out MSE stays above the noise's variance (0.5² = 0.25).
    assert!(number(&lines[0], "final_valid_loss") < 2.303, "{}", lines[0]);
    let mf_valid = number(&lines[1], "final_valid_loss");
    assert!(mf_valid > 0.25 && mf_valid < 10.0, "{}", lines[1]);
    assert!(start.elapsed().as_secs() < 60, "the quick app bench took {:?}", start.elapsed());
}

#[test]
fn bench_apps_with_a_filter_matching_no_app_is_one_error_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_descent")).args(["bench", "--apps", "--filter", "resnet"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--filter \"resnet\" matches none of the apps"), "{err}");
}
