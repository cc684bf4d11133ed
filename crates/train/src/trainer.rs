//! The training loop, PyTorch's order: zero grads → forward → loss → backward → step.
//! (Burn has no accumulated `.grad` to zero: each `backward()` returns fresh gradients.)

use std::path::{Path, PathBuf};

use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use descent_model::{load_safetensors, save_safetensors, Mlp};
use descent_optim::penalty::Penalty;

use crate::batching::Batch;
use crate::config::{DType, DeviceChoice, RunConfig};
use crate::data::{load_csv, Table};
use crate::device::make_device;
use crate::metrics::{as_dtype, EpochRecord, MetricsWriter, StepRecord};
use crate::rng::Rng;
use crate::TrainError;

/// How to run a config.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Run folder: `metrics.jsonl`, `model.safetensors` go here.
    pub out_dir: PathBuf,
    /// Overrides the config's `device`.
    pub device: Option<DeviceChoice>,
    /// No per-epoch log lines on stderr.
    pub quiet: bool,
}

/// What a finished run returns (the same numbers as `metrics.jsonl`).
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub steps: Vec<StepRecord>,
    pub epochs: Vec<EpochRecord>,
    pub metrics_path: PathBuf,
    pub model_path: PathBuf,
    pub model: Mlp,
}

impl RunSummary {
    pub fn final_epoch_loss(&self) -> f64 {
        self.epochs.last().map(|e| e.train_loss).unwrap_or(f64::NAN)
    }
}

/// Mean squared error over all elements (torch's `MSELoss()` with `reduction="mean"`).
pub fn mse(pred: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    let diff = pred - target;
    (diff.clone() * diff).mean()
}

/// Everything checked and loaded before the first byte is written.
struct Prepared {
    device: Device,
    table: Table,
    model: Mlp,
}

fn prepare(cfg: &RunConfig, choice: DeviceChoice) -> Result<Prepared, TrainError> {
    let table = load_csv(&cfg.data.train, &cfg.data.targets)?;
    let sizes = &cfg.model.sizes;
    let data_err = |msg: String| TrainError::Data { path: cfg.data.train.clone(), msg };
    if table.n_features() != sizes[0] {
        return Err(data_err(format!(
            "{} feature columns, but [model] sizes starts with {} inputs",
            table.n_features(),
            sizes[0]
        )));
    }
    if table.n_targets() != sizes[sizes.len() - 1] {
        return Err(data_err(format!(
            "{} target columns, but [model] sizes ends with {} outputs",
            table.n_targets(),
            sizes[sizes.len() - 1]
        )));
    }
    let device = make_device(choice, cfg.dtype)?.autodiff();
    device.seed(cfg.seed);
    let mut model = cfg.model.mlp().init(&device)?;
    if let Some(p) = &cfg.model.init_from {
        model = load_safetensors(model, p)?;
    }
    Ok(Prepared { device, table, model })
}

/// Trains `cfg` and writes the run folder. On error nothing complete-looking is left behind.
pub fn train(cfg: &RunConfig, opts: &RunOptions) -> Result<RunSummary, TrainError> {
    let choice = opts.device.unwrap_or(cfg.device);
    let Prepared { device, table, model } = prepare(cfg, choice)?;
    let built = cfg.optimizer.build().map_err(|e| TrainError::Config {
        path: PathBuf::from("[optimizer]"),
        msg: e.to_string(),
    })?;
    let mut optim = built.optimizer;
    let lr = built.lr;
    let f32_run = cfg.dtype == DType::F32;
    let penalty = Penalty { l2: cfg.loss.l2, l1: cfg.loss.l1 };

    let out = &opts.out_dir;
    std::fs::create_dir_all(out)
        .map_err(|e| TrainError::Output { path: out.clone(), msg: format!("cannot create run folder: {e}") })?;
    let mut writer = MetricsWriter::create(out)?;

    let (x_all, y_all) = table.to_tensors(&device, !f32_run);
    let n = table.rows;
    let mut rng = Rng::new(cfg.seed);
    let mut steps = Vec::new();
    let mut epochs = Vec::new();
    let mut step = 0u64;

    let result = (|mut model: Mlp| -> Result<Mlp, TrainError> {
        for epoch in 1..=cfg.epochs as u64 {
            let mut sum = 0.0;
            let batches = cfg.batching.epoch(n, &mut rng);
            for batch in &batches {
                step += 1;
                let (x, y) = gather(&x_all, &y_all, batch, &device);
                let mut loss = mse(model.forward(x), y);
                if let Some(p) = penalty.term(&model, batch.len()) {
                    loss = loss + p;
                }
                let value = loss.clone().into_scalar::<f64>();
                if !value.is_finite() {
                    return Err(TrainError::Diverged(format!(
                        "loss became {value} at step {step} (epoch {epoch}); the run diverged — try a lower lr (now {lr})"
                    )));
                }
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(lr, model, grads);
                let record = StepRecord { step, epoch, lr, loss: as_dtype(value, f32_run), momentum: None };
                writer.write(&record)?;
                steps.push(record);
                sum += value;
            }
            let rec = EpochRecord {
                epoch,
                train_loss: as_dtype(sum / batches.len() as f64, f32_run),
                lr,
                steps: batches.len() as u64,
            };
            writer.write(&rec)?;
            if !opts.quiet {
                eprintln!("epoch {epoch:>4}/{}  loss {:.6e}  lr {lr}", cfg.epochs, rec.train_loss);
            }
            epochs.push(rec);
        }
        Ok(model)
    })(model);
    let model = match result {
        Ok(model) => model,
        Err(e) => {
            writer.abandon();
            return Err(e);
        }
    };
    let model_path = out.join("model.safetensors");
    save_safetensors(&model, &model_path)?;
    let metrics_path = writer.finish()?;
    Ok(RunSummary { steps, epochs, metrics_path, model_path, model })
}

/// The batch's rows, on the device: a slice for contiguous rows, a gather otherwise.
fn gather(x: &Tensor<2>, y: &Tensor<2>, batch: &Batch, device: &Device) -> (Tensor<2>, Tensor<2>) {
    match batch {
        Batch::Range(a, b) if *a == 0 && *b == x.dims()[0] => (x.clone(), y.clone()),
        Batch::Range(a, b) => (x.clone().slice(*a..*b), y.clone().slice(*a..*b)),
        Batch::Rows(rows) => {
            let idx: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
            let len = idx.len();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [len]), device);
            (x.clone().select(0, idx.clone()), y.clone().select(0, idx))
        }
    }
}

/// Default run folder for a config: `runs/<config file stem>`.
pub fn default_out_dir(config: &Path) -> PathBuf {
    let stem = config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    PathBuf::from("runs").join(stem)
}
