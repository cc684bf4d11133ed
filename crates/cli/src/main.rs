//! `descent` — thin over the libraries: parse arguments, run, report errors on one line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use descent_cli::compare::{compare, CompareOptions};
use descent_cli::plot::{plot_overlay, plot_run};
use descent_cli::resume::{self, ResumeArg};
use descent_cli::schedule::{self, load_plan, schedule_rows};
use descent_train::config::DeviceChoice;
use descent_train::lr_find::{lr_find, LrFindOptions};
use descent_train::run_dir::next_free_out_dir;
use descent_train::trainer::default_out_dir;
use descent_train::{train, RunConfig, RunOptions, TrainError};

#[derive(Parser)]
#[command(name = "descent", version, about = "Gradient descent, PyTorch-exact, on Burn")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model from a TOML run config.
    Train {
        /// The run config (TOML).
        #[arg(long)]
        config: PathBuf,
        /// Run folder for metrics.jsonl and model.safetensors [default: runs/<config name>,
        /// or the first free runs/<config name>-2, -3, … when that holds a run].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace a run already in the --out folder (without it, such a folder is refused).
        #[arg(long, conflicts_with = "resume")]
        overwrite: bool,
        /// cpu (Burn's flex backend), ndarray or wgpu; overrides the config's `device`.
        #[arg(long)]
        device: Option<DeviceChoice>,
        /// No progress output on stderr.
        #[arg(long)]
        quiet: bool,
        /// Continue an interrupted run from its newest intact checkpoint: RUN_DIR, or `auto`
        /// (the --out folder, default runs/<config name>, if it holds a run; else start fresh).
        #[arg(long, value_name = "RUN_DIR|auto")]
        resume: Option<ResumeArg>,
    },
    /// Redraw a run's loss.svg and lr.svg, or overlay the train loss of several runs.
    Plot {
        /// Run folders (each with a metrics.jsonl). One: redraws RUN/loss.svg and RUN/lr.svg;
        /// several (or --out): one train-loss curve per run in a single SVG.
        #[arg(required = true, value_name = "RUN_DIR")]
        runs: Vec<PathBuf>,
        /// Log-scale loss axis (a loss ≤ 0 is then an error naming the step).
        #[arg(long)]
        log_y: bool,
        /// Overlay file [default: overlay.svg when several runs are given].
        #[arg(long, value_name = "FILE.svg")]
        out: Option<PathBuf>,
    },
    /// Print the lr (and momentum) each optimizer step would use under a config's [scheduler].
    Schedule {
        /// A run config, or a file with just [optimizer] and [scheduler].
        #[arg(long)]
        config: PathBuf,
        /// Optimizer steps to show.
        #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
        steps: u64,
        /// Optimizer steps per epoch, for interval = "epoch" [default: from the run config's data].
        #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
        steps_per_epoch: Option<u64>,
        /// csv (step,epoch,lr[,momentum]) or json (one object per line).
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
        /// Also draw the schedule into this SVG file.
        #[arg(long, value_name = "FILE.svg")]
        plot: Option<PathBuf>,
    },
    /// LR range test: train while the lr grows exponentially, suggest an lr, write lr-find.svg.
    LrFind {
        /// The run config (TOML); its epochs and [scheduler] are ignored.
        #[arg(long)]
        config: PathBuf,
        /// Folder for lr-find.svg and lr-find.csv [default: runs/<config name>-lr-find].
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = 1e-7)]
        start_lr: f64,
        #[arg(long, default_value_t = 10.0)]
        end_lr: f64,
        /// Optimizer steps (the lr grows by (end_lr/start_lr)^(1/(steps−1)) each step).
        #[arg(long, default_value_t = 100)]
        steps: usize,
        /// Stop once the smoothed loss exceeds this multiple of its best value.
        #[arg(long, default_value_t = 5.0)]
        diverge_factor: f64,
        /// cpu, ndarray or wgpu; overrides the config's `device`.
        #[arg(long)]
        device: Option<DeviceChoice>,
    },
    /// Run configs for several seeds each and write DIR/report.md and DIR/loss.svg.
    Compare {
        /// Run configs (TOML); all must use the same dtype.
        #[arg(required = true, value_name = "CONFIG")]
        configs: Vec<PathBuf>,
        /// Runs per config; run k uses seed = config seed + k.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
        seeds: u64,
        /// Train loss to reach [default: 1.1 × the best final train loss].
        #[arg(long, value_name = "X")]
        target_loss: Option<f64>,
        /// Output folder: report.md, loss.svg and runs/<config>/seed-<k>/.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// cpu, ndarray or wgpu; overrides every config's `device`.
        #[arg(long)]
        device: Option<DeviceChoice>,
        /// Log-scale loss axis in loss.svg.
        #[arg(long)]
        log_y: bool,
        /// No progress line per run on stderr.
        #[arg(long)]
        quiet: bool,
    },
    /// Measure optimizer-step and training throughput (vs Burn's optimizers and the memory floor).
    Bench {
        /// cpu, ndarray or wgpu [default: all three; wgpu skipped when no adapter exists].
        #[arg(long)]
        device: Option<DeviceChoice>,
        /// One JSON object per line instead of a table.
        #[arg(long)]
        json: bool,
        /// A reduced set (1M-parameter steps, three training cases, short timings; with
        /// --apps: one epoch each).
        #[arg(long)]
        quick: bool,
        /// Only the cases whose id contains this, e.g. `train_seed_mlp/stochastic/1` (with
        /// --apps: app names, comma-separated, e.g. `mnist` or `digits,recommender`).
        #[arg(long, value_name = "SUBSTR")]
        filter: Option<String>,
        /// Time the four example applications end to end instead (setup and each epoch;
        /// device cpu unless --device); bench/apps.sh sets them against their PyTorch twins.
        #[arg(long)]
        apps: bool,
        /// With --apps: epochs per app instead of each config's own.
        #[arg(long, requires = "apps", value_parser = clap::value_parser!(u64).range(1..))]
        epochs: Option<u64>,
        /// With --apps: the folder with the apps' configs [default: examples/configs].
        #[arg(long, requires = "apps", value_name = "DIR")]
        configs: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    // Before any tensor exists, so that every tensor buffer is reused rather than unmapped.
    descent_train::alloc::keep_freed_memory();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version print as clap prints them.
        Err(e) if !e.use_stderr() => e.exit(),
        // Usage errors: one line, like every other error.
        Err(e) => {
            eprintln!("{}; see `descent --help`", one_line(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    // On a rayon worker: flex's parallel operations then need no hand-off from the main thread.
    match descent_train::pool::on_compute_pool(|| run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train { config, out, device, quiet, resume, overwrite } => {
            let cfg = RunConfig::load(&config)?;
            let (out_dir, resume) = resume::plan(&config, out, resume, || fresh_out_dir(&config, quiet)).map_err(anyhow::Error::msg)?;
            let opts = RunOptions { out_dir, device, quiet, resume, overwrite };
            descent_train::preempt::install();
            let summary = match train(&cfg, &opts) {
                Ok(s) => s,
                Err(e) => return train_failed(e, &config, &opts),
            };
            plot_run(&opts.out_dir, false)?;
            let last = summary.steps.last().map(|s| s.loss).unwrap_or(f64::NAN);
            println!(
                "trained {} steps; final epoch loss {:.6e} (last batch {:.6e}); metrics: {}",
                summary.steps.len(),
                summary.final_epoch_loss(),
                last,
                summary.metrics_path.display()
            );
            if let Some(e) = summary.stopped_early {
                println!("stopped early after epoch {e}: no improvement for [early_stopping] patience epochs");
            }
            Ok(())
        }
        Command::Schedule { config, steps, steps_per_epoch, format, plot } => {
            let plan = load_plan(&config)?;
            let rows = schedule_rows(&plan, steps as usize, steps_per_epoch.map(|k| k as usize))?;
            if let Some(out) = &plot {
                let title = config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                schedule::plot(&rows, &title, out)?;
            }
            let text = if format == "json" { schedule::to_jsonl(&rows) } else { schedule::to_csv(&rows) };
            print!("{text}");
            if plan.scheduler.schedule.needs_metric() {
                eprintln!("note: plateau moves only on a metric (the epoch's loss), so it stays at its initial lr here");
            }
            if let Some(out) = plot {
                eprintln!("wrote {}", out.display());
            }
            Ok(())
        }
        Command::LrFind { config, out, start_lr, end_lr, steps, diverge_factor, device } => {
            let cfg = RunConfig::load(&config)?;
            let out_dir = out.unwrap_or_else(|| {
                let mut d = default_out_dir(&config).into_os_string();
                d.push("-lr-find");
                PathBuf::from(d)
            });
            let opts = LrFindOptions { start_lr, end_lr, steps, diverge_factor, device };
            let r = lr_find(&cfg, &opts)?;
            let (svg_path, csv_path) = descent_cli::lr_find::write_outputs(&r, &out_dir)?;
            if let Some(at) = r.diverged_at {
                println!("stopped at step {at} of {steps}: the loss diverged (lr {:.3e})", r.points.last().map(|p| p.0).unwrap_or(f64::NAN));
            }
            println!("minimum smoothed loss at lr {:.3e}", r.min_loss_lr);
            match r.suggested_lr {
                Some(lr) => println!("suggested lr: {lr:.3e} (steepest fall of the loss)"),
                None => println!("no suggestion: the loss never fell; try a smaller --start-lr"),
            }
            println!("wrote {} and {}", svg_path.display(), csv_path.display());
            Ok(())
        }
        Command::Plot { runs, log_y, out } => {
            if runs.len() == 1 && out.is_none() {
                for path in plot_run(&runs[0], log_y)? {
                    println!("wrote {}", path.display());
                }
            } else {
                let out = out.unwrap_or_else(|| PathBuf::from("overlay.svg"));
                plot_overlay(&runs, &out, log_y)?;
                println!("wrote {}", out.display());
            }
            Ok(())
        }
        Command::Compare { configs, seeds, target_loss, out, device, log_y, quiet } => {
            let opts = CompareOptions { out_dir: out, seeds: seeds as usize, target_loss, device, log_y, quiet };
            let report = compare(&configs, &opts)?;
            println!("wrote {} and {}", report.report_path.display(), report.svg_path.display());
            Ok(())
        }
        Command::Bench { device, json, quick, filter, apps: true, epochs, configs } => {
            use descent_cli::bench::apps::{self, AppsOptions};
            let configs = configs.unwrap_or_else(apps::default_configs_dir);
            // --quick: one epoch each, enough to see every app run.
            let epochs = epochs.map(|e| e as usize).or(quick.then_some(1));
            let opts = AppsOptions { configs, epochs, device: device.unwrap_or(DeviceChoice::Cpu), filter };
            apps::run_cli(&opts, json)
        }
        Command::Bench { device, json, quick, filter, .. } => descent_cli::bench::run_cli(device, json, quick, filter),
    }
}

/// A run that did not finish: an interruption prints the command that resumes it and exits
/// 143 (SIGTERM) or 130 (SIGINT); a resume of a finished run says so and exits 0; a write
/// error says whether the newest checkpoint is there to resume from.
fn train_failed(e: TrainError, config: &std::path::Path, opts: &RunOptions) -> anyhow::Result<()> {
    let again = resume::command(config, &opts.out_dir, opts.device, opts.quiet);
    match &e {
        TrainError::Interrupted { .. } => {
            eprintln!("{e}");
            eprintln!("to resume: {again}");
            std::process::exit(e.exit_code().into());
        }
        TrainError::AlreadyComplete(_) => {
            eprintln!("{e}");
            Ok(())
        }
        TrainError::Output { msg, .. } if ["cannot write", "cannot create", "cannot sync"].iter().any(|w| msg.starts_with(w)) => {
            match descent_train::checkpoint::latest(&opts.out_dir) {
                Ok(Some((dir, _))) => Err(anyhow::anyhow!("{e}; the newest checkpoint {} is intact, resume with: {again}", dir.display())),
                _ => Err(e.into()),
            }
        }
        _ => Err(e.into()),
    }
}

/// A fresh run's default folder, said on stderr (unless `quiet`) when it is not the usual one.
fn fresh_out_dir(config: &std::path::Path, quiet: bool) -> PathBuf {
    let dir = next_free_out_dir(config);
    let usual = default_out_dir(config);
    if dir != usual && !quiet {
        eprintln!("{} holds an earlier run; writing this one to {}", usual.display(), dir.display());
    }
    dir
}

/// clap's message up to its usage block, on one line.
fn one_line(text: &str) -> String {
    let mut parts = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        parts.push(line);
    }
    parts.join(" ")
}
