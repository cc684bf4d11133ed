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
//! `crates/train/benches/` drive the same ones.

use std::time::Instant;

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use descent_model::{Activation, MlpConfig};
use serde::Serialize;

use crate::batching::Mode;
use crate::config::{DType, DeviceChoice};
use crate::device::make_device;
use crate::loss::{data_loss, Targets};
use crate::rng::Rng;
use crate::TrainError;

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
    let mut push = |line: BenchLine, out: &mut Vec<BenchLine>| {
        emit(&line);
        out.push(line);
    };
    let copy_bytes = if opts.quick { 64 << 20 } else { 256 << 20 };
    let copy = copy_bandwidth(copy_bytes, if opts.quick { 3 } else { 7 });
    let bandwidth = copy.best();
    push(
        BenchLine::Copy(CopyLine {
            name: "copy_bandwidth",
            bytes: copy_bytes,
            gb_per_s: bandwidth,
            one_thread_gb_per_s: copy.one_thread,
            all_threads_gb_per_s: copy.all_threads,
            threads: copy.threads,
        }),
        &mut out,
    );

    for &choice in &opts.devices {
        let device = make_device(choice, DType::F32)?;
        let sizes: &[usize] = if opts.quick { &[1_000_000] } else { &[1_000_000, 16_000_000] };
        let layouts: &[usize] = if opts.quick { &[4] } else { &[4, 200] };
        let kinds: &[OptimKind] = if opts.quick {
            &[OptimKind::Momentum]
        } else {
            &OptimKind::ALL
        };
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
                    push(
                        BenchLine::Optim(OptimLine {
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
                        }),
                        &mut out,
                    );
                }
            }
        }

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
            push(BenchLine::Train(line), &mut out);
        }
    }
    Ok(out)
}

/// `descent bench`: prints a table, or JSON lines with `json`.
pub fn run_cli(device: Option<DeviceChoice>, json: bool, quick: bool, filter: Option<String>) -> anyhow::Result<()> {
    let devices = match device {
        Some(d) => vec![d],
        None => {
            let mut v = vec![DeviceChoice::Cpu, DeviceChoice::Ndarray];
            if crate::device::wgpu_available() {
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
            BenchLine::Copy(_) => 0,
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
// Memory floor
// ---------------------------------------------------------------------------------------------

/// Best (read + write) bytes/s of copying one `bytes`-sized buffer into another: on one thread
/// (`copy_from_slice`), and split over rayon's pool (the threads the fused optimizer updates
/// use), best of `reps` each. The floor is the faster of the two, so an update that uses both
/// cores is held to what both cores can move.
pub fn copy_bandwidth(bytes: usize, reps: usize) -> CopyBandwidth {
    use rayon::prelude::*;
    let n = bytes / 8;
    let src: Vec<u64> = (0..n as u64).collect();
    let mut dst = vec![0u64; n];
    dst.copy_from_slice(&src); // first touch
    let threads = rayon::current_num_threads().max(1);
    let chunk = n.div_ceil(threads).max(1);
    let (mut one, mut all) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..reps.max(1) {
        let t = Instant::now();
        dst.copy_from_slice(std::hint::black_box(&src));
        std::hint::black_box(&mut dst);
        one = one.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        dst.par_chunks_mut(chunk).zip(src.par_chunks(chunk)).for_each(|(d, s)| d.copy_from_slice(std::hint::black_box(s)));
        std::hint::black_box(&mut dst);
        all = all.min(t.elapsed().as_secs_f64());
    }
    let moved = (2 * n * 8) as f64;
    CopyBandwidth { one_thread: moved / one, all_threads: moved / all, threads }
}

/// What [`copy_bandwidth`] measured, bytes/s.
#[derive(Debug, Clone, Copy)]
pub struct CopyBandwidth {
    pub one_thread: f64,
    pub all_threads: f64,
    pub threads: usize,
}

impl CopyBandwidth {
    /// The bandwidth floors are computed from.
    pub fn best(&self) -> f64 {
        self.one_thread.max(self.all_threads)
    }
}

// ---------------------------------------------------------------------------------------------
// Optimizer steps
// ---------------------------------------------------------------------------------------------

/// The optimizer-step cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimKind {
    Plain,
    Momentum,
    NesterovWd,
    Adam,
}

impl OptimKind {
    pub const ALL: [OptimKind; 4] = [OptimKind::Plain, OptimKind::Momentum, OptimKind::NesterovWd, OptimKind::Adam];

    /// The case's name in `descent bench` output (`sgd_momentum_step`, …).
    pub fn name(self) -> &'static str {
        match self {
            OptimKind::Plain => "sgd_step",
            OptimKind::Momentum => "sgd_momentum_step",
            OptimKind::NesterovWd => "sgd_nesterov_wd_step",
            OptimKind::Adam => "adam_step",
        }
    }
    /// Bytes one step must move per f32 parameter (the memory floor's numerator).
    pub fn bytes_per_param(self) -> usize {
        match self {
            OptimKind::Plain => 12,
            OptimKind::Momentum | OptimKind::NesterovWd => 20,
            OptimKind::Adam => 28,
        }
    }
    /// descent's optimizer for this case.
    pub fn descent(self) -> Result<ModuleOptimizer, TrainError> {
        let err = |e: descent_optim::OptimError| TrainError::Device(e.to_string());
        match self {
            OptimKind::Plain => descent_optim::SgdConfig::new(LR).init().map_err(err),
            OptimKind::Momentum => descent_optim::SgdConfig::new(LR).with_momentum(0.9).init().map_err(err),
            OptimKind::NesterovWd => descent_optim::SgdConfig::new(LR)
                .with_momentum(0.9)
                .with_nesterov(true)
                .with_weight_decay(1e-4)
                .init()
                .map_err(err),
            OptimKind::Adam => descent_optim::AdamConfig::new(LR).with_betas([0.9, 0.999]).with_eps(1e-8).init().map_err(err),
        }
    }
    /// Burn 0.22.1's built-in optimizer set to the same math.
    pub fn burn(self) -> ModuleOptimizer {
        use burn::optim::decay::WeightDecayConfig;
        use burn::optim::momentum::MomentumConfig;
        let momentum = |nesterov| MomentumConfig { momentum: 0.9, dampening: 0.0, nesterov };
        match self {
            OptimKind::Plain => burn::optim::SgdConfig::new().init(),
            OptimKind::Momentum => burn::optim::SgdConfig::new().with_momentum(Some(momentum(false))).init(),
            OptimKind::NesterovWd => burn::optim::SgdConfig::new()
                .with_momentum(Some(momentum(true)))
                .with_weight_decay(Some(WeightDecayConfig { penalty: 1e-4 }))
                .init(),
            OptimKind::Adam => burn::optim::AdamConfig::new().with_beta_1(0.9).with_beta_2(0.999).with_epsilon(1e-8).init(),
        }
    }
}

const LR: f64 = 0.01;

/// A bag of 1-D parameters.
#[derive(Module, Debug)]
struct Flat {
    ps: Vec<Param<Tensor<1>>>,
}

/// Median seconds per step for descent's and Burn's optimizer.
fn bench_optim(kind: OptimKind, params: usize, tensors: usize, device: &Device, reps: usize) -> Result<(f64, f64), TrainError> {
    let ours = time_optim(OptimCase::new(kind.descent()?, params, tensors, device), reps)?;
    let theirs = time_optim(OptimCase::new(kind.burn(), params, tensors, device), reps)?;
    Ok((ours, theirs))
}

fn split_sizes(total: usize, tensors: usize) -> Vec<usize> {
    let base = total / tensors;
    let mut v = vec![base; tensors];
    v[0] += total - base * tensors;
    v
}

/// One optimizer over a module of f32 parameters: what an optimizer-step case times. Also
/// driven by the criterion benches (`crates/train/benches/`).
pub struct OptimCase {
    optim: ModuleOptimizer,
    model: Option<Flat>,
    /// Host copies of the gradients: each step gets fresh, uniquely owned tensors made from
    /// them (outside the timing), as a backward pass would hand over.
    grads: Vec<TensorData>,
    device: Device,
}

impl OptimCase {
    /// `params` parameters in `tensors` tensors on `device`, uniform in [-1, 1]; gradients in
    /// [-1, 1] from a fixed seed.
    pub fn new(optim: ModuleOptimizer, params: usize, tensors: usize, device: &Device) -> Self {
        let sizes = split_sizes(params, tensors.max(1));
        let mut rng = Rng::new(7);
        let grads = sizes
            .iter()
            .map(|&n| TensorData::new((0..n).map(|_| (rng.below(2001) as f32 - 1000.0) * 1e-3).collect::<Vec<f32>>(), [n]))
            .collect();
        // Parameters live on the autodiff device (as in training: Burn's ModuleOptimizer
        // expects them there), gradients on the inner one (as `GradientsParams::from_grads`
        // gives them).
        let ad = device.clone().autodiff();
        let model = Flat {
            ps: sizes
                .iter()
                .map(|&n| Param::from_tensor(Tensor::<1>::random([n], Distribution::Uniform(-1.0, 1.0), &ad)))
                .collect(),
        };
        OptimCase { optim, model: Some(model), grads, device: device.clone() }
    }

    /// This step's gradients, as fresh tensors on the device (not part of a step's time).
    pub fn gradients(&self) -> GradientsParams {
        let mut g = GradientsParams::new();
        if let Some(model) = &self.model {
            for (p, data) in model.ps.iter().zip(&self.grads) {
                g.register::<1>(p.id, Tensor::from_data(data.clone(), &self.device));
            }
        }
        g
    }

    /// One optimizer step, waited for.
    pub fn step(&mut self, grads: GradientsParams) -> Result<(), TrainError> {
        if let Some(model) = self.model.take() {
            self.model = Some(self.optim.step(LR, model, grads));
        }
        sync(&self.device)
    }

    /// Waits for the device.
    pub fn sync(&self) -> Result<(), TrainError> {
        sync(&self.device)
    }
}

fn time_optim(mut case: OptimCase, reps: usize) -> Result<f64, TrainError> {
    case.sync()?;
    let warmup = 2;
    let mut times = Vec::with_capacity(reps);
    for i in 0..warmup + reps {
        let g = case.gradients();
        case.sync()?;
        let t = Instant::now();
        case.step(g)?;
        if i >= warmup {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    Ok(median(&mut times))
}

fn sync(device: &Device) -> Result<(), TrainError> {
    device.sync().map_err(|e| TrainError::Device(format!("device sync failed: {e:?}")))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

// ---------------------------------------------------------------------------------------------
// Training throughput
// ---------------------------------------------------------------------------------------------

/// Rows of the synthetic training sets.
pub const ROWS: usize = 1024;

/// The two networks of the training cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// 10 → 5 → 1, ReLU, MSE.
    Seed,
    /// 784 → 256 → 256 → 10, ReLU, cross-entropy.
    Mnist,
}

impl Net {
    /// The case's name in `descent bench` output.
    pub fn name(self) -> &'static str {
        match self {
            Net::Seed => "train_seed_mlp",
            Net::Mnist => "train_mlp784",
        }
    }
}

/// A network, its momentum-SGD optimizer and a synthetic data set of [`ROWS`] rows: what a
/// training case times, one step at a time. Also driven by the criterion benches.
pub struct TrainCase {
    model: Option<descent_model::Mlp>,
    optim: ModuleOptimizer,
    rng: Rng,
    x_all: Tensor<2>,
    y_all: Targets,
    mode: Mode,
    batch: usize,
    cursor: usize,
    device: Device,
}

impl TrainCase {
    /// `batch` is ignored for [`Mode::Stochastic`] (1) and [`Mode::Full`] ([`ROWS`]).
    pub fn new(net: Net, mode: Mode, batch: usize, choice: DeviceChoice) -> Result<Self, TrainError> {
        let device = make_device(choice, DType::F32)?.autodiff();
        device.seed(0);
        let sizes = match net {
            Net::Seed => vec![10, 5, 1],
            Net::Mnist => vec![784, 256, 256, 10],
        };
        let inputs = sizes[0];
        let model = MlpConfig { sizes, activation: Activation::Relu }
            .init(&device)
            .map_err(|e| TrainError::Device(e.to_string()))?;
        let optim = descent_optim::SgdConfig::new(LR)
            .with_momentum(0.9)
            .init()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        let mut rng = Rng::new(1);
        let xs: Vec<f32> = (0..ROWS * inputs).map(|_| (rng.below(2001) as f32 - 1000.0) * 1e-3).collect();
        let x_all = Tensor::<2>::from_data(TensorData::new(xs, [ROWS, inputs]), &device);
        let y_all = match net {
            Net::Seed => {
                let ys: Vec<f32> = (0..ROWS).map(|_| (rng.below(2001) as f32 - 1000.0) * 1e-3).collect();
                Targets::Values(Tensor::<2>::from_data(TensorData::new(ys, [ROWS, 1]), &device))
            }
            Net::Mnist => {
                let cs: Vec<i64> = (0..ROWS).map(|_| rng.below(10) as i64).collect();
                Targets::Classes(Tensor::<1, Int>::from_data(TensorData::new(cs, [ROWS]), &device))
            }
        };
        let batch = match mode {
            Mode::Stochastic => 1,
            Mode::Mini => batch.clamp(1, ROWS),
            Mode::Full => ROWS,
        };
        Ok(TrainCase { model: Some(model), optim, rng, x_all, y_all, mode, batch, cursor: 0, device })
    }

    /// Rows per step.
    pub fn batch(&self) -> usize {
        self.batch
    }

    fn next_batch(&mut self) -> (Tensor<2>, Targets) {
        match self.mode {
            Mode::Stochastic => {
                let row = self.rng.below(ROWS) as i64;
                let idx = Tensor::<1, Int>::from_data(TensorData::new(vec![row], [1]), &self.device);
                let y = match &self.y_all {
                    Targets::Values(y) => Targets::Values(y.clone().select(0, idx.clone())),
                    Targets::Classes(c) => Targets::Classes(c.clone().select(0, idx.clone())),
                };
                (self.x_all.clone().select(0, idx), y)
            }
            Mode::Full => (self.x_all.clone(), self.y_all.clone()),
            Mode::Mini => {
                if self.cursor + self.batch > ROWS {
                    self.cursor = 0;
                }
                let (a, b) = (self.cursor, self.cursor + self.batch);
                self.cursor = b;
                let y = match &self.y_all {
                    Targets::Values(y) => Targets::Values(y.clone().slice(a..b)),
                    Targets::Classes(c) => Targets::Classes(c.clone().slice(a..b)),
                };
                (self.x_all.clone().slice(a..b), y)
            }
        }
    }

    /// One step: batch, forward and loss, reading the loss, backward, optimizer. Adds the five
    /// phases' seconds to `t` and returns the loss.
    pub fn step(&mut self, t: &mut [f64; 5]) -> f64 {
        let Some(model) = self.model.take() else { return f64::NAN };
        let t0 = Instant::now();
        let (x, y) = self.next_batch();
        let t1 = Instant::now();
        let loss = data_loss(model.forward(x), &y);
        let t2 = Instant::now();
        let value = loss.clone().into_scalar::<f64>();
        let t3 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let t4 = Instant::now();
        self.model = Some(self.optim.step(LR, model, grads));
        let t5 = Instant::now();
        for (acc, d) in t.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4]) {
            *acc += d.as_secs_f64();
        }
        value
    }

    /// Waits for the device.
    pub fn sync(&self) -> Result<(), TrainError> {
        sync(&self.device)
    }
}

fn bench_train(net: Net, mode: Mode, batch: usize, choice: DeviceChoice, budget_s: f64) -> Result<TrainLine, TrainError> {
    let mut case = TrainCase::new(net, mode, batch, choice)?;
    let batch = case.batch();
    // Warm up (allocator, kernels, wgpu pipelines), then run for about `budget_s`.
    let mut scratch = [0.0; 5];
    let warm = Instant::now();
    for _ in 0..5 {
        case.step(&mut scratch);
        if warm.elapsed().as_secs_f64() > budget_s {
            break;
        }
    }
    case.sync()?;
    let mut parts = [0.0f64; 5];
    let mut steps = 0usize;
    let mut last = 0.0;
    let start = Instant::now();
    while steps < 3 || start.elapsed().as_secs_f64() < budget_s {
        last = case.step(&mut parts);
        steps += 1;
        if steps >= 200_000 {
            break;
        }
    }
    case.sync()?;
    let total = start.elapsed().as_secs_f64();
    let name = net.name();
    if !last.is_finite() {
        return Err(TrainError::Diverged(format!("{name} batch {batch}: loss became {last}")));
    }
    let per = |s: f64| s / steps as f64 * 1e6;
    Ok(TrainLine {
        name,
        mode: mode.name(),
        batch,
        device: choice.to_string(),
        samples_per_s: (steps * batch) as f64 / total,
        steps,
        step_us: per(total),
        data_us: per(parts[0]),
        forward_us: per(parts[1]),
        loss_read_us: per(parts[2]),
        backward_us: per(parts[3]),
        optim_us: per(parts[4]),
        peak_rss_mb: None,
    })
}

// ---------------------------------------------------------------------------------------------
// Peak memory
// ---------------------------------------------------------------------------------------------

/// Resets the kernel's peak-RSS mark (Linux ≥ 4.0; silently nothing elsewhere), after handing
/// the heap's free memory back (the binary keeps freed memory mapped, `alloc.rs`), so that a
/// case's peak is its own and not the previous case's leftovers.
fn reset_peak_rss() {
    crate::alloc::release_free_memory();
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// VmHWM in MB, where /proc has it.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_split_to_the_total() {
        assert_eq!(split_sizes(1_000_003, 200).iter().sum::<usize>(), 1_000_003);
        assert_eq!(split_sizes(16_000_000, 4), vec![4_000_000; 4]);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
