//! Data-parallel training with descent's optimizer: the path when one device is not enough.
//!
//! ```sh
//! cargo run --example ddp --features learner           # two CPU workers, burn-train's multi-device strategy
//! cargo run --example ddp --features learner -- --ddp  # burn-train's DDP on the same two CPU devices
//! ```
//!
//! descent's optimizers are plain `burn::optim::Optimizer`s, so every execution strategy of
//! burn-train 0.22.1 (`burn::train::ExecutionStrategy`) runs them unchanged; only the strategy
//! line below changes:
//!
//! - `ExecutionStrategy::multi(devices, MultiDeviceOptim::OptimMainDevice)` — one worker
//!   thread per device runs forward and backward on its own slice of the data (burn's
//!   `split_dataloader` gives each device a contiguous share); the gradients are moved to the
//!   first device and **summed** (`GradientsAccumulator`), and descent's optimizer takes one step
//!   there. One step therefore sees `devices × batch` samples, with the sum of the per-device
//!   mean gradients: divide the lr by the number of devices to keep a batch-mean step.
//!   `MultiDeviceOptim::OptimSharded` instead steps each parameter on the device that holds it.
//! - `ExecutionStrategy::ddp(devices, DistributedConfig { all_reduce_op: ReduceOperation::Mean })`
//!   — distributed data parallel: every device keeps a model replica and an optimizer, and the
//!   gradients are all-reduced (mean) between them during the backward pass. In burn 0.22.1 this
//!   needs a backend with collective operations, which today means CUDA (`Device::cuda(i)`),
//!   so it cannot run on two CPU devices:
//!   - `ExecutionStrategy::ddp` starts a communication server at once
//!     (`DistributedContext::init`, burn-tensor-0.22.1/src/tensor/distributed.rs:30-37), and
//!     burn-dispatch-0.22.1/src/ops/distributed.rs:179-184 only dispatches that to backends
//!     the catalog marks distributed; any other device panics there (line 182, the macro's
//!     fallback arm at line 66): "Distributed operations are not supported for device
//!     Flex(Cpu)".
//!   - burn-backend-extension-0.22.1/src/catalog.rs:31-39 marks Flex and NdArray
//!     `distributed: false`; their `DistributedOps` impls are the empty defaults
//!     (burn-flex-0.22.1/src/ops/transaction.rs:10-11, burn-ndarray-0.22.1/src/ops/
//!     transaction.rs:7-8) whose `all_reduce` has no implementation (it panics)
//!     (burn-backend-0.22.1/src/backend/distributed/ops.rs:121).
//!   - The CubeCL entry (catalog.rs:19-27) is marked distributed for every cubecl runtime, but
//!     its comment says only CUDA implements `all_reduce`; a wgpu or CubeCL-CPU device panics
//!     inside cubecl.
//!   - Flex and NdArray have one device each (`to_id` is always `(0, 0)`,
//!     burn-flex-0.22.1/src/backend.rs:39-41), so two "CPU devices" are one to a collective.
//!
//!   `--ddp` builds that strategy on the two Flex devices and prints burn's error (exit code 1);
//!   on a multi-GPU CUDA build, pass `Device::cuda(0)`, `Device::cuda(1)` and it trains. On the
//!   CPU, the multi-device strategy above is the data-parallel path that runs.
//!
//! The task is the seed regression (`fixtures/seed/train.csv`, MLP 10 → 5 → 1 from PyTorch's
//! initial weights), with descent's `SGD(momentum=0.9, nesterov=True)` and cosine schedule.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use anyhow::{bail, Context};
use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::InMemDataset;
use burn::tensor::distributed::{DistributedConfig, ReduceOperation};
use burn::tensor::Device;
use burn::train::metric::LossMetric;
use burn::train::{ExecutionStrategy, Learner, MultiDeviceOptim, SupervisedTraining};
use descent::model::{load_safetensors, MlpConfig};
use descent::optim::schedule::CosineConfig;
use descent::optim::{SchedulerConfig, SgdConfig};
use descent::train::data::load_csv;
use descent::train::learner::{QuietRenderer, RecordingLogger, Regressor, RowBatcher};

const EPOCHS: usize = 20;
/// Per device: one optimizer step sees 2 × 16 = 32 samples.
const BATCH_PER_DEVICE: usize = 16;
const DEVICES: usize = 2;

fn main() -> anyhow::Result<()> {
    let ddp = std::env::args().any(|a| a == "--ddp");
    let seed_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seed");
    let table = load_csv(&seed_dir.join("train.csv"), &["y".to_string()])?;
    let rows = table.rows();
    let (train, valid) = rows.split_at(224);

    let devices: Vec<Device> = (0..DEVICES).map(|_| Device::flex()).collect();
    let main_device = devices[0].clone().autodiff();
    main_device.seed(0);
    let mlp = load_safetensors(MlpConfig::seed().init(&main_device)?, &seed_dir.join("init.safetensors"))?;

    let train_loader = DataLoaderBuilder::new(RowBatcher)
        .batch_size(BATCH_PER_DEVICE)
        .shuffle(0)
        .build(InMemDataset::new(train.to_vec()));
    let valid_loader = DataLoaderBuilder::new(RowBatcher).batch_size(32).build(InMemDataset::new(valid.to_vec()));

    // Gradients of the two devices are summed: half the single-device lr.
    let lr = 0.05 / DEVICES as f64;
    let optimizer = SgdConfig::new(lr).with_momentum(0.9).with_nesterov(true).init()?;
    let steps = EPOCHS * (train.len() / DEVICES).div_ceil(BATCH_PER_DEVICE);
    let scheduler = SchedulerConfig::Cosine(CosineConfig::new(steps)).build(lr, Some(0.9))?;

    let strategy = if ddp {
        let config = DistributedConfig { all_reduce_op: ReduceOperation::Mean };
        match catch_unwind(AssertUnwindSafe(|| ExecutionStrategy::ddp(devices.clone(), config))) {
            Ok(strategy) => strategy,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unknown panic".into());
                bail!("burn-train's DDP cannot start on {DEVICES} Flex (CPU) devices: {msg}");
            }
        }
    } else {
        ExecutionStrategy::multi(devices.clone(), MultiDeviceOptim::OptimMainDevice)
    };

    let logger = RecordingLogger::new();
    let dir = std::env::temp_dir().join("descent-ddp-example");
    let result = SupervisedTraining::new(&dir, train_loader, valid_loader)
        .num_epochs(EPOCHS)
        .with_training_strategy(strategy.into())
        .metric_train_numeric(LossMetric::new())
        .metric_valid_numeric(LossMetric::new())
        .with_metric_logger(logger.clone())
        .renderer(Box::new(QuietRenderer))
        .with_application_logger(None)
        .launch(Learner::new(Regressor::new(mlp), optimizer, scheduler));
    if let Some(error) = result.error {
        bail!("burn-train stopped on an error: {error}");
    }

    let train_loss = logger.per_epoch("Loss", "train");
    let valid_loss = logger.per_epoch("Loss", "valid");
    let iterations = logger.per_iteration("Loss", "train").len();
    for epoch in (0..EPOCHS).filter(|e| e % 4 == 0 || e + 1 == EPOCHS) {
        println!(
            "epoch {:>2}  train_loss {:.5}  valid_loss {:.5}",
            epoch + 1,
            train_loss.get(epoch).context("missing train loss")?,
            valid_loss.get(epoch).context("missing valid loss")?,
        );
    }
    println!(
        "{} on {DEVICES} devices: {steps} optimizer steps, {iterations} per-device batches",
        if ddp { "DDP" } else { "multi-device (OptimMainDevice)" }
    );
    Ok(())
}
