//! A mutation fuzzer (stable Rust, no cargo-fuzz) over every parser and loader a run reads
//! input through: configs (TOML), CSV, IDX (raw and gzip), safetensors weights, ratings,
//! text corpora and checkpoint files (state, model, optimizer, scheduler).
//!
//! Seeds are the bad-input corpus (`tests/bad_inputs/`), the example configs, the fixtures,
//! a checkpoint written by a short run, and `tests/fuzz_corpus/<target>/` (inputs that once
//! broke a loader, replayed first). Each case stacks 1–4 mutations on a seed: bit flips,
//! truncation, a splice with another seed, inserted bytes or tokens, a duplicated chunk, an
//! extreme integer written over a header field. A case fails when the loader panics
//! (`catch_unwind`), takes over [`CASE_LIMIT`] twice (a hang), returns an error that is not one
//! line, or — every [`E2E_EVERY`]th CSV, weights and checkpoint case, run end to end through
//! `train` — fails and still leaves a complete-looking `metrics.jsonl` or `model.safetensors`.
//!
//! `cargo test` runs [`DEFAULT_CASES`] cases from seed [`DEFAULT_SEED`] (deterministic);
//! `DESCENT_FUZZ_CASES=1000000 DESCENT_FUZZ_SEED=7 cargo test … --test train fuzz -- --nocapture`
//! runs more and prints a table per target. A failing input is written to
//! `target/tmp/fuzz-failures/` to be added to `tests/fuzz_corpus/<target>/` once fixed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use burn::tensor::Device;
use descent_model::{load_safetensors_bytes, Activation, Mlp, MlpConfig};
use descent_train::checkpoint::{self, CheckpointState};
use descent_train::data::idx::{decode_idx, idx_table, IdxArray};
use descent_train::data::parse_csv;
use descent_train::data::ratings::parse_ratings;
use descent_train::data::text::{unigram_perplexity, Corpus};
use descent_train::rng::Rng;
use descent_train::setup::prepare;
use descent_train::step::Stepper;
use descent_train::{train, RunConfig, RunOptions, TrainError};

const DEFAULT_CASES: u64 = 3000;
const DEFAULT_SEED: u64 = 1;
/// A parser case slower than this, timed twice, is a hang.
const CASE_LIMIT: Duration = Duration::from_secs(1);
/// An end-to-end case trains (a few ms on a quiet machine); it gets more.
const E2E_LIMIT: Duration = Duration::from_secs(10);
/// Past this the watchdog stops waiting for a case at all.
const WATCHDOG: Duration = Duration::from_secs(30);
const E2E_EVERY: u64 = 50;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// A seed input and whether its loader must accept it (`Some(true)`), reject it
/// (`Some(false)`) or either.
struct Seed {
    bytes: Vec<u8>,
    expect: Option<bool>,
    name: String,
}

/// One loader under fuzz: `run(bytes, seed index, end to end)` returns whether it accepted
/// the input, or the contract the input broke.
struct Target {
    name: &'static str,
    seeds: Vec<Seed>,
    run: Box<dyn Fn(&[u8], usize, bool) -> Result<bool, String>>,
}

/// A loader's verdict: accepted, or rejected with an error that must fit on one line.
fn verdict<T>(r: Result<T, impl std::fmt::Display>) -> Result<bool, String> {
    match r {
        Ok(_) => Ok(true),
        Err(e) => {
            let msg = e.to_string();
            if msg.trim().is_empty() || msg.contains('\n') {
                return Err(format!("error is not one line: {msg:?}"));
            }
            Ok(false)
        }
    }
}

fn file_seeds(paths: impl IntoIterator<Item = PathBuf>, expect: impl Fn(&Path) -> Option<bool>) -> Vec<Seed> {
    let mut out: Vec<Seed> = paths
        .into_iter()
        .filter(|p| p.is_file())
        .map(|p| Seed { bytes: std::fs::read(&p).unwrap(), expect: expect(&p), name: p.display().to_string() })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// `tests/bad_inputs/*/<file>`.
fn corpus_files(file: &str) -> Vec<PathBuf> {
    let dir = root().join("tests/bad_inputs");
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path().join(file)).collect()
}

/// The bad-input case number a corpus file belongs to.
fn case_no(p: &Path) -> u32 {
    let case = p.parent().and_then(|d| d.file_name()).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    case.get(..3).and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn text_seed(text: &str, expect: Option<bool>, name: &str) -> Seed {
    Seed { bytes: text.as_bytes().to_vec(), expect, name: name.into() }
}

// ----------------------------------------------------------------------------- targets

fn config_target() -> Target {
    let examples = std::fs::read_dir(root().join("examples/configs")).unwrap().map(|e| e.unwrap().path());
    let mut seeds = file_seeds(examples, |_| Some(true));
    // Cases 001–083 are config errors; the later ones break data, weights or flags.
    seeds.extend(file_seeds(corpus_files("run.toml"), |p| (case_no(p) <= 83).then_some(false)));
    Target {
        name: "config",
        seeds,
        run: Box::new(|b, _, _| verdict(RunConfig::parse(&String::from_utf8_lossy(b), Path::new("fuzz.toml")))),
    }
}

fn seed_csv_head(lines: usize) -> Vec<u8> {
    let text = std::fs::read_to_string(root().join("fixtures/seed/train.csv")).unwrap();
    text.lines().take(lines).flat_map(|l| format!("{l}\n").into_bytes()).collect()
}

fn csv_target(e2e: E2e) -> Target {
    let mut seeds = vec![Seed { bytes: seed_csv_head(40), expect: Some(true), name: "fixtures/seed/train.csv (40 lines)".into() }];
    seeds.extend(file_seeds(corpus_files("train.csv"), |_| None));
    Target {
        name: "csv",
        seeds,
        run: Box::new(move |b, _, end_to_end| {
            let accepted = verdict(parse_csv(&String::from_utf8_lossy(b), Path::new("fuzz.csv"), &["y".to_string()]))?;
            if end_to_end {
                e2e.fresh_run(b, None)?;
            }
            Ok(accepted)
        }),
    }
}

fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut b = vec![0, 0, 8, dims.len() as u8];
    dims.iter().for_each(|d| b.extend(d.to_be_bytes()));
    b.extend(data);
    b
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn idx_target() -> Target {
    let images = idx_bytes(&[3, 2, 2], &(0..12).map(|i| i * 20).collect::<Vec<u8>>());
    let labels = idx_bytes(&[3], &[7, 0, 9]);
    let seeds = vec![
        Seed { bytes: gzip(&images), expect: Some(true), name: "images.gz".into() },
        Seed { bytes: images, expect: Some(true), name: "images".into() },
        Seed { bytes: gzip(&labels), expect: Some(true), name: "labels.gz".into() },
        Seed { bytes: labels, expect: Some(true), name: "labels".into() },
        Seed { bytes: idx_bytes(&[2, 3], &[1; 5]), expect: Some(false), name: "truncated".into() },
    ];
    let run = |b: &[u8], _: usize, _: bool| -> Result<bool, String> {
        let path = Path::new("fuzz.idx");
        let array = match decode_idx(b, path) {
            Ok(a) => a,
            Err(e) => return verdict(Err::<(), _>(e)),
        };
        // As images, against labels that fit (when few enough to make).
        if array.dims.len() == 3 && array.dims[0] <= 1 << 16 {
            let n = array.dims[0];
            let labels = IdxArray { dims: vec![n], data: vec![1; n] };
            return verdict(idx_table(array, labels, path, Path::new("labels.idx")));
        }
        Ok(true)
    };
    Target { name: "idx", seeds, run: Box::new(run) }
}

fn mlp(sizes: &[usize]) -> Mlp {
    MlpConfig { sizes: sizes.to_vec(), activation: Activation::Relu }.init(&Device::flex()).unwrap()
}

fn weights_target(e2e: E2e) -> Target {
    let fx = root().join("fixtures/seed");
    let mut seeds = file_seeds([fx.join("init.safetensors"), fx.join("init_f64.safetensors")], |_| Some(true));
    seeds.extend(file_seeds(corpus_files("init.safetensors"), |_| Some(false)));
    // The seed network and the bad-input corpus's 2 → 3 → 1.
    let (seed_net, small) = (mlp(&[10, 5, 1]), mlp(&[2, 3, 1]));
    Target {
        name: "safetensors",
        seeds,
        run: Box::new(move |b, _, end_to_end| {
            let path = Path::new("fuzz.safetensors");
            let a = verdict(load_safetensors_bytes(seed_net.clone(), b.to_vec(), path))?;
            let c = verdict(load_safetensors_bytes(small.clone(), b.to_vec(), path))?;
            if end_to_end {
                e2e.fresh_run(&seed_csv_head(257), Some(b))?;
            }
            Ok(a || c)
        }),
    }
}

fn ratings_target() -> Target {
    let seeds = vec![
        text_seed("userId,movieId,rating,timestamp\n1,10,4.0,964982703\n1,20,3.5,964981247\n2,10,5,964982224\n", Some(true), "ratings.csv"),
        text_seed("196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n", Some(true), "u.data"),
        text_seed("1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n", Some(true), "ratings.dat"),
        text_seed("user,item,rating\n1,2\n", Some(false), "short row"),
    ];
    let run = |b: &[u8], _: usize, _: bool| verdict(parse_ratings(&String::from_utf8_lossy(b), Path::new("fuzz.ratings")));
    Target { name: "ratings", seeds, run: Box::new(run) }
}

fn text_target() -> Target {
    let corpus = std::fs::read(root().join("data/tiny_corpus.txt")).unwrap();
    let seeds = vec![
        Seed { bytes: corpus[..600].to_vec(), expect: Some(true), name: "data/tiny_corpus.txt (600 bytes)".into() },
        text_seed("héllo wörld, ✓ the quick brown fox jumps over the lazy dog\n", Some(true), "unicode"),
        Seed { bytes: vec![0x68, 0x69, 0xff, 0xfe], expect: Some(false), name: "not utf-8".into() },
    ];
    let run = |b: &[u8], _: usize, _: bool| -> Result<bool, String> {
        let path = Path::new("fuzz.txt");
        let corpus = match Corpus::from_bytes(b.to_vec(), path) {
            Ok(c) => c,
            Err(e) => return verdict(Err::<(), _>(e)),
        };
        let (train, valid) = match corpus.split(3, Some(0.2), path) {
            Ok(s) => s,
            Err(e) => return verdict(Err::<(), _>(e)),
        };
        let ppl = valid.as_ref().map(|v| unigram_perplexity(&train, v, corpus.vocab.len()));
        match ppl {
            Some(p) if !(p.is_finite() && p >= 1.0) => Err(format!("unigram perplexity {p} is not a finite number ≥ 1")),
            _ => Ok(true),
        }
    };
    Target { name: "text", seeds, run: Box::new(run) }
}

// ------------------------------------------------------------------------- checkpoints

const CHECKPOINT_FILES: [&str; 4] = [checkpoint::STATE, checkpoint::MODEL, checkpoint::OPTIMIZER, checkpoint::SCHEDULER];

/// A short finished run with checkpoints after epochs 1 and 2, and its config.
struct CheckpointFixture {
    _dir: tempfile::TempDir,
    run: PathBuf,
    cfg: RunConfig,
}

impl CheckpointFixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "epochs = 3\nseed = 5\n[model]\nkind = \"mlp\"\nsizes = [10, 5, 1]\n[data]\ntrain = \"{}\"\ntargets = [\"y\"]\n\
             [batching]\nmode = \"mini\"\nbatch_size = 64\n[optimizer]\nkind = \"adam\"\nlr = 0.01\n\
             [scheduler]\nkind = \"step\"\nstep_size = 1\ngamma = 0.5\n[checkpoint]\nevery_epochs = 1\nkeep_last = 2\n",
            root().join("fixtures/seed/train.csv").display()
        );
        let cfg = RunConfig::parse(&text, Path::new("checkpoint.toml")).unwrap();
        let run = dir.path().join("run");
        train(&cfg, &RunOptions { out_dir: run.clone(), quiet: true, ..Default::default() }).unwrap();
        CheckpointFixture { _dir: dir, run, cfg }
    }

    fn newest(&self) -> PathBuf {
        checkpoint::list(&self.run).unwrap().pop().unwrap()
    }

    /// A copy of the run, unfinished again (as if killed in epoch 3), with `file` of its newest
    /// checkpoint replaced by `bytes`.
    fn damaged_copy(&self, to: &Path, file: &str, bytes: &[u8]) {
        copy_dir(&self.run, to);
        std::fs::rename(to.join("metrics.jsonl"), to.join("metrics.jsonl.partial")).unwrap();
        for done in ["metrics.csv", "model.bpk", "model.safetensors"] {
            std::fs::remove_file(to.join(done)).unwrap();
        }
        let newest = self.newest();
        std::fs::write(to.join("checkpoints").join(newest.file_name().unwrap()).join(file), bytes).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// Loads a checkpoint folder as `--resume` does after its manifest check: its state, then
/// model, optimizer, schedules. The damaged bytes are handed over as if their manifest matched
/// them (a checkpoint written damaged), so the decoders behind the CRC check are what is fuzzed.
fn load_checkpoint(cfg: &RunConfig, dir: &Path) -> Result<(), TrainError> {
    let text = std::fs::read(dir.join(checkpoint::STATE)).map_err(|e| TrainError::Device(e.to_string()))?;
    let state = serde_json::from_slice::<CheckpointState>(&text)
        .map_err(|e| TrainError::Output { path: dir.join(checkpoint::STATE), msg: e.to_string() })?;
    let mut files = descent_train::manifest::VerifiedFiles::new();
    for entry in std::fs::read_dir(dir).map_err(|e| TrainError::Device(e.to_string()))? {
        let path = entry.map_err(|e| TrainError::Device(e.to_string()))?.path();
        if path.is_file() {
            let bytes = std::fs::read(&path).map_err(|e| TrainError::Device(e.to_string()))?;
            files.insert(path.file_name().unwrap_or_default().to_string_lossy().into_owned(), bytes);
        }
    }
    let verified = checkpoint::Verified { dir: dir.to_path_buf(), files, state };
    let prepared = prepare(cfg, cfg.device)?;
    let (stepper, mut schedules) = Stepper::build(cfg, &prepared.model)?;
    checkpoint::restore(&verified, prepared.model, stepper.optim, schedules.named_mut()).map(|_| ())
}

fn checkpoint_target(fixture: Arc<CheckpointFixture>) -> Target {
    let newest = fixture.newest();
    let seeds = CHECKPOINT_FILES
        .iter()
        .map(|f| Seed { bytes: std::fs::read(newest.join(f)).unwrap(), expect: Some(true), name: f.to_string() })
        .collect();
    let run = move |b: &[u8], seed: usize, end_to_end: bool| -> Result<bool, String> {
        // The file a mutated input stands in for: the one its seed was.
        let file = CHECKPOINT_FILES[seed % CHECKPOINT_FILES.len()];
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ckpt");
        copy_dir(&newest, &dir);
        std::fs::write(dir.join(file), b).unwrap();
        let accepted = verdict(load_checkpoint(&fixture.cfg, &dir))?;
        if end_to_end {
            let copy = tmp.path().join("run");
            fixture.damaged_copy(&copy, file, b);
            let opts = RunOptions { out_dir: copy.clone(), quiet: true, resume: true, ..Default::default() };
            let result = train(&fixture.cfg, &opts);
            check_outputs(&copy, result.as_ref().map(|_| ()).map_err(|e| e.to_string()))?;
        }
        Ok(accepted)
    };
    Target { name: "checkpoint", seeds, run: Box::new(run) }
}

// ---------------------------------------------------------------------- end to end

/// Whole runs on fuzzed data, checking what they leave behind.
#[derive(Clone)]
struct E2e;

impl E2e {
    /// A fresh 2-epoch run of the seed network on `csv`, started from `weights` if given.
    fn fresh_run(&self, csv: &[u8], weights: Option<&[u8]>) -> Result<(), String> {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("train.csv"), csv).unwrap();
        let init = match weights {
            Some(w) => {
                std::fs::write(tmp.path().join("init.safetensors"), w).unwrap();
                "init_from = \"init.safetensors\"\n"
            }
            None => "",
        };
        let text = format!(
            "epochs = 2\n[model]\nkind = \"mlp\"\nsizes = [10, 5, 1]\n{init}[data]\ntrain = \"train.csv\"\ntargets = [\"y\"]\n\
             [batching]\nmode = \"mini\"\nbatch_size = 64\n[optimizer]\nkind = \"sgd\"\nlr = 0.01\nmomentum = 0.9\n"
        );
        let config = tmp.path().join("run.toml");
        std::fs::write(&config, text).unwrap();
        let cfg = RunConfig::load(&config).map_err(|e| format!("the fixed config failed: {e}"))?;
        let out = tmp.path().join("out");
        let result = train(&cfg, &RunOptions { out_dir: out.clone(), quiet: true, ..Default::default() });
        check_outputs(&out, result.map(|_| ()).map_err(|e| e.to_string()))
    }
}

/// A failed run leaves nothing complete-looking; a finished one leaves its files.
fn check_outputs(out: &Path, result: Result<(), String>) -> Result<(), String> {
    let done = ["metrics.jsonl", "model.safetensors"].map(|f| out.join(f).exists());
    match result {
        Ok(()) if done != [true, true] => Err(format!("the run succeeded but left {done:?} (metrics.jsonl, model.safetensors)")),
        Err(e) if done.contains(&true) => Err(format!("the run failed ({e}) but left a complete-looking file: {done:?}")),
        Err(e) => verdict(Err::<(), _>(e)).map(|_| ()),
        Ok(()) => Ok(()),
    }
}

// --------------------------------------------------------------------------- mutation

/// Bytes that mean something to one of the formats: separators, quotes, brackets, number
/// spellings TOML and CSV treat specially, invalid UTF-8.
const TOKENS: [&[u8]; 22] = [
    b"\n", b",", b"\"", b"=", b"[", b"]", b"{", b"}", b"nan", b"inf", b"-1", b"0", b"1e309", b"99999999999999999999",
    b"\xff", b"\0", b"\r\n", b"\t", b"::", "é".as_bytes(), b"[model]\n", b"\"\"\"",
];

/// Integers written over header fields (IDX dimensions, safetensors' header length, burnpack
/// offsets).
const EXTREMES: [u64; 7] = [0, 1, 0x7f, 0xff, 0x7fff_ffff, 0xffff_ffff, u64::MAX];

/// One mutation of `data` (`other`: another seed, for splices); returns its name.
fn mutate(data: &mut Vec<u8>, other: &[u8], rng: &mut Rng) -> &'static str {
    let pos = |rng: &mut Rng, len: usize| rng.below(len + 1);
    match rng.below(7) {
        0 if !data.is_empty() => {
            for _ in 0..=rng.below(8) {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            "bit flips"
        }
        1 => {
            data.truncate(pos(rng, data.len()));
            "truncation"
        }
        2 => {
            let (a, b) = (pos(rng, data.len()), pos(rng, other.len()));
            data.truncate(a);
            data.extend_from_slice(&other[b..]);
            "splice"
        }
        3 => {
            let at = pos(rng, data.len());
            let bytes: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, bytes);
            "random bytes inserted"
        }
        4 if !data.is_empty() => {
            let a = rng.below(data.len());
            let b = (a + 1 + rng.below(64)).min(data.len());
            let chunk = data[a..b].to_vec();
            let at = pos(rng, data.len());
            data.splice(at..at, chunk);
            "chunk duplicated"
        }
        5 => {
            let at = pos(rng, data.len());
            data.splice(at..at, TOKENS[rng.below(TOKENS.len())].iter().copied());
            "token inserted"
        }
        _ => {
            let v = EXTREMES[rng.below(EXTREMES.len())];
            let bytes = if rng.below(2) == 0 { v.to_le_bytes() } else { v.to_be_bytes() };
            let width = [1, 2, 4, 8][rng.below(4)];
            let at = rng.below(data.len().saturating_sub(width) + 1);
            let end = (at + width).min(data.len());
            data.splice(at..end, bytes[8 - width..].iter().copied());
            "extreme integer written"
        }
    }
}

/// Case `k`'s input for `t`: a seed with 1–4 mutations, and what was done.
fn make_case(t: &Target, rng: &mut Rng) -> (usize, Vec<u8>, String) {
    let s = rng.below(t.seeds.len());
    let other = &t.seeds[rng.below(t.seeds.len())].bytes;
    let mut data = t.seeds[s].bytes.clone();
    let limit = 2 * t.seeds.iter().map(|s| s.bytes.len()).max().unwrap_or(0) + 64;
    let mut done = Vec::new();
    for _ in 0..=rng.below(4) {
        done.push(mutate(&mut data, other, rng));
        data.truncate(limit);
    }
    (s, data, format!("{} ← {}", t.seeds[s].name, done.join(", ")))
}

// ----------------------------------------------------------------------------- driver

/// What the watchdog sees: the case in progress and when it began.
type Current = Arc<Mutex<Option<(String, Vec<u8>, Instant)>>>;

#[derive(Default)]
struct Stats {
    cases: u64,
    accepted: u64,
    end_to_end: u64,
    time: Duration,
    slowest: Duration,
}

struct Fuzz {
    current: Current,
    failures: Vec<String>,
}

impl Fuzz {
    /// Runs one input; a panic, an overlong case or a broken contract is recorded.
    fn case(&mut self, t: &Target, seed: usize, input: &[u8], e2e: bool, what: &str, stats: &mut Stats) -> Option<bool> {
        *self.current.lock().unwrap() = Some((format!("{}: {what}", t.name), input.to_vec(), Instant::now()));
        let timed = || {
            let t0 = Instant::now();
            (catch_unwind(AssertUnwindSafe(|| (t.run)(input, seed, e2e))), t0.elapsed())
        };
        let limit = if e2e { E2E_LIMIT } else { CASE_LIMIT };
        let (outcome, mut took) = timed();
        // A slow case is timed again: on a loaded machine one stall is not a hang, a case
        // that is slow twice is.
        if took > limit && matches!(outcome, Ok(Ok(_))) {
            took = took.min(timed().1);
        }
        *self.current.lock().unwrap() = None;
        stats.cases += 1;
        stats.end_to_end += u64::from(e2e);
        stats.time += took;
        stats.slowest = stats.slowest.max(took);
        let why = match outcome {
            Err(p) => Some(format!("panicked: {}", panic_text(&p))),
            Ok(Err(why)) => Some(why),
            Ok(Ok(_)) if took > limit => Some(format!("took {took:?} (limit {limit:?})")),
            Ok(Ok(accepted)) => {
                stats.accepted += u64::from(accepted);
                return Some(accepted);
            }
        };
        let saved = save_failure(t.name, self.failures.len(), input);
        self.failures.push(format!("{}: {what}: {} (input: {})", t.name, why.unwrap_or_default(), saved.display()));
        None
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()
}

fn save_failure(target: &str, n: usize, input: &[u8]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{target}-{n}.bin"));
    let _ = std::fs::write(&path, input);
    path
}

/// `tests/fuzz_corpus/<target>/<seed index>-<name>`: inputs that once broke a loader.
fn regressions(target: &str) -> Vec<(usize, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(root().join("tests/fuzz_corpus").join(target)) else { return Vec::new() };
    let mut out: Vec<(usize, PathBuf)> = entries
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().split('-').next().and_then(|n| n.parse().ok()).unwrap_or(0), p))
        .collect();
    out.sort();
    out
}

/// Seeds as they are (checking each one's expected verdict), the regression corpus, then
/// `cases` mutated inputs spread over the targets.
fn fuzz(cases: u64, seed: u64, current: Current) -> (Vec<String>, Vec<(&'static str, Stats)>) {
    let fixture = Arc::new(CheckpointFixture::new());
    let targets =
        [config_target(), csv_target(E2e), idx_target(), weights_target(E2e), ratings_target(), text_target(), checkpoint_target(fixture)];
    let mut f = Fuzz { current, failures: Vec::new() };
    let mut stats: Vec<Stats> = targets.iter().map(|_| Stats::default()).collect();
    for (t, st) in targets.iter().zip(&mut stats) {
        for (i, s) in t.seeds.iter().enumerate() {
            let got = f.case(t, i, &s.bytes, false, &format!("seed {}", s.name), st);
            if let (Some(want), Some(got)) = (s.expect, got) {
                if want != got {
                    f.failures.push(format!("{}: seed {} was {} (expected {})", t.name, s.name, verdict_name(got), verdict_name(want)));
                }
            }
        }
        for (i, p) in regressions(t.name) {
            f.case(t, i % t.seeds.len(), &std::fs::read(&p).unwrap(), true, &format!("regression {}", p.display()), st);
        }
    }
    let mut rng = Rng::new(seed);
    let t0 = Instant::now();
    for k in 0..cases {
        // Long runs say how far they got, in case they are stopped.
        if k > 0 && k % 50_000 == 0 {
            eprintln!("fuzz: {k} cases in {:.0?}, {} failures", t0.elapsed(), f.failures.len());
        }
        let i = (k % targets.len() as u64) as usize;
        let e2e = (k / targets.len() as u64) % E2E_EVERY == E2E_EVERY - 1;
        let (s, input, what) = make_case(&targets[i], &mut rng);
        f.case(&targets[i], s, &input, e2e, &format!("case {k} ({what})"), &mut stats[i]);
        if f.failures.len() >= 20 {
            break;
        }
    }
    (f.failures, targets.iter().map(|t| t.name).zip(stats).collect())
}

fn verdict_name(accepted: bool) -> &'static str {
    if accepted {
        "accepted"
    } else {
        "rejected"
    }
}

#[test]
fn mutated_inputs_never_panic_hang_or_leave_half_written_output() {
    let cases = env_u64("DESCENT_FUZZ_CASES", DEFAULT_CASES);
    let seed = env_u64("DESCENT_FUZZ_SEED", DEFAULT_SEED);
    let current: Current = Arc::new(Mutex::new(None));
    let (tx, rx) = mpsc::channel();
    let watched = current.clone();
    let t0 = Instant::now();
    std::thread::Builder::new()
        .name("fuzz".into())
        .spawn(move || {
            let _ = tx.send(fuzz(cases, seed, watched));
        })
        .unwrap();
    // The fuzzing runs on its own thread so that a case stuck in a loop is reported here.
    let (failures, stats) = loop {
        match rx.recv_timeout(Duration::from_millis(250)) {
            Ok(done) => break done,
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!("the fuzz thread died outside a case"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some((what, input, since)) = current.lock().unwrap().as_ref() {
                    if since.elapsed() > WATCHDOG {
                        let saved = save_failure("hang", 0, input);
                        panic!("{what}: still running after {WATCHDOG:?} (input: {})", saved.display());
                    }
                }
            }
        }
    };
    let total = t0.elapsed();
    eprintln!("fuzz: {cases} mutated cases from seed {seed} in {total:.1?}");
    eprintln!("{:<12} {:>9} {:>9} {:>6} {:>10} {:>10}", "target", "cases", "accepted", "e2e", "time", "slowest");
    for (name, s) in &stats {
        eprintln!("{name:<12} {:>9} {:>9} {:>6} {:>10.2?} {:>10.2?}", s.cases, s.accepted, s.end_to_end, s.time, s.slowest);
    }
    assert!(failures.is_empty(), "{} fuzz failures:\n{}", failures.len(), failures.join("\n"));
    let ran: u64 = stats.iter().map(|(_, s)| s.cases).sum();
    assert!(ran >= cases, "ran {ran} of {cases} cases");
    // Each loader saw both sides: inputs it accepted and inputs it rejected.
    for (name, s) in &stats {
        assert!(s.accepted > 0 && s.accepted < s.cases, "{name}: {} of {} accepted", s.accepted, s.cases);
    }
}
