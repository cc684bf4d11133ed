//! `descent schedule` and `descent lr-find` end to end.

use crate::common::{descent, ok, root};

#[test]
fn schedule_prints_torch_steplr_per_optimizer_step() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("s.toml");
    std::fs::write(&cfg, "[optimizer]\nkind = \"sgd\"\nlr = 0.8\n[scheduler]\nkind = \"step\"\nstep_size = 2\ngamma = 0.5\ninterval = \"epoch\"\n").unwrap();
    // Epochs of 3 steps; StepLR halves every 2 epochs: 0.8 for epochs 1–2, 0.4 for 3–4.
    let out = ok(&descent(&["schedule", "--config", cfg.to_str().unwrap(), "--steps", "12", "--steps-per-epoch", "3"]));
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(rows[0], "step,epoch,lr");
    assert_eq!(rows[1], "1,1,0.8");
    assert_eq!(rows[6], "6,2,0.8");
    assert_eq!(rows[7], "7,3,0.4");
    assert_eq!(rows[12], "12,4,0.4");
    assert_eq!(rows.len(), 13);
    // Without a step count per epoch the epoch interval is ambiguous: a clear error.
    let o = descent(&["schedule", "--config", cfg.to_str().unwrap(), "--steps", "4"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--steps-per-epoch"));
}

#[test]
fn schedule_of_a_run_config_counts_its_steps_and_cycles_momentum() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("oc.svg");
    let cfg = root().join("examples/configs/seed-onecycle.toml");
    let out = ok(&descent(&[
        "schedule",
        "--config",
        cfg.to_str().unwrap(),
        "--steps",
        "240",
        "--format",
        "json",
        "--plot",
        svg.to_str().unwrap(),
    ]));
    let rows: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 240);
    // OneCycleLR(max_lr=0.1, total 240, pct_start 0.3, div_factor 25): starts at 0.1/25 with
    // momentum at max_momentum 0.95; peaks at 0.1 with momentum 0.85 at step ⌊0.3·240⌋ = 72
    // (rows from 0); ends at initial/1e4.
    // (torch computes it through the annealing formula at pct 0: 0.0040000000000000036)
    assert!((rows[0]["lr"].as_f64().unwrap() - 0.1 / 25.0).abs() < 1e-16);
    assert_eq!(rows[0]["momentum"].as_f64().unwrap(), 0.95);
    let peak = rows.iter().map(|r| r["lr"].as_f64().unwrap()).fold(0.0, f64::max);
    assert!((peak - 0.1).abs() < 1e-3, "{peak}");
    let last = rows[239]["lr"].as_f64().unwrap();
    assert!((last - 0.1 / 25.0 / 1e4).abs() < 1e-9, "{last}");
    assert_eq!(rows[239]["step"], 240);
    assert_eq!(rows[239]["epoch"], 30);
    let svg = std::fs::read_to_string(&svg).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Momentum"));
}

#[test]
fn lr_find_suggests_an_lr_below_where_the_seed_task_diverges() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = root().join("examples/configs/seed-minibatch.toml");
    let out = ok(&descent(&["lr-find", "--config", cfg.to_str().unwrap(), "--out", dir.path().to_str().unwrap()]));
    let suggested: f64 = out
        .lines()
        .find_map(|l| l.strip_prefix("suggested lr: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no suggestion in:\n{out}"));
    // The seed task trains well at lr 0.05 (seed-minibatch.toml) and diverges by lr 10.
    assert!((1e-4..=1.0).contains(&suggested), "suggested {suggested}\n{out}");
    assert!(out.contains("diverged"), "{out}");
    let csv = std::fs::read_to_string(dir.path().join("lr-find.csv")).unwrap();
    let rows: Vec<Vec<f64>> =
        csv.lines().skip(1).map(|l| l.split(',').map(|c| c.parse().unwrap()).collect()).collect();
    assert!(rows.len() > 10 && rows.len() < 100, "{} rows", rows.len());
    // lr grows by (10/1e-7)^(1/99) per step.
    let ratio = rows[1][1] / rows[0][1];
    assert!((ratio - (1e8f64).powf(1.0 / 99.0)).abs() < 1e-9);
    assert!(std::fs::read_to_string(dir.path().join("lr-find.svg")).unwrap().contains("suggested lr"));
}
