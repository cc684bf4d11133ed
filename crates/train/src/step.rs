//! One optimizer step, PyTorch's order: zero grads → forward → loss → backward → (clip) →
//! step. Burn has no accumulated `.grad` to zero: each `backward()` returns fresh gradients.
//!
//! Around it: gradient accumulation over micro-batches, clipping, and the divergence guard
//! that stops at the first non-finite loss or gradient norm.
//!
//! `kind = "lbfgs"` steps with a closure instead ([`descent_optim::Lbfgs::step`]): the closure
//! is the step's loss and gradients (micro-batches and penalties as above), evaluated as
//! often as L-BFGS asks; the step's loss and gradient norm are its first evaluation's.
//! Schedule-free kinds step y; [`Stepper::eval`] / [`Stepper::train`] switch the model to x
//! and back, as `optimizer.eval()` / `optimizer.train()` do in a torch loop.

use std::path::PathBuf;

use burn::module::{Module, ModuleVisitor, Param, ParamGroup, ParamId};
use burn::optim::{GradientsAccumulator, GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use descent_model::Model;
use descent_optim::penalty::Penalty;
use descent_optim::schedule_free::{self, ScheduleFreeMode};
use descent_optim::{clip_grad_norm, clip_grad_value, Lbfgs, NormType, OptimizerConfig};

use crate::batching::Batch;
use crate::config::RunConfig;
use crate::error::TrainError;
use crate::loss::batch_loss;
use crate::schedules::Schedules;
use crate::setup::Split;

#[derive(Clone, Copy)]
enum Clip {
    None,
    /// max_norm, norm_type, error_if_nonfinite
    Norm(f64, NormType, bool),
    Value(f64),
}

/// Where a step is, for its error messages.
#[derive(Debug, Clone, Copy)]
pub struct At {
    pub step: u64,
    pub epoch: u64,
    /// The lr the step uses.
    pub lr: f64,
}

/// What a step saw: the loss before the update (penalties included) and the gradient norm
/// before clipping (torch's `clip_grad_norm_` return value).
#[derive(Debug, Clone, Copy)]
pub struct StepLoss {
    pub loss: f64,
    pub grad_norm: f64,
}

/// The optimizer (with its parameter groups) and what the config puts around its step.
pub struct Stepper {
    /// For `lbfgs`, an empty optimizer that is never stepped (its record stays empty).
    pub optim: ModuleOptimizer,
    /// `kind = "lbfgs"`: the closure-driven optimizer that takes the steps.
    pub lbfgs: Option<Lbfgs>,
    /// Schedule-free kinds: their train / eval switch.
    pub schedule_free: Option<ScheduleFreeMode>,
    clip: Clip,
    penalty: Penalty,
}

fn optim_err(msg: String) -> TrainError {
    TrainError::Config { path: PathBuf::from("[optimizer]"), msg }
}

impl Stepper {
    /// The config's optimizer, its parameter groups matched against `model`, and the
    /// schedules that drive their rates.
    pub fn build(cfg: &RunConfig, model: &Model) -> Result<(Self, Schedules), TrainError> {
        let (built, lbfgs) = build_base(&cfg.optimizer.config).map_err(|e| optim_err(e.to_string()))?;
        let schedule_free = built.schedule_free.clone();
        let mut schedules = Schedules::new(cfg, built.lr, built.momentum.clone())?;
        let mut optim = built.optimizer;
        let paths = param_paths(model);
        // The group that steps each parameter (the last one matching it, as Burn's groups).
        let mut owner = std::collections::HashMap::new();
        for (i, g) in cfg.optimizer.groups.iter().enumerate() {
            let at = format!("[[optimizer.groups]] #{}", i + 1);
            let pg = descent_optim::param_group(&g.params).map_err(|e| optim_err(format!("{at}: {e}")))?;
            // Matched here against the network's own paths (`layers.0.weight`), then handed
            // to Burn by id and by Burn's own path (`Mlp.layers.0.weight`): the id for this
            // run, the path for a resumed one, whose loaded parameters and optimizer state
            // carry the ids of the run that saved them.
            let matched: Vec<&ParamInfo> = paths.iter().filter(|p| pg.matches(&p.id, Some(p.path.as_str()))).collect();
            for p in &matched {
                owner.insert(p.id, i);
            }
            if matched.is_empty() {
                let all: Vec<&str> = paths.iter().map(|p| p.path.as_str()).collect();
                return Err(optim_err(format!(
                    "{at}: params = {:?} matches no parameter; the model's parameters are {}",
                    g.params,
                    all.join(", ")
                )));
            }
            let own_lr = g.own_lr();
            let (o, knobs) = g
                .config
                .add_group(optim, burn_group(&matched), own_lr)
                .map_err(|e| optim_err(format!("{at}: {e}")))?;
            optim = o;
            schedules.add_group(cfg, knobs, g.config.lr(), own_lr)?;
        }
        muon_takes_matrices(cfg, &paths, &owner)?;
        let o = &cfg.optimizer;
        let clip = match (o.clip_grad_norm, o.clip_grad_value) {
            (Some(max_norm), _) => Clip::Norm(max_norm, o.norm_type, o.error_if_nonfinite),
            (None, Some(v)) => Clip::Value(v),
            (None, None) => Clip::None,
        };
        let penalty = Penalty { l2: cfg.loss.l2, l1: cfg.loss.l1 };
        Ok((Self { optim, lbfgs, schedule_free, clip, penalty }, schedules))
    }

    /// Schedule-free: the model becomes x (`optimizer.eval()`); the identity otherwise.
    pub fn eval(&mut self, model: Model) -> Model {
        match &self.schedule_free {
            Some(mode) => schedule_free::eval(model, &mut self.optim, mode),
            None => model,
        }
    }

    /// Schedule-free: the model becomes y again (`optimizer.train()`); the identity otherwise.
    pub fn train(&mut self, model: Model) -> Model {
        match &self.schedule_free {
            Some(mode) => schedule_free::train(model, &mut self.optim, mode),
            None => model,
        }
    }

    /// One L-BFGS step: its closure is the batch's loss and gradients; the loss and gradient
    /// norm reported are the first evaluation's.
    fn lbfgs_step(&mut self, mut lbfgs: Lbfgs, model: Model, split: &Split, micro: &[Batch], device: &Device, at: At) -> (Model, StepLoss) {
        lbfgs.set_lr(at.lr);
        let mut first_norm = None;
        let (model, loss) = lbfgs.step(model, |m| {
            let (loss, grads) = self.gradients(m, split, micro, device);
            first_norm.get_or_insert_with(|| grad_norm(m, &grads));
            (loss, grads)
        });
        self.lbfgs = Some(lbfgs);
        (model, StepLoss { loss, grad_norm: first_norm.unwrap_or(f64::NAN) })
    }

    /// One optimizer step on the micro-batches `micro` of `split`.
    pub fn step(
        &mut self,
        model: Model,
        split: &Split,
        micro: &[Batch],
        device: &Device,
        at: At,
    ) -> Result<(Model, StepLoss), TrainError> {
        if let Some(lbfgs) = self.lbfgs.take() {
            let (model, seen) = self.lbfgs_step(lbfgs, model, split, micro, device, at);
            diverged(seen.loss, seen.grad_norm, at)?;
            return Ok((model, seen));
        }
        let (loss, mut grads) = self.gradients(&model, split, micro, device);
        let grad_norm = self.clip(&model, &mut grads, at)?;
        diverged(loss, grad_norm, at)?;
        Ok((self.optim.step(at.lr, model, grads), StepLoss { loss, grad_norm }))
    }

    /// The step's loss and gradients. Gradient accumulation: micro-batch i's mean loss
    /// weighted by n_i/Σn, the penalty once with m = Σn, so the step is the union batch's.
    fn gradients(&self, model: &Model, split: &Split, micro: &[Batch], device: &Device) -> (f64, GradientsParams) {
        let total: usize = micro.iter().map(Batch::len).sum();
        let mut value = 0.0;
        let mut accumulated: Option<GradientsAccumulator<Model>> = None;
        let mut single = None;
        for (i, batch) in micro.iter().enumerate() {
            let (x, y) = split.batch(batch, device);
            let weight = (micro.len() > 1).then(|| batch.len() as f64 / total as f64);
            let loss = batch_loss(model, x, &y, weight, (i == 0).then_some((&self.penalty, total)));
            value += loss.clone().into_scalar::<f64>();
            let grads = GradientsParams::from_grads(loss.backward(), model);
            if micro.len() == 1 {
                single = Some(grads);
            } else {
                accumulated.get_or_insert_with(GradientsAccumulator::new).accumulate(model, grads);
            }
        }
        let grads = match (single, accumulated) {
            (Some(g), _) => g,
            (None, Some(mut a)) => a.grads(),
            (None, None) => GradientsParams::new(),
        };
        (value, grads)
    }

    /// Clips `grads` as configured; returns the norm before clipping.
    fn clip(&self, model: &Model, grads: &mut GradientsParams, at: At) -> Result<f64, TrainError> {
        match self.clip {
            Clip::Norm(max_norm, norm_type, error_if_nonfinite) => {
                clip_grad_norm(model, grads, max_norm, norm_type, error_if_nonfinite).map_err(|e| {
                    TrainError::Diverged(format!(
                        "at step {} (epoch {}): {e} — try a lower lr (this step used {})",
                        at.step, at.epoch, at.lr
                    ))
                })
            }
            Clip::Value(v) => {
                let norm = grad_norm(model, grads);
                clip_grad_value(model, grads, v);
                Ok(norm)
            }
            Clip::None => Ok(grad_norm(model, grads)),
        }
    }
}

/// The divergence guard: an error at the first non-finite loss or gradient norm.
fn diverged(loss: f64, grad_norm: f64, at: At) -> Result<(), TrainError> {
    if loss.is_finite() && grad_norm.is_finite() {
        return Ok(());
    }
    let what = if loss.is_finite() { format!("the gradient norm became {grad_norm}") } else { format!("the loss became {loss}") };
    Err(TrainError::Diverged(format!(
        "{what} at step {} (epoch {}): the run diverged — try a lower lr (this step used {}); the last good checkpoint, if any, is intact",
        at.step, at.epoch, at.lr
    )))
}

/// The config's base optimizer; for `lbfgs` the closure-driven one, beside an empty
/// placeholder `ModuleOptimizer` (plain SGD, never stepped) so that the rest of the trainer
/// (checkpoints, schedules) keeps one shape.
pub fn build_base(config: &OptimizerConfig) -> Result<(descent_optim::BuiltOptimizer, Option<Lbfgs>), descent_optim::OptimError> {
    match config {
        OptimizerConfig::Lbfgs(c) => {
            let lbfgs = c.build()?;
            let placeholder = descent_optim::SgdConfig::new(0.0).init()?;
            let built = descent_optim::BuiltOptimizer { optimizer: placeholder, lr: c.lr, momentum: None, schedule_free: None };
            Ok((built, Some(lbfgs)))
        }
        _ => Ok((config.build()?, None)),
    }
}

/// Global L2 norm of all gradients (the `grad_norm` metric, and the divergence check).
/// Not descent-optim's `clip_grad_norm` norm: that one takes the norm of per-tensor norms in
/// the gradients' dtype, this one sums squares and takes the root in f64 — other bits, and
/// the metric's bits must stay as they were.
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

/// Muon steps 2-D parameters only (its `step` would panic on others): a parameter Muon would
/// get, from the base or from a group, is a config error naming it.
fn muon_takes_matrices(
    cfg: &RunConfig,
    paths: &[ParamInfo],
    owner: &std::collections::HashMap<ParamId, usize>,
) -> Result<(), TrainError> {
    use descent_optim::OptimizerConfig;
    for ParamInfo { id, path, dims, .. } in paths.iter().filter(|p| p.dims.len() != 2) {
        let (at, config) = match owner.get(id) {
            Some(&i) => (format!("[[optimizer.groups]] #{}: ", i + 1), &cfg.optimizer.groups[i].config),
            None => (String::new(), &cfg.optimizer.config),
        };
        if matches!(config, OptimizerConfig::Muon(_)) {
            let last = path.rsplit('.').next().unwrap_or(path);
            return Err(optim_err(format!(
                "{at}muon takes 2-D parameters only; {path} has shape {dims:?}: give it a group with another kind, e.g. [[optimizer.groups]] params = \"{last}$\" kind = \"adamw\""
            )));
        }
    }
    Ok(())
}

/// A float parameter as parameter groups see it.
struct ParamInfo {
    id: ParamId,
    /// The network's own path, `layers.0.weight`, which `params` regexes match.
    path: String,
    /// Burn's path, `Mlp.layers.0.weight`, which optimizer records keep.
    burn_path: String,
    dims: Vec<usize>,
}

/// Burn's group for the matched parameters: by id, or by Burn's path (see `Stepper::build`).
fn burn_group(matched: &[&ParamInfo]) -> ParamGroup {
    let ids = ParamGroup::from_ids(matched.iter().map(|p| p.id).collect());
    ids.fuse(&ParamGroup::from_paths(matched.iter().map(|p| p.burn_path.clone()).collect()))
}

/// Every float parameter of `model`, in visiting order.
fn param_paths(model: &Model) -> Vec<ParamInfo> {
    // The entered module names joined by dots, as Burn builds parameter paths.
    struct Paths {
        stack: Vec<String>,
        out: Vec<(ParamId, String, Vec<usize>)>,
    }
    impl ModuleVisitor for Paths {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.stack.push(name.to_string());
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.stack.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.out.push((param.id, self.stack.join("."), param.val().dims().to_vec()));
        }
    }
    let mut v = Paths { stack: Vec::new(), out: Vec::new() };
    model.visit(&mut v);
    // Drop the leading `Model` variant (`Mlp.`): users name the network's own paths.
    v.out
        .into_iter()
        .map(|(id, burn_path, dims)| ParamInfo {
            id,
            path: burn_path.split_once('.').map(|(_, rest)| rest.to_string()).unwrap_or_else(|| burn_path.clone()),
            burn_path,
            dims,
        })
        .collect()
}
