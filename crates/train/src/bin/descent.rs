//! `descent` — thin over descent-train: parse arguments, run, report errors on one line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use descent_train::config::DeviceChoice;
use descent_train::trainer::default_out_dir;
use descent_train::{train, RunConfig, RunOptions};

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
        /// Run folder for metrics.jsonl and model.safetensors [default: runs/<config name>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// cpu (Burn's flex backend), ndarray or wgpu; overrides the config's `device`.
        #[arg(long)]
        device: Option<DeviceChoice>,
        /// No progress output on stderr.
        #[arg(long)]
        quiet: bool,
        /// Continue an interrupted run from its newest checkpoint (the run folder).
        #[arg(long, value_name = "RUN_DIR", conflicts_with = "out")]
        resume: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Train { config, out, device, quiet, resume } => {
            let cfg = RunConfig::load(&config)?;
            let out_dir = resume.clone().or(out).unwrap_or_else(|| default_out_dir(&config));
            let opts = RunOptions { out_dir, device, quiet, resume: resume.is_some() };
            let summary = train(&cfg, &opts)?;
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
    }
}
