//! Setup, the first stage of a run: the data loaded and split, the device made, the model
//! seeded and checked against the data — everything that can fail before a byte is written.

use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use descent_model::{load_safetensors, Model};

use crate::batching::Batch;
use crate::config::{DeviceChoice, LossKind, RunConfig};
use crate::data::Table;
use crate::device::make_device;
use crate::error::TrainError;
use crate::loss::Targets;

/// A data split on the device.
pub struct Split {
    pub x: Tensor<2>,
    pub y: Targets,
    pub rows: usize,
}

impl Split {
    pub fn new(table: &Table, loss: LossKind, device: &Device, f64_data: bool) -> Self {
        let (x, y) = table.to_tensors(device, f64_data);
        let y = match loss {
            LossKind::Mse => Targets::Values(y),
            LossKind::CrossEntropy => Targets::Classes(table.class_tensor(device)),
        };
        Split { x, y, rows: table.rows }
    }

    /// The batch's rows: the whole split, a slice for contiguous rows, a gather otherwise.
    pub fn batch(&self, batch: &Batch, device: &Device) -> (Tensor<2>, Targets) {
        match batch {
            Batch::Range(a, b) if *a == 0 && *b == self.rows => (self.x.clone(), self.y.clone()),
            Batch::Range(a, b) => (
                self.x.clone().slice(*a..*b),
                match &self.y {
                    Targets::Values(y) => Targets::Values(y.clone().slice(*a..*b)),
                    Targets::Classes(c) => Targets::Classes(c.clone().slice(*a..*b)),
                },
            ),
            Batch::Rows(rows) => {
                let idx: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
                let len = idx.len();
                let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [len]), device);
                (
                    self.x.clone().select(0, idx.clone()),
                    match &self.y {
                        Targets::Values(y) => Targets::Values(y.clone().select(0, idx)),
                        Targets::Classes(c) => Targets::Classes(c.clone().select(0, idx)),
                    },
                )
            }
        }
    }
}

/// Everything checked and loaded before the first byte is written.
pub struct Prepared {
    pub device: Device,
    pub train: Table,
    pub valid: Option<Table>,
    pub model: Model,
    pub unigram_perplexity: Option<f64>,
}

impl Prepared {
    /// The training and validation splits on the device, in the run's dtype.
    pub fn splits(&self, cfg: &RunConfig) -> (Split, Option<Split>) {
        let f64_data = cfg.dtype == crate::config::DType::F64;
        let split = |t: &Table| Split::new(t, cfg.loss.kind, &self.device, f64_data);
        (split(&self.train), self.valid.as_ref().map(split))
    }
}

/// Loads the data, makes the device and the seeded model, and checks they fit together.
pub fn prepare(cfg: &RunConfig, choice: DeviceChoice) -> Result<Prepared, TrainError> {
    let data = crate::data::load(&cfg.data, cfg.seed)?;
    let model_cfg = cfg
        .model
        .model_config(&data.shape)
        .map_err(|msg| TrainError::Config { path: data.train_path.clone(), msg })?;
    // Before any tensor exists: a model too large is refused here, not by the allocator.
    crate::memory::check_run(cfg, &model_cfg, &data)?;
    let device = make_device(choice, cfg.dtype)?.autodiff();
    // Seeded and initialised under one lock: same config + seed → same weights, even with
    // other runs in the process.
    let mut model = crate::rng::seeded_init(&device, cfg.seed, || model_cfg.init(&device))
        .map_err(|e| TrainError::Config { path: PathBuf::from("[model]"), msg: e.to_string() })?;
    check_shapes(cfg, &model, &data.train, &data.train_path)?;
    if let Some(v) = &data.valid {
        check_shapes(cfg, &model, v, &data.valid_path)?;
    }
    if let (Some(p), Model::Mlp(m)) = (&cfg.model.init_from, &model) {
        model = Model::Mlp(load_safetensors(m.clone(), p)?);
    }
    Ok(Prepared { device, train: data.train, valid: data.valid, model, unigram_perplexity: data.unigram_perplexity })
}

/// The data's columns against the model: inputs, and outputs (or class indices).
fn check_shapes(cfg: &RunConfig, model: &Model, table: &Table, path: &Path) -> Result<(), TrainError> {
    let data_err = |msg: String| TrainError::Data { path: path.to_path_buf(), msg };
    let (inputs, outputs, what) = match model {
        Model::Mlp(m) => (Some(m.input_size()), m.output_size(), "[model] sizes"),
        Model::Cnn(m) => (Some(m.input_size()), m.output_size(), "[model] image (height·width pixels) and classes"),
        Model::Mf(_) => (Some(2), 1, "kind = \"mf\" (user, item → rating)"),
        Model::CharRnn(m) => (None, m.vocab(), "[model] vocab"),
    };
    if let Some(inputs) = inputs.filter(|&i| i != table.n_features()) {
        return Err(data_err(match model {
            Model::Mlp(_) => format!("{} feature columns, but [model] sizes starts with {inputs} inputs", table.n_features()),
            _ => format!("{} feature columns, but {what} needs {inputs}", table.n_features()),
        }));
    }
    match cfg.loss.kind {
        LossKind::Mse if table.n_targets() != outputs => Err(data_err(match model {
            Model::Mlp(_) => format!("{} target columns, but [model] sizes ends with {outputs} outputs", table.n_targets()),
            _ => format!("{} target columns, but {what} has {outputs} outputs", table.n_targets()),
        })),
        LossKind::CrossEntropy => table.check_classes(path, outputs),
        _ => Ok(()),
    }
}
