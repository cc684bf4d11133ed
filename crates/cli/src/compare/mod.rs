//! `descent compare`: run several configs for several seeds, in this process, and put the
//! results side by side — `DIR/report.md` (one table row per config) and `DIR/loss.svg`
//! (the per-epoch train loss, mean over seeds with a min–max band, one curve per config).
//!
//! Every number in the report is read back from the runs' `metrics.jsonl` (the same file a
//! user would look at), so it is exactly what the run folders say. Run `k` of a config uses
//! `seed = config.seed + k` and writes `DIR/runs/<config file stem>/seed-<k>/`.
//!
//! All configs share one process, and Burn fixes a device's float dtype once per process,
//! so they must all use the same `dtype` (checked before the first run).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod report;

use descent_train::config::DeviceChoice;
use descent_train::{train, RunConfig, RunOptions, TrainError};

use crate::plot::{format_sig, line_chart_svg, plot_run, read_metrics, ChartSpec, EpochPoint};
pub use report::format_secs;
use report::{dtype_name, mean_curve, plural, render_markdown};

/// How to compare.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Output folder: `report.md`, `loss.svg` and `runs/`.
    pub out_dir: PathBuf,
    /// Runs per config (≥ 1): seeds `config.seed + 0 ..= config.seed + seeds − 1`.
    pub seeds: usize,
    /// The train loss to reach; default 1.1 × the best (lowest) mean final train loss.
    pub target_loss: Option<f64>,
    /// Overrides every config's `device`.
    pub device: Option<DeviceChoice>,
    /// Log-scale y axis in `loss.svg`.
    pub log_y: bool,
    /// No progress line per run on stderr.
    pub quiet: bool,
}

impl CompareOptions {
    pub fn new(out_dir: impl Into<PathBuf>) -> Self {
        Self { out_dir: out_dir.into(), seeds: 1, target_loss: None, device: None, log_y: false, quiet: true }
    }
}

/// Mean and sample standard deviation (n − 1 in the denominator; 0 for one value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeanStd {
    pub mean: f64,
    pub std: f64,
    pub n: usize,
}

impl MeanStd {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Self { mean, std, n })
    }
}

impl std::fmt::Display for MeanStd {
    /// `0.04503 ± 1.234e-4` (4 significant digits, see [`format_sig`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ± {}", format_sig(self.mean, 4), format_sig(self.std, 4))
    }
}

/// One run (config × seed).
#[derive(Debug, Clone)]
pub struct SeedRun {
    pub seed: u64,
    pub dir: PathBuf,
    /// Wall time around `train()`: loading, training and writing the run folder.
    pub wall: Duration,
    pub total_steps: u64,
    pub epochs: Vec<EpochPoint>,
    /// The last epoch's `train_loss` (NaN if not finite).
    pub final_train_loss: f64,
    pub final_valid_loss: Option<f64>,
    /// The last epoch's `avg_valid_loss` (`[averaging]` runs).
    pub final_avg_valid_loss: Option<f64>,
    /// The last step of the first epoch whose `train_loss` ≤ the target.
    pub steps_to_target: Option<u64>,
}

impl SeedRun {
    pub fn secs_per_step(&self) -> f64 {
        self.wall.as_secs_f64() / self.total_steps.max(1) as f64
    }
}

/// One config's row of the report.
#[derive(Debug, Clone)]
pub struct ConfigSummary {
    /// The config file's stem.
    pub name: String,
    pub config: PathBuf,
    pub runs: Vec<SeedRun>,
    pub final_train_loss: MeanStd,
    /// Over the seeds whose last epoch has a `valid_loss`; `None` when none has.
    pub final_valid_loss: Option<MeanStd>,
    /// The weight average's, over the seeds that have one (`[averaging]`).
    pub final_avg_valid_loss: Option<MeanStd>,
    /// Mean over the seeds that reached the target.
    pub steps_to_target: Option<f64>,
    pub seeds_reached: usize,
    /// Mean over the seeds that reached the target of steps_to_target × wall time per step.
    pub secs_to_target: Option<f64>,
    /// Mean over seeds of wall time / steps, in µs.
    pub us_per_step: f64,
    /// Mean over seeds (the same for every seed unless the data changes).
    pub total_steps: f64,
}

/// What [`compare`] measured and wrote.
#[derive(Debug, Clone)]
pub struct CompareReport {
    pub rows: Vec<ConfigSummary>,
    pub seeds: usize,
    pub target_loss: f64,
    /// Whether `target_loss` is the default (1.1 × the best mean final train loss).
    pub target_is_default: bool,
    pub report_path: PathBuf,
    pub svg_path: PathBuf,
}

fn config_err(path: &Path, msg: impl Into<String>) -> TrainError {
    TrainError::Config { path: path.to_path_buf(), msg: msg.into() }
}

/// Runs every config for `opts.seeds` seeds and writes `report.md` and `loss.svg` into
/// `opts.out_dir`. The first failing run aborts, with its config file in the message.
pub fn compare(configs: &[PathBuf], opts: &CompareOptions) -> Result<CompareReport, TrainError> {
    check_options(configs, opts)?;
    let loaded = load_all(configs)?;
    let mut per_config = Vec::with_capacity(loaded.len());
    for (name, path, cfg) in &loaded {
        let runs = (0..opts.seeds).map(|k| run_seed(name, path, cfg, k, opts)).collect::<Result<Vec<_>, _>>()?;
        per_config.push((name.clone(), path.clone(), runs));
    }
    let (report, best) = summarize(per_config, opts);
    write_outputs(&report, opts, best.as_deref())?;
    Ok(report)
}

fn check_options(configs: &[PathBuf], opts: &CompareOptions) -> Result<(), TrainError> {
    let out = &opts.out_dir;
    if configs.is_empty() {
        return Err(TrainError::Output { path: out.clone(), msg: "no configs to compare".into() });
    }
    if opts.seeds == 0 {
        return Err(TrainError::Output { path: out.clone(), msg: "--seeds must be at least 1".into() });
    }
    if let Some(t) = opts.target_loss {
        if !t.is_finite() {
            return Err(TrainError::Output {
                path: out.clone(),
                msg: format!("--target-loss must be a finite number, got {t}"),
            });
        }
    }
    Ok(())
}

/// Loads and checks every config before the first run: unique names (the run folders), one dtype.
fn load_all(configs: &[PathBuf]) -> Result<Vec<(String, PathBuf, RunConfig)>, TrainError> {
    let mut loaded: Vec<(String, PathBuf, RunConfig)> = Vec::new();
    for path in configs {
        let cfg = RunConfig::load(path)?;
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "config".into());
        if let Some((_, other, _)) = loaded.iter().find(|(n, _, _)| *n == name) {
            return Err(config_err(
                path,
                format!(
                    "has the same name `{name}` as {}; the runs would share a folder — rename one",
                    other.display()
                ),
            ));
        }
        loaded.push((name, path.clone(), cfg));
    }
    let (_, first_path, first) = &loaded[0];
    if let Some((_, path, cfg)) = loaded.iter().find(|(_, _, c)| c.dtype != first.dtype) {
        return Err(config_err(
            path,
            format!(
                "dtype = \"{}\" but {} has dtype = \"{}\"; compare runs every config in one process, where Burn fixes one float dtype, so use the same dtype in all",
                dtype_name(cfg.dtype),
                first_path.display(),
                dtype_name(first.dtype)
            ),
        ));
    }
    Ok(loaded)
}

/// Run `k` of a config (seed = config seed + k), read back from its `metrics.jsonl`.
fn run_seed(name: &str, path: &Path, cfg: &RunConfig, k: usize, opts: &CompareOptions) -> Result<SeedRun, TrainError> {
    let mut cfg = cfg.clone();
    cfg.seed = cfg.seed.wrapping_add(k as u64);
    let dir = opts.out_dir.join("runs").join(name).join(format!("seed-{k}"));
    let started = Instant::now();
    // The compare folder is regenerated as a whole: each seed's run replaces the last one's.
    train(&cfg, &RunOptions { out_dir: dir.clone(), device: opts.device, quiet: true, resume: false, overwrite: true })
        .map_err(|e| config_err(path, format!("seed {} (run {}/{}): {e}", cfg.seed, k + 1, opts.seeds)))?;
    plot_run(&dir, false)?;
    let wall = started.elapsed();
    let log = read_metrics(&dir.join("metrics.jsonl"))?;
    let total_steps =
        if log.steps.is_empty() { log.epochs.last().map_or(0, |e| e.end_step) } else { log.steps.len() as u64 };
    let last = log.epochs.last();
    if !opts.quiet {
        eprintln!(
            "compare: {name} seed {} ({}/{}): {total_steps} steps in {}, final train loss {}",
            cfg.seed,
            k + 1,
            opts.seeds,
            format_secs(wall.as_secs_f64()),
            last.and_then(|e| e.train_loss).map_or("—".into(), |v| format_sig(v, 4)),
        );
    }
    Ok(SeedRun {
        seed: cfg.seed,
        dir,
        wall,
        total_steps,
        final_train_loss: last.and_then(|e| e.train_loss).unwrap_or(f64::NAN),
        final_valid_loss: last.and_then(|e| e.valid_loss),
        final_avg_valid_loss: last.and_then(|e| e.avg_valid_loss),
        epochs: log.epochs,
        steps_to_target: None,
    })
}

/// The target loss (given, or 1.1 × the best mean final loss) and one row per config; returns
/// the name of the config with the best mean final loss too.
fn summarize(per_config: Vec<(String, PathBuf, Vec<SeedRun>)>, opts: &CompareOptions) -> (CompareReport, Option<String>) {
    let finals: Vec<Option<MeanStd>> = per_config
        .iter()
        .map(|(_, _, runs)| {
            MeanStd::of(&runs.iter().map(|r| r.final_train_loss).filter(|v| v.is_finite()).collect::<Vec<_>>())
        })
        .collect();
    let best = finals
        .iter()
        .zip(&per_config)
        .filter_map(|(m, (name, _, _))| m.map(|m| (m.mean, name.clone())))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    let (target_loss, target_is_default) = match opts.target_loss {
        Some(t) => (t, false),
        None => (best.as_ref().map_or(f64::NAN, |(b, _)| 1.1 * b), true),
    };
    let rows = per_config
        .into_iter()
        .zip(finals)
        .map(|((name, config, runs), final_train)| row(name, config, runs, final_train, target_loss))
        .collect();
    let out = &opts.out_dir;
    let report = CompareReport {
        rows,
        seeds: opts.seeds,
        target_loss,
        target_is_default,
        report_path: out.join("report.md"),
        svg_path: out.join("loss.svg"),
    };
    (report, best.map(|(_, n)| n))
}

fn row(name: String, config: PathBuf, mut runs: Vec<SeedRun>, final_train: Option<MeanStd>, target_loss: f64) -> ConfigSummary {
    for r in &mut runs {
        r.steps_to_target = r.epochs.iter().find(|e| e.train_loss.is_some_and(|l| l <= target_loss)).map(|e| e.end_step);
    }
    let reached: Vec<(&SeedRun, u64)> = runs.iter().filter_map(|r| r.steps_to_target.map(|s| (r, s))).collect();
    let mean = |v: Vec<f64>| if v.is_empty() { None } else { Some(v.iter().sum::<f64>() / v.len() as f64) };
    let steps_to_target = mean(reached.iter().map(|&(_, s)| s as f64).collect());
    let secs_to_target = mean(reached.iter().map(|&(r, s)| s as f64 * r.secs_per_step()).collect());
    let valid: Vec<f64> = runs.iter().filter_map(|r| r.final_valid_loss).collect();
    ConfigSummary {
        final_train_loss: final_train.unwrap_or(MeanStd { mean: f64::NAN, std: f64::NAN, n: 0 }),
        final_valid_loss: MeanStd::of(&valid),
        final_avg_valid_loss: MeanStd::of(&runs.iter().filter_map(|r| r.final_avg_valid_loss).collect::<Vec<_>>()),
        steps_to_target,
        seeds_reached: reached.len(),
        secs_to_target,
        us_per_step: mean(runs.iter().map(|r| r.secs_per_step() * 1e6).collect()).unwrap_or(f64::NAN),
        total_steps: mean(runs.iter().map(|r| r.total_steps as f64).collect()).unwrap_or(0.0),
        name,
        config,
        runs,
    }
}

/// `DIR/report.md` and `DIR/loss.svg`.
fn write_outputs(report: &CompareReport, opts: &CompareOptions, best: Option<&str>) -> Result<(), TrainError> {
    let markdown = render_markdown(report, opts, best);
    let svg = line_chart_svg(
        &ChartSpec {
            title: format!(
                "Train loss (epoch mean) — mean over {} seed{}, min–max band",
                opts.seeds,
                plural(opts.seeds)
            ),
            x_label: "epoch".into(),
            y_label: if opts.log_y { "train loss (log scale)".into() } else { "train loss".into() },
            log_y: opts.log_y,
        },
        &report.rows.iter().map(mean_curve).collect::<Vec<_>>(),
    )?;
    for (path, text) in [(&report.report_path, &markdown), (&report.svg_path, &svg)] {
        std::fs::write(path, text)
            .map_err(|e| TrainError::Output { path: path.clone(), msg: format!("cannot write: {e}") })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_std() {
        let m = MeanStd::of(&[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((m.mean, m.std, m.n), (2.0, 1.0, 3));
        assert_eq!(MeanStd::of(&[5.0]).unwrap().std, 0.0);
        assert!(MeanStd::of(&[]).is_none());
        assert_eq!(MeanStd { mean: 0.045031, std: 0.00012344, n: 2 }.to_string(), "0.04503 ± 1.234e-4");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(format_secs(850e-6), "850 µs");
        assert_eq!(format_secs(0.0123), "12.3 ms");
        assert_eq!(format_secs(4.214), "4.21 s");
    }
}
