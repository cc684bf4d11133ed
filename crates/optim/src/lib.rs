//! descent-optim: PyTorch-exact optimizers and learning-rate schedules for Burn 0.22.
//!
//! Every optimizer implements [`burn::optim::Optimizer`], so it becomes a Burn
//! [`ModuleOptimizer`](burn::optim::ModuleOptimizer) with `init()` (or `.into()`) and works in
//! a hand-written loop as well as in burn-train's `Learner`. Argument names, defaults, update
//! order (so rounding) and validation errors follow `torch.optim`.
//!
//! | torch | descent |
//! |---|---|
//! | `torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov, maximize)` | [`SgdConfig`] → [`Sgd`] (plus proximal `l1`) |
//! | `torch.optim.Adam` | [`AdamConfig`] → [`Adam`] |
//! | `torch.optim.AdamW` | [`AdamWConfig`] → [`AdamW`] |
//! | `torch.optim.RMSprop` | [`RmsPropConfig`] → [`RmsProp`] |
//! | `torch.optim.Adagrad` | [`AdagradConfig`] → [`Adagrad`] |
//! | `torch.optim.Adadelta` | [`AdadeltaConfig`] → [`Adadelta`] |
//! | `torch.optim.Adamax` | [`AdamaxConfig`] → [`Adamax`] |
//! | `torch.optim.NAdam` | [`NAdamConfig`] → [`NAdam`] |
//! | `torch.optim.RAdam` | [`RAdamConfig`] → [`RAdam`] |
//! | `torch.optim.ASGD` | [`AsgdConfig`] → [`Asgd`] |
//! | `torch.optim.Rprop` | [`RpropConfig`] → [`Rprop`] |
//! | `torch.optim.Adafactor` | [`AdafactorConfig`] → [`Adafactor`] |
//! | `torch.optim.Muon` (2-D parameters; Newton–Schulz in the parameter's dtype, torch's in bfloat16) | [`MuonConfig`] → [`Muon`] |
//! | Lion (optax's `lion`; torch has none) | [`LionConfig`] → [`Lion`] |
//! | `torch.optim.LBFGS` (closure-driven: `step(closure)`) | [`LbfgsConfig`] → [`Lbfgs`] ([`Lbfgs::step`] takes the closure) |
//! | `schedulefree.SGDScheduleFree` | [`SgdScheduleFreeConfig`] → [`SgdScheduleFree`] ([`schedule_free::eval`] / [`schedule_free::train`]) |
//! | `schedulefree.AdamWScheduleFree` | [`AdamWScheduleFreeConfig`] → [`AdamWScheduleFree`] |
//! | `param_groups` | [`param_group`], [`OptimizerConfig::add_group`] |
//! | `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_` | [`clip_grad_norm`] / [`clip_grad_value`] |
//! | `torch.optim.swa_utils.AveragedModel` (EMA / SWA) | [`AveragedModel`] with [`AvgFn`] ([`averaging`]) |
//! | `torch.optim.lr_scheduler.*` | [`SchedulerConfig`] → [`Scheduler`] ([`schedule`] has the table) |
//! | `optimizer.state_dict()` | Burn's optimizer record; loaded state lands as [`record::land`] says |
//!
//! A training loop, as with any Burn optimizer (`torch.optim.SGD(model.parameters(), lr=0.1,
//! momentum=0.9)`):
//!
//! ```
//! use burn::module::Module;
//! use burn::nn::{Linear, LinearConfig};
//! use burn::optim::GradientsParams;
//! use burn::tensor::{Device, Distribution, Tensor};
//! use descent_optim::SgdConfig;
//!
//! let device = Device::flex().autodiff();
//! let x = Tensor::<2>::random([64, 4], Distribution::Normal(0.0, 1.0), &device);
//! let y = x.clone().sum_dim(1);
//! let mut model: Linear = LinearConfig::new(4, 1).init(&device);
//! let config = SgdConfig::new(0.1).with_momentum(0.9);
//! let mut optim = config.init()?;
//! for _ in 0..20 {
//!     let loss = (model.forward(x.clone()) - y.clone()).powi_scalar(2).mean();
//!     let grads = GradientsParams::from_grads(loss.backward(), &model);
//!     model = optim.step(config.lr, model, grads);
//! }
//! # Ok::<(), descent_optim::OptimError>(())
//! ```
//!
//! # Built from parts
//!
//! Each torch class is a short file composing small public pieces in torch's order: weight
//! decay ([`regularization`]), momentum, moments and bias correction ([`parts`]), state
//! records ([`optim_state!`], [`record`]). An optimizer torch has no class for is composed
//! the same way; here sign-SGD with decoupled weight decay, θ ← θ·(1 − γλ) − γ·sign(g):
//!
//! ```
//! use burn::optim::{LearningRate, Optimizer};
//! use burn::tensor::{Device, Tensor};
//! use descent_optim::parts::maximize;
//! use descent_optim::WeightDecay;
//!
//! #[derive(Clone)]
//! struct SignSgd {
//!     decay: WeightDecay,
//! }
//!
//! descent_optim::optim_state! {
//!     /// Only a step counter: sign-SGD keeps no moments.
//!     pub struct SignSgdState<const D: usize> {
//!         pub step: u64,
//!     }
//! }
//!
//! impl Optimizer for SignSgd {
//!     type State<const D: usize> = SignSgdState<D>;
//!
//!     fn step<const D: usize>(
//!         &self,
//!         lr: LearningRate,
//!         param: Tensor<D>,
//!         grad: Tensor<D>,
//!         state: Option<Self::State<D>>,
//!     ) -> (Tensor<D>, Option<Self::State<D>>) {
//!         let step = state.map_or(0, |s| s.step) + 1;
//!         let (param, grad) = self.decay.apply(param, maximize(grad, false), lr);
//!         (param - grad.sign().mul_scalar(lr), Some(SignSgdState { step }))
//!     }
//!
//!     fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
//!         state.to_device(device)
//!     }
//! }
//!
//! let device = Device::flex();
//! let sign_sgd = SignSgd { decay: WeightDecay::Decoupled(0.5) };
//! let theta = Tensor::<1>::from_floats([1.0, -2.0], &device);
//! let g = Tensor::<1>::from_floats([0.3, -0.1], &device);
//! let (theta, _) = sign_sgd.step(0.1, theta, g, None);
//! // 1·(1 − 0.05) − 0.1 = 0.85;  −2·(1 − 0.05) + 0.1 = −1.8
//! let v = theta.into_data().convert::<f64>().to_vec::<f64>().unwrap();
//! assert!((v[0] - 0.85).abs() < 1e-6 && (v[1] + 1.8).abs() < 1e-6);
//! ```
//!
//! | concept | file |
//! |---|---|
//! | the thirteen torch classes and Lion | [`sgd`], [`adam`], [`adamw`], [`rmsprop`], [`adagrad`], [`adadelta`], [`adamax`], [`nadam`], [`radam`], [`asgd`], [`rprop`], [`adafactor`], [`muon`], [`lion`] |
//! | L-BFGS and its line search | [`lbfgs`], [`strong_wolfe`] |
//! | schedule-free SGD / AdamW and their eval/train switch | [`sgd_schedule_free`], [`adamw_schedule_free`], [`schedule_free`] |
//! | the pieces they are built from | [`parts`], [`regularization`] |
//! | configs' defaults and setters, live hyper-parameters | [`hyper`] |
//! | state records and where loaded state lands | [`record`] |
//! | parameter groups (torch's `param_groups`) | [`groups`] |
//! | gradient clipping | [`clip`] |
//! | L1 / L2 regularisation, all four forms | [`regularization`] |
//! | serde config the trainer builds optimizers from | [`config`] |
//! | learning-rate schedules (PyTorch's `lr_scheduler`) | [`schedule`] |
//! | weight averaging (EMA / SWA) | [`averaging`] |
//!
//! Features: `fused` (default) runs SGD and Adam/AdamW as one in-place pass on Burn's CPU
//! (flex) backend, with the same bits as the tensor operations used otherwise. The crate
//! enables no Burn backend of its own: the binary picks them.

#[macro_use]
pub mod hyper;
pub mod record;

mod check;
pub mod error;
#[cfg(feature = "fused")]
mod fused;
pub mod parts;
pub mod regularization;

pub mod adadelta;
pub mod adafactor;
pub mod adagrad;
pub mod adam;
mod adam_core;
pub mod adamax;
pub mod adamw;
pub mod asgd;
pub mod lbfgs;
pub mod lbfgs_state;
pub mod lion;
pub mod muon;
pub mod nadam;
pub mod radam;
pub mod rmsprop;
pub mod rprop;
pub mod sgd;
pub mod strong_wolfe;

pub mod adamw_schedule_free;
pub mod schedule_free;
pub mod sgd_schedule_free;

pub mod averaging;
pub mod clip;
pub mod config;
pub mod groups;
pub mod schedule;

/// L1 / L2 loss penalties; kept at their old path, now in [`regularization`].
pub mod penalty {
    pub use crate::regularization::Penalty;
}

pub use adadelta::{Adadelta, AdadeltaConfig, AdadeltaState};
pub use adafactor::{Adafactor, AdafactorConfig, AdafactorState};
pub use adagrad::{Adagrad, AdagradConfig, AdagradState};
pub use adam::{Adam, AdamConfig, AdamState};
pub use adamax::{Adamax, AdamaxConfig, AdamaxState};
pub use adamw::{AdamW, AdamWConfig};
pub use asgd::{Asgd, AsgdConfig, AsgdState};
pub use adamw_schedule_free::{AdamWScheduleFree, AdamWScheduleFreeConfig};
pub use averaging::{AveragedModel, AvgFn};
pub use clip::{clip_grad_norm, clip_grad_norm_tensors, clip_grad_value, clip_grad_value_tensors, NormType};
pub use config::{BuiltOptimizer, OptimizerConfig};
pub use lbfgs::{Lbfgs, LbfgsConfig, LbfgsState};
pub use lion::{Lion, LionConfig, LionState};
pub use muon::{Muon, MuonConfig, MuonState};
pub use nadam::{NAdam, NAdamConfig, NAdamState};
pub use radam::{RAdam, RAdamConfig, RAdamState};
pub use rmsprop::{RmsProp, RmsPropConfig, RmsPropState};
pub use rprop::{Rprop, RpropConfig, RpropState};
pub use error::OptimError;
pub use groups::{param_group, GroupKnobs, GroupLr};
pub use schedule::{table, BoundScheduler, Scheduler, SchedulerConfig};
pub use schedule_free::{ScheduleFreeMode, ScheduleFreeState};
pub use hyper::HyperParam;
pub use regularization::{Penalty, WeightDecay};
pub use sgd::{Sgd, SgdConfig, SgdState};
pub use sgd_schedule_free::{SgdScheduleFree, SgdScheduleFreeConfig};
