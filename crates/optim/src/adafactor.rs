//! Adafactor, exactly `torch.optim.Adafactor` (single-tensor path): second moments factored
//! into row and column means for tensors of two or more dimensions, no first moment.
//!
//! For each parameter θ (n elements) with gradient g, at learning rate γ, step t = 1, 2, …
//! (PyTorch's order; scalars are f64 as torch's `.item()` makes them):
//!
//! ```text
//! g ← −g                                             if maximize
//! t ← t + 1;  β̂ = t^beta2_decay;  ρ = min(γ, 1/√t)
//! α = max(ε₂, ‖θ‖₂/√n)·ρ                             (θ before the decay)
//! θ ← θ·(1 − γ·λ)                                    if weight_decay λ ≠ 0 (decoupled)
//! factored (dim ≥ 2, over the last two dims):
//!     R ← lerp(R, ‖g‖²_row / cols, β̂)              (row_var, shape [..., rows, 1])
//!     C ← lerp(C, ‖g‖²_col / rows, β̂)              (col_var, shape [..., 1, cols])
//!     v = (R @ C) / max(mean_rows(R), ε₁)
//! vector (dim 1):
//!     V ← lerp(V, g·g, β̂);  v = V                   (variance)
//! u = rsqrt(max(v, ε₁²))·g
//! θ ← θ + (−α / max(1, ‖u‖₂/(√n·d)))·u
//! ```
//!
//! `eps` is torch's `(eps1, eps2)` = `(None, 1e-3)`. The library type is
//! `[Option<f64>; 2]`: `None` for ε₁ means the parameter dtype's machine epsilon
//! (`torch.finfo(dtype).eps`: 2.22e-16 in f64, 1.19e-7 in f32). In JSON it is `[null, 1e-3]`;
//! TOML has no null, so a config file either leaves `eps` out (torch's default) or gives both
//! numbers, `eps = [1e-30, 1e-3]`.
//!
//! ```
//! use descent_optim::AdafactorConfig;
//! let optim = AdafactorConfig::new(1e-2).with_eps([None, Some(1e-3)]).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_should_be_nonneg, py_float};
use crate::error::OptimError;
use crate::parts::{lerp, maximize};

optim_config! {
    /// `torch.optim.Adafactor`'s arguments, same names and defaults.
    pub struct AdafactorConfig {
        lr: f64 = 1e-2,
        /// β̂ₜ = t^beta2_decay, the weight of the newest squared gradient (≤ 0).
        beta2_decay: f64 = -0.8,
        /// (ε₁, ε₂): ε₁ floors the second moment (`None`: the dtype's machine epsilon), ε₂
        /// the relative step size's parameter scale.
        eps: [Option<f64>; 2] = [None, Some(1e-3)],
        /// Update clipping threshold: the update's RMS is capped at d.
        d: f64 = 1.0,
        /// Decoupled: θ ← θ·(1 − γ·λ).
        weight_decay: f64 = 0.0,
        maximize: bool = false,
    }
}

impl AdafactorConfig {
    /// PyTorch's constructor checks, in its order, with its messages; plus ε₂ must be given.
    // `!(0 <= x)` rather than `x < 0`: NaN must fail, as torch's `not 0.0 <= x` does.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    pub fn validate(&self) -> Result<(), OptimError> {
        let fail = |msg: String| Err(OptimError::invalid(msg));
        check_should_be_nonneg("Learning rate", self.lr)?;
        if !(0.0 >= self.beta2_decay) {
            return fail(format!("beta2_decay should be <= 0 but is: {}", py_float(self.beta2_decay)));
        }
        if let Some(eps1) = self.eps[0] {
            check_should_be_nonneg("epsilon1", eps1)?;
        }
        let Some(eps2) = self.eps[1] else {
            return fail("epsilon2 must be a number, not None".into());
        };
        check_should_be_nonneg("epsilon2", eps2)?;
        if !(1.0 <= self.d) {
            return fail(format!("Clipping threshold d should be >= 1 but is: {}", py_float(self.d)));
        }
        check_should_be_nonneg("weight_decay", self.weight_decay)
    }

    pub fn build(&self) -> Result<Adafactor, OptimError> {
        self.validate()?;
        Ok(Adafactor {
            beta2_decay: self.beta2_decay,
            eps1: self.eps[0],
            eps2: self.eps[1].unwrap_or(1e-3),
            d: self.d,
            weight_decay: self.weight_decay,
            maximize: self.maximize,
        })
    }
}

crate::optim_state! {
    /// torch's Adafactor state: `step`, and `row_var` + `col_var` (dim ≥ 2) or `variance` (dim 1).
    pub struct AdafactorState<const D: usize> {
        pub step: u64,
        pub row_var: Option<Tensor<D>>,
        pub col_var: Option<Tensor<D>>,
        pub variance: Option<Tensor<D>>,
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Adafactor {
    beta2_decay: f64,
    eps1: Option<f64>,
    eps2: f64,
    d: f64,
    weight_decay: f64,
    maximize: bool,
}

/// ‖x‖₂ as an f64, torch's `x.norm(2).item()`.
fn norm2<const D: usize>(x: &Tensor<D>) -> f64 {
    (x.clone() * x.clone()).sum().into_scalar::<f64>().sqrt()
}

/// torch's `vector_norm(g, dim, keepdim=True).square_().div_(g.size(dim))`.
fn mean_square<const D: usize>(g: &Tensor<D>, dim: usize) -> Tensor<D> {
    let n = g.dims()[dim] as f64;
    (g.clone() * g.clone()).sum_dim(dim).sqrt().square().div_scalar(n)
}

impl Adafactor {
    /// v, the second-moment estimate, and the state holding it.
    fn second_moment<const D: usize>(
        &self,
        grad: &Tensor<D>,
        s: AdafactorState<D>,
        beta: f64,
        eps1: f64,
    ) -> (Tensor<D>, AdafactorState<D>) {
        if D >= 2 {
            let (rows, cols) = (D - 2, D - 1);
            let row_var = lerp(s.row_var.unwrap_or_else(|| mean_square(grad, cols).zeros_like()), mean_square(grad, cols), beta);
            let col_var = lerp(s.col_var.unwrap_or_else(|| mean_square(grad, rows).zeros_like()), mean_square(grad, rows), beta);
            let v = row_var.clone().matmul(col_var.clone());
            let floor = row_var.clone().mean_dim(rows).clamp_min(eps1).expand(v.shape());
            (v / floor, AdafactorState { row_var: Some(row_var), col_var: Some(col_var), ..s })
        } else {
            let variance = lerp(s.variance.unwrap_or_else(|| grad.zeros_like()), grad.clone() * grad.clone(), beta);
            (variance.clone(), AdafactorState { variance: Some(variance), ..s })
        }
    }
}

impl Optimizer for Adafactor {
    type State<const D: usize> = AdafactorState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let grad = maximize(grad, self.maximize);
        let state = match state {
            Some(s) => s.land(&param),
            None => AdafactorState { step: 0, row_var: None, col_var: None, variance: None },
        };
        let eps1 = self.eps1.unwrap_or_else(|| param.dtype().finfo().map_or(f64::EPSILON, |f| f.epsilon));
        let step = state.step + 1;
        let t = step as f64;
        let beta = t.powf(self.beta2_decay);
        let rho = f64::min(lr, 1.0 / t.powf(0.5));
        let numel = param.dims().iter().product::<usize>() as f64;
        let alpha = f64::max(self.eps2, norm2(&param) / numel.powf(0.5)) * rho;
        let param = if self.weight_decay != 0.0 { param.mul_scalar(1.0 - lr * self.weight_decay) } else { param };
        let (v, state) = self.second_moment(&grad, AdafactorState { step, ..state }, beta, eps1);
        let update = v.clamp_min(eps1 * eps1).sqrt().recip() * grad;
        let denom = f64::max(1.0, norm2(&update) / (numel.powf(0.5) * self.d));
        let param = param + update.mul_scalar(-alpha / denom);
        (param, Some(state))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
