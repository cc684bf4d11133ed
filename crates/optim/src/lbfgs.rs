//! L-BFGS, exactly `torch.optim.LBFGS`: a closure-driven quasi-Newton method over the flat
//! vector of all parameters (in module visit order, as torch's `_gather_flat_grad`).
//!
//! One [`Lbfgs::step`] evaluates the closure (loss f, flat gradient g; both negated with
//! `maximize`), returns at once if max|g| ≤ tolerance_grad, and otherwise iterates, at most
//! `max_iter` times:
//!
//! ```text
//! first iteration ever:  d = −g;  H = 1
//! later:   y = g − g_prev;  s = t·d;  if y·s > 1e-10: keep (y, s, ρ = 1/(y·s)), H = y·s / y·y
//!          two-loop recursion over the (≤ history_size) pairs, newest first:
//!          q = −g;  αᵢ = ρᵢ·sᵢ·q;  q −= αᵢ·yᵢ;  r = H·q;  oldest first: βᵢ = ρᵢ·yᵢ·r;  r += (αᵢ − βᵢ)·sᵢ;  d = r
//! t = min(1, 1/Σ|g|)·lr on the very first iteration, lr after;  stop if g·d > −tolerance_change
//! θ ← θ + t·d  (t from the strong-Wolfe search when line_search_fn = "strong_wolfe")
//! stop when max_iter / max_eval is reached, max|g| ≤ tolerance_grad, max|t·d| ≤ tolerance_change
//! or |f − f_prev| < tolerance_change
//! ```
//!
//! The memory (d, t, the pairs, g_prev, …) carries over from one step to the next, as in torch
//! (so a step's first pair mixes two batches). It is not a per-tensor Burn
//! [`Optimizer`](burn::optim::Optimizer): the whole vector and several evaluations per step are
//! needed, so the caller passes a closure that returns the loss and gradients of a model.
//! The vectors are kept in f64 on the host; the parameters are written back in their dtype.
//!
//! ```
//! use descent_optim::LbfgsConfig;
//! // minimise ½(x − 3)² on a plain vector
//! let mut lbfgs = LbfgsConfig::new(1.0).build()?;
//! let mut x = vec![0.0];
//! let first = lbfgs.step_flat(&mut x, |x| (0.5 * (x[0] - 3.0).powi(2), vec![x[0] - 3.0]));
//! assert_eq!(first, 4.5);
//! assert!((x[0] - 3.0).abs() < 1e-9);
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::check::{check_lr, py_float};
use crate::error::OptimError;
pub use crate::lbfgs_state::LbfgsState;
use crate::strong_wolfe::{abs_max, dot, strong_wolfe, Probe};

/// `torch.optim.LBFGS`'s arguments, same names and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LbfgsConfig {
    pub lr: f64,
    pub max_iter: u64,
    /// `None`: torch's `max_iter * 5 // 4`.
    pub max_eval: Option<u64>,
    pub tolerance_grad: f64,
    pub tolerance_change: f64,
    pub history_size: u64,
    /// `None` (fixed steps of lr) or `"strong_wolfe"`.
    pub line_search_fn: Option<String>,
    pub maximize: bool,
}

impl Default for LbfgsConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            max_iter: 20,
            max_eval: None,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
            history_size: 100,
            line_search_fn: None,
            maximize: false,
        }
    }
}

impl LbfgsConfig {
    /// This learning rate, the defaults for everything else.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            ..Self::default()
        }
    }
    pub fn with_max_iter(mut self, max_iter: u64) -> Self {
        self.max_iter = max_iter;
        self
    }
    pub fn with_max_eval(mut self, max_eval: Option<u64>) -> Self {
        self.max_eval = max_eval;
        self
    }
    pub fn with_tolerance_grad(mut self, tolerance_grad: f64) -> Self {
        self.tolerance_grad = tolerance_grad;
        self
    }
    pub fn with_tolerance_change(mut self, tolerance_change: f64) -> Self {
        self.tolerance_change = tolerance_change;
        self
    }
    pub fn with_history_size(mut self, history_size: u64) -> Self {
        self.history_size = history_size;
        self
    }
    pub fn with_line_search_fn(mut self, line_search_fn: Option<&str>) -> Self {
        self.line_search_fn = line_search_fn.map(str::to_string);
        self
    }
    pub fn with_maximize(mut self, maximize: bool) -> Self {
        self.maximize = maximize;
        self
    }

    /// torch's `max_eval`: as given, or `max_iter * 5 // 4`.
    pub fn max_eval_resolved(&self) -> u64 {
        self.max_eval.unwrap_or(self.max_iter * 5 / 4)
    }

    /// torch's checks (lr; the line search torch's `step` refuses), and the counts that would
    /// make torch fail or do nothing (max_iter, max_eval, history_size of 0).
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        if let Some(f) = self
            .line_search_fn
            .as_deref()
            .filter(|f| *f != "strong_wolfe")
        {
            return Err(OptimError::invalid(format!(
                "only 'strong_wolfe' is supported, but line_search_fn = {f:?}"
            )));
        }
        for (name, v) in [
            ("max_iter", self.max_iter),
            ("max_eval", self.max_eval_resolved()),
            ("history_size", self.history_size),
        ] {
            if v == 0 {
                return Err(OptimError::invalid(format!(
                    "LBFGS {name} must be at least 1, but got 0"
                )));
            }
        }
        for (name, v) in [
            ("tolerance_grad", self.tolerance_grad),
            ("tolerance_change", self.tolerance_change),
        ] {
            if v.is_nan() {
                return Err(OptimError::invalid(format!(
                    "LBFGS {name} must be a number, but got {}",
                    py_float(v)
                )));
            }
        }
        Ok(())
    }

    pub fn build(&self) -> Result<Lbfgs, OptimError> {
        self.validate()?;
        Ok(Lbfgs {
            config: self.clone(),
            state: LbfgsState::default(),
        })
    }
}

/// See the [module docs](self). Holds its configuration and torch's `state`.
#[derive(Debug, Clone)]
pub struct Lbfgs {
    config: LbfgsConfig,
    pub state: LbfgsState,
}

/// Where the flat parameters live: torch's `_clone_param` / `_set_param` / closure + gather.
trait Flat {
    fn get(&self) -> Vec<f64>;
    fn set(&mut self, x: &[f64]);
    /// The closure at the current parameters: raw loss and flat gradient.
    fn evaluate(&mut self) -> Probe;
}

impl Lbfgs {
    pub fn config(&self) -> &LbfgsConfig {
        &self.config
    }

    /// Sets the lr the next steps use (torch: a scheduler writing `param_groups[0]["lr"]`).
    pub fn set_lr(&mut self, lr: f64) {
        self.config.lr = lr;
    }

    /// One `LBFGS.step(closure)` on a plain vector; `f(x)` returns (loss, gradient). Returns
    /// the first evaluation's loss, as torch does.
    pub fn step_flat(&mut self, x: &mut Vec<f64>, f: impl FnMut(&[f64]) -> (f64, Vec<f64>)) -> f64 {
        struct Plain<'a, F> {
            x: &'a mut Vec<f64>,
            f: F,
        }
        impl<F: FnMut(&[f64]) -> (f64, Vec<f64>)> Flat for Plain<'_, F> {
            fn get(&self) -> Vec<f64> {
                self.x.clone()
            }
            fn set(&mut self, x: &[f64]) {
                self.x.copy_from_slice(x);
            }
            fn evaluate(&mut self) -> Probe {
                (self.f)(self.x)
            }
        }
        self.run(&mut Plain { x, f })
    }

    /// One `LBFGS.step(closure)` on a Burn module: `closure(&model)` returns the loss and its
    /// gradients (a missing gradient counts as zeros). Returns the updated model and the
    /// first evaluation's loss.
    pub fn step<M: Module>(
        &mut self,
        model: M,
        closure: impl FnMut(&M) -> (f64, GradientsParams),
    ) -> (M, f64) {
        let mut p = OnModule {
            model: Some(model),
            closure,
        };
        let loss = self.run(&mut p);
        (p.model.take().expect("the model is always put back"), loss)
    }

    /// torch's `step` body.
    fn run(&mut self, p: &mut impl Flat) -> f64 {
        let sign = if self.config.maximize { -1.0 } else { 1.0 };
        let eval = |p: &mut dyn Flat| -> Probe {
            let (f, g) = p.evaluate();
            (sign * f, g.into_iter().map(|v| sign * v).collect())
        };
        let (mut loss, mut flat_grad) = eval(p);
        let orig_loss = sign * loss;
        let mut current_evals = 1u64;
        self.state.func_evals += 1;
        if abs_max(&flat_grad) <= self.config.tolerance_grad {
            return orig_loss;
        }
        let c = self.config.clone();
        let max_eval = c.max_eval_resolved();
        let mut n_iter = 0;
        while n_iter < c.max_iter {
            n_iter += 1;
            self.state.n_iter += 1;
            let d = self.direction(&flat_grad);
            self.state.prev_flat_grad = Some(flat_grad.clone());
            self.state.prev_loss = Some(loss);
            let t0 = if self.state.n_iter == 1 {
                py_min(1.0, 1.0 / flat_grad.iter().fold(0.0, |s, g| s + g.abs())) * c.lr
            } else {
                c.lr
            };
            self.state.t = Some(t0);
            let gtd = dot(&flat_grad, &d);
            self.state.d = Some(d.clone());
            if gtd > -c.tolerance_change {
                break;
            }
            let (t, opt_cond, ls_func_evals);
            if c.line_search_fn.is_some() {
                let x_init = p.get();
                let obj = |t: f64| {
                    p.set(&add_scaled(&x_init, t, &d));
                    let r = eval(p);
                    p.set(&x_init);
                    r
                };
                let max_ls = max_eval as i64 - current_evals as i64;
                let found = strong_wolfe(
                    obj,
                    t0,
                    &d,
                    loss,
                    flat_grad,
                    gtd,
                    c.tolerance_change,
                    max_ls,
                );
                (loss, flat_grad, t, ls_func_evals) = (found.f, found.g, found.t, found.evals);
                p.set(&add_scaled(&p.get(), t, &d));
                opt_cond = abs_max(&flat_grad) <= c.tolerance_grad;
            } else {
                t = t0;
                p.set(&add_scaled(&p.get(), t, &d));
                if n_iter != c.max_iter {
                    (loss, flat_grad) = eval(p);
                    opt_cond = abs_max(&flat_grad) <= c.tolerance_grad;
                    ls_func_evals = 1;
                } else {
                    (opt_cond, ls_func_evals) = (false, 0);
                }
            }
            self.state.t = Some(t);
            current_evals += ls_func_evals;
            self.state.func_evals += ls_func_evals;
            if n_iter == c.max_iter
                || current_evals >= max_eval
                || opt_cond
                || abs_max(&d.iter().map(|v| v * t).collect::<Vec<_>>()) <= c.tolerance_change
                || (loss - self.state.prev_loss.unwrap_or(f64::NAN)).abs() < c.tolerance_change
            {
                break;
            }
        }
        orig_loss
    }

    /// The search direction at gradient `g`: −g on the first iteration ever, else the
    /// two-loop recursion after updating the curvature pairs.
    fn direction(&mut self, g: &[f64]) -> Vec<f64> {
        let s = &mut self.state;
        if s.n_iter == 1 {
            s.old_dirs.clear();
            s.old_stps.clear();
            s.ro.clear();
            s.h_diag = 1.0;
            return g.iter().map(|v| -v).collect();
        }
        let (Some(prev), Some(d), Some(t)) = (&s.prev_flat_grad, &s.d, s.t) else {
            return g.iter().map(|v| -v).collect();
        };
        let y: Vec<f64> = g.iter().zip(prev).map(|(a, b)| a - b).collect();
        let st: Vec<f64> = d.iter().map(|v| v * t).collect();
        let ys = dot(&y, &st);
        if ys > 1e-10 {
            if s.old_dirs.len() as u64 == self.config.history_size {
                s.old_dirs.remove(0);
                s.old_stps.remove(0);
                s.ro.remove(0);
            }
            s.h_diag = ys / dot(&y, &y);
            s.old_dirs.push(y);
            s.old_stps.push(st);
            s.ro.push(1.0 / ys);
        }
        let num_old = s.old_dirs.len();
        let mut al = vec![0.0; num_old];
        let mut q: Vec<f64> = g.iter().map(|v| -v).collect();
        for i in (0..num_old).rev() {
            al[i] = dot(&s.old_stps[i], &q) * s.ro[i];
            axpy(&mut q, -al[i], &s.old_dirs[i]);
        }
        let mut r: Vec<f64> = q.iter().map(|v| v * s.h_diag).collect();
        for i in 0..num_old {
            let be_i = dot(&s.old_dirs[i], &r) * s.ro[i];
            axpy(&mut r, al[i] - be_i, &s.old_stps[i]);
        }
        r
    }
}

/// Python's `min(a, b)`.
fn py_min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// `x.add_(v, alpha=a)`: ATen's vectorised kernel computes it as one fused multiply-add.
fn axpy(x: &mut [f64], a: f64, v: &[f64]) {
    for (xi, vi) in x.iter_mut().zip(v) {
        *xi = a.mul_add(*vi, *xi);
    }
}

/// torch's `_add_grad(t, d)` on a copy: x + t·d.
fn add_scaled(x: &[f64], t: f64, d: &[f64]) -> Vec<f64> {
    let mut out = x.to_vec();
    axpy(&mut out, t, d);
    out
}

/// A module and its closure as [`Flat`] parameters.
struct OnModule<M, C> {
    model: Option<M>,
    closure: C,
}

impl<M: Module, C: FnMut(&M) -> (f64, GradientsParams)> Flat for OnModule<M, C> {
    fn get(&self) -> Vec<f64> {
        struct Gather(Vec<f64>);
        impl ModuleVisitor for Gather {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                self.0.extend(values(&param.val()));
            }
        }
        let mut g = Gather(Vec::new());
        if let Some(m) = &self.model {
            m.visit(&mut g);
        }
        g.0
    }

    fn set(&mut self, x: &[f64]) {
        struct Scatter<'a>(&'a [f64]);
        impl ModuleMapper for Scatter<'_> {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                param.map(|t| {
                    let n = t.shape().num_elements();
                    let (head, rest) = self.0.split_at(n);
                    self.0 = rest;
                    let data = TensorData::new(head.to_vec(), t.shape()).convert_dtype(t.dtype());
                    let new = Tensor::from_data(data, &t.device());
                    if t.is_require_grad() {
                        new.require_grad()
                    } else {
                        new
                    }
                })
            }
        }
        if let Some(m) = self.model.take() {
            self.model = Some(m.map(&mut Scatter(x)));
        }
    }

    fn evaluate(&mut self) -> Probe {
        struct Grads<'a>(&'a GradientsParams, Vec<f64>);
        impl ModuleVisitor for Grads<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                match self.0.get::<D>(param.id) {
                    Some(g) => self.1.extend(values(&g)),
                    None => self
                        .1
                        .extend(std::iter::repeat_n(0.0, param.shape().num_elements())),
                }
            }
        }
        let Some(model) = &self.model else {
            return (f64::NAN, Vec::new());
        };
        let (loss, grads) = (self.closure)(model);
        let mut g = Grads(&grads, Vec::new());
        model.visit(&mut g);
        (loss, g.1)
    }
}

fn values<const D: usize>(t: &Tensor<D>) -> Vec<f64> {
    t.to_data()
        .convert::<f64>()
        .try_to_vec::<f64>()
        .unwrap_or_default()
}
