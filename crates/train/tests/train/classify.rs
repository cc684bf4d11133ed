//! Classification, validation and early stopping through the library (f32).

use std::path::PathBuf;

use descent_train::{train, RunConfig, RunOptions};

/// Three Gaussian blobs in 2-D, 300 points, labels 0..3.
fn blobs(path: &std::path::Path) {
    let mut rng = descent_train::rng::Rng::new(5);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let centers = [(-2.0, 0.0), (2.0, 0.0), (0.0, 2.5)];
    let mut text = String::from("x,y,label\n");
    for i in 0..300 {
        let c = i % 3;
        // Box–Muller for a standard normal pair.
        let (a, b) = (u().max(1e-12), u());
        let r = (-2.0 * a.ln()).sqrt() * 0.6;
        let (dx, dy) = (r * (6.283185307179586 * b).cos(), r * (6.283185307179586 * b).sin());
        text.push_str(&format!("{},{},{c}\n", centers[c].0 + dx, centers[c].1 + dy));
    }
    std::fs::write(path, text).unwrap();
}

fn run(extra: &str, epochs: usize) -> (descent_train::RunSummary, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("blobs.csv");
    blobs(&csv);
    let toml = format!(
        r#"
epochs = {epochs}
seed = 1
[model]
kind = "mlp"
sizes = [2, 16, 3]
[data]
train = "{}"
targets = ["label"]
valid_fraction = 0.25
[batching]
mode = "mini"
batch_size = 25
[loss]
kind = "cross_entropy"
[optimizer]
kind = "sgd"
lr = 0.1
momentum = 0.9
{extra}
"#,
        csv.display()
    );
    let cfg = RunConfig::parse(&toml, &PathBuf::from("inline.toml")).unwrap();
    let out = dir.path().join("out");
    let s = train(&cfg, &RunOptions { out_dir: out, quiet: true, ..Default::default() }).unwrap();
    (s, dir)
}

#[test]
fn cross_entropy_learns_three_blobs_and_reports_validation_accuracy() {
    let (s, dir) = run("", 30);
    let last = s.epochs.last().unwrap();
    let acc = last.valid_accuracy.unwrap();
    assert!(acc >= 0.95, "validation accuracy {acc}");
    assert!(last.valid_loss.unwrap() < 0.3, "valid loss {:?}", last.valid_loss);
    // 300 rows, 25% held out → 225 training rows → 9 batches of 25.
    assert_eq!(last.steps, 9);
    let csv = std::fs::read_to_string(dir.path().join("out/metrics.csv")).unwrap();
    assert!(csv.starts_with("epoch,train_loss,valid_loss,valid_accuracy,lr,steps\n"));
    assert_eq!(csv.lines().count(), 31);
}

#[test]
fn early_stopping_stops_and_keeps_the_best_model() {
    let (s, dir) = run("[early_stopping]\npatience = 2\nmin_delta = 0.05\n", 200);
    let stopped = s.stopped_early.expect("should stop before 200 epochs");
    assert!(stopped < 200);
    assert_eq!(s.epochs.len() as u64, stopped);
    assert!(dir.path().join("out/best.bpk").exists());
    // The last `patience` epochs did not improve on the best by more than min_delta.
    let losses: Vec<f64> = s.epochs.iter().map(|e| e.valid_loss.unwrap()).collect();
    let n = losses.len();
    let best_before = losses[..n - 2].iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(losses[n - 2..].iter().all(|&l| l >= best_before - 0.05));
}

#[test]
fn the_validation_split_is_deterministic_and_disjoint() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("blobs.csv");
    blobs(&csv);
    let t = descent_train::data::load_csv(&csv, &["label".to_string()]).unwrap();
    let (a1, b1) = descent_train::data::split(&t, 0.2, 9);
    let (a2, b2) = descent_train::data::split(&t, 0.2, 9);
    assert_eq!((a1.lines.clone(), b1.lines.clone()), (a2.lines, b2.lines));
    assert_eq!(b1.rows, 60);
    assert!(a1.lines.iter().all(|l| !b1.lines.contains(l)));
    let (_, b3) = descent_train::data::split(&t, 0.2, 10);
    assert_ne!(b1.lines, b3.lines);
}

/// `[averaging]` on a classifier: the average's accuracy is logged from `start_epoch` on (at
/// that epoch the average is a copy of the model), and the training is unchanged by it.
#[test]
fn swa_of_the_epoch_weights_reports_its_own_validation_accuracy() {
    let (plain, _d1) = run("", 30);
    let (s, dir) = run("[averaging]\nkind = \"swa\"\nevery = \"epoch\"\nstart_epoch = 10\n", 30);
    assert_eq!(s.steps, plain.steps);
    for (e, p) in s.epochs.iter().zip(&plain.epochs) {
        assert_eq!((e.train_loss, e.valid_loss, e.valid_accuracy), (p.train_loss, p.valid_loss, p.valid_accuracy));
        if e.epoch < 10 {
            assert_eq!((e.avg_valid_loss, e.avg_valid_accuracy), (None, None), "epoch {}", e.epoch);
        } else if e.epoch == 10 {
            assert_eq!((e.avg_valid_loss, e.avg_valid_accuracy), (e.valid_loss, e.valid_accuracy));
        }
    }
    let last = s.epochs.last().unwrap();
    let acc = last.avg_valid_accuracy.unwrap();
    assert!(acc >= 0.95, "averaged validation accuracy {acc}");
    assert!(dir.path().join("out/averaged.safetensors").exists());
    // metrics.csv keeps its columns.
    let csv = std::fs::read_to_string(dir.path().join("out/metrics.csv")).unwrap();
    assert!(csv.starts_with("epoch,train_loss,valid_loss,valid_accuracy,lr,steps\n"));
}
