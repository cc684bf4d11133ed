//! A weight average (EMA / SWA, [`descent_optim::averaging`]) of a model trained by
//! burn-train's `Learner`, updated after every epoch (feature `learner`).
//!
//! burn-train 0.22 has no hook after an optimizer step, but it hands the model to its model
//! checkpointer at the end of every epoch the checkpointing strategy saves.
//! [`AveragingCheckpointer`] is such a checkpointer: instead of writing a file it folds the
//! epoch's weights into an [`AveragedModel`]:
//!
//! ```ignore
//! let avg = AveragingCheckpointer::new(Regressor::new(mlp.clone()), AvgFn::ema(0.9)?);
//! let result = SupervisedTraining::new(dir, train_loader, valid_loader)
//!     .with_custom_checkpointers(avg.clone(), Discard, Discard)
//!     .with_checkpointing_strategy(KeepLastNCheckpoints::new(1)) // saves every epoch
//!     .launch(learner);
//! let averaged = avg.averaged(); // after launch: every epoch folded in
//! ```
//!
//! What burn-train does not allow: an update after each optimizer *step* (its `TrainStep`
//! sees the model before the step, and nothing runs after it), the average's own validation
//! loss in burn-train's metrics (its evaluation runs on the learner's model only), and file
//! checkpoints of the model alongside (the model checkpointer slot is taken), so such a
//! run cannot be resumed. Saves arrive on burn-train's checkpointer thread; the average is
//! complete once `launch` has returned.

use std::sync::{Arc, Mutex, PoisonError};

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};
use descent_optim::averaging::{AveragedModel, AvgFn};

/// A burn-train model checkpointer that averages the weights it is given (see the module
/// docs); clones share the one average.
#[derive(Clone)]
pub struct AveragingCheckpointer<M> {
    /// A module of the trained model's structure (records load into a copy of it) and the
    /// average.
    state: Arc<Mutex<(M, AveragedModel<M>)>>,
}

impl<M: Module> AveragingCheckpointer<M> {
    /// An average of `model` (its structure and starting weights; the first save copies).
    pub fn new(model: M, avg_fn: AvgFn) -> Self {
        let avg = AveragedModel::new(&model, avg_fn);
        Self { state: Arc::new(Mutex::new((model, avg))) }
    }

    /// The average so far.
    pub fn averaged(&self) -> AveragedModel<M> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner).1.clone()
    }
}

impl<M: Module + 'static> Checkpointer<ModuleRecord> for AveragingCheckpointer<M> {
    fn save(&self, _epoch: usize, record: ModuleRecord) -> Result<(), CheckpointerError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let model = state.0.clone().try_load_record(record).map_err(CheckpointerError::Record)?;
        state.1.update(&model).map_err(|e| CheckpointerError::Unknown(e.to_string()))
    }

    fn delete(&self, _epoch: usize) -> Result<(), CheckpointerError> {
        Ok(())
    }

    fn restore(&self, epoch: usize) -> Result<ModuleRecord, CheckpointerError> {
        Err(CheckpointerError::Unknown(format!("the averaging checkpointer keeps no files; epoch {epoch} cannot be restored")))
    }
}

/// A checkpointer that keeps nothing, for the optimizer and scheduler slots next to an
/// [`AveragingCheckpointer`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Discard;

impl<R: Checkpoint> Checkpointer<R> for Discard {
    fn save(&self, _epoch: usize, _record: R) -> Result<(), CheckpointerError> {
        Ok(())
    }

    fn delete(&self, _epoch: usize) -> Result<(), CheckpointerError> {
        Ok(())
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        Err(CheckpointerError::Unknown(format!("nothing was kept; epoch {epoch} cannot be restored")))
    }
}
