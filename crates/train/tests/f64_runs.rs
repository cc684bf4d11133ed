//! f64 training runs (one process, so the device's dtype is f64 throughout):
//! - the seed MLP against PyTorch's reference trajectories (fixtures/seed/torch_reference.json);
//! - full-batch GD on least squares against the normal-equations solution.

use std::path::PathBuf;

use descent_train::{train, RunConfig, RunOptions};
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(toml: &str) -> descent_train::RunSummary {
    let cfg = RunConfig::parse(toml, &root().join("inline.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    train(&cfg, &RunOptions { out_dir: dir.path().to_path_buf(), quiet: true, ..Default::default() }).unwrap()
}

fn reference() -> Value {
    let text = std::fs::read_to_string(root().join("fixtures/seed/torch_reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn seed_config(batching: &str, optimizer: &str, loss: &str, epochs: usize) -> String {
    let fx = root().join("fixtures/seed");
    format!(
        r#"
epochs = {epochs}
dtype = "f64"
[model]
kind = "mlp"
sizes = [10, 5, 1]
activation = "relu"
init_from = "{init}"
[data]
train = "{train}"
targets = ["y"]
[batching]
{batching}
[loss]
{loss}
[optimizer]
kind = "sgd"
{optimizer}
"#,
        init = fx.join("init_f64.safetensors").display(),
        train = fx.join("train.csv").display(),
    )
}

fn check_against_torch(name: &str, summary: &descent_train::RunSummary) {
    let reference = reference();
    let run = reference["runs"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap();
    let losses: Vec<f64> = run["loss"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(summary.steps.len(), losses.len(), "{name}: number of steps");
    for (rec, want) in summary.steps.iter().zip(&losses) {
        let rel = (rec.loss - want).abs() / want.abs();
        assert!(rel < 1e-10, "{name}: step {} loss {} vs torch {} (rel {rel:e})", rec.step, rec.loss, want);
    }
    // Final parameters, compared in PyTorch layout ([out, in] weights).
    for (i, layer) in summary.model.as_mlp().expect("an mlp run").layers.iter().enumerate() {
        let w = layer.weight.val().transpose().to_data().try_to_vec::<f64>().unwrap();
        let b = layer.bias.as_ref().unwrap().val().to_data().try_to_vec::<f64>().unwrap();
        for (key, ours) in [(format!("layers.{i}.weight"), w), (format!("layers.{i}.bias"), b)] {
            let theirs: Vec<f64> =
                run["final_params"][&key].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            assert_eq!(ours.len(), theirs.len());
            for (a, e) in ours.iter().zip(&theirs) {
                assert!((a - e).abs() <= 1e-10 * e.abs().max(1.0), "{name}: {key}: {a} vs torch {e}");
            }
        }
    }
}

#[test]
fn full_batch_gd_matches_pytorch() {
    let s = run(&seed_config("mode = \"full\"", "lr = 0.05", "", 40));
    check_against_torch("a_fullbatch_gd", &s);
}

#[test]
fn full_batch_nesterov_with_l2_penalty_matches_pytorch() {
    let s = run(&seed_config("mode = \"full\"", "lr = 0.05\nmomentum = 0.9\nnesterov = true", "l2 = 0.1", 40));
    check_against_torch("b_fullbatch_nesterov_l2", &s);
}

#[test]
fn minibatch_momentum_weight_decay_l1_penalty_matches_pytorch() {
    let s = run(&seed_config(
        "mode = \"mini\"\nbatch_size = 64\nshuffle = false",
        "lr = 0.02\nmomentum = 0.9\nweight_decay = 1e-3",
        "l1 = 0.01",
        5,
    ));
    check_against_torch("c_minibatch64_momentum_wd_l1", &s);
}

/// Solves `A x = b` by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let p = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap();
        a.swap(col, p);
        b.swap(col, p);
        for row in col + 1..n {
            let f = a[row][col] / a[col][col];
            for k in col..n {
                a[row][k] -= f * a[col][k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| a[i][k] * x[k]).sum();
        x[i] = (b[i] - s) / a[i][i];
    }
    x
}

#[test]
fn full_batch_gd_on_least_squares_reaches_the_normal_equations_solution() {
    // y = 1.5·x0 − 2·x1 + 0.5·x2 + 0.3 + noise, 200 rows, x ∈ [−1, 1).
    let mut rng = descent_train::rng::Rng::new(42);
    let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
    let rows: Vec<[f64; 4]> = (0..200)
        .map(|_| {
            let x = [u(), u(), u()];
            let y = 1.5 * x[0] - 2.0 * x[1] + 0.5 * x[2] + 0.3 + 0.1 * u();
            [x[0], x[1], x[2], y]
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("ls.csv");
    let mut text = String::from("x0,x1,x2,y\n");
    for r in &rows {
        text.push_str(&format!("{:?},{:?},{:?},{:?}\n", r[0], r[1], r[2], r[3]));
    }
    std::fs::write(&csv, text).unwrap();

    // Normal equations over [x, 1]: (XᵀX) w = Xᵀy.
    let mut xtx = vec![vec![0.0; 4]; 4];
    let mut xty = vec![0.0; 4];
    for r in &rows {
        let x = [r[0], r[1], r[2], 1.0];
        for i in 0..4 {
            for j in 0..4 {
                xtx[i][j] += x[i] * x[j];
            }
            xty[i] += x[i] * r[3];
        }
    }
    let w = solve(xtx, xty);

    let s = run(&format!(
        r#"
epochs = 400
dtype = "f64"
[model]
kind = "mlp"
sizes = [3, 1]
activation = "identity"
[data]
train = "{}"
targets = ["y"]
[batching]
mode = "full"
[optimizer]
kind = "sgd"
lr = 0.5
"#,
        csv.display()
    ));
    let layer = &s.model.as_mlp().expect("an mlp run").layers[0];
    let got_w = layer.weight.val().to_data().try_to_vec::<f64>().unwrap();
    let got_b = layer.bias.as_ref().unwrap().val().to_data().try_to_vec::<f64>().unwrap();
    for i in 0..3 {
        assert!((got_w[i] - w[i]).abs() < 1e-6, "w[{i}] = {} vs closed form {}", got_w[i], w[i]);
    }
    assert!((got_b[0] - w[3]).abs() < 1e-6, "b = {} vs closed form {}", got_b[0], w[3]);
    // And GD is at a stationary point: the last loss equals the closed-form residual.
    let last = s.steps.last().unwrap().loss;
    let resid: f64 = rows
        .iter()
        .map(|r| {
            let p = w[0] * r[0] + w[1] * r[1] + w[2] * r[2] + w[3];
            (p - r[3]).powi(2)
        })
        .sum::<f64>()
        / rows.len() as f64;
    assert!((last - resid).abs() < 1e-12, "loss {last} vs residual {resid}");
}

#[test]
fn one_cycle_end_to_end_logs_pytorchs_lr_and_momentum() {
    let mut toml = seed_config("mode = \"full\"", "lr = 0.1\nmomentum = 0.9", "", 30);
    toml.push_str("[scheduler]\nkind = \"onecycle\"\ninterval = \"step\"\nmax_lr = 0.1\ntotal_steps = 30\n");
    let s = run(&toml);
    let reference = reference();
    let run = reference["runs"].as_array().unwrap().iter().find(|r| r["name"] == "d_fullbatch_onecycle").unwrap();
    let series = |k: &str| -> Vec<f64> { run[k].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect() };
    let (lr, momentum) = (series("lr"), series("momentum"));
    assert_eq!(s.steps.len(), 30);
    for (i, rec) in s.steps.iter().enumerate() {
        assert_eq!(rec.lr, lr[i], "lr at step {}", rec.step);
        assert_eq!(rec.momentum, Some(momentum[i]), "momentum at step {}", rec.step);
    }
    check_against_torch("d_fullbatch_onecycle", &s);
}
