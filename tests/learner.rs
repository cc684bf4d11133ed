//! descent inside burn-train's `Learner` (feature `learner`):
//!
//! ```sh
//! cargo test -p descent --features learner --test learner
//! ```
//!
//! - the lr (and cycled momentum) that reaches descent's optimizer on every iteration is the
//!   schedule's own sequence (`descent_optim::table`), seen both by the optimizer and in
//!   burn-train's logged "Learning Rate" metric, and training lowers the loss;
//! - descent's SGD driven by the Learner gives the same parameters as descent's SGD in a
//!   hand-written loop over the same batches;
//! - optimizers of two kinds in one Learner (Muon on the weight matrices, AdamW by a
//!   parameter group on the biases) train the seed task;
//! - an EMA of the Learner's weights after each epoch (kept by a model checkpointer) equals
//!   torch's EMA formula applied to the hand-written loop's epoch weights.

use std::path::Path;
use std::sync::{Arc, Mutex};

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::module::Module;
use burn::optim::{GradientsParams, LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor};
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::metric::{LearningRateMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining};
use descent::model::{load_safetensors, Mlp, MlpConfig};
use descent::optim::averaging::AvgFn;
use descent::optim::schedule::{CosineConfig, OneCycleConfig};
use descent::optim::{
    param_group, table as lr_table, AdamWConfig, HyperParam, MuonConfig, OptimizerConfig, Scheduler, SchedulerConfig,
    SgdConfig,
};
use descent::train::data::{load_csv, Table};
use descent::train::learner::{QuietRenderer, RecordingLogger, Regressor, RowBatch, RowBatcher};
use descent::train::learner_averaging::{AveragingCheckpointer, Discard};
use descent::train::loss::mse;

const BATCH: usize = 32;

/// `(lr, momentum)` at every per-tensor optimizer `step` call, in call order.
type Seen = Arc<Mutex<Vec<(f64, Option<f64>)>>>;

/// descent's optimizer, plus a record of what each `step` call was given.
#[derive(Clone)]
struct Recording<O> {
    inner: O,
    momentum: Option<HyperParam>,
    seen: Seen,
}

impl<O: Optimizer> Optimizer for Recording<O> {
    type State<const D: usize> = O::State<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let momentum = self.momentum.as_ref().map(HyperParam::get);
        self.seen.lock().expect("recording lock").push((lr, momentum));
        self.inner.step(lr, tensor, grad, state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        O::to_device(state, device)
    }
}

fn seed_table() -> Table {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed/train.csv");
    load_csv(&path, &["y".to_string()]).expect("fixtures/seed/train.csv loads")
}

fn seed_mlp(device: &Device) -> Mlp {
    let init = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed/init.safetensors");
    let mlp = MlpConfig::seed().init(device).expect("seed config is valid");
    load_safetensors(mlp, &init).expect("fixtures/seed/init.safetensors loads")
}

/// MSE of `mlp` on the whole table (no autodiff).
fn full_loss(mlp: &Mlp, table: &Table) -> f64 {
    let device = Device::flex();
    let mlp = mlp.clone().valid().fork(&device);
    let (x, y) = table.to_tensors(&device, false);
    mse(mlp.forward(x), y).into_scalar::<f64>()
}

fn params(mlp: &Mlp) -> Vec<f32> {
    mlp.layers
        .iter()
        .flat_map(|l| {
            let mut v = l.weight.val().into_data().try_to_vec::<f32>().expect("f32 weights");
            v.extend(l.bias.as_ref().expect("bias").val().into_data().try_to_vec::<f32>().expect("f32 bias"));
            v
        })
        .collect()
}

#[test]
fn learner_feeds_descents_schedule_to_descents_optimizer() {
    let table = seed_table();
    let device = Device::flex().autodiff();
    let mlp = seed_mlp(&device);
    let initial_loss = full_loss(&mlp, &table);

    const EPOCHS: usize = 8;
    let steps_per_epoch = table.rows.div_ceil(BATCH); // 256 rows: 8
    let steps = EPOCHS * steps_per_epoch;

    // SGD(lr=0.05, momentum=0.9) with OneCycleLR(max_lr=0.1, total_steps=64): the schedule
    // sets both lr and momentum each step.
    let sgd = SgdConfig::new(0.05).with_momentum(0.9).build().expect("valid SGD");
    let knob = sgd.momentum();
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let optimizer: ModuleOptimizer =
        Recording { inner: sgd, momentum: Some(knob.clone()), seen: seen.clone() }.into();
    let schedule = SchedulerConfig::OneCycle(OneCycleConfig::new(0.1, steps as i64));
    let scheduler = schedule.build(0.05, Some(0.9)).expect("valid schedule").bind_momentum(Some(knob));
    let expected = lr_table(&schedule, 0.05, Some(0.9), steps).expect("schedule table");

    let loader = |shuffle: bool| {
        let b = DataLoaderBuilder::new(RowBatcher).batch_size(BATCH);
        let b = if shuffle { b.shuffle(7) } else { b };
        b.build(InMemDataset::new(table.rows()))
    };
    let logger = RecordingLogger::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let result = SupervisedTraining::new(dir.path(), loader(true), loader(false))
        .num_epochs(EPOCHS)
        .metric_train_numeric(LossMetric::new())
        .metric_train_numeric(LearningRateMetric::new())
        .with_metric_logger(logger.clone())
        .renderer(Box::new(QuietRenderer))
        .with_application_logger(None)
        .launch(Learner::new(Regressor::new(mlp), optimizer, scheduler));
    assert!(result.error.is_none(), "training failed: {:?}", result.error);

    // The optimizer is called once per parameter tensor (4: two weights, two biases) per step.
    let seen = seen.lock().expect("recording lock").clone();
    assert_eq!(seen.len(), steps * 4, "optimizer calls");
    for (k, (call, &(_, lr, momentum))) in seen.chunks(4).zip(&expected).enumerate() {
        for &(got_lr, got_m) in call {
            assert_eq!(got_lr, lr, "step {k}: lr seen by the optimizer");
            assert_eq!(got_m, momentum, "step {k}: momentum seen by the optimizer");
        }
    }
    // A real schedule, not a constant: 0.004 at step 0, 0.1 at the peak, ~4e-7 at the end.
    let lrs: Vec<f64> = expected.iter().map(|e| e.1).collect();
    assert!((lrs[0] - 0.004).abs() < 1e-12, "{}", lrs[0]);
    assert!((lrs.iter().cloned().fold(0.0, f64::max) - 0.1).abs() < 1e-3);
    assert!(lrs[steps - 1] < 1e-5, "{}", lrs[steps - 1]);
    assert_eq!(expected[0].2, Some(0.95));

    // burn-train's own "Learning Rate" metric logged the same values, iteration by iteration.
    assert_eq!(logger.per_iteration("Learning Rate", "train"), lrs);

    // Training lowered the loss: burn-train's epoch means, and the whole-set MSE.
    let epoch_loss = logger.per_epoch("Loss", "train");
    assert_eq!(epoch_loss.len(), EPOCHS);
    let final_loss = full_loss(&result.model.mlp, &table);
    println!("lrs seen: {:?}", &lrs);
    println!("train loss per epoch: {epoch_loss:?}; whole-set MSE {initial_loss:.5} -> {final_loss:.5}");
    assert!(epoch_loss[EPOCHS - 1] < 0.5 * epoch_loss[0], "{epoch_loss:?}");
    assert!(final_loss < 0.5 * initial_loss, "{initial_loss} -> {final_loss}");
}

#[test]
fn learner_matches_a_hand_written_loop() {
    let table = seed_table();
    let device = Device::flex().autodiff();
    const EPOCHS: usize = 2;
    let steps = EPOCHS * table.rows.div_ceil(BATCH);

    let config = SgdConfig::new(0.05).with_momentum(0.9).with_nesterov(true).with_weight_decay(1e-3);
    let schedule = SchedulerConfig::Cosine(CosineConfig::new(steps));
    let lrs: Vec<f64> = lr_table(&schedule, 0.05, None, steps).expect("schedule").iter().map(|e| e.1).collect();

    // burn-train: file order (no shuffle), descent's SGD and cosine schedule.
    let loader = || DataLoaderBuilder::new(RowBatcher).batch_size(BATCH).build(InMemDataset::new(table.rows()));
    let dir = tempfile::tempdir().expect("temp dir");
    let result = SupervisedTraining::new(dir.path(), loader(), loader())
        .num_epochs(EPOCHS)
        .renderer(Box::new(QuietRenderer))
        .with_metric_logger(RecordingLogger::new())
        .with_application_logger(None)
        .launch(Learner::new(
            Regressor::new(seed_mlp(&device)),
            config.init().expect("valid SGD"),
            schedule.build(0.05, None).expect("valid schedule"),
        ));
    assert!(result.error.is_none(), "training failed: {:?}", result.error);

    // By hand: the same batches in the same order, the same optimizer and lrs.
    let mut model = seed_mlp(&device);
    let mut optim = config.init().expect("valid SGD");
    let rows = table.rows();
    let mut k = 0;
    for _ in 0..EPOCHS {
        for chunk in rows.chunks(BATCH) {
            let batch: RowBatch = burn::data::dataloader::batcher::Batcher::batch(&RowBatcher, chunk.to_vec(), &device);
            let loss = mse(model.forward(batch.features), batch.targets);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lrs[k], model, grads);
            k += 1;
        }
    }
    assert_eq!(k, steps);

    let (a, b) = (params(&result.model.mlp), params(&model));
    let initial = params(&seed_mlp(&device));
    let moved = a.iter().zip(&initial).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    println!("{} parameters; moved up to {moved:.4} from init; Learner vs hand loop max |Δ| = {diff:e}", a.len());
    assert_eq!(a.len(), 61);
    assert!(moved > 1e-2, "training moved the parameters: {moved}");
    assert!(diff <= 1e-6, "Learner and hand-written loop differ by {diff}");
}

#[test]
fn learner_runs_muon_with_an_adamw_group_for_the_biases() {
    let table = seed_table();
    let device = Device::flex().autodiff();
    let mlp = seed_mlp(&device);
    let initial_loss = full_loss(&mlp, &table);
    const EPOCHS: usize = 8;
    let steps = EPOCHS * table.rows.div_ceil(BATCH);

    // torch: Muon(weights, lr=0.02) and AdamW(biases, lr=0.01, weight_decay=0) side by side.
    let muon = OptimizerConfig::Muon(MuonConfig::new(0.02)).build().expect("valid Muon");
    let adamw = OptimizerConfig::AdamW(AdamWConfig::new(0.01).with_weight_decay(0.0));
    let biases = param_group("bias$").expect("valid regex");
    let (optimizer, knobs) = adamw.add_group(muon.optimizer, biases, true).expect("valid AdamW");
    assert_eq!(knobs.lr.expect("the group's own lr").get(), 0.01);
    let schedule = SchedulerConfig::Cosine(CosineConfig::new(steps));

    let loader = || DataLoaderBuilder::new(RowBatcher).batch_size(BATCH).build(InMemDataset::new(table.rows()));
    let dir = tempfile::tempdir().expect("temp dir");
    let result = SupervisedTraining::new(dir.path(), loader(), loader())
        .num_epochs(EPOCHS)
        .renderer(Box::new(QuietRenderer))
        .with_metric_logger(RecordingLogger::new())
        .with_application_logger(None)
        .launch(Learner::new(Regressor::new(mlp), optimizer, schedule.build(0.02, None).expect("valid schedule")));
    // Muon panics on a 1-D tensor: finishing proves the biases went to AdamW.
    assert!(result.error.is_none(), "training failed: {:?}", result.error);
    let final_loss = full_loss(&result.model.mlp, &table);
    println!("Muon + AdamW in the Learner: whole-set MSE {initial_loss:.5} -> {final_loss:.5}");
    // Measured: 1.3366 -> 0.4014 (a cosine schedule to zero over 64 steps).
    assert!(final_loss < 0.5 * initial_loss, "{initial_loss} -> {final_loss}");
}

/// An EMA (decay 0.5) of the Learner's model after each epoch, kept by a model checkpointer
/// ([`AveragingCheckpointer`]; burn-train has no per-step hook): it equals torch's EMA
/// formula applied to the weights after each epoch of the same training by hand.
#[test]
fn learner_checkpointer_keeps_an_ema_of_the_epoch_weights() {
    let table = seed_table();
    let device = Device::flex().autodiff();
    const EPOCHS: usize = 3;
    let config = SgdConfig::new(0.05).with_momentum(0.9);
    let loader = || DataLoaderBuilder::new(RowBatcher).batch_size(BATCH).build(InMemDataset::new(table.rows()));

    let avg = AveragingCheckpointer::new(Regressor::new(seed_mlp(&device)), AvgFn::ema(0.5).expect("valid decay"));
    let dir = tempfile::tempdir().expect("temp dir");
    let result = SupervisedTraining::new(dir.path(), loader(), loader())
        .num_epochs(EPOCHS)
        .renderer(Box::new(QuietRenderer))
        .with_metric_logger(RecordingLogger::new())
        .with_application_logger(None)
        .with_custom_checkpointers(avg.clone(), Discard, Discard)
        .with_checkpointing_strategy(KeepLastNCheckpoints::new(1))
        .launch(Learner::new(Regressor::new(seed_mlp(&device)), config.init().expect("valid SGD"), Scheduler::lambda(0.05, |_| 1.0)));
    assert!(result.error.is_none(), "training failed: {:?}", result.error);
    let averaged = avg.averaged();
    assert_eq!(averaged.n_averaged(), EPOCHS as u64);

    // By hand: the weights after each epoch, and torch's EMA of them (lerp with weight 0.5:
    // θ − (θ − avg)·0.5), in f64.
    let mut model = seed_mlp(&device);
    let mut optim = config.init().expect("valid SGD");
    let mut ema: Option<Vec<f64>> = None;
    for _ in 0..EPOCHS {
        for chunk in table.rows().chunks(BATCH) {
            let batch: RowBatch = burn::data::dataloader::batcher::Batcher::batch(&RowBatcher, chunk.to_vec(), &device);
            let loss = mse(model.forward(batch.features), batch.targets);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(0.05, model, grads);
        }
        let theta: Vec<f64> = params(&model).iter().map(|&v| v as f64).collect();
        ema = Some(match ema {
            None => theta,
            Some(avg) => theta.iter().zip(&avg).map(|(t, a)| t - (t - a) * 0.5).collect(),
        });
    }
    let want = ema.expect("epochs ran");
    let got = params(&averaged.module().mlp);
    let last = params(&result.model.mlp);
    let diff = got.iter().zip(&want).map(|(g, w)| (*g as f64 - w).abs()).fold(0.0, f64::max);
    let lag = got.iter().zip(&last).map(|(g, l)| (g - l).abs()).fold(0.0f32, f32::max);
    println!("EMA of {EPOCHS} epochs: max |Δ| from the hand-applied formula {diff:e}; differs from the final weights by up to {lag:.4}");
    assert!(diff <= 1e-5, "Learner EMA vs hand EMA: {diff}");
    assert!(lag > 1e-3, "the average is not just the final model: {lag}");
}
