//! descent's optimizer and learning-rate schedule inside burn-train's `Learner`.
//!
//! ```sh
//! cargo run --example learner --features learner
//! ```
//!
//! The seed task (`fixtures/seed/train.csv`, the MLP 10 → 5 → 1 from PyTorch's initial
//! weights) trained by `SupervisedTraining` with burn's dataloader (mini-batches of 32,
//! shuffled), `torch.optim.SGD(lr, momentum=0.9, nesterov=True)` from descent and
//! `OneCycleLR(max_lr=0.1)` from descent, which also cycles the momentum (0.95 → 0.85 → 0.95)
//! through [`SchedulerConfig::build_for`]. Rows 0..224 train, rows 224..256 validate.
//! Prints one line per epoch: mean train loss, validation loss, the lr of the epoch's last step.
//!
//! It also keeps an EMA of the weights (`AveragedModel` with `get_ema_multi_avg_fn(0.8)`),
//! updated after every epoch by descent's [`AveragingCheckpointer`] in burn-train's model
//! checkpointer slot (burn-train has no hook after an optimizer step; see
//! `descent::train::learner_averaging` for what it does not allow), and prints the validation
//! loss of the final weights and of their average.

use std::path::Path;

use anyhow::{bail, Context};
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::tensor::Device;
use burn::train::metric::{LearningRateMetric, LossMetric};
use burn::module::Module;
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::{Learner, SupervisedTraining};
use descent::model::{load_safetensors, Mlp, MlpConfig};
use descent::optim::averaging::AvgFn;
use descent::optim::schedule::OneCycleConfig;
use descent::optim::{OptimizerConfig, SchedulerConfig, SgdConfig};
use descent::train::data::load_csv;
use descent::train::learner::{QuietRenderer, RecordingLogger, Regressor, Row, RowBatcher};
use descent::train::learner_averaging::{AveragingCheckpointer, Discard};
use descent::train::loss::mse;

const EPOCHS: usize = 30;
const BATCH: usize = 32;
const TRAIN_ROWS: usize = 224;

fn main() -> anyhow::Result<()> {
    let seed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed");
    let table = load_csv(&seed_dir.join("train.csv"), &["y".to_string()])?;
    let rows = table.rows();
    let (train, valid) = rows.split_at(TRAIN_ROWS);

    let device = Device::flex().autodiff();
    device.seed(0);
    let mlp = load_safetensors(MlpConfig::seed().init(&device)?, &seed_dir.join("init.safetensors"))?;

    let train_loader =
        DataLoaderBuilder::new(RowBatcher).batch_size(BATCH).shuffle(0).build(InMemDataset::new(train.to_vec()));
    let valid_loader = DataLoaderBuilder::new(RowBatcher).batch_size(BATCH).build(InMemDataset::new(valid.to_vec()));

    // descent's optimizer (a burn ModuleOptimizer) and its schedule (a burn LrScheduler).
    let optimizer = OptimizerConfig::Sgd(SgdConfig::new(0.05).with_momentum(0.9).with_nesterov(true)).build()?;
    let steps = EPOCHS * TRAIN_ROWS.div_ceil(BATCH);
    let schedule = SchedulerConfig::OneCycle(OneCycleConfig::new(0.1, steps as i64));
    let scheduler = schedule.build_for(&optimizer)?;

    // The EMA of the weights after each epoch (burn-train hands the model to its model
    // checkpointer; a strategy keeping the last checkpoint saves every epoch).
    let ema = AveragingCheckpointer::new(Regressor::new(mlp.clone()), AvgFn::ema(0.8)?);

    let logger = RecordingLogger::new();
    let dir = std::env::temp_dir().join("descent-learner-example");
    let result = SupervisedTraining::new(&dir, train_loader, valid_loader)
        .num_epochs(EPOCHS)
        .metric_train_numeric(LossMetric::new())
        .metric_valid_numeric(LossMetric::new())
        .metric_train_numeric(LearningRateMetric::new())
        .with_metric_logger(logger.clone())
        .renderer(Box::new(QuietRenderer))
        .with_application_logger(None)
        .with_custom_checkpointers(ema.clone(), Discard, Discard)
        .with_checkpointing_strategy(KeepLastNCheckpoints::new(1))
        .launch(Learner::new(Regressor::new(mlp), optimizer.optimizer, scheduler));
    if let Some(error) = result.error {
        bail!("burn-train stopped on an error: {error}");
    }

    let train_loss = logger.per_epoch("Loss", "train");
    let valid_loss = logger.per_epoch("Loss", "valid");
    let lrs = logger.per_iteration("Learning Rate", "train");
    let per_epoch = lrs.len() / EPOCHS.max(1);
    for epoch in 0..EPOCHS {
        let lr = lrs.get((epoch + 1) * per_epoch - 1).context("missing lr entries")?;
        println!(
            "epoch {:>2}  train_loss {:.5}  valid_loss {:.5}  lr {lr:.5}",
            epoch + 1,
            train_loss.get(epoch).context("missing train loss")?,
            valid_loss.get(epoch).context("missing valid loss")?,
        );
    }
    println!("{} optimizer steps; predicting the mean scores var(y) = 1.413", lrs.len());
    let averaged = ema.averaged();
    println!(
        "validation MSE: final weights {:.5}, EMA (decay 0.8) of {} epochs {:.5}",
        valid_mse(&result.model.mlp, valid),
        averaged.n_averaged(),
        valid_mse(&averaged.module().mlp, valid)
    );
    Ok(())
}

/// MSE of `mlp` on `rows`, without autodiff.
fn valid_mse(mlp: &Mlp, rows: &[Row]) -> f64 {
    let device = Device::flex();
    let batch = RowBatcher.batch(rows.to_vec(), &device);
    mse(mlp.clone().valid().fork(&device).forward(batch.features), batch.targets).into_scalar::<f64>()
}
