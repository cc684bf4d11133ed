//! `RunSummary::timings`: one entry per epoch run, and the stages nested in the call's wall time.

use std::path::Path;
use std::time::Instant;

use descent_train::{train, RunConfig, RunOptions};

#[test]
fn timings_hold_one_positive_entry_per_epoch_inside_the_wall_time() {
    let toml = r#"
        epochs = 3
        [model]
        kind = "mlp"
        sizes = [10, 5, 1]
        [data]
        train = "../../fixtures/seed/train.csv"
        targets = ["y"]
        [batching]
        mode = "mini"
        batch_size = 16
        [optimizer]
        kind = "sgd"
        lr = 0.05
        momentum = 0.9
    "#;
    let cfg = RunConfig::parse(toml, Path::new("timings.toml")).unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::tempdir().unwrap();
    let opts = RunOptions { out_dir: dir.path().join("out"), quiet: true, ..Default::default() };
    let start = Instant::now();
    let run = train(&cfg, &opts).unwrap_or_else(|e| panic!("{e}"));
    let wall = start.elapsed().as_secs_f64();
    let t = &run.timings;
    assert_eq!(t.epoch_s.len(), 3);
    assert_eq!(run.epochs.len(), 3);
    for s in t.epoch_s.iter().chain([&t.setup_s, &t.finish_s]) {
        assert!(s.is_finite() && *s > 0.0, "{t:?}");
    }
    assert!(t.setup_s + t.epoch_s.iter().sum::<f64>() + t.finish_s <= wall, "{t:?} vs {wall}");
    // Written to no file: metrics.jsonl has the same keys as before.
    let metrics = std::fs::read_to_string(&run.metrics_path).unwrap();
    assert!(!metrics.contains("setup_s") && !metrics.contains("epoch_s"), "{metrics}");
}
