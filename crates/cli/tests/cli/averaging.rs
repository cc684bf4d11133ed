//! `[averaging]` and the schedules MultiplicativeLR / SWALR through the `descent` binary.

use crate::common::{descent, ok, root};

/// examples/configs/seed-ema.toml trains, writes the average, and logs its validation loss
/// every epoch; this run's EMA (decay 0.99) ends below the noisy SGD iterate (measured:
/// avg_valid_loss 0.08027276 against valid_loss 0.098565415 at epoch 60).
#[test]
fn the_seed_ema_example_trains_and_its_average_validates_better() {
    let dir = tempfile::tempdir().unwrap();
    let config = root().join("examples/configs/seed-ema.toml");
    ok(&descent(&["train", "--quiet", "--config", config.to_str().unwrap(), "--out", dir.path().to_str().unwrap()]));
    for f in ["averaged.safetensors", "averaged.bpk", "model.safetensors"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    let text = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    let epochs: Vec<serde_json::Value> =
        text.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()).filter(|v| v.get("step").is_none()).collect();
    assert_eq!(epochs.len(), 60);
    assert!(epochs.iter().all(|e| e["avg_valid_loss"].is_f64() && e.get("avg_valid_accuracy").is_none()));
    let last = &epochs[59];
    let (model, avg) = (last["valid_loss"].as_f64().unwrap(), last["avg_valid_loss"].as_f64().unwrap());
    assert!(avg < 0.85 * model, "avg_valid_loss {avg} vs valid_loss {model}");
    // Predicting the mean scores var(y) = 1.4127 on the seed data.
    assert!(avg < 0.1 * 1.4126896504798894);
}

#[test]
fn schedule_prints_swalr_and_multiplicative() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("s.toml");
    let opt = "[optimizer]\nkind = \"sgd\"\nlr = 0.1\n";
    // SWALR(swa_lr=0.01, anneal_epochs=2, "linear") per step: 0.1, then halfway, then 0.01.
    std::fs::write(&cfg, format!("{opt}[scheduler]\nkind = \"swalr\"\nswa_lr = 0.01\nanneal_epochs = 2\nanneal_strategy = \"linear\"\ninterval = \"step\"\n")).unwrap();
    let out = ok(&descent(&["schedule", "--config", cfg.to_str().unwrap(), "--steps", "4"]));
    assert_eq!(out.lines().collect::<Vec<_>>(), ["step,lr", "1,0.1", "2,0.055", "3,0.01", "4,0.01"]);
    // MultiplicativeLR(factor 0.5) per epoch of 2 steps.
    std::fs::write(&cfg, format!("{opt}[scheduler]\nkind = \"multiplicative\"\nfactor = 0.5\n")).unwrap();
    let out = ok(&descent(&["schedule", "--config", cfg.to_str().unwrap(), "--steps", "5", "--steps-per-epoch", "2"]));
    assert_eq!(out.lines().collect::<Vec<_>>(), ["step,epoch,lr", "1,1,0.1", "2,1,0.1", "3,2,0.05", "4,2,0.05", "5,3,0.025"]);
}
