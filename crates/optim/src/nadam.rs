//! NAdam, exactly `torch.optim.NAdam` (single-tensor path): Adam with Nesterov momentum and
//! Dozat's momentum-decay schedule.
//!
//! For each parameter θ with gradient g, at learning rate γ, step t = 1, 2, … (PyTorch's order):
//!
//! ```text
//! g ← −g                               if maximize
//! t ← t + 1
//! θ ← θ·(1 − γ·λ)                      if weight_decay λ ≠ 0 and decoupled_weight_decay
//! g ← g + λ·θ                          if weight_decay λ ≠ 0 otherwise
//! μₜ   ← β₁·(1 − ½·0.96^(t·ψ))         (ψ = momentum_decay)
//! μₜ₊₁ ← β₁·(1 − ½·0.96^((t+1)·ψ))
//! Πₜ ← Πₜ₋₁·μₜ                         (mu_product, Π₀ = 1)
//! m ← m + (1 − β₁)·(g − m)
//! v ← β₂·v + ((1 − β₂)·g)·g
//! d ← √(v / (1 − β₂ᵗ)) + ε
//! θ ← θ + (−γ·(1 − μₜ)/(1 − Πₜ)·g) / d
//! θ ← θ + (−γ·μₜ₊₁/(1 − Πₜ·μₜ₊₁)·m) / d
//! ```
//!
//! `mu_product` is kept in f64 whatever the tensors' dtype. (torch keeps it in its default scalar
//! dtype, float32 unless `torch.set_default_dtype(torch.float64)`, which moves f64 trajectories
//! by ~1e-9 relative; the fixtures were made with the f64 default.)
//!
//! ```
//! use descent_optim::NAdamConfig;
//! let optim = NAdamConfig::new(2e-3).with_weight_decay(0.01).with_decoupled_weight_decay(true).init()?;
//! # Ok::<(), descent_optim::OptimError>(())
//! ```

use burn::optim::{LearningRate, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::check::{check_betas, check_eps, check_lr, check_nonneg, check_weight_decay};
use crate::error::OptimError;
use crate::hyper::HyperParam;
use crate::parts::{addcdiv, bias_correction, first_moment, maximize, second_moment};
use crate::regularization::WeightDecay;

optim_config! {
    /// `torch.optim.NAdam`'s arguments, same names and defaults.
    pub struct NAdamConfig {
        lr: f64 = 2e-3,
        betas: [f64; 2] = [0.9, 0.999],
        eps: f64 = 1e-8,
        weight_decay: f64 = 0.0,
        /// ψ in the momentum schedule μₜ = β₁·(1 − ½·0.96^(t·ψ)).
        momentum_decay: f64 = 4e-3,
        /// AdamW-style decay (θ·(1 − γ·λ)) instead of L2 added to the gradient.
        decoupled_weight_decay: bool = false,
        maximize: bool = false,
    }
}

impl NAdamConfig {
    /// PyTorch's constructor checks, in its order, with its messages.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_lr(self.lr)?;
        check_eps(self.eps)?;
        check_betas(self.betas)?;
        check_weight_decay(self.weight_decay)?;
        check_nonneg("momentum_decay", self.momentum_decay)
    }

    pub fn build(&self) -> Result<NAdam, OptimError> {
        self.validate()?;
        Ok(NAdam {
            beta1: HyperParam::new(self.betas[0]),
            beta2: self.betas[1],
            eps: self.eps,
            decay: WeightDecay::new(self.weight_decay, self.decoupled_weight_decay),
            momentum_decay: self.momentum_decay,
            maximize: self.maximize,
        })
    }
}

/// See the [module docs](self) for the update.
#[derive(Clone, Debug)]
pub struct NAdam {
    beta1: HyperParam,
    beta2: f64,
    eps: f64,
    decay: WeightDecay,
    momentum_decay: f64,
    maximize: bool,
}

impl NAdam {
    /// The live β₁: `set` it between steps to cycle it.
    pub fn beta1(&self) -> HyperParam {
        self.beta1.clone()
    }
}

crate::optim_state! {
    /// Per-parameter state: torch's `step`, `mu_product`, `exp_avg` and `exp_avg_sq`.
    pub struct NAdamState<const D: usize> {
        pub step: u64,
        pub mu_product: f64,
        pub exp_avg: Tensor<D>,
        pub exp_avg_sq: Tensor<D>,
    }
}

impl Optimizer for NAdam {
    type State<const D: usize> = NAdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let state = state.map(|s| s.land(&tensor));
        let NAdamState { step, mu_product, exp_avg, exp_avg_sq } = state.unwrap_or_else(|| NAdamState {
            step: 0,
            mu_product: 1.0,
            exp_avg: tensor.zeros_like(),
            exp_avg_sq: tensor.zeros_like(),
        });
        let step = step + 1;
        let (param, grad) = self.decay.apply(tensor, maximize(grad, self.maximize), lr);
        let (t, beta1) = (step as f64, self.beta1.get());
        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        let mu_product = mu_product * mu;

        let exp_avg = first_moment(exp_avg, grad.clone(), beta1);
        let exp_avg_sq = second_moment(exp_avg_sq, grad.clone(), self.beta2);
        let denom = exp_avg_sq.clone().div_scalar(bias_correction(self.beta2, step)).sqrt().add_scalar(self.eps);

        let mu_product_next = mu_product * mu_next;
        let param = addcdiv(param, grad, denom.clone(), -lr * (1.0 - mu) / (1.0 - mu_product));
        let param = addcdiv(param, exp_avg.clone(), denom, (-lr * mu_next) / (1.0 - mu_product_next));
        (param, Some(NAdamState { step, mu_product, exp_avg, exp_avg_sq }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.to_device(device)
    }
}
