//! Weight averaging: `torch.optim.swa_utils.AveragedModel` with its EMA and SWA update
//! functions, for any Burn [`Module`] in any training loop.
//!
//! The average starts as a copy of the model (PyTorch's `deepcopy`), which it keeps until
//! the first [`update`](AveragedModel::update); that first update **copies** the weights
//! (`n_averaged = 0`), every later one mixes them in, tensor by tensor, with PyTorch's ops:
//!
//! ```text
//! first update:         avg ← θ
//! ema (decay):          avg ← lerp(avg, θ, 1 − decay)            get_ema_multi_avg_fn(decay)
//! swa:                  avg ← lerp(avg, θ, 1/(n_averaged + 1))   get_swa_multi_avg_fn()
//! swa_avg_fn:           avg ← avg + (θ − avg)/(n_averaged + 1)   get_swa_avg_fn(), PyTorch's
//!                                                               default on CPU
//! lerp(a, b, w) = a + w·(b − a)         if |w| < 0.5
//!               = b − (b − a)·(1 − w)   otherwise                (torch.lerp)
//! then:                 n_averaged ← n_averaged + 1
//! ```
//!
//! so after updates with weights θ₁…θₙ, EMA is `θₙ·(1−d) + θₙ₋₁·d(1−d) + … + θ₁·dⁿ⁻¹`
//! and SWA the running mean `(θ₁ + … + θₙ)/n`. PyTorch's CPU `lerp` fuses the multiply-add
//! (one rounding); Burn has no fused op, so values may differ from PyTorch's in the last bit
//! (≤ 1e-15 relative on the fixtures, `fixtures/optim_more/averaged.json`).
//!
//! Every float parameter the Burn module visitor reaches is averaged, in visiting order
//! (PyTorch's `use_buffers=False`, zipping `parameters()`); integer and bool tensors are
//! left as they were copied. Updates neither read nor build an autodiff graph.
//!
//! ```
//! use burn::module::Module;
//! use burn::nn::{Linear, LinearConfig};
//! use burn::tensor::Device;
//! use descent_optim::averaging::{AveragedModel, AvgFn};
//!
//! let device = Device::flex();
//! let mut model: Linear = LinearConfig::new(1, 1).init(&device);
//! let w = |m: &Linear| m.weight.val().into_scalar::<f64>();
//! let w0 = w(&model);
//! let mut ema = AveragedModel::new(&model, AvgFn::ema(0.9)?);
//! ema.update(&model)?; // the first update copies: avg = w0
//! model.weight = model.weight.map(|t| t.add_scalar(1.0)); // a training step moves w by +1
//! ema.update(&model)?; // avg ← avg + (1 − 0.9)·(w − avg)
//! assert!((w(ema.module()) - (w0 + 0.1)).abs() < 1e-6);
//! assert_eq!(ema.n_averaged(), 2);
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::store::ModuleRecord;
use burn::tensor::Tensor;

use crate::check::py_float;
use crate::error::OptimError;

/// How an update mixes the model into the average (PyTorch's `multi_avg_fn` / `avg_fn`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AvgFn {
    /// `get_ema_multi_avg_fn(decay)`: `lerp(avg, θ, 1 − decay)`.
    Ema { decay: f64 },
    /// `get_swa_multi_avg_fn()`: `lerp(avg, θ, 1/(n_averaged + 1))`.
    Swa,
    /// `get_swa_avg_fn()` (AveragedModel's default on CPU): `avg + (θ − avg)/(n_averaged + 1)`.
    SwaAvgFn,
}

impl AvgFn {
    /// `get_ema_multi_avg_fn(decay)`, with PyTorch's check and message (its default decay is
    /// 0.999).
    pub fn ema(decay: f64) -> Result<AvgFn, OptimError> {
        // `!(…)` so that NaN is refused too (PyTorch's comparisons let it through).
        if !(0.0..=1.0).contains(&decay) {
            return Err(OptimError::invalid(format!(
                "Invalid decay value {} provided. Please provide a value in [0,1] range.",
                py_float(decay)
            )));
        }
        Ok(AvgFn::Ema { decay })
    }

    /// `avg` updated towards `p`, the `n_averaged`-th update (`n_averaged ≥ 1`).
    fn apply<const D: usize>(self, avg: Tensor<D>, p: Tensor<D>, n_averaged: u64) -> Tensor<D> {
        match self {
            AvgFn::Ema { decay } => lerp(avg, p, 1.0 - decay),
            AvgFn::Swa => lerp(avg, p, 1.0 / (n_averaged as f64 + 1.0)),
            AvgFn::SwaAvgFn => {
                let step = (p - avg.clone()).div_scalar(n_averaged as f64 + 1.0);
                avg + step
            }
        }
    }
}

/// `torch.lerp(a, b, w)` with PyTorch's two branches (exact at `w = 1`).
fn lerp<const D: usize>(a: Tensor<D>, b: Tensor<D>, w: f64) -> Tensor<D> {
    let diff = b.clone() - a.clone();
    if w.abs() < 0.5 {
        a + diff.mul_scalar(w)
    } else {
        b - diff.mul_scalar(1.0 - w)
    }
}

/// `torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=…)`: a copy of a module whose
/// float parameters follow an average of the model's.
#[derive(Debug, Clone)]
pub struct AveragedModel<M> {
    module: M,
    avg_fn: AvgFn,
    n_averaged: u64,
}

/// What a saved average holds: PyTorch's `state_dict()` (`module.*` and `n_averaged`).
#[derive(Debug, Clone)]
pub struct AveragedRecord {
    pub module: ModuleRecord,
    pub n_averaged: u64,
}

impl<M: Module> AveragedModel<M> {
    /// The average of `model`, holding a copy of its current weights (not yet counted:
    /// `n_averaged() == 0`).
    pub fn new(model: &M, avg_fn: AvgFn) -> Self {
        Self { module: model.clone(), avg_fn, n_averaged: 0 }
    }

    /// An average resumed from saved parts: the averaged module and its `n_averaged`.
    pub fn from_parts(module: M, avg_fn: AvgFn, n_averaged: u64) -> Self {
        Self { module, avg_fn, n_averaged }
    }

    /// `update_parameters(model)`: copy (first update) or mix in `model`'s float parameters.
    /// Errors, leaving the average as it was, if `model` does not have the averaged module's
    /// parameters (count and shapes, in visiting order).
    pub fn update(&mut self, model: &M) -> Result<(), OptimError> {
        let mut current = Collect::default();
        model.visit(&mut current);
        let mut own = Collect::default();
        self.module.visit(&mut own);
        if current.shapes != own.shapes {
            return Err(OptimError::invalid(format!(
                "AveragedModel.update: the model's float parameters {:?} are not the averaged \
                 module's {:?}",
                current.shapes, own.shapes
            )));
        }
        let mut mix = Mix { current: current.tensors.into_iter(), avg_fn: self.avg_fn, n_averaged: self.n_averaged };
        self.module = self.module.clone().map(&mut mix);
        self.n_averaged += 1;
        Ok(())
    }

    /// How many updates the average holds (PyTorch's `n_averaged`).
    pub fn n_averaged(&self) -> u64 {
        self.n_averaged
    }

    pub fn avg_fn(&self) -> AvgFn {
        self.avg_fn
    }

    /// The averaged module (PyTorch's `averaged.module`), e.g. to evaluate it.
    pub fn module(&self) -> &M {
        &self.module
    }

    pub fn into_module(self) -> M {
        self.module
    }

    /// The state to save (PyTorch's `state_dict()`); `record.module` saves as burnpack with
    /// [`ModuleRecord::save`] / [`ModuleRecord::into_bytes`].
    pub fn record(&self) -> AveragedRecord {
        AveragedRecord { module: self.module.clone().into_record(), n_averaged: self.n_averaged }
    }

    /// Restores a saved state into an average of the same module (PyTorch's
    /// `load_state_dict`). Nothing changes on error.
    pub fn load_record(&mut self, record: AveragedRecord) -> Result<(), OptimError> {
        let module = self
            .module
            .clone()
            .try_load_record(record.module)
            .map_err(|e| OptimError::invalid(format!("AveragedModel record does not fit the module: {e}")))?;
        self.module = module;
        self.n_averaged = record.n_averaged;
        Ok(())
    }
}

/// The model's float parameters (flattened, detached) and their shapes, in visiting order.
#[derive(Default)]
struct Collect {
    tensors: Vec<Tensor<1>>,
    shapes: Vec<Vec<usize>>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val().detach();
        let dims = t.dims();
        self.shapes.push(dims.to_vec());
        self.tensors.push(t.reshape([dims.iter().product::<usize>()]));
    }
}

/// Maps each averaged parameter to its update with the next collected model tensor.
struct Mix {
    current: std::vec::IntoIter<Tensor<1>>,
    avg_fn: AvgFn,
    n_averaged: u64,
}

impl ModuleMapper for Mix {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(flat) = self.current.next() else { return param };
        let (avg_fn, n) = (self.avg_fn, self.n_averaged);
        param.map(|avg| {
            let avg = avg.detach();
            let p: Tensor<D> = flat.reshape(avg.dims());
            if n == 0 {
                p
            } else {
                avg_fn.apply(avg, p, n)
            }
        })
    }
}
