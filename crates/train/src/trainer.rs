//! The training loop, PyTorch's order: zero grads → forward → loss → backward → step.
//! (Burn has no accumulated `.grad` to zero: each `backward()` returns fresh gradients.)
//!
//! Around it: validation after each epoch, early stopping, atomic checkpoints with
//! bit-exact resume, and a divergence guard that stops at the first non-finite loss or
//! gradient.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::optim::{GradientsAccumulator, GradientsParams, ModuleOptimizer};
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{Bytes, Device, Int, Tensor, TensorData};
use descent_model::{load_safetensors, save_safetensors, Model};
use descent_optim::penalty::Penalty;
use descent_optim::{clip_grad_norm, clip_grad_value, GroupKnobs, NormType};
use serde::Serialize;

use crate::batching::Batch;
use crate::checkpoint::{self, CheckpointState};
use crate::config::{DType, DeviceChoice, Interval, LossKind, ModelKind, Monitor, RunConfig};
use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use descent_optim::schedule::Scheduler;
use crate::data::Table;
use crate::device::make_device;
use crate::loss::{correct, data_loss, Targets};
use crate::metrics::{as_dtype, EpochRecord, MetricsWriter, StepRecord};
use crate::rng::Rng;
use crate::TrainError;

/// How to run a config.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Run folder: `metrics.jsonl`, `model.bpk`, `model.safetensors`, checkpoints.
    pub out_dir: PathBuf,
    /// Overrides the config's `device`.
    pub device: Option<DeviceChoice>,
    /// No progress output on stderr.
    pub quiet: bool,
    /// Continue the run in `out_dir` from its newest checkpoint.
    pub resume: bool,
}

/// What a finished run returns (the same numbers as `metrics.jsonl`).
#[derive(Debug, Clone)]
pub struct RunSummary {
    pub steps: Vec<StepRecord>,
    pub epochs: Vec<EpochRecord>,
    pub metrics_path: PathBuf,
    pub model_path: PathBuf,
    pub model: Model,
    /// text data: the unigram model's perplexity on the validation split (the baseline a
    /// char model's `valid_perplexity` is compared with).
    pub unigram_perplexity: Option<f64>,
    /// Set when early stopping ended the run before `epochs`.
    pub stopped_early: Option<u64>,
}

impl RunSummary {
    pub fn final_epoch_loss(&self) -> f64 {
        self.epochs.last().map(|e| e.train_loss).unwrap_or(f64::NAN)
    }
}

/// A data split on the device.
pub(crate) struct Split {
    x: Tensor<2>,
    y: Targets,
    rows: usize,
}

impl Split {
    pub(crate) fn new(table: &Table, loss: LossKind, device: &Device, f64_data: bool) -> Self {
        let (x, y) = table.to_tensors(device, f64_data);
        let y = match loss {
            LossKind::Mse => Targets::Values(y),
            LossKind::CrossEntropy => Targets::Classes(table.class_tensor(device)),
        };
        Split { x, y, rows: table.rows }
    }

    /// The batch's rows: the whole split, a slice for contiguous rows, a gather otherwise.
    pub(crate) fn batch(&self, batch: &Batch, device: &Device) -> (Tensor<2>, Targets) {
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
pub(crate) struct Prepared {
    pub(crate) device: Device,
    pub(crate) train: Table,
    pub(crate) valid: Option<Table>,
    pub(crate) model: Model,
    pub(crate) unigram_perplexity: Option<f64>,
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

pub(crate) fn prepare(cfg: &RunConfig, choice: DeviceChoice) -> Result<Prepared, TrainError> {
    let data = crate::data::load(&cfg.data, cfg.seed)?;
    let model_cfg = cfg
        .model
        .model_config(&data.shape)
        .map_err(|msg| TrainError::Config { path: data.train_path.clone(), msg })?;
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

/// Holds out `round(f·N)` rows chosen from `seed` (a stream separate from the data order);
/// both parts keep file order.
pub fn split(table: &Table, fraction: f64, seed: u64) -> (Table, Table) {
    let mut order: Vec<usize> = (0..table.rows).collect();
    Rng::new(seed ^ 0x5851_F42D_4C95_7F2D).shuffle(&mut order);
    let n_valid = ((table.rows as f64) * fraction).round() as usize;
    let mut valid: Vec<usize> = order[..n_valid].to_vec();
    let mut train: Vec<usize> = order[n_valid..].to_vec();
    valid.sort_unstable();
    train.sort_unstable();
    (table.subset(&train), table.subset(&valid))
}

/// Global L2 norm of all gradients (the `grad_norm` metric, and the divergence check).
struct GradNorm<'a> {
    grads: &'a GradientsParams,
    acc: Option<Tensor<1>>,
}

impl ModuleVisitor for GradNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(g) = self.grads.get::<D>(param.id) {
            let s = (g.clone() * g).sum();
            self.acc = Some(match self.acc.take() {
                Some(a) => a + s,
                None => s,
            });
        }
    }
}

fn grad_norm(model: &Model, grads: &GradientsParams) -> f64 {
    let mut v = GradNorm { grads, acc: None };
    model.visit(&mut v);
    v.acc.map(|s| s.into_scalar::<f64>().sqrt()).unwrap_or(0.0)
}

/// Mean data loss (and accuracy for classification) over a split, in chunks.
fn evaluate(model: &Model, split: &Split, device: &Device) -> (f64, Option<f64>) {
    const CHUNK: usize = 4096;
    let (mut loss_sum, mut hits) = (0.0, 0usize);
    let mut start = 0;
    while start < split.rows {
        let end = (start + CHUNK).min(split.rows);
        let (x, y) = split.batch(&Batch::Range(start, end), device);
        let out = model.forward(x);
        loss_sum += data_loss(out.clone(), &y).into_scalar::<f64>() * (end - start) as f64;
        if let Targets::Classes(c) = &y {
            hits += correct(out, c);
        }
        start = end;
    }
    let acc = matches!(split.y, Targets::Classes(_)).then(|| hits as f64 / split.rows as f64);
    (loss_sum / split.rows as f64, acc)
}

/// The config as the run saw it; a resume must match it.
#[derive(Serialize)]
struct RunIdentity<'a> {
    config: &'a RunConfig,
    device: DeviceChoice,
}

fn save_model_bpk(model: &Model) -> Result<Vec<u8>, TrainError> {
    let mut store = BurnpackStore::from_bytes(None).clear_metadata();
    model.save_into(&mut store).map_err(|e| TrainError::Output { path: "model.bpk".into(), msg: e.to_string() })?;
    let bytes = store.get_bytes().map_err(|e| TrainError::Output { path: "model.bpk".into(), msg: e.to_string() })?;
    Ok(bytes.to_vec())
}

fn load_model_bpk(model: Model, path: &Path) -> Result<Model, TrainError> {
    let bad = |msg: String| TrainError::Output { path: path.to_path_buf(), msg };
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read: {e}")))?;
    let mut store = BurnpackStore::from_bytes(Some(Bytes::from_bytes_vec(bytes)));
    let mut model = model;
    let r = model.load_from(&mut store).map_err(|e| bad(e.to_string()))?;
    if !r.errors.is_empty() || !r.missing.is_empty() {
        return Err(bad(format!("checkpoint does not fit the model: {r}")));
    }
    Ok(model)
}

/// Trains `cfg` and writes the run folder. On error nothing complete-looking is left behind.
pub fn train(cfg: &RunConfig, opts: &RunOptions) -> Result<RunSummary, TrainError> {
    let choice = opts.device.unwrap_or(cfg.device);
    let Prepared { device, train, valid, model, unigram_perplexity } = prepare(cfg, choice)?;
    let char_model = cfg.model.kind == ModelKind::CharRnn;
    if let (Some(p), false) = (unigram_perplexity, opts.quiet) {
        eprintln!("unigram baseline perplexity on the validation text: {p:.4}");
    }
    let optim_err = |msg: String| TrainError::Config { path: PathBuf::from("[optimizer]"), msg };
    let built = cfg.optimizer.config.build().map_err(|e| optim_err(e.to_string()))?;
    let mut optim = built.optimizer;
    let momentum_knob = built.momentum.clone();
    let config_err = |msg: String| TrainError::Config { path: PathBuf::from("[scheduler]"), msg };
    let build_schedule = |lr: f64| -> Result<Option<Scheduler>, TrainError> {
        match &cfg.scheduler {
            Some(s) => Ok(Some(
                s.schedule.build(lr, momentum_knob.as_ref().map(|m| m.get())).map_err(|e| config_err(e.to_string()))?,
            )),
            None => Ok(None),
        }
    };
    let mut scheduler = build_schedule(built.lr)?;
    // Parameter groups: each its own optimizer; a group with its own lr runs its own copy of
    // the schedule from that lr (torch keeps a base_lr per group).
    let paths = param_paths(&model);
    let mut groups: Vec<GroupRuntime> = Vec::new();
    for (i, g) in cfg.optimizer.groups.iter().enumerate() {
        let at = format!("[[optimizer.groups]] #{}", i + 1);
        let pg = descent_optim::param_group(&g.params).map_err(|e| optim_err(format!("{at}: {e}")))?;
        // Matched here against the network's own paths (`layers.0.weight`), then handed to
        // Burn by id: Burn's paths start with the `Model` variant (`Mlp.layers.0.weight`).
        let matched: Vec<ParamId> = paths.iter().filter(|(id, p)| pg.matches(id, Some(p.as_str()))).map(|(id, _)| *id).collect();
        if matched.is_empty() {
            let all: Vec<&str> = paths.iter().map(|(_, p)| p.as_str()).collect();
            return Err(optim_err(format!(
                "{at}: params = {:?} matches no parameter; the model's parameters are {}",
                g.params,
                all.join(", ")
            )));
        }
        let own_lr = g.overrides.contains_key("lr");
        let (o, knobs) = g.config.add_group(optim, burn::module::ParamGroup::from_ids(matched), own_lr).map_err(|e| optim_err(format!("{at}: {e}")))?;
        optim = o;
        let schedule = if own_lr { build_schedule(g.config.lr())? } else { None };
        groups.push(GroupRuntime { knobs, lr: g.config.lr(), schedule });
    }
    let clip = match (cfg.optimizer.clip_grad_norm, cfg.optimizer.clip_grad_value) {
        (Some(max_norm), _) => Clip::Norm(max_norm, cfg.optimizer.norm_type, cfg.optimizer.error_if_nonfinite),
        (None, Some(v)) => Clip::Value(v),
        (None, None) => Clip::None,
    };
    let interval = cfg.scheduler.as_ref().map(|s| s.interval).unwrap_or_default();
    let f32_run = cfg.dtype == DType::F32;
    let penalty = Penalty { l2: cfg.loss.l2, l1: cfg.loss.l1 };
    let run = &opts.out_dir;
    let identity = serde_json::to_vec_pretty(&RunIdentity { config: cfg, device: choice })
        .map_err(|e| TrainError::Output { path: run.clone(), msg: e.to_string() })?;

    // Where to start: fresh, or from the newest checkpoint of the run being resumed.
    let mut model = model;
    let mut state = CheckpointState { epoch: 0, step: 0, rng: cfg.seed, metrics_len: 0, early_best: None, early_bad_epochs: 0 };
    if opts.resume {
        let out_err = |msg: String| TrainError::Output { path: run.clone(), msg };
        if run.join("metrics.jsonl").exists() {
            return Err(out_err("this run is already complete (metrics.jsonl exists); nothing to resume".into()));
        }
        match std::fs::read(run.join("run.json")) {
            Ok(saved) if saved == identity => {}
            Ok(_) => return Err(out_err("the config differs from the one this run was started with (run.json); resume needs the same config".into())),
            Err(_) => return Err(out_err("not a descent run folder (no run.json); start it without --resume".into())),
        }
        if let Some((dir, saved)) = checkpoint::latest(run)? {
            model = load_model_bpk(model, &dir.join(checkpoint::MODEL))?;
            let p = dir.join(checkpoint::OPTIMIZER);
            let bytes = std::fs::read(&p).map_err(|e| TrainError::Output { path: p.clone(), msg: format!("cannot read: {e}") })?;
            optim = optim
                .from_bytes(Bytes::from_bytes_vec(bytes))
                .map_err(|e| TrainError::Output { path: p.clone(), msg: e.to_string() })?;
            if let Some(s) = scheduler.as_mut() {
                let p = dir.join(checkpoint::SCHEDULER);
                let bad = |msg: String| TrainError::Output { path: p.clone(), msg };
                let bytes = std::fs::read(&p).map_err(|e| bad(format!("cannot read: {e}")))?;
                let record = LrSchedulerRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| bad(e.to_string()))?;
                s.try_load_record(&record.record("base")).map_err(|e| bad(e.to_string()))?;
                for (i, g) in groups.iter_mut().enumerate() {
                    if let Some(gs) = g.schedule.as_mut() {
                        gs.try_load_record(&record.record(&format!("group{}", i + 1))).map_err(|e| bad(e.to_string()))?;
                    }
                }
            }
            state = saved;
        }
    } else {
        // A fresh run replaces whatever an earlier run left in the folder.
        for stale in ["metrics.jsonl", "metrics.jsonl.partial", "metrics.csv", "model.bpk", "model.safetensors"] {
            let _ = std::fs::remove_file(run.join(stale));
        }
        let _ = std::fs::remove_dir_all(checkpoint::checkpoints_dir(run));
    }
    std::fs::create_dir_all(run)
        .map_err(|e| TrainError::Output { path: run.clone(), msg: format!("cannot create run folder: {e}") })?;
    checkpoint::write_atomic(&run.join("run.json"), &identity)?;
    let mut writer = MetricsWriter::open(run, state.metrics_len)?;
    let (mut steps, mut epochs) = writer.replay()?;

    let train_split = Split::new(&train, cfg.loss.kind, &device, !f32_run);
    let valid_split = valid.as_ref().map(|v| Split::new(v, cfg.loss.kind, &device, !f32_run));
    let n = train.rows;
    let mut rng = Rng::new(state.rng);
    let mut step = state.step;
    let mut stopped_early = None;
    let progress = Progress::new(opts.quiet, cfg.epochs as u64);

    let result = (|mut model: Model| -> Result<Model, TrainError> {
        for epoch in state.epoch + 1..=cfg.epochs as u64 {
            let mut sum = 0.0;
            let batches = cfg.batching.steps(n, &mut rng);
            progress.start_epoch(epoch, batches.len() as u64);
            for micro in &batches {
                step += 1;
                // The lr (and cycled momentum) this step uses, as PyTorch's param_groups hold them.
                let lr = scheduler.as_ref().map(|s| s.lr()).unwrap_or(built.lr);
                let momentum = scheduler.as_ref().and_then(|s| s.momentum());
                if let Some(m) = momentum {
                    for knob in momentum_knob.iter().chain(groups.iter().filter_map(|g| g.knobs.momentum.as_ref())) {
                        knob.set(m);
                    }
                }
                for g in &groups {
                    if let Some(knob) = &g.knobs.lr {
                        knob.set(g.schedule.as_ref().map(|s| s.lr()).unwrap_or(g.lr));
                    }
                }
                // Gradient accumulation: micro-batch i's mean loss weighted by n_i/Σn, the
                // penalty once with m = Σn, so the step is the union batch's step.
                let total: usize = micro.iter().map(Batch::len).sum();
                let mut value = 0.0;
                let mut accumulated: Option<GradientsAccumulator<Model>> = None;
                let mut single = None;
                for (i, batch) in micro.iter().enumerate() {
                    let (x, y) = train_split.batch(batch, &device);
                    let (out, own_penalty) = model.forward_with_penalty(x);
                    let mut loss = data_loss(out, &y);
                    // MF's embedding L2 is a per-sample mean like the data loss, so it takes
                    // the same micro-batch weight.
                    if let Some(r) = own_penalty {
                        loss = loss + r;
                    }
                    if micro.len() > 1 {
                        loss = loss.mul_scalar(batch.len() as f64 / total as f64);
                    }
                    if i == 0 {
                        if let Some(p) = penalty.term(&model, total) {
                            loss = loss + p;
                        }
                    }
                    value += loss.clone().into_scalar::<f64>();
                    let grads = GradientsParams::from_grads(loss.backward(), &model);
                    if micro.len() == 1 {
                        single = Some(grads);
                    } else {
                        accumulated.get_or_insert_with(GradientsAccumulator::new).accumulate(&model, grads);
                    }
                }
                let mut grads = match (single, accumulated) {
                    (Some(g), _) => g,
                    (None, Some(mut a)) => a.grads(),
                    (None, None) => GradientsParams::new(),
                };
                // The norm before clipping: torch's clip_grad_norm_ return value.
                let norm = match clip {
                    Clip::Norm(max_norm, norm_type, error_if_nonfinite) => {
                        clip_grad_norm(&model, &mut grads, max_norm, norm_type, error_if_nonfinite).map_err(|e| {
                            TrainError::Diverged(format!("at step {step} (epoch {epoch}): {e} — try a lower lr (this step used {lr})"))
                        })?
                    }
                    Clip::Value(v) => {
                        let norm = grad_norm(&model, &grads);
                        clip_grad_value(&model, &mut grads, v);
                        norm
                    }
                    Clip::None => grad_norm(&model, &grads),
                };
                if !value.is_finite() || !norm.is_finite() {
                    let what = if value.is_finite() { format!("the gradient norm became {norm}") } else { format!("the loss became {value}") };
                    return Err(TrainError::Diverged(format!(
                        "{what} at step {step} (epoch {epoch}): the run diverged — try a lower lr (this step used {lr}); the last good checkpoint, if any, is intact"
                    )));
                }
                model = optim.step(lr, model, grads);
                if interval == Interval::Step {
                    if let Some(s) = scheduler.as_mut() {
                        s.try_step().map_err(|e| config_err(format!("at step {step}: {e}")))?;
                    }
                    for gs in groups.iter_mut().filter_map(|g| g.schedule.as_mut()) {
                        gs.try_step().map_err(|e| config_err(format!("at step {step}: {e}")))?;
                    }
                }
                let record = StepRecord { step, epoch, lr, loss: as_dtype(value, f32_run), momentum, grad_norm: Some(as_dtype(norm, f32_run)) };
                writer.write(&record)?;
                progress.step(record.loss, lr);
                steps.push(record);
                sum += value;
            }
            let (valid_loss, valid_accuracy) = match &valid_split {
                Some(v) => {
                    let (l, a) = evaluate(&model, v, &device);
                    (Some(as_dtype(l, f32_run)), a)
                }
                None => (None, None),
            };
            let train_loss = sum / batches.len() as f64;
            if let (Some(s), Interval::Epoch) = (scheduler.as_mut(), interval) {
                let metric = valid_loss.unwrap_or(train_loss);
                for s in std::iter::once(s).chain(groups.iter_mut().filter_map(|g| g.schedule.as_mut())) {
                    if s.needs_metric() {
                        // ReduceLROnPlateau watches the validation loss when there is one.
                        s.step_metric(metric);
                    } else {
                        s.try_step().map_err(|e| config_err(format!("after epoch {epoch}: {e}")))?;
                    }
                }
            }
            let rec = EpochRecord {
                epoch,
                train_loss: as_dtype(train_loss, f32_run),
                lr: scheduler.as_ref().map(|s| s.lr()).unwrap_or(built.lr),
                steps: batches.len() as u64,
                valid_loss,
                valid_accuracy,
                valid_perplexity: valid_loss.filter(|_| char_model).map(|l| as_dtype(l.exp(), f32_run)),
            };
            writer.write(&rec)?;
            progress.end_epoch(&rec, cfg.epochs as u64);

            let mut stop = false;
            if let Some(es) = &cfg.early_stopping {
                let value = match es.monitor {
                    Monitor::ValidLoss => rec.valid_loss.unwrap_or(f64::NAN),
                    Monitor::TrainLoss => rec.train_loss,
                };
                let improved = state.early_best.is_none_or(|best| value < best - es.min_delta);
                if improved {
                    state.early_best = Some(value);
                    state.early_bad_epochs = 0;
                    checkpoint::write_atomic(&run.join("best.bpk"), &save_model_bpk(&model)?)?;
                } else {
                    state.early_bad_epochs += 1;
                    stop = state.early_bad_epochs >= es.patience;
                }
            }
            epochs.push(rec);
            if let Some(c) = &cfg.checkpoint {
                if epoch % c.every_epochs as u64 == 0 && epoch < cfg.epochs as u64 && !stop {
                    state.epoch = epoch;
                    state.step = step;
                    state.rng = rng.state();
                    state.metrics_len = writer.sync()?;
                    let mut files = vec![
                        (checkpoint::MODEL, save_model_bpk(&model)?),
                        (checkpoint::OPTIMIZER, optim_bytes(&optim, run)?),
                    ];
                    if let Some(s) = &scheduler {
                        let mut record = LrSchedulerRecord::new().with_record("base", LrScheduler::to_record(s));
                        for (i, g) in groups.iter().enumerate() {
                            if let Some(gs) = &g.schedule {
                                record = record.with_record(&format!("group{}", i + 1), LrScheduler::to_record(gs));
                            }
                        }
                        let bytes = record.into_bytes().map_err(|e| TrainError::Output {
                            path: run.join(checkpoint::SCHEDULER),
                            msg: e.to_string(),
                        })?;
                        files.push((checkpoint::SCHEDULER, bytes.to_vec()));
                    }
                    checkpoint::save(run, &files, &state, c.keep_last)?;
                }
            }
            if stop {
                stopped_early = Some(epoch);
                break;
            }
        }
        Ok(model)
    })(model);
    progress.finish();
    let model = match result {
        Ok(model) => model,
        Err(e) => {
            // Keep `metrics.jsonl.partial` (what happened before the failure) but never a
            // complete-looking `metrics.jsonl`.
            let _ = writer.sync();
            return Err(e);
        }
    };
    let model_path = run.join("model.bpk");
    checkpoint::write_atomic(&model_path, &save_model_bpk(&model)?)?;
    save_safetensors(&model, &run.join("model.safetensors"))?;
    crate::metrics::write_csv(&run.join("metrics.csv"), &epochs)?;
    let metrics_path = writer.finish()?;
    Ok(RunSummary { steps, epochs, metrics_path, model_path, model, unigram_perplexity, stopped_early })
}

/// A parameter group while training: its knobs, its configured lr and, when it has its own
/// lr and the run a schedule, its copy of the schedule.
struct GroupRuntime {
    knobs: GroupKnobs,
    lr: f64,
    schedule: Option<Scheduler>,
}

#[derive(Clone, Copy)]
enum Clip {
    None,
    /// max_norm, norm_type, error_if_nonfinite
    Norm(f64, NormType, bool),
    Value(f64),
}

/// Every float parameter's id and path (`layers.0.weight`), as parameter groups see them.
fn param_paths(model: &Model) -> Vec<(ParamId, String)> {
    // The entered module names joined by dots, as Burn builds parameter paths.
    struct Paths {
        stack: Vec<String>,
        out: Vec<(ParamId, String)>,
    }
    impl ModuleVisitor for Paths {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.stack.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.stack.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.out.push((param.id, self.stack.join(".")));
        }
    }
    let mut v = Paths { stack: Vec::new(), out: Vec::new() };
    model.visit(&mut v);
    // Drop the leading `Model` variant (`Mlp.`): users name the network's own paths.
    v.out
        .into_iter()
        .map(|(id, p)| (id, p.split_once('.').map(|(_, rest)| rest.to_string()).unwrap_or(p)))
        .collect()
}

fn optim_bytes(optim: &ModuleOptimizer, run: &Path) -> Result<Vec<u8>, TrainError> {
    optim
        .into_bytes()
        .map(|b| b.to_vec())
        .map_err(|e| TrainError::Output { path: run.join(checkpoint::OPTIMIZER), msg: e.to_string() })
}

/// An indicatif bar per epoch on a terminal; one plain line per epoch otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
}

impl Progress {
    fn new(quiet: bool, _epochs: u64) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {per_sec} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar
        });
        Self { bar, quiet }
    }
    fn start_epoch(&self, epoch: u64, steps: u64) {
        if let Some(b) = &self.bar {
            b.reset();
            b.set_length(steps);
            b.set_prefix(format!("epoch {epoch}"));
        }
    }
    fn step(&self, loss: f64, lr: f64) {
        if let Some(b) = &self.bar {
            b.inc(1);
            if b.position() % 16 == 1 || b.position() == b.length().unwrap_or(0) {
                b.set_message(format!("loss {loss:.4e} lr {lr:.3e}"));
            }
        }
    }
    fn end_epoch(&self, rec: &EpochRecord, epochs: u64) {
        let mut line = format!("epoch {:>4}/{epochs}  train_loss {:.6e}  lr {:.3e}", rec.epoch, rec.train_loss, rec.lr);
        if let Some(v) = rec.valid_loss {
            line.push_str(&format!("  valid_loss {v:.6e}"));
        }
        if let Some(a) = rec.valid_accuracy {
            line.push_str(&format!("  valid_acc {:.2}%", a * 100.0));
        }
        if let Some(p) = rec.valid_perplexity {
            line.push_str(&format!("  valid_ppl {p:.4}"));
        }
        match &self.bar {
            Some(b) => b.println(line),
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Default run folder for a config: `runs/<config file stem>`.
pub fn default_out_dir(config: &Path) -> PathBuf {
    let stem = config.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "run".into());
    PathBuf::from("runs").join(stem)
}
