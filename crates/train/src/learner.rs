//! burn-train's `Learner` with descent's pieces (feature `learner`).
//!
//! descent's optimizers are `burn::optim::Optimizer`s and its schedules Burn
//! `LrScheduler`s, so they go into burn-train as they are:
//!
//! ```ignore
//! let built = OptimizerConfig::Sgd(SgdConfig::new(0.05).with_momentum(0.9)).build()?;
//! let scheduler = SchedulerConfig::OneCycle(OneCycleConfig::new(0.1, steps)).build_for(&built)?;
//! let learner = Learner::new(Regressor::new(mlp), built.optimizer, scheduler);
//! let result = SupervisedTraining::new(dir, train_loader, valid_loader).launch(learner);
//! ```
//!
//! This module adds what a tabular regression needs on burn-train's side: [`Regressor`] (an
//! [`Mlp`] with an MSE `TrainStep` / `InferenceStep`), [`Row`] / [`RowBatcher`] for burn's
//! dataloader, [`QuietRenderer`] (no per-iteration output) and [`RecordingLogger`], a metric
//! logger that keeps every numeric metric value (loss, learning rate) for reading after the
//! run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};
use burn::train::logger::{EvaluationProgressLogger, MetricLogger, TrainingProgressLogger};
use burn::train::metric::store::{EpochSummary, MetricsUpdate, Split};
use burn::train::metric::{MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation, MetricsRendererTraining};
use burn::train::{InferenceStep, RegressionOutput, TrainOutput, TrainStep};
use descent_model::Mlp;

use crate::data::Table;
use crate::loss::mse;

/// An [`Mlp`] trained on mean squared error (torch's `MSELoss`), as burn-train wants it.
#[derive(Module, Debug)]
pub struct Regressor {
    pub mlp: Mlp,
}

impl Regressor {
    pub fn new(mlp: Mlp) -> Self {
        Self { mlp }
    }

    /// Prediction and MSE loss of one batch.
    pub fn forward_regression(&self, batch: RowBatch) -> RegressionOutput {
        let output = self.mlp.forward(batch.features);
        let loss = mse(output.clone(), batch.targets.clone());
        RegressionOutput::new(loss, output, batch.targets)
    }
}

impl TrainStep for Regressor {
    type Input = RowBatch;
    type Output = RegressionOutput;

    fn step(&self, batch: RowBatch) -> TrainOutput<RegressionOutput> {
        let item = self.forward_regression(batch);
        let grads = item.loss.clone().backward();
        TrainOutput::new(self, grads, item)
    }
}

impl InferenceStep for Regressor {
    type Input = RowBatch;
    type Output = RegressionOutput;

    fn step(&self, batch: RowBatch) -> RegressionOutput {
        self.forward_regression(batch)
    }
}

/// One sample of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub features: Vec<f64>,
    pub targets: Vec<f64>,
}

impl Table {
    /// The table as dataset items, in file order.
    pub fn rows(&self) -> Vec<Row> {
        let (f, t) = (self.n_features(), self.n_targets());
        (0..self.rows)
            .map(|i| Row {
                features: self.features[i * f..(i + 1) * f].to_vec(),
                targets: self.targets[i * t..(i + 1) * t].to_vec(),
            })
            .collect()
    }
}

/// A batch: features `[batch, n_features]` and targets `[batch, n_targets]`.
#[derive(Debug, Clone)]
pub struct RowBatch {
    pub features: Tensor<2>,
    pub targets: Tensor<2>,
}

/// Stacks [`Row`]s into a [`RowBatch`] in f32, in the order burn's dataloader gives them.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowBatcher;

impl Batcher<Row, RowBatch> for RowBatcher {
    fn batch(&self, items: Vec<Row>, device: &Device) -> RowBatch {
        RowBatch {
            features: stack(&items, |r| r.features.as_slice(), device),
            targets: stack(&items, |r| r.targets.as_slice(), device),
        }
    }
}

/// The `pick`ed columns of `items` as a `[items, columns]` f32 tensor.
fn stack(items: &[Row], pick: impl Fn(&Row) -> &[f64], device: &Device) -> Tensor<2> {
    let cols = items.first().map_or(0, |r| pick(r).len());
    let values: Vec<f32> = items.iter().flat_map(|r| pick(r).iter().map(|&v| v as f32)).collect();
    Tensor::<2>::from_data(TensorData::new(values, [items.len(), cols]), device)
}

/// One numeric metric value as burn-train logged it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricValue {
    /// Epoch, from 1.
    pub epoch: usize,
    /// `"train"` or `"valid"`.
    pub split: String,
    /// burn-train's metric name: `"Loss"`, `"Learning Rate"`, …
    pub name: String,
    pub value: f64,
    /// `true` for the epoch's final (aggregated) value, logged once after its iterations.
    pub is_final: bool,
}

/// A [`MetricLogger`] that keeps every numeric value; clone it before handing it to
/// `SupervisedTraining::with_metric_logger` and read [`values`](Self::values) after the run.
/// It replaces burn-train's default file logger (nothing is written to disk).
#[derive(Clone, Default)]
pub struct RecordingLogger {
    names: Arc<Mutex<HashMap<MetricId, String>>>,
    values: Arc<Mutex<Vec<MetricValue>>>,
}

impl RecordingLogger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every value logged so far, in logging order.
    pub fn values(&self) -> Vec<MetricValue> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The per-iteration values of metric `name` on `split`, in order, all epochs.
    pub fn per_iteration(&self, name: &str, split: &str) -> Vec<f64> {
        self.values()
            .into_iter()
            .filter(|v| !v.is_final && v.name == name && v.split == split)
            .map(|v| v.value)
            .collect()
    }

    /// The final value of metric `name` on `split` for each epoch, in order.
    pub fn per_epoch(&self, name: &str, split: &str) -> Vec<f64> {
        self.values()
            .into_iter()
            .filter(|v| v.is_final && v.name == name && v.split == split)
            .map(|v| v.value)
            .collect()
    }
}

impl MetricLogger for RecordingLogger {
    fn log(&mut self, update: MetricsUpdate, epoch: usize, split: &Split) {
        let names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
        let mut values = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        for numeric in update.entries_numeric {
            let Some(entry) = numeric.numeric_entry else { continue };
            let name = names.get(&numeric.entry.metric_id).cloned().unwrap_or_default();
            values.push(MetricValue {
                epoch,
                split: split.to_string(),
                name,
                value: entry.current(),
                is_final: matches!(entry, NumericEntry::Final(_)),
            });
        }
    }

    fn read_numeric(&mut self, name: &str, epoch: usize, split: &Split) -> Result<Vec<NumericEntry>, String> {
        let split = split.to_string();
        Ok(self
            .values()
            .into_iter()
            .filter(|v| v.name == name && v.epoch == epoch && v.split == split)
            .map(|v| if v.is_final { NumericEntry::Final(v.value) } else { NumericEntry::Value(v.value) })
            .collect())
    }

    fn log_metric_definition(&mut self, definition: MetricDefinition) {
        self.names
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(definition.metric_id.clone(), definition.name.to_string());
    }

    fn log_epoch_summary(&mut self, _summary: EpochSummary) {}
}

/// A burn-train renderer that prints nothing: burn-train's default CLI renderer prints a
/// progress line per iteration (and its TUI needs a terminal). Give it to
/// `SupervisedTraining::renderer(Box::new(QuietRenderer))` and print what you need from a
/// [`RecordingLogger`].
#[derive(Debug, Clone, Copy, Default)]
pub struct QuietRenderer;

impl MetricsRendererTraining for QuietRenderer {
    fn update_train(&mut self, _state: MetricState) {}
    fn update_valid(&mut self, _state: MetricState) {}
}

impl MetricsRendererEvaluation for QuietRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl TrainingProgressLogger for QuietRenderer {
    fn start(&mut self, _total_epochs: usize, _starting_epoch: usize, _total_items: Option<usize>, _label: Option<&str>) {}
    fn update_epoch(&mut self, _epoch: usize) {}
    fn start_split(&mut self, _split: &str, _total_items: usize) {}
    fn update_split(&mut self, _items_processed: usize) {}
    fn end_split(&mut self) {}
    fn end(&mut self) {}
    fn log_event_training(&mut self, _event: String) {}
}

impl EvaluationProgressLogger for QuietRenderer {
    fn start_global_progress(&mut self, _total_tests: usize) {}
    fn start_test(&mut self, _name: &str, _total_items: usize) {}
    fn update_test_progress(&mut self, _items_processed: usize) {}
    fn end_test(&mut self) {}
    fn end_global_progress(&mut self) {}
    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRenderer for QuietRenderer {
    fn manual_close(&mut self) {}
    fn register_metric(&mut self, _definition: MetricDefinition) {}
}
