//! The memory a run needs, estimated from its config before anything is allocated, against
//! what the machine has: a model too large is refused with one line instead of dying in the
//! allocator (`memory allocation of … bytes failed`, abort, exit 134).
//!
//! `needed = b·(P + P + s·P + A·r + D)`, with `b` bytes per scalar (4 for f32, 8 for f64),
//! `P` parameters (weights, then their gradients), `s` optimizer state tensors per parameter
//! (SGD: 1 with momentum, else 0; Adam, AdamW, Adamax, NAdam, RAdam, Adadelta: 2, AMSGrad 3;
//! RMSprop: 1, +1 with momentum, +1 centered; Adagrad, Lion: 1), `A` activation values per
//! sample ([`ModelConfig::activations_per_sample`]), `r` rows of the largest batch (a
//! micro-batch with `accumulate`, or an evaluation chunk), and `D` the data on the device.
//! It is a lower bound — no allocator overhead or Burn memory-pool slack — so a refusal means
//! the run could not fit.
//!
//! Available memory: `MemAvailable` from `/proc/meminfo`, lowered to the cgroup's
//! `memory.max − memory.current` when a container sets a limit. Elsewhere (or when unreadable)
//! the check is skipped. wgpu reports no device memory total, so a wgpu run is checked against
//! the host's memory as well.

use descent_model::ModelConfig;
use descent_optim::OptimizerConfig;

use crate::batching::Mode;
use crate::config::{DType, RunConfig};
use crate::data::Dataset;
use crate::error::TrainError;

/// Rows `evaluate` pushes through the model at once.
const EVAL_CHUNK: usize = 4096;

/// The parts of a run's memory, in bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    pub parameters: u128,
    pub weights: u128,
    pub gradients: u128,
    pub optimizer_state: u128,
    /// Optimizer state tensors per parameter.
    pub state_per_parameter: u128,
    pub activations: u128,
    /// Rows of the largest batch the activations are counted for.
    pub batch_rows: usize,
    pub data: u128,
}

impl MemoryEstimate {
    pub fn total(&self) -> u128 {
        [self.weights, self.gradients, self.optimizer_state, self.activations, self.data]
            .iter()
            .fold(0u128, |a, &b| a.saturating_add(b))
    }
}

/// Optimizer state tensors per parameter for `cfg` (the largest over parameter groups).
pub fn state_per_parameter(cfg: &OptimizerConfig) -> u128 {
    match cfg {
        OptimizerConfig::Sgd(c) => u128::from(c.momentum != 0.0),
        OptimizerConfig::Adam(c) => 2 + u128::from(c.amsgrad),
        OptimizerConfig::AdamW(c) => 2 + u128::from(c.amsgrad),
        OptimizerConfig::RmsProp(c) => 1 + u128::from(c.momentum > 0.0) + u128::from(c.centered),
        OptimizerConfig::Adagrad(_) | OptimizerConfig::Lion(_) => 1,
        OptimizerConfig::Adadelta(_) | OptimizerConfig::Adamax(_) | OptimizerConfig::NAdam(_) | OptimizerConfig::RAdam(_) => 2,
        // ASGD's ax, Muon's momentum buffer, schedule-free SGD's z; Adafactor's factored
        // second moment is far smaller than one tensor for matrices, one tensor for vectors.
        OptimizerConfig::Asgd(_) | OptimizerConfig::Muon(_) | OptimizerConfig::Adafactor(_) | OptimizerConfig::SgdScheduleFree(_) => 1,
        // Rprop's previous gradient and step sizes; schedule-free AdamW's z and second moment.
        OptimizerConfig::Rprop(_) | OptimizerConfig::AdamWScheduleFree(_) => 2,
        // L-BFGS keeps history_size pairs (s, y) of flat vectors, plus its direction, the
        // previous gradient and the flat gradient and parameters of the evaluation in hand.
        OptimizerConfig::Lbfgs(c) => 2 * c.history_size as u128 + 4,
    }
}

/// Rows of the largest batch a step (or an evaluation chunk) runs.
fn batch_rows(cfg: &RunConfig, train_rows: usize, valid_rows: usize) -> usize {
    let k = cfg.batching.accumulate.max(1);
    let step = match cfg.batching.mode {
        Mode::Full => train_rows.div_ceil(k),
        Mode::Mini => cfg.batching.batch_size.unwrap_or(1).min(train_rows),
        Mode::Stochastic => 1,
    };
    step.max(valid_rows.min(EVAL_CHUNK)).max(1)
}

/// The estimate for `cfg` with model `model` on `data`.
pub fn estimate(cfg: &RunConfig, model: &ModelConfig, data: &Dataset) -> MemoryEstimate {
    let b: u128 = if cfg.dtype == DType::F64 { 8 } else { 4 };
    let p = model.parameter_count();
    let s = std::iter::once(&cfg.optimizer.config)
        .chain(cfg.optimizer.groups.iter().map(|g| &g.config))
        .map(state_per_parameter)
        .max()
        .unwrap_or(0);
    let valid_rows = data.valid.as_ref().map_or(0, |v| v.rows);
    let rows = batch_rows(cfg, data.train.rows, valid_rows);
    let features = data.train.n_features();
    let cols = (features + data.train.n_targets()) as u128;
    let scalars_of_data = ((data.train.rows + valid_rows) as u128).saturating_mul(cols);
    let weights = p.saturating_mul(b);
    MemoryEstimate {
        parameters: p,
        weights,
        gradients: weights,
        optimizer_state: weights.saturating_mul(s),
        state_per_parameter: s,
        activations: model.activations_per_sample(features).saturating_mul(rows as u128).saturating_mul(b),
        batch_rows: rows,
        data: scalars_of_data.saturating_mul(b),
    }
}

/// Bytes this process can still allocate, if the system says.
pub fn available_memory() -> Option<u128> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u128 = meminfo.lines().find_map(|l| l.strip_prefix("MemAvailable:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    let host = kb * 1024;
    Some(cgroup_room().map_or(host, |room| room.min(host)))
}

/// `memory.max − memory.current` of this process's cgroup (v2), when it has a limit.
fn cgroup_room() -> Option<u128> {
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let dir = cgroups.lines().find_map(|l| l.strip_prefix("0::"))?.trim().to_string();
    let read = |f: &str| std::fs::read_to_string(format!("/sys/fs/cgroup{dir}/{f}")).ok().and_then(|s| s.trim().parse::<u128>().ok());
    let (max, current) = (read("memory.max")?, read("memory.current")?);
    Some(max.saturating_sub(current))
}

/// Bytes as a person reads them, in powers of 1000: `48.0 GB`, `2.1 TB`, `11.3 kB`.
pub fn human(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let (mut x, mut u) = (bytes as f64, 0);
    while x >= 1000.0 && u < UNITS.len() - 1 {
        x /= 1000.0;
        u += 1;
    }
    match u {
        0 => format!("{bytes} B"),
        _ if x >= 1000.0 => format!("{x:.1e} {}", UNITS[u]),
        _ => format!("{x:.1} {}", UNITS[u]),
    }
}

/// The one-line refusal when `e` exceeds `available` bytes.
pub fn check(e: &MemoryEstimate, available: u128) -> Result<(), TrainError> {
    if e.total() <= available {
        return Ok(());
    }
    Err(TrainError::Device(format!(
        "not enough memory: this run needs ≈ {} ({:.1e} parameters: weights {}, gradients {}, optimizer state {} ({}× the weights); \
         activations of a {}-row batch {}; data {}) but this machine has {} available; use a smaller [model] or batch",
        human(e.total()),
        e.parameters as f64,
        human(e.weights),
        human(e.gradients),
        human(e.optimizer_state),
        e.state_per_parameter,
        e.batch_rows,
        human(e.activations),
        human(e.data),
        human(available),
    )))
}

/// Estimates `cfg`'s memory and refuses it when the machine clearly has too little.
pub fn check_run(cfg: &RunConfig, model: &ModelConfig, data: &Dataset) -> Result<(), TrainError> {
    match available_memory() {
        Some(available) => check(&estimate(cfg, model, data), available),
        None => Ok(()),
    }
}
