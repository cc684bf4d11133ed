//! `[averaging]` end to end in f64: the run's average equals PyTorch's `AveragedModel`
//! formulas applied by hand to the weights the same run has after each update (read off runs
//! stopped there), the training itself is unchanged by it, and the `avg_*` metrics appear
//! from `start_epoch` on.

use std::path::Path;

use descent_train::{train, RunConfig, RunOptions, RunSummary};

use descent_model::Model;

use super::{params, root, seed_config};

/// Full-batch GD on the seed task (one step per epoch, so epoch k ends after step k).
fn toml(epochs: usize, valid: bool, averaging: &str) -> String {
    let mut t = seed_config("mode = \"full\"", "lr = 0.05\nmomentum = 0.9", "kind = \"mse\"", epochs);
    if valid {
        t = t.replace("targets = [\"y\"]", "targets = [\"y\"]\nvalid_fraction = 0.25");
    }
    format!("{t}\n{averaging}\n")
}

fn run_in(toml: &str, out: &Path) -> RunSummary {
    let cfg = RunConfig::parse(toml, &root().join("inline.toml")).unwrap();
    train(&cfg, &RunOptions { out_dir: out.to_path_buf(), quiet: true, ..Default::default() }).unwrap()
}

type Params = Vec<(String, Vec<f64>)>;

/// An MLP's weights by name, as `params` reads a run's model.
fn weights(model: &Model, s: &RunSummary) -> Params {
    params(&RunSummary { model: model.clone(), ..s.clone() })
}

/// `torch.lerp(avg, p, w)` elementwise, with torch's two branches.
fn lerp(avg: &Params, p: &Params, w: f64) -> Params {
    avg.iter()
        .zip(p)
        .map(|((k, a), (_, b))| {
            let v = a
                .iter()
                .zip(b)
                .map(|(&a, &b)| if w.abs() < 0.5 { a + w * (b - a) } else { b - (b - a) * (1.0 - w) })
                .collect();
            (k.clone(), v)
        })
        .collect()
}

fn max_dev(a: &Params, b: &Params) -> f64 {
    a.iter().zip(b).flat_map(|((_, x), (_, y))| x.iter().zip(y).map(|(x, y)| (x - y).abs())).fold(0.0, f64::max)
}

/// Weights after each epoch 1..=n, from runs stopped there (the trajectory is deterministic).
fn epoch_ends(n: usize, valid: bool) -> Vec<Params> {
    let dir = tempfile::tempdir().unwrap();
    (1..=n).map(|k| params(&run_in(&toml(k, valid, ""), &dir.path().join(k.to_string())))).collect()
}

#[test]
fn swa_every_epoch_is_torchs_running_mean_of_the_epoch_end_weights() {
    let thetas = epoch_ends(3, false);
    let dir = tempfile::tempdir().unwrap();
    let s = run_in(&toml(3, false, "[averaging]\nkind = \"swa\"\nevery = \"epoch\""), dir.path());
    // avg₁ = θ₁; avgₙ = lerp(avgₙ₋₁, θₙ, 1/n)  (get_swa_multi_avg_fn)
    let mut want = thetas[0].clone();
    for (n, theta) in thetas.iter().enumerate().skip(1) {
        want = lerp(&want, theta, 1.0 / (n as f64 + 1.0));
    }
    let got = weights(s.averaged.as_ref().unwrap(), &s);
    let dev = max_dev(&got, &want);
    eprintln!("swa over 3 epochs: max deviation from the hand-applied formula {dev:e}");
    assert_eq!(dev, 0.0);
    // The training is the same as without averaging.
    assert_eq!(params(&s), thetas[2]);
    // averaged.safetensors holds the average in the PyTorch layout of model.safetensors.
    let mlp = descent_model::load_safetensors(s.model.as_mlp().unwrap().clone(), &dir.path().join("averaged.safetensors")).unwrap();
    let from_file = weights(&Model::Mlp(mlp), &s);
    assert_eq!(from_file, got);
    assert!(dir.path().join("averaged.bpk").exists());
}

#[test]
fn ema_every_step_from_start_epoch_3() {
    let thetas = epoch_ends(5, true);
    let dir = tempfile::tempdir().unwrap();
    let plain = run_in(&toml(5, true, ""), &dir.path().join("plain"));
    let avg_cfg = "[averaging]\nkind = \"ema\"\ndecay = 0.75\nstart_epoch = 3";
    let s = run_in(&toml(5, true, avg_cfg), &dir.path().join("ema"));
    // Updates after steps 3, 4, 5: a copy, then lerp(avg, θ, 1 − 0.75).
    let mut want = thetas[2].clone();
    for theta in &thetas[3..] {
        want = lerp(&want, theta, 1.0 - 0.75);
    }
    let got = weights(s.averaged.as_ref().unwrap(), &s);
    let dev = max_dev(&got, &want);
    eprintln!("ema (decay 0.75) from epoch 3: max deviation from the hand-applied formula {dev:e}");
    assert_eq!(dev, 0.0);
    // Same steps and losses as the run without averaging; the epoch lines add the average's
    // validation loss from start_epoch on (at epoch 3 the average is a copy of the model).
    assert_eq!(s.steps, plain.steps);
    for (e, p) in s.epochs.iter().zip(&plain.epochs) {
        assert_eq!((e.train_loss, e.valid_loss), (p.train_loss, p.valid_loss));
        assert_eq!(e.avg_valid_accuracy, None, "mse: no accuracy");
        match e.epoch {
            1 | 2 => assert_eq!(e.avg_valid_loss, None),
            3 => assert_eq!(e.avg_valid_loss, e.valid_loss),
            _ => assert!(e.avg_valid_loss.is_some() && e.avg_valid_loss != e.valid_loss),
        }
    }
    let text = std::fs::read_to_string(&s.metrics_path).unwrap();
    let plain_text = std::fs::read_to_string(&plain.metrics_path).unwrap();
    assert_eq!(text.matches("avg_valid_loss").count(), 3);
    assert!(!plain_text.contains("avg_"));
    // Without the avg fields, the file is the plain run's, byte for byte.
    let stripped: Vec<String> = text
        .lines()
        .map(|l| match l.find(",\"avg_valid_loss\"") {
            Some(i) => format!("{}}}", &l[..i]),
            None => l.to_string(),
        })
        .collect();
    assert_eq!(stripped.join("\n") + "\n", plain_text);
}
