//! The applications (issue 5): IDX files, bundled and generated data, the CNN / MF /
//! char-RNN models, short real training runs and a wgpu smoke run of each model.

use std::path::Path;

use burn::tensor::{Device, Tensor, TensorData};
use descent_model::{Cell, CharRnnConfig, CnnConfig, MfConfig, ModelConfig};
use descent_train::config::DeviceChoice;
use descent_train::data::idx::{load_idx, read_idx, write_idx};
use descent_train::data::ratings::{parse_ratings, SyntheticRatings};
use descent_train::data::text::{unigram_perplexity, Corpus};
use descent_train::{train, RunConfig, RunOptions, RunSummary};

fn run_toml(toml: &str, dir: &Path, device: Option<DeviceChoice>) -> RunSummary {
    let cfg = RunConfig::parse(toml, Path::new("apps.toml")).unwrap_or_else(|e| panic!("{e}"));
    let opts = RunOptions { out_dir: dir.join("out"), device, quiet: true, ..Default::default() };
    train(&cfg, &opts).unwrap_or_else(|e| panic!("{e}"))
}

// ------------------------------------------------------------------------------- IDX

#[test]
fn idx_round_trips_raw_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..3 * 2 * 2).map(|i| (i * 20) as u8).collect();
    for gzip in [false, true] {
        let (im, lb) = (dir.path().join(format!("im{gzip}")), dir.path().join(format!("lb{gzip}")));
        write_idx(&im, &[3, 2, 2], &pixels, gzip).unwrap();
        write_idx(&lb, &[3], &[7, 0, 9], gzip).unwrap();
        let raw = std::fs::read(&im).unwrap();
        assert_eq!(raw.starts_with(&[0x1f, 0x8b]), gzip);
        let a = read_idx(&im).unwrap();
        assert_eq!(a.dims, vec![3, 2, 2]);
        assert_eq!(a.data, pixels);
        let (t, image) = load_idx(&im, &lb).unwrap();
        assert_eq!(image, [2, 2]);
        assert_eq!((t.rows, t.n_features(), t.n_targets()), (3, 4, 1));
        assert_eq!(t.targets, vec![7.0, 0.0, 9.0]);
        assert!((t.features[5] - 100.0 / 255.0).abs() < 1e-12);
    }
}

#[test]
fn bad_idx_files_give_one_clear_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad-images.idx");
    let msg = |bytes: &[u8]| {
        std::fs::write(&p, bytes).unwrap();
        let e = read_idx(&p).unwrap_err().to_string();
        assert!(e.contains("bad-images.idx"), "{e}");
        e
    };
    assert!(msg(&[0x12, 0x34, 0x08, 0x03, 0, 0, 0, 1]).contains("magic number 12 34 08 03"));
    assert!(msg(&[0, 0]).contains("shorter than the 4-byte magic"));
    assert!(msg(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]).contains("type 0x0d is not supported"));
    assert!(msg(&[0, 0, 8, 3, 0, 0, 0, 2]).contains("truncated IDX header"));
    assert!(msg(&[0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3]).contains("truncated IDX data: dimensions [5] need 5 bytes after the header, the file has 3"));
    assert!(msg(&[0, 0, 8, 1, 0, 0, 0, 1, 1, 2]).contains("trailing data"));
    // A gzip file cut in half.
    write_idx(&p, &[100], &[1; 100], true).unwrap();
    let gz = std::fs::read(&p).unwrap();
    assert!(msg(&gz[..gz.len() / 2]).contains("gzip"));
    // Images and labels that disagree.
    let (im, lb) = (dir.path().join("im"), dir.path().join("lb"));
    write_idx(&im, &[2, 2, 2], &[0; 8], false).unwrap();
    write_idx(&lb, &[3], &[0; 3], false).unwrap();
    let e = load_idx(&im, &lb).unwrap_err().to_string();
    assert!(e.contains("3 labels, but") && e.contains("holds 2 images"), "{e}");
    let e = load_idx(&lb, &lb).unwrap_err().to_string();
    assert!(e.contains("expected images with 3 dimensions"), "{e}");
    // Through the CLI config: the missing file is named.
    let e = RunConfig::parse(
        "epochs = 1\n[model]\nkind = \"cnn\"\nchannels = [4]\nclasses = 10\n[data]\nkind = \"idx\"\nimages = \"/nonexistent/train-images\"\nlabels = \"/nonexistent/l\"\n[loss]\nkind = \"cross_entropy\"\n[optimizer]\nkind = \"sgd\"\nlr = 0.1\n",
        Path::new("c.toml"),
    )
    .map(|cfg| train(&cfg, &RunOptions { out_dir: dir.path().join("o"), quiet: true, ..Default::default() }).unwrap_err().to_string())
    .unwrap();
    assert!(e.starts_with("/nonexistent/train-images: cannot read"), "{e}");
}

// --------------------------------------------------------------------------- ratings

#[test]
fn synthetic_ratings_are_deterministic_and_have_the_configured_noise() {
    let g = SyntheticRatings { users: 40, items: 30, rank: 2, density: 0.5, noise_std: 0.25, seed: 3 };
    let (a, b) = (g.generate(), g.generate());
    assert_eq!(a, b);
    let c = SyntheticRatings { seed: 4, ..g.clone() }.generate();
    assert_ne!(a.targets, c.targets);
    // About half the 1,200 pairs are rated.
    assert!((540..=660).contains(&a.rows), "{} rows", a.rows);
    // Zero noise: the same pairs, and the difference is exactly the noise.
    let clean = SyntheticRatings { noise_std: 0.0, ..g.clone() }.generate();
    assert_eq!(clean.features, a.features);
    let n = a.rows as f64;
    let diffs: Vec<f64> = a.targets.iter().zip(&clean.targets).map(|(x, y)| x - y).collect();
    let std = (diffs.iter().map(|d| d * d).sum::<f64>() / n).sqrt();
    assert!((std - 0.25).abs() < 0.03, "noise std {std}");
    let mean = a.targets.iter().sum::<f64>() / n;
    assert!((mean - 3.0).abs() < 0.5, "mean rating {mean}");
}

#[test]
fn movielens_files_load_with_ids_mapped_in_order() {
    let p = Path::new("ratings.csv");
    let (t, users, items) = parse_ratings("userId,movieId,rating,timestamp\n10,5,4.0,1\n3,5,2.5,2\n10,7,1,3\n", p).unwrap();
    assert_eq!((users, items, t.rows), (2, 2, 3));
    assert_eq!(t.features, vec![1.0, 0.0, 0.0, 0.0, 1.0, 1.0]);
    assert_eq!(t.targets, vec![4.0, 2.5, 1.0]);
    let (t, _, _) = parse_ratings("1\t2\t3\t881250949\n", p).unwrap();
    assert_eq!(t.targets, vec![3.0]);
    let (t, _, _) = parse_ratings("1::2::5::978300760\n", p).unwrap();
    assert_eq!(t.targets, vec![5.0]);
    let e = parse_ratings("1,2,3\n1,x,3\n", p).unwrap_err().to_string();
    assert_eq!(e, "ratings.csv: line 2, column item: `x` is not an integer id");
    let e = parse_ratings("1,2\n", p).unwrap_err().to_string();
    assert!(e.contains("line 1: 2 cells"), "{e}");
}

// ------------------------------------------------------------------------------ text

#[test]
fn text_windows_predict_the_next_character() {
    let c = Corpus::from_text("abcabcabcabd");
    assert_eq!(c.vocab, vec!['a', 'b', 'c', 'd']);
    let (t, v) = c.split(3, Some(0.25), Path::new("t.txt")).unwrap();
    // 12 characters, the last 3 held out; training targets are positions 3..9.
    assert_eq!(t.rows, 6);
    assert_eq!(&t.features[..3], &[0.0, 1.0, 2.0]);
    assert_eq!(t.targets[0], 0.0);
    let v = v.unwrap();
    assert_eq!(v.targets, vec![0.0, 1.0, 3.0]);
    assert_eq!(&v.features[..3], &[0.0, 1.0, 2.0]);
    // Unigram over the training targets a,b,c ×2 with add-one over 4 symbols: p(a) = 3/10.
    let ppl = unigram_perplexity(&t, &t, 4);
    assert!((ppl - (10.0f64 / 3.0)).abs() < 1e-12, "{ppl}");
}

// ---------------------------------------------------------------------------- models

#[test]
fn every_model_maps_a_batch_to_the_right_shape() {
    let d = Device::flex();
    let x = |rows: usize, cols: usize, v: f32| Tensor::<2>::from_data(TensorData::new(vec![v; rows * cols], [rows, cols]), &d);
    let cnn = |image, channels: Vec<usize>| ModelConfig::Cnn(CnnConfig { image, channels, kernel_size: 3, hidden: 0, classes: 10 });
    for (cfg, input, out) in [
        (cnn([8, 8], vec![4, 8]), x(5, 64, 0.5), [5, 10]),
        (cnn([28, 28], vec![4, 8, 8]), x(3, 784, 0.5), [3, 10]),
        (cnn([3, 1], vec![2, 2]), x(2, 3, 0.5), [2, 10]),
        (ModelConfig::Mf(MfConfig { users: 7, items: 4, dim: 3, l2: 0.1, init_std: 0.1 }), x(6, 2, 3.0), [6, 1]),
        (ModelConfig::CharRnn(CharRnnConfig { vocab: 11, embed: 4, hidden: 6, cell: Cell::Gru }), x(4, 9, 2.0), [4, 11]),
        (ModelConfig::CharRnn(CharRnnConfig { vocab: 11, embed: 4, hidden: 6, cell: Cell::Lstm }), x(4, 9, 2.0), [4, 11]),
    ] {
        // Under the trainer's init lock, so this test's draws cannot land inside another
        // test's seeded init.
        let m = descent_train::rng::seeded_init(&d, 0, || cfg.init(&d)).unwrap();
        let y = m.forward(input.clone());
        assert_eq!(y.dims(), out, "{cfg:?}");
        let vals = y.into_data().try_to_vec::<f32>().unwrap();
        assert!(vals.iter().all(|v| v.is_finite()));
        if let ModelConfig::Mf(_) = cfg {
            // MF starts at the global bias 0 plus small dot products.
            assert!(vals.iter().all(|v| v.abs() < 0.5), "{vals:?}");
            assert!(m.forward_with_penalty(input).1.is_some());
        }
    }
    let e = ModelConfig::Cnn(CnnConfig { image: [8, 8], channels: vec![4], kernel_size: 2, hidden: 0, classes: 10 }).validate().unwrap_err();
    assert!(e.to_string().contains("kernel_size = 2 must be odd"), "{e}");
}

// ------------------------------------------------------------------- training runs

const DIGITS: &str = r#"
epochs = 6
seed = 0
[model]
kind = "cnn"
channels = [8, 16]
hidden = 32
classes = 10
[data]
kind = "digits"
valid_fraction = 0.2
[batching]
mode = "mini"
batch_size = 32
[loss]
kind = "cross_entropy"
[optimizer]
kind = "sgd"
lr = 0.05
momentum = 0.9
nesterov = true
[scheduler]
kind = "onecycle"
interval = "step"
max_lr = 0.1
total_steps = 270
"#;

#[test]
fn a_short_digits_cnn_run_learns_and_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let s = run_toml(DIGITS, dir.path(), None);
    let last = s.epochs.last().unwrap();
    // Chance is 10% (cross-entropy ln 10 = 2.303); six epochs (a smaller net than the
    // example's) reach 96.1% on the 359 held-out images.
    assert!(last.valid_accuracy.unwrap() > 0.93, "{last:?}");
    assert!(last.valid_loss.unwrap() < 0.2, "{last:?}");
    assert_eq!(s.epochs[0].steps, 45);
    let again = run_toml(DIGITS, &dir.path().join("2"), None);
    let (a, b) = (std::fs::read_to_string(&s.metrics_path).unwrap(), std::fs::read_to_string(&again.metrics_path).unwrap());
    if let Some((x, y)) = a.lines().zip(b.lines()).find(|(x, y)| x != y) {
        panic!("the rerun differs:\n{x}\n{y}");
    }
    assert_eq!(a.len(), b.len());
}

const MF: &str = r#"
epochs = 15
seed = 2
[model]
kind = "mf"
dim = 2
[data]
kind = "synthetic_ratings"
users = 60
items = 50
rank = 2
density = 0.6
noise_std = 0.3
valid_fraction = 0.2
[batching]
mode = "mini"
batch_size = 64
[optimizer]
kind = "adam"
lr = 0.05
"#;

#[test]
fn mf_beats_the_mean_rating_on_held_out_ratings() {
    let dir = tempfile::tempdir().unwrap();
    let s = run_toml(MF, dir.path(), None);
    // Baseline: predicting the training mean, scored on the held-out ratings.
    let g = SyntheticRatings { users: 60, items: 50, rank: 2, density: 0.6, noise_std: 0.3, seed: 2 };
    let (t, v) = descent_train::data::split(&g.generate(), 0.2, 2);
    let mean = t.targets.iter().sum::<f64>() / t.rows as f64;
    let base = v.targets.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / v.rows as f64;
    let mse = s.epochs.last().unwrap().valid_loss.unwrap();
    assert!(base > 0.8, "baseline {base}");
    assert!(mse < 0.5 * base, "held-out MSE {mse} vs mean-predictor {base}");
}

#[test]
fn char_rnn_beats_the_unigram_perplexity() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/tiny_corpus.txt")).unwrap();
    let corpus = dir.path().join("c.txt");
    std::fs::write(&corpus, &text[..3000]).unwrap();
    let toml = format!(
        r#"
epochs = 3
seed = 0
[model]
kind = "char_rnn"
embed = 16
hidden = 48
[data]
kind = "text"
train = "{}"
context = 8
valid_fraction = 0.1
[batching]
mode = "mini"
batch_size = 32
[loss]
kind = "cross_entropy"
[optimizer]
kind = "adam"
lr = 0.01
"#,
        corpus.display()
    );
    let s = run_toml(&toml, dir.path(), None);
    let unigram = s.unigram_perplexity.unwrap();
    let last = s.epochs.last().unwrap();
    let ppl = last.valid_perplexity.unwrap();
    assert!((ppl - last.valid_loss.unwrap().exp()).abs() < 1e-3 * ppl);
    assert!(unigram > 10.0, "unigram {unigram}");
    assert!(ppl < 0.9 * unigram, "char model {ppl} vs unigram {unigram}");
}

#[test]
fn model_keys_of_another_kind_are_errors() {
    let bad = |model: &str, data: &str| {
        let toml = format!("epochs = 1\n[model]\n{model}\n[data]\n{data}\n[optimizer]\nkind = \"sgd\"\nlr = 0.1\n");
        RunConfig::parse(&toml, Path::new("r.toml")).unwrap_err().to_string()
    };
    let e = bad("kind = \"mlp\"\nsizes = [2, 1]\nchannels = [3]", "train = \"t.csv\"\ntargets = [\"y\"]");
    assert!(e.contains("r.toml") && e.contains("`channels` is not a key of kind = \"mlp\""), "{e}");
    let e = bad("kind = \"cnn\"\nclasses = 10", "kind = \"digits\"");
    assert!(e.contains("missing field `channels`"), "{e}");
    let e = bad("kind = \"mf\"\ndim = 2", "kind = \"digits\"\ncontext = 3");
    assert!(e.contains("`context` is not a key of kind = \"digits\""), "{e}");
    let e = bad("kind = \"mf\"\ndim = 2", "kind = \"synthetic_ratings\"\nusers = 3");
    assert!(e.contains("missing field `items`"), "{e}");
    let e = bad("kind = \"cnn\"\nchannels = [2]\nclasses = 10\nbogus = 1", "kind = \"digits\"");
    assert!(e.contains("unknown field `bogus`"), "{e}");
}

// ----------------------------------------------------------------------------- wgpu

/// One short epoch of each model on wgpu. Without an adapter the test says so and passes,
/// unless DESCENT_REQUIRE_WGPU=1.
#[test]
fn every_model_runs_on_wgpu() {
    let required = std::env::var("DESCENT_REQUIRE_WGPU").is_ok_and(|v| v == "1");
    if !descent_train::device::wgpu_available() {
        assert!(!required, "DESCENT_REQUIRE_WGPU=1 but no wgpu adapter is available");
        eprintln!("SKIPPED every_model_runs_on_wgpu: no wgpu adapter on this machine");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/tiny_corpus.txt")).unwrap();
    let corpus = dir.path().join("c.txt");
    std::fs::write(&corpus, &text[..600]).unwrap();
    let configs = [
        DIGITS.replace("epochs = 6", "epochs = 1"),
        MF.replace("epochs = 15", "epochs = 1"),
        format!(
            "epochs = 1\n[model]\nkind = \"char_rnn\"\ncell = \"lstm\"\nembed = 8\nhidden = 16\n[data]\nkind = \"text\"\ntrain = \"{}\"\ncontext = 6\nvalid_fraction = 0.2\n[batching]\nmode = \"mini\"\nbatch_size = 64\n[loss]\nkind = \"cross_entropy\"\n[optimizer]\nkind = \"adam\"\nlr = 0.01\n",
            corpus.display()
        ),
    ];
    for (i, toml) in configs.iter().enumerate() {
        let s = run_toml(toml, &dir.path().join(i.to_string()), Some(DeviceChoice::Wgpu));
        let e = s.epochs.last().unwrap();
        assert!(e.train_loss.is_finite() && e.valid_loss.is_some_and(f64::is_finite), "{toml}: {e:?}");
        eprintln!("wgpu run {i}: {e:?}");
    }
}
