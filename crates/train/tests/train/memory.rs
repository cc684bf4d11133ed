//! The memory estimate a run is checked against before its model is allocated, by hand.

use std::path::{Path, PathBuf};

use descent_train::memory::{check, estimate, human, MemoryEstimate};
use descent_train::RunConfig;

fn estimate_for(sizes: &str, rest: &str) -> MemoryEstimate {
    estimate_with(sizes, rest, "")
}

/// `rest`: top-level keys and sections before `[model]`; `data`: extra `[data]` keys.
fn estimate_with(sizes: &str, rest: &str, data: &str) -> MemoryEstimate {
    let csv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/seed/train.csv");
    let text = format!(
        "epochs = 1\n{rest}\n[model]\nkind = \"mlp\"\nsizes = {sizes}\n[data]\ntrain = \"{}\"\ntargets = [\"y\"]\n{data}\n",
        csv.display()
    );
    let cfg = RunConfig::parse(&text, Path::new("m.toml")).unwrap_or_else(|e| panic!("{e}"));
    let data = descent_train::data::load(&cfg.data, cfg.seed).unwrap();
    let model = cfg.model.model_config(&data.shape).unwrap();
    estimate(&cfg, &model, &data)
}

const SGD: &str = "[optimizer]\nkind = \"sgd\"\nlr = 0.1";

#[test]
fn the_issues_model_needs_its_full_batch_of_activations() {
    // sizes = [10, 10⁸, 1] on the 256-row seed data, full batch, f32, SGD with momentum.
    let e = estimate_for("[10, 100000000, 1]", &format!("{SGD}\nmomentum = 0.9"));
    let p: u128 = 10 * 100_000_000 + 100_000_000 + 100_000_000 + 1;
    assert_eq!(e.parameters, p);
    assert_eq!((e.weights, e.gradients, e.optimizer_state), (4 * p, 4 * p, 4 * p));
    assert_eq!(e.batch_rows, 256);
    // Each row keeps both sides of the 10⁸ hidden units and the output: 2·(10⁸ + 1) values.
    assert_eq!(e.activations, 2 * (100_000_000 + 1) * 256 * 4);
    assert_eq!(e.data, 256 * 11 * 4);
    assert_eq!(e.total(), 3 * 4 * p + 204_800_002_048 + 11_264);
    assert_eq!(human(e.total()), "219.2 GB");
}

#[test]
fn optimizer_state_batch_rows_and_dtype_follow_the_config() {
    let seed = "[10, 5, 1]";
    let w = 61 * 4;
    let state = |opt: &str| {
        let e = estimate_for(seed, &format!("[optimizer]\n{opt}"));
        (e.state_per_parameter, e.optimizer_state / w)
    };
    assert_eq!(state("kind = \"sgd\"\nlr = 0.1"), (0, 0));
    assert_eq!(state("kind = \"adam\"\nlr = 0.1"), (2, 2));
    assert_eq!(state("kind = \"adamw\"\nlr = 0.1\namsgrad = true"), (3, 3));
    assert_eq!(state("kind = \"rmsprop\"\nlr = 0.1\nmomentum = 0.9\ncentered = true"), (3, 3));
    assert_eq!(state("kind = \"adagrad\"\nlr = 0.1"), (1, 1));
    assert_eq!(state("kind = \"lion\"\nlr = 0.1"), (1, 1));
    let rows = |batching: &str| estimate_for(seed, &format!("{SGD}\n[batching]\n{batching}")).batch_rows;
    assert_eq!(rows("mode = \"mini\"\nbatch_size = 32"), 32);
    assert_eq!(rows("mode = \"full\"\naccumulate = 3"), 86);
    assert_eq!(rows("mode = \"stochastic\""), 1);
    // Evaluation pushes the whole validation split (64 of 256 rows) through at once.
    let e = estimate_with(seed, &format!("{SGD}\n[batching]\nmode = \"stochastic\""), "valid_fraction = 0.25");
    assert_eq!(e.batch_rows, 64);
    let f64_run = estimate_for(seed, &format!("dtype = \"f64\"\n{SGD}"));
    assert_eq!(f64_run.weights, 61 * 8);
}

#[test]
fn the_refusal_is_one_line_with_every_part() {
    let e = estimate_for("[10, 100000000, 1]", SGD);
    assert!(check(&e, e.total()).is_ok());
    let msg = check(&e, e.total() - 1).unwrap_err().to_string();
    assert_eq!(
        msg,
        format!(
            "not enough memory: this run needs ≈ 214.4 GB (1.2e9 parameters: weights 4.8 GB, gradients 4.8 GB, optimizer state 0 B \
             (0× the weights); activations of a 256-row batch 204.8 GB; data 11.3 kB) but this machine has {} available; \
             use a smaller [model] or batch",
            human(e.total() - 1)
        )
    );
    assert_eq!([human(999), human(1000), human(1_234_567), human(u128::MAX)], ["999 B", "1.0 kB", "1.2 MB", "3.4e20 EB"]);
}
