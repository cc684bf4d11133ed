//! Muon, `torch.optim.Muon`: momentum, then the update orthogonalised by a Newton–Schulz
//! iteration. For 2-D parameters only (weight matrices); give biases, norms and embeddings
//! another optimizer (a parameter group with its own `kind`, e.g. AdamW).
//!
//! For each parameter θ (rows × cols) with gradient g, at learning rate γ (the order of torch's
//! code, which differs from its docstring's formula: the buffer is an EMA):
//!
//! ```text
//! B ← lerp(B, g, 1 − μ)                          (B₀ = 0; μ = momentum)
//! U ← lerp(g, B, μ) if nesterov, else B
//! X ← Uᵀ if rows > cols, else U
//! X ← X / max(‖X‖_F, ε)
//! ns_steps times:  A = X·Xᵀ;  X ← a·X + (b·A + c·A·A)·X     ((a, b, c) = ns_coefficients)
//! O ← Xᵀ if rows > cols, else X
//! γ' = γ·√max(1, rows/cols)      adjust_lr_fn "original" (or None, torch's default)
//!    = γ·0.2·√max(rows, cols)    "match_rms_adamw"
//!    = γ·√(rows/cols)            "spectral_unclamped"
//! θ ← θ·(1 − γ·λ)                (decoupled weight decay λ, with the unadjusted γ)
//! θ ← θ + (−γ')·O
//! ```
//!
//! **Precision.** torch runs the Newton–Schulz iteration in bfloat16; descent runs it in the
//! parameter's dtype. In f64 descent matches torch's algorithm with the iteration in f64 to
//! ~1e-15 (the `trajectory_ns_f64` reference of fixtures/optim_more/muon.json); against torch
//! as shipped the difference is bfloat16's rounding (~1e-3 relative per step, see the parity
//! test's report). Burn's CPU backend has no bfloat16 matmul to reproduce it, and an
//! orthogonaliser is not meant to depend on its rounding.
//!
//! A non-2-D tensor reaching [`Muon`]'s [`Optimizer::step`] panics (Burn's `step` cannot return an error); the
//! trainer refuses such a config before training, naming the parameter.
//!
//! μ is a [`HyperParam`] for cycling schedules.
//!
//! ```
//! use descent_optim::MuonConfig;
//! let optim = MuonConfig::new(0.02).with_adjust_lr_fn(Some("match_rms_adamw".into())).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::check_should_be_nonneg;
use crate::error::OptimError;
use crate::hyper::HyperParam;
use crate::parts::lerp;

/// The `adjust_lr_fn` values torch accepts.
pub const ADJUST_LR_FNS: [&str; 3] = ["original", "match_rms_adamw", "spectral_unclamped"];

optim_config! {
    /// `torch.optim.Muon`'s arguments, same names and defaults.
    pub struct MuonConfig {
        lr: f64 = 1e-3,
        /// Decoupled: θ ← θ·(1 − γ·λ).
        weight_decay: f64 = 0.1,
        momentum: f64 = 0.95,
        nesterov: bool = true,
        /// (a, b, c) of the quintic Newton–Schulz polynomial.
        ns_coefficients: [f64; 3] = [3.4445, -4.775, 2.0315],
        eps: f64 = 1e-7,
        ns_steps: u32 = 5,
        /// `None` (torch's default) behaves as `"original"`.
        adjust_lr_fn: Option<String> = None,
    }
}

impl MuonConfig {
    /// PyTorch's checks (the constructor's, and `ns_steps < 100` from its step), its messages.
    pub fn validate(&self) -> Result<(), OptimError> {
        let fail = |msg: String| Err(OptimError::invalid(msg));
        check_should_be_nonneg("Learning rate", self.lr)?;
        check_should_be_nonneg("momentum", self.momentum)?;
        check_should_be_nonneg("weight decay", self.weight_decay)?;
        if let Some(f) = &self.adjust_lr_fn {
            if !ADJUST_LR_FNS.contains(&f.as_str()) {
                return fail(format!("Adjust learning rate function {f} is not supported"));
            }
        }
        if self.ns_steps >= 100 {
            return fail("Number of steps must be less than 100 for computational efficiency".into());
        }
        Ok(())
    }

    pub fn build(&self) -> Result<Muon, OptimError> {
        self.validate()?;
        Ok(Muon {
            weight_decay: self.weight_decay,
            momentum: HyperParam::new(self.momentum),
            nesterov: self.nesterov,
            ns_coefficients: self.ns_coefficients,
            eps: self.eps,
            ns_steps: self.ns_steps,
            adjust_lr_fn: self.adjust_lr_fn.clone().unwrap_or_else(|| "original".into()),
        })
    }
}

crate::optim_state! {
    /// torch's Muon state: only the `momentum_buffer` B (torch keeps no step count).
    pub struct MuonState<const D: usize> {
        pub momentum_buffer: Tensor<D>,
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct Muon {
    weight_decay: f64,
    momentum: HyperParam,
    nesterov: bool,
    ns_coefficients: [f64; 3],
    eps: f64,
    ns_steps: u32,
    adjust_lr_fn: String,
}

impl Muon {
    /// The live momentum μ: `set` it between steps to cycle it.
    pub fn momentum(&self) -> HyperParam {
        self.momentum.clone()
    }

    /// torch's `_zeropower_via_newtonschulz`, in `u`'s dtype.
    fn newton_schulz(&self, u: Tensor<2>) -> Tensor<2> {
        let [rows, cols] = u.dims();
        let [a, b, c] = self.ns_coefficients;
        let mut x = if rows > cols { u.transpose() } else { u };
        let norm = (x.clone() * x.clone()).sum().into_scalar::<f64>().sqrt();
        x = x.div_scalar(norm.max(self.eps));
        for _ in 0..self.ns_steps {
            let gram = x.clone().matmul(x.clone().transpose());
            let gram_update = gram.clone().mul_scalar(b) + gram.clone().matmul(gram).mul_scalar(c);
            x = x.clone().mul_scalar(a) + gram_update.matmul(x);
        }
        if rows > cols {
            x.transpose()
        } else {
            x
        }
    }

    /// torch's `_adjust_lr`.
    fn adjusted_lr(&self, lr: f64, rows: usize, cols: usize) -> f64 {
        let (a, b) = (rows as f64, cols as f64);
        let ratio = match self.adjust_lr_fn.as_str() {
            "match_rms_adamw" => 0.2 * a.max(b).sqrt(),
            "spectral_unclamped" => (a / b).sqrt(),
            _ => f64::max(1.0, a / b).sqrt(),
        };
        lr * ratio
    }
}

impl Optimizer for Muon {
    type State<const D: usize> = MuonState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        param: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let dims = param.dims();
        assert!(
            D == 2,
            "Muon takes 2-D parameters only, got one of shape {dims:?}: optimize it with another kind (a parameter group)"
        );
        let buf = state.map_or_else(|| grad.zeros_like(), |s| s.land(&param).momentum_buffer);
        let mu = self.momentum.get();
        let buf = lerp(buf, grad.clone(), 1.0 - mu);
        let update = if self.nesterov { lerp(grad, buf.clone(), mu) } else { buf.clone() };
        let (rows, cols) = (dims[0], dims[1]);
        let ortho: Tensor<D> = self.newton_schulz(update.reshape([rows, cols])).reshape(dims);
        let param = param.mul_scalar(1.0 - lr * self.weight_decay);
        let param = param + ortho.mul_scalar(-self.adjusted_lr(lr, rows, cols));
        (param, Some(MuonState { momentum_buffer: buf }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
