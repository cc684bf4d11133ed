//! f64 training runs (one process, so the device's dtype is f64 throughout):
//! - the seed MLP against PyTorch's reference trajectories (fixtures/seed/torch_reference.json);
//! - full-batch GD on least squares against the normal-equations solution.

use std::path::PathBuf;

// A folder without main.rs, so cargo does not take it for a test binary of its own.
#[path = "f64_runs/averaging.rs"]
mod averaging;

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

fn params(summary: &descent_train::RunSummary) -> Vec<(String, Vec<f64>)> {
    let mut out = Vec::new();
    for (i, layer) in summary.model.as_mlp().expect("an mlp run").layers.iter().enumerate() {
        out.push((format!("layers.{i}.weight"), layer.weight.val().to_data().try_to_vec::<f64>().unwrap()));
        out.push((format!("layers.{i}.bias"), layer.bias.as_ref().unwrap().val().to_data().try_to_vec::<f64>().unwrap()));
    }
    out
}

fn assert_close(a: &[(String, Vec<f64>)], b: &[(String, Vec<f64>)], tol: f64, what: &str) {
    for ((ka, va), (_, vb)) in a.iter().zip(b) {
        for (x, y) in va.iter().zip(vb) {
            assert!((x - y).abs() <= tol * y.abs().max(1.0), "{what}: {ka}: {x} vs {y}");
        }
    }
}

#[test]
fn accumulating_k_micro_batches_equals_one_k_times_larger_batch() {
    // 256 rows: 4 micro-batches of 8 per step = batches of 32; penalties and momentum
    // included, shuffled order (the order does not depend on the batch size).
    let opt = "lr = 0.05\nmomentum = 0.9\nweight_decay = 1e-3";
    let loss = "l2 = 0.01\nl1 = 0.001";
    for shuffle in ["true", "false"] {
        let big = run(&seed_config(&format!("mode = \"mini\"\nbatch_size = 32\nshuffle = {shuffle}"), opt, loss, 3));
        let acc = run(&seed_config(
            &format!("mode = \"mini\"\nbatch_size = 8\naccumulate = 4\nshuffle = {shuffle}"),
            opt,
            loss,
            3,
        ));
        assert_eq!(acc.steps.len(), big.steps.len());
        assert_eq!(acc.steps.len(), 3 * 8);
        for (a, b) in acc.steps.iter().zip(&big.steps) {
            assert!((a.loss - b.loss).abs() <= 1e-12 * b.loss, "step {}: {} vs {}", a.step, a.loss, b.loss);
        }
        assert_close(&params(&acc), &params(&big), 1e-12, "mini accumulate");
    }
    // Full batch cut into 3 slices (85 + 85 + 86 rows): the same GD steps.
    let full = run(&seed_config("mode = \"full\"", opt, loss, 5));
    let sliced = run(&seed_config("mode = \"full\"\naccumulate = 3", opt, loss, 5));
    assert_close(&params(&sliced), &params(&full), 1e-12, "full accumulate");
}

/// θ₀ from the f64 initial weights, and θ₁ after one full-batch step without any decay.
fn one_step(optimizer: &str) -> Vec<(String, Vec<f64>)> {
    params(&run(&seed_config("mode = \"full\"", optimizer, "", 1)))
}

#[test]
fn global_norm_clipping_scales_the_step_to_max_norm() {
    let theta0 = params(&run(&seed_config("mode = \"full\"", "lr = 0.0", "", 1)));
    let free = run(&seed_config("mode = \"full\"", "lr = 0.05", "", 1));
    let norm = free.steps[0].grad_norm.unwrap();
    let max_norm = norm / 10.0;
    let clipped = run(&seed_config("mode = \"full\"", &format!("lr = 0.05\nclip_grad_norm = {max_norm}"), "", 1));
    // The logged norm is the one before clipping (torch's return value).
    // (torch's norm of per-tensor norms; it may differ from the 2-norm of all entries in the last bit)
    let logged = clipped.steps[0].grad_norm.unwrap();
    assert!((logged - norm).abs() <= 1e-15 * norm, "{logged} vs {norm}");
    // clip_grad_norm_: coef = max_norm / (norm + 1e-6), so each update is coef × the free one.
    let coef = max_norm / (norm + 1e-6);
    let (p0, pf, pc) = (theta0, params(&free), params(&clipped));
    for ((k, t0), ((_, tf), (_, tc))) in p0.iter().zip(pf.iter().zip(&pc)) {
        for ((a, f), c) in t0.iter().zip(tf).zip(tc) {
            let want = a + coef * (f - a);
            assert!((c - want).abs() <= 1e-14, "{k}: {c} vs {want}");
        }
    }
    // A max_norm well above the norm: coef is clamped to 1, so the parameters are bit-identical.
    let loose = run(&seed_config("mode = \"full\"", &format!("lr = 0.05\nclip_grad_norm = {}", norm * 10.0), "", 1));
    assert_eq!(params(&loose), params(&free));
}

#[test]
fn parameter_groups_override_weight_decay_and_lr_by_path() {
    let lr = 0.05;
    let lambda = 0.1;
    let theta0 = one_step("lr = 0.0");
    let plain = one_step(&format!("lr = {lr}"));
    // No weight decay on biases, as torch's two-group idiom.
    let grouped = one_step(&format!(
        "lr = {lr}\nweight_decay = {lambda}\n[[optimizer.groups]]\nparams = \"bias$\"\nweight_decay = 0.0"
    ));
    for (((k, t0), (_, tp)), (_, tg)) in theta0.iter().zip(&plain).zip(&grouped) {
        for ((a, p), g) in t0.iter().zip(tp).zip(tg) {
            // torch SGD: g ← g + λθ, θ ← θ − lr·g, so the decayed step is the plain one − lr·λ·θ₀.
            let want = if k.ends_with("bias") { *p } else { p - lr * lambda * a };
            assert!((g - want).abs() <= 1e-15, "{k}: {g} vs {want}");
        }
    }
    // A frozen first layer (lr = 0 for its group) over several steps and a decaying schedule.
    let cfg = seed_config(
        "mode = \"full\"",
        &format!("lr = {lr}\n[[optimizer.groups]]\nparams = \"^layers\\\\.0\\\\.\"\nlr = 0.0"),
        "",
        4,
    ) + "[scheduler]\nkind = \"step\"\nstep_size = 1\ngamma = 0.5\n";
    let frozen = params(&run(&cfg));
    for ((k, t0), (_, tf)) in theta0.iter().zip(&frozen) {
        if k.starts_with("layers.0") {
            assert_eq!(t0, tf, "{k} must not move");
        } else {
            assert_ne!(t0, tf, "{k} must move");
        }
    }
    // A pattern that matches nothing is an error naming the parameters.
    let bad = seed_config("mode = \"full\"", "lr = 0.1\n[[optimizer.groups]]\nparams = \"bais$\"\nweight_decay = 0.0", "", 1);
    let cfg = RunConfig::parse(&bad, &root().join("inline.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let e = train(&cfg, &RunOptions { out_dir: dir.path().to_path_buf(), quiet: true, ..Default::default() })
        .unwrap_err()
        .to_string();
    assert!(e.contains("matches no parameter") && e.contains("layers.0.bias"), "{e}");
}

/// A group with its own `kind` runs that optimizer with its own keys and that kind's defaults
/// (nothing taken from the base), on its own copy of the schedule from its lr; the logged lr
/// stays the base's.
#[test]
fn a_group_with_its_own_kind_takes_its_own_keys_defaults_and_schedule() {
    let schedule = "[scheduler]\nkind = \"step\"\nstep_size = 1\ngamma = 0.5\n";
    let base = "lr = 0.05\nmomentum = 0.9\nweight_decay = 0.01\n[[optimizer.groups]]\nparams = \"bias$\"";
    // The same optimizer per parameter, as overrides of the base and as a kind of its own:
    // with its lr, and without (SGD's default 1e-3), each on its own schedule copy.
    for (overrides, own_kind) in [
        ("lr = 0.02\nmomentum = 0.0\nweight_decay = 0.0", "kind = \"sgd\"\nlr = 0.02"),
        ("lr = 0.001\nmomentum = 0.0\nweight_decay = 0.0", "kind = \"sgd\""),
    ] {
        let a = run(&(seed_config("mode = \"full\"", &format!("{base}\n{overrides}"), "", 4) + schedule));
        let b = run(&(seed_config("mode = \"full\"", &format!("{base}\n{own_kind}"), "", 4) + schedule));
        assert_eq!(params(&a), params(&b), "{own_kind}");
        let lrs: Vec<f64> = b.steps.iter().map(|s| s.lr).collect();
        assert_eq!(lrs, [0.05, 0.025, 0.0125, 0.00625], "the logged lr is the base group's");
    }
    // AdamW (defaults lr 1e-3, weight_decay 1e-2) on the biases, SGD with λ = 0.1 on the
    // weights: one full-batch step, by hand from the gradient g = (θ₀ − θ₁)/lr of a plain step.
    let (lr, lambda) = (0.05, 0.1);
    let theta0 = one_step("lr = 0.0");
    let plain = one_step(&format!("lr = {lr}"));
    let mixed = one_step(&format!(
        "lr = {lr}\nweight_decay = {lambda}\n[[optimizer.groups]]\nparams = \"bias$\"\nkind = \"adamw\""
    ));
    for (((k, t0), (_, tp)), (_, tm)) in theta0.iter().zip(&plain).zip(&mixed) {
        for ((a, p), m) in t0.iter().zip(tp).zip(tm) {
            let want = if k.ends_with("bias") {
                let g = (a - p) / lr;
                let (exp_avg, exp_avg_sq) = (0.1 * g, (0.001 * g) * g);
                let denom = exp_avg_sq.sqrt() / (1.0f64 - 0.999).sqrt() + 1e-8;
                a * (1.0 - 1e-3 * 1e-2) + (-1e-3 / (1.0 - 0.9) * exp_avg) / denom
            } else {
                p - lr * lambda * a
            };
            assert!((m - want).abs() <= 1e-15, "{k}: {m} vs {want}");
        }
    }
}
