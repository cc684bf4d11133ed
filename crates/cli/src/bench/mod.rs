//! `descent bench`: optimizer-step and training throughput, side by side with Burn's built-in
//! optimizers and with the memory floor.
//!
//! - Optimizer steps (`sgd_step`, `sgd_momentum_step`, `sgd_nesterov_wd_step`, `adam_step`):
//!   one `ModuleOptimizer::step` over a module of `tensors` f32 parameters totalling `params`,
//!   median over several steps, with fresh gradients each step (made outside the timing).
//!   `burn_median_s` is Burn 0.22.1's own `SgdConfig` / `AdamConfig` set to the same math on
//!   the same device. `floor_s` = bytes the update must move ÷ the copy bandwidth this process
//!   measures just before (copying one 256 MB buffer into another, on one thread and split
//!   over rayon's pool, the faster of the two, best of several, counting read + write): plain
//!   SGD 12 B/param (read θ, g; write θ), momentum 20 (+ read and write b), Adam 28 (read θ, g,
//!   m, v; write θ, m, v).
//! - Training (`train_seed_mlp`: 10 → 5 → 1, MSE; `train_mlp784`: 784 → 256 → 256 → 10,
//!   cross-entropy), synthetic data of 1024 rows: forward + loss + reading the loss +
//!   backward + descent's momentum SGD step, per batch, with the time split into those phases.
//!   Batch 1 draws one random row per step (the trainer's `stochastic` mode), 32 and 128 are
//!   contiguous mini-batches, 1024 is the whole set (full-batch GD).
//! - `peak_rss_mb`: the process's peak resident memory (VmHWM) during the case, reset before
//!   each case through `/proc/self/clear_refs` after trimming the heap (Linux; absent elsewhere).
//!
//! [`OptimCase`] and [`TrainCase`] are the timed pieces; the criterion benches in
//! `crates/cli/benches/` drive the same ones.

use std::time::Instant;

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use descent_model::{Activation, MlpConfig};
use serde::Serialize;

use descent_train::batching::Mode;
use descent_train::config::{DType, DeviceChoice};
use descent_train::device::make_device;
use descent_train::loss::{data_loss, Targets};
use descent_train::rng::Rng;
use descent_train::TrainError;

pub mod apps;
mod floor;
mod machine;
mod optim;
mod train;

pub use floor::{copy_bandwidth, CopyBandwidth};
pub use machine::MachineLine;
pub use optim::{OptimCase, OptimKind};
pub use train::{Net, TrainCase, ROWS};
use optim::{bench_optim, sync, LR};
use train::bench_train;

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Devices, in order.
    pub devices: Vec<DeviceChoice>,
    /// A reduced set (1M-param steps and a few training cases, short timings) for CI and tests.
    pub quick: bool,
    /// Only cases whose id contains this (`sgd_momentum_step/16000000/4`,
    /// `train_seed_mlp/stochastic/1`, …).
    pub filter: Option<String>,
}

impl BenchOptions {
    fn selects(&self, id: &str) -> bool {
        self.filter.as_deref().is_none_or(|f| id.contains(f))
    }
}

/// One result line.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum BenchLine {
    /// Always first: the CPU model, SIMD level and threads every other line depends on.
    Machine(MachineLine),
    Copy(CopyLine),
    Optim(OptimLine),
    Train(TrainLine),
}

/// The copy bandwidth the floors are computed from.
#[derive(Debug, Clone, Serialize)]
pub struct CopyLine {
    pub name: &'static str,
    pub bytes: usize,
    /// (read + write) bytes per second, best of several copies on one thread and on `threads`
    /// threads, whichever is faster: the floors use this.
    pub gb_per_s: f64,
    /// The same on one thread.
    pub one_thread_gb_per_s: f64,
    /// The same split over rayon's pool.
    pub all_threads_gb_per_s: f64,
    pub threads: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct OptimLine {
    pub name: &'static str,
    pub params: usize,
    pub tensors: usize,
    pub device: String,
    /// descent's optimizer: median seconds per step.
    pub median_s: f64,
    /// Burn's built-in optimizer, same math, same device.
    pub burn_median_s: f64,
    /// Memory floor: `bytes_per_param · params / copy bandwidth`.
    pub floor_s: f64,
    pub bytes_per_param: usize,
    /// median_s / floor_s.
    pub vs_floor: f64,
    /// median_s / burn_median_s (below 1: descent is faster).
    pub vs_burn: f64,
    pub peak_rss_mb: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainLine {
    pub name: &'static str,
    /// `stochastic` (one random row), `mini` (contiguous batches) or `full` (the whole set).
    pub mode: &'static str,
    pub batch: usize,
    pub device: String,
    pub samples_per_s: f64,
    pub steps: usize,
    /// Mean wall time per step and its parts, µs.
    pub step_us: f64,
    pub data_us: f64,
    pub forward_us: f64,
    pub loss_read_us: f64,
    pub backward_us: f64,
    pub optim_us: f64,
    pub peak_rss_mb: Option<f64>,
}

impl BenchLine {
    /// Every number in the line, for checks.
    pub fn numbers(&self) -> Vec<f64> {
        match self {
            BenchLine::Machine(m) => vec![m.threads as f64, m.logical_cpus as f64],
            BenchLine::Copy(c) => vec![c.bytes as f64, c.gb_per_s, c.one_thread_gb_per_s, c.all_threads_gb_per_s],
            BenchLine::Optim(o) => {
                let mut v = vec![o.params as f64, o.tensors as f64, o.median_s, o.burn_median_s, o.floor_s, o.vs_floor, o.vs_burn];
                v.extend(o.peak_rss_mb);
                v
            }
            BenchLine::Train(t) => {
                let mut v = vec![t.batch as f64, t.samples_per_s, t.steps as f64, t.step_us];
                v.extend(t.peak_rss_mb);
                v
            }
        }
    }

    /// One row of the text table.
    pub fn table_row(&self) -> String {
        match self {
            BenchLine::Machine(m) => m.heading(),
            BenchLine::Copy(c) => format!(
                "copy bandwidth: {:.2} GB/s (read+write, {} MB buffers; 1 thread {:.2}, {} threads {:.2})",
                c.gb_per_s / 1e9,
                c.bytes >> 20,
                c.one_thread_gb_per_s / 1e9,
                c.threads,
                c.all_threads_gb_per_s / 1e9
            ),
            BenchLine::Optim(o) => format!(
                "{:<22} {:>9} {:>4} {:<8} {:>10.3} {:>10.3} {:>10.3} {:>7.2}x {:>7.2}x {:>8}",
                o.name,
                human(o.params),
                o.tensors,
                o.device,
                o.median_s * 1e3,
                o.burn_median_s * 1e3,
                o.floor_s * 1e3,
                o.vs_floor,
                o.vs_burn,
                rss(o.peak_rss_mb)
            ),
            BenchLine::Train(t) => format!(
                "{:<15} {:<10} {:>5} {:<8} {:>12.0} {:>9.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8}",
                t.name,
                t.mode,
                t.batch,
                t.device,
                t.samples_per_s,
                t.step_us,
                t.data_us,
                t.forward_us,
                t.loss_read_us,
                t.backward_us,
                t.optim_us,
                rss(t.peak_rss_mb)
            ),
        }
    }
}

pub const OPTIM_HEADER: &str = "optimizer step         params  tens device   descent ms    burn ms   floor ms  /floor   /burn  peak MB";
pub const TRAIN_HEADER: &str = "training        mode       batch device    samples/s   step µs  data µs   fwd µs  read µs   bwd µs optim µs  peak MB";

fn human(n: usize) -> String {
    if n >= 1_000_000 && n % 1_000_000 == 0 {
        format!("{}M", n / 1_000_000)
    } else {
        n.to_string()
    }
}

fn rss(mb: Option<f64>) -> String {
    mb.map(|m| format!("{m:.0}")).unwrap_or_else(|| "-".into())
}

/// Runs the benchmark, handing each line to `emit` as soon as it is measured.
pub fn run_bench(opts: &BenchOptions, mut emit: impl FnMut(&BenchLine)) -> Result<Vec<BenchLine>, TrainError> {
    let mut out = Vec::new();
    let mut push = |line: BenchLine| {
        emit(&line);
        out.push(line);
    };
    push(BenchLine::Machine(MachineLine::detect()));
    let copy_bytes = if opts.quick { 64 << 20 } else { 256 << 20 };
    let copy = copy_bandwidth(copy_bytes, if opts.quick { 3 } else { 7 });
    let bandwidth = copy.best();
    push(BenchLine::Copy(CopyLine {
        name: "copy_bandwidth",
        bytes: copy_bytes,
        gb_per_s: bandwidth,
        one_thread_gb_per_s: copy.one_thread,
        all_threads_gb_per_s: copy.all_threads,
        threads: copy.threads,
    }));
    for &choice in &opts.devices {
        optim_cases(opts, choice, bandwidth, &mut push)?;
        train_cases(opts, choice, &mut push)?;
    }
    Ok(out)
}

/// The optimizer-step cases on one device: sizes × layouts × kinds.
fn optim_cases(opts: &BenchOptions, choice: DeviceChoice, bandwidth: f64, push: &mut dyn FnMut(BenchLine)) -> Result<(), TrainError> {
    let device = make_device(choice, DType::F32)?;
    let sizes: &[usize] = if opts.quick { &[1_000_000] } else { &[1_000_000, 16_000_000] };
    let layouts: &[usize] = if opts.quick { &[4] } else { &[4, 200] };
    let kinds: &[OptimKind] = if opts.quick { &[OptimKind::Momentum] } else { &OptimKind::ALL };
    for &params in sizes {
        for &tensors in layouts {
            for &kind in kinds {
                if !opts.selects(&format!("{}/{params}/{tensors}", kind.name())) {
                    continue;
                }
                reset_peak_rss();
                let reps = match (opts.quick, params > 4_000_000) {
                    (true, _) => 3,
                    (false, false) => 15,
                    (false, true) => 7,
                };
                let (ours, theirs) = bench_optim(kind, params, tensors, &device, reps)?;
                let floor = (kind.bytes_per_param() * params) as f64 / bandwidth;
                push(BenchLine::Optim(OptimLine {
                    name: kind.name(),
                    params,
                    tensors,
                    device: choice.to_string(),
                    median_s: ours,
                    burn_median_s: theirs,
                    floor_s: floor,
                    bytes_per_param: kind.bytes_per_param(),
                    vs_floor: ours / floor,
                    vs_burn: ours / theirs,
                    peak_rss_mb: peak_rss_mb(),
                }));
            }
        }
    }
    Ok(())
}

/// The training-throughput cases on one device.
fn train_cases(opts: &BenchOptions, choice: DeviceChoice, push: &mut dyn FnMut(BenchLine)) -> Result<(), TrainError> {
    let cases: Vec<(Net, Mode, usize)> = if opts.quick {
        vec![(Net::Seed, Mode::Stochastic, 1), (Net::Seed, Mode::Mini, 32), (Net::Mnist, Mode::Mini, 128)]
    } else {
        let mut v = Vec::new();
        for net in [Net::Seed, Net::Mnist] {
            v.push((net, Mode::Stochastic, 1));
            v.push((net, Mode::Mini, 32));
            v.push((net, Mode::Mini, 128));
            v.push((net, Mode::Full, ROWS));
        }
        v
    };
    let budget = if opts.quick { 0.15 } else { 2.0 };
    for (net, mode, batch) in cases {
        if !opts.selects(&format!("{}/{}/{batch}", net.name(), mode.name())) {
            continue;
        }
        reset_peak_rss();
        let mut line = bench_train(net, mode, batch, choice, budget)?;
        line.peak_rss_mb = peak_rss_mb();
        push(BenchLine::Train(line));
    }
    Ok(())
}

/// `descent bench`: prints a table, or JSON lines with `json`.
pub fn run_cli(device: Option<DeviceChoice>, json: bool, quick: bool, filter: Option<String>) -> anyhow::Result<()> {
    let devices = match device {
        Some(d) => vec![d],
        None => {
            let mut v = vec![DeviceChoice::Cpu, DeviceChoice::Ndarray];
            if descent_train::device::wgpu_available() {
                v.push(DeviceChoice::Wgpu);
            } else if !json {
                eprintln!("(wgpu skipped: no adapter)");
            }
            v
        }
    };
    let opts = BenchOptions { devices, quick, filter };
    let mut last_kind = 0u8;
    run_bench(&opts, |line| {
        if json {
            match serde_json::to_string(line) {
                Ok(s) => println!("{s}"),
                Err(e) => eprintln!("error: cannot encode a result: {e}"),
            }
            return;
        }
        let kind = match line {
            BenchLine::Machine(_) | BenchLine::Copy(_) => 0,
            BenchLine::Optim(_) => 1,
            BenchLine::Train(_) => 2,
        };
        if kind != last_kind {
            println!();
            println!("{}", if kind == 1 { OPTIM_HEADER } else { TRAIN_HEADER });
            last_kind = kind;
        }
        println!("{}", line.table_row());
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Peak memory
// ---------------------------------------------------------------------------------------------

/// Resets the kernel's peak-RSS mark (Linux ≥ 4.0; silently nothing elsewhere), after handing
/// the heap's free memory back (the binary keeps freed memory mapped, `alloc.rs`), so that a
/// case's peak is its own and not the previous case's leftovers.
fn reset_peak_rss() {
    descent_train::alloc::release_free_memory();
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// VmHWM in MB, where /proc has it.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
