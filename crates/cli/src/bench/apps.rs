//! `descent bench --apps`: the four example applications (`digits-cnn`, `mnist-cnn`,
//! `text-char`, `recommender-mf`) end to end, through [`descent_train::train`] in this process
//! (quiet, into a temporary run folder that is removed afterwards), with the wall time split
//! the way the PyTorch twins in `bench/apps/` split theirs:
//!
//! - `setup_s`: config read, data loaded and split, device, seeded model, optimizer, run folder;
//! - `epoch_s`: each epoch (its optimizer steps, each step's loss read and recorded, the
//!   validation pass); `median_epoch_s` is their median, `train_s` their sum;
//! - `total_s = setup_s + train_s + writing the finished run's files`;
//! - `since_t0_s`: seconds from the Unix time in the environment variable `BENCH_T0` (set by
//!   `bench/apps.sh` just before it starts the process) to the end of the run, so process
//!   start is counted too; omitted when `BENCH_T0` is unset.
//!
//! `threads` is the size of rayon's global pool, which Burn's CPU backend computes on
//! (`RAYON_NUM_THREADS` sets it).

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use descent_train::config::DeviceChoice;
use descent_train::{train, RunConfig, RunOptions};

/// The applications, in the order they run.
pub const APPS: [&str; 4] = ["digits-cnn", "mnist-cnn", "text-char", "recommender-mf"];

/// What `descent bench --apps` runs.
#[derive(Debug, Clone)]
pub struct AppsOptions {
    /// The folder holding `<app>.toml` for each of [`APPS`].
    pub configs: PathBuf,
    /// Overrides each config's `epochs` (its schedule keeps its own length, so every epoch
    /// does the same work as in the full run).
    pub epochs: Option<usize>,
    pub device: DeviceChoice,
    /// Only the apps whose name contains one of these comma-separated parts.
    pub filter: Option<String>,
}

/// One application's run.
#[derive(Debug, Clone, Serialize)]
pub struct AppLine {
    pub name: &'static str,
    pub app: String,
    pub device: String,
    pub threads: usize,
    pub epochs: usize,
    pub steps: usize,
    pub setup_s: f64,
    pub epoch_s: Vec<f64>,
    pub median_epoch_s: f64,
    pub train_s: f64,
    pub total_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since_t0_s: Option<f64>,
    pub final_train_loss: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub final_valid_loss: Option<f64>,
}

pub const APPS_HEADER: &str =
    "app              device threads epochs  setup s  s/epoch (median)  train s  total s  train loss  valid loss";

impl AppLine {
    pub fn table_row(&self) -> String {
        let valid = self.final_valid_loss.map(|v| format!("{v:.4}")).unwrap_or_else(|| "-".into());
        format!(
            "{:<16} {:<6} {:>7} {:>6} {:>8.3} {:>17.3} {:>8.3} {:>8.3} {:>11.4} {:>11}",
            self.app,
            self.device,
            self.threads,
            self.epochs,
            self.setup_s,
            self.median_epoch_s,
            self.train_s,
            self.total_s,
            self.final_train_loss,
            valid
        )
    }
}

/// The repository's `examples/configs`: from the working directory when it has one, else
/// where this crate was built from.
pub fn default_configs_dir() -> PathBuf {
    let here = PathBuf::from("examples/configs");
    if here.join("mnist-cnn.toml").is_file() {
        return here;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/configs")
}

/// Runs every selected app, handing each line to `emit` as soon as it is measured.
pub fn run_apps(opts: &AppsOptions, mut emit: impl FnMut(&AppLine)) -> anyhow::Result<Vec<AppLine>> {
    let mut out = Vec::new();
    for app in APPS {
        if opts.filter.as_deref().is_some_and(|f| !f.split(',').any(|part| app.contains(part.trim()))) {
            continue;
        }
        let line = run_app(app, opts)?;
        emit(&line);
        out.push(line);
    }
    if out.is_empty() {
        anyhow::bail!("--filter {:?} matches none of the apps {APPS:?}", opts.filter.as_deref().unwrap_or(""));
    }
    Ok(out)
}

fn run_app(app: &str, opts: &AppsOptions) -> anyhow::Result<AppLine> {
    let start = Instant::now();
    let mut cfg = RunConfig::load(&opts.configs.join(format!("{app}.toml")))?;
    if let Some(e) = opts.epochs {
        cfg.epochs = e;
    }
    let load_s = start.elapsed().as_secs_f64();
    let dir = std::env::temp_dir().join(format!("descent-bench-apps-{}-{app}", std::process::id()));
    let run_opts = RunOptions { out_dir: dir.clone(), device: Some(opts.device), quiet: true, resume: false, ..Default::default() };
    let result = train(&cfg, &run_opts);
    let total_s = start.elapsed().as_secs_f64();
    let since_t0_s = since_t0();
    let _ = std::fs::remove_dir_all(&dir);
    let run = result?;
    let t = &run.timings;
    let last = run.epochs.last();
    Ok(AppLine {
        name: "app",
        app: app.to_string(),
        device: opts.device.to_string(),
        threads: rayon::current_num_threads(),
        epochs: t.epoch_s.len(),
        steps: run.steps.len(),
        setup_s: load_s + t.setup_s,
        epoch_s: t.epoch_s.clone(),
        median_epoch_s: median(&t.epoch_s),
        train_s: t.epoch_s.iter().sum(),
        total_s,
        since_t0_s,
        final_train_loss: run.final_epoch_loss(),
        final_valid_loss: last.and_then(|e| e.valid_loss),
    })
}

/// Seconds since the Unix time in `BENCH_T0`, when set and readable.
fn since_t0() -> Option<f64> {
    let t0: f64 = std::env::var("BENCH_T0").ok()?.trim().parse().ok()?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    Some(now - t0)
}

/// The median (the mean of the middle two for an even count); NaN for none.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `descent bench --apps`: a table, or JSON lines with `json`.
pub fn run_cli(opts: &AppsOptions, json: bool) -> anyhow::Result<()> {
    if !json {
        println!("{APPS_HEADER}");
    }
    run_apps(opts, |line| {
        if json {
            match serde_json::to_string(line) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("error: cannot encode a result: {e}"),
            }
        } else {
            println!("{}", line.table_row());
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
