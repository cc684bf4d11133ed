//! Learning-rate schedules that reproduce `torch.optim.lr_scheduler` (PyTorch 2.5), value
//! for value, including PyTorch's recursive ("chainable") arithmetic where it differs from
//! the closed form.
//!
//! A [`SchedulerConfig`] (serde, tagged by `kind`, keys named as PyTorch's constructor
//! arguments with its defaults) builds a [`Scheduler`] for an optimizer's learning rate and
//! momentum. The scheduler plays the role of PyTorch's scheduler *and* of the optimizer's
//! param group it writes into: [`Scheduler::lr`] is `param_groups[0]['lr']`,
//! [`Scheduler::step`] is `scheduler.step()`. It also implements Burn's
//! [`LrScheduler`](burn::lr_scheduler::LrScheduler), whose `step()` returns the lr for the
//! coming optimizer step and then advances, so Burn's k-th call returns PyTorch's `lr[k]`.
//!
//! | descent `kind` | PyTorch class | Burn 0.22 (`burn::lr_scheduler`) |
//! |---|---|---|
//! | `constant` | `ConstantLR(factor=1/3, total_iters=5)` | none. Burn's `Constant(lr)` / `ConstantLr` is a fixed lr, not a temporary factor |
//! | `step` | `StepLR(step_size, gamma=0.1)` | `step::StepLrSchedulerConfig(initial_lr, step_size, gamma=0.1)`: same default, but an absolute `initial_lr` and the closed form `initial_lr·γ.powi(k)` (not PyTorch's repeated product; can differ in the last bits) |
//! | `multistep` | `MultiStepLR(milestones, gamma=0.1)` | none |
//! | `exponential` | `ExponentialLR(gamma)` | `exponential::ExponentialLrSchedulerConfig(initial_lr, gamma)`: recursive like PyTorch but starts from `(initial_lr/γ)·γ` (may be off by an ulp); rejects `initial_lr ∉ (0, 1]` and `γ ∉ (0, 1]` |
//! | `cosine` | `CosineAnnealingLR(T_max, eta_min=0)` | `cosine::CosineAnnealingLrSchedulerConfig(initial_lr, num_iters, min_lr=0)`: the closed form (PyTorch recurses), requires `initial_lr ∈ (0, 1]`, `min_lr ≤ initial_lr` |
//! | `cosine_warm_restarts` | `CosineAnnealingWarmRestarts(T_0, T_mult=1, eta_min=0)` | none |
//! | `linear` | `LinearLR(start_factor=1/3, end_factor=1, total_iters=5)` | `linear::LinearLrSchedulerConfig(initial_lr, final_lr, num_iters)`: absolute lrs without defaults instead of factors, closed form `final − (final − initial)/n · remaining` |
//! | `polynomial` | `PolynomialLR(total_iters=5, power=1)` | none |
//! | `onecycle` | `OneCycleLR(max_lr, total_steps, …)` | none |
//! | `cyclic` | `CyclicLR(base_lr, max_lr, step_size_up=2000, …)` | none |
//! | `plateau` | `ReduceLROnPlateau(mode='min', factor=0.1, patience=10, …)` | none (Burn's trait has no metric) |
//! | `multiplicative` | `MultiplicativeLR(lr_lambda=lambda epoch: factor)`; any closure via [`Scheduler::multiplicative`] | none |
//! | `swalr` | `torch.optim.swa_utils.SWALR(swa_lr, anneal_epochs=10, anneal_strategy='cos')` | none |
//! | `multiplicative` | `MultiplicativeLR(lr_lambda=lambda epoch: factor)`; any closure via [`Scheduler::multiplicative`] | none |
//! | `swalr` | `torch.optim.swa_utils.SWALR(swa_lr, anneal_epochs=10, anneal_strategy='cos')` | none |
//! | `sequential` | `SequentialLR(schedulers, milestones)` | `sequential::SequentialLrSchedulerConfig(schedulers, milestones)`: each sub-scheduler has its own absolute lr and starts from its own step 0 when it takes over — no shared lr, no `step(0)` closed form; milestones must be > 0 and strictly increasing (descent requires the same) |
//! | `chained` | `ChainedScheduler(schedulers)` | `composed::ComposedLrSchedulerConfig(schedulers, reduction=Prod)` combines independent lrs by product/sum/mean — not PyTorch's chaining on a shared lr |
//! | — ([`Scheduler::lambda`]) | `LambdaLR(lr_lambda)` | none. Burn's `noam::NoamLrSchedulerConfig(factor, warmup_steps=4000, model_size=512)` is one fixed lambda (transformer warm-up), with no PyTorch class |
//!
//! Validation happens in [`SchedulerConfig::build`] (or while parsing, for string-valued
//! arguments) with PyTorch's messages where PyTorch checks; where PyTorch accepts a value
//! that breaks its own arithmetic (a zero period, a zero factor, …) descent rejects it too,
//! and each such check says so in a comment.
//!
//! Momentum: one-cycle and cyclic (with `cycle_momentum`, PyTorch's default) also set the
//! optimizer's momentum (SGD's `momentum`, Adam's β₁) each step; [`Scheduler::momentum`]
//! gives the value for the coming step, to be written into the optimizer's
//! [`HyperParam`](crate::HyperParam).

pub mod bound;
mod config;
pub mod constant;
pub mod cosine;
pub mod cosine_warm_restarts;
pub mod cyclic;
pub mod exponential;
mod group;
pub mod lambda;
pub mod linear;
pub mod multiplicative;
pub mod multistep;
pub mod onecycle;
pub mod plateau;
pub mod polynomial;
mod record;
mod scheduler;
pub mod step;
pub mod swalr;
mod tree;

/// `SequentialLR`; the config lives with [`SchedulerConfig`], which it nests.
pub mod sequential {
    pub use super::config::SequentialConfig;
}

/// `ChainedScheduler`; the config lives with [`SchedulerConfig`], which it nests.
pub mod chained {
    pub use super::config::ChainedConfig;
}

pub use bound::BoundScheduler;
pub use config::{ChainedConfig, SchedulerConfig, SequentialConfig};
pub use constant::ConstantConfig;
pub use cosine::CosineConfig;
pub use cosine_warm_restarts::CosineWarmRestartsConfig;
pub use cyclic::{CyclicConfig, CyclicMode, ScaleMode};
pub use exponential::ExponentialConfig;
pub use linear::LinearConfig;
pub use multiplicative::MultiplicativeConfig;
pub use multistep::MultiStepConfig;
pub use onecycle::{AnnealStrategy, OneCycleConfig};
pub use plateau::{PlateauConfig, PlateauMode, ThresholdMode};
pub use polynomial::PolynomialConfig;
pub use scheduler::{table, Scheduler};
pub use step::StepConfig;
pub use swalr::SwalrConfig;
