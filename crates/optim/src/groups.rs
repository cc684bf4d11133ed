//! Parameter groups, torch's `param_groups`: a subset of the parameters, picked by path,
//! optimized with some of the optimizer's arguments changed — most often no weight decay on
//! biases, or a smaller lr for a pretrained backbone:
//!
//! ```text
//! torch:   SGD([{"params": weights}, {"params": biases, "weight_decay": 0}], lr=0.1, weight_decay=1e-4)
//! descent: [optimizer] kind = "sgd", lr = 0.1, weight_decay = 1e-4
//!          [[optimizer.groups]] params = "bias$", weight_decay = 0.0
//! ```
//!
//! A group is Burn's [`ParamGroup`] (here a regex over the parameter path, e.g.
//! `layers.1.bias`) given its own optimizer through [`ModuleOptimizer::with_group`]; the last
//! group that matches a parameter wins, the base config takes the rest. A group with its own
//! `lr` runs its own copy of the schedule from that lr, as torch's schedulers keep one
//! `base_lr` per group; [`GroupLr`] carries that lr into the optimizer, since Burn passes one
//! lr to every parameter. A group may also be another optimizer kind (torch: two optimizers
//! side by side), e.g. `[[optimizer.groups]] params = "bias$"`, `kind = "adamw"` under a Muon base.

use burn::module::ParamGroup;
use burn::optim::{LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor};

use crate::config::OptimizerConfig;
use crate::config::WithOptimizer;
use crate::error::OptimError;
use crate::hyper::HyperParam;

/// An optimizer that steps with its group's own lr when it has one (set between steps by
/// whoever runs the group's schedule), else with the lr Burn passes in.
#[derive(Clone)]
pub struct GroupLr<O> {
    pub inner: O,
    pub lr: Option<HyperParam>,
}

impl<O: Optimizer> Optimizer for GroupLr<O> {
    type State<const D: usize> = O::State<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let lr = self.lr.as_ref().map(HyperParam::get).unwrap_or(lr);
        self.inner.step(lr, tensor, grad, state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        O::to_device(state, device)
    }
}

/// The knobs of one added group.
#[derive(Clone, Debug)]
pub struct GroupKnobs {
    /// The group's own lr (when its config overrides `lr`).
    pub lr: Option<HyperParam>,
    /// Its momentum / β₁, for cycling schedules.
    pub momentum: Option<HyperParam>,
}

/// Matches parameters whose path (`layers.0.weight`) matches the regex `pattern`.
pub fn param_group(pattern: &str) -> Result<ParamGroup, OptimError> {
    ParamGroup::from_regex(pattern).map_err(|e| OptimError::invalid(format!("params = {pattern:?}: {e:?}")))
}

impl OptimizerConfig {
    /// Adds a group to `optim` whose parameters are optimized by `self`: the base config with
    /// some keys overridden, or another kind altogether (Muon for the matrices, AdamW for the
    /// rest). Burn keeps each parameter's state with the group that steps it, so a record of
    /// mixed kinds saves and loads as long as the groups are built the same way again.
    /// `own_lr`: the group steps with its own lr, starting from `self.lr()`.
    pub fn add_group(
        &self,
        optim: ModuleOptimizer,
        group: ParamGroup,
        own_lr: bool,
    ) -> Result<(ModuleOptimizer, GroupKnobs), OptimError> {
        struct Add {
            optim: ModuleOptimizer,
            group: ParamGroup,
            lr: Option<HyperParam>,
        }
        impl WithOptimizer for Add {
            type Out = (ModuleOptimizer, GroupKnobs);
            fn apply<O: Optimizer>(self, inner: O, momentum: Option<HyperParam>) -> Self::Out {
                let knobs = GroupKnobs { lr: self.lr.clone(), momentum };
                (self.optim.with_group(self.group, GroupLr { inner, lr: self.lr }, None), knobs)
            }
        }
        self.with_built(Add { optim, group, lr: own_lr.then(|| HyperParam::new(self.lr())) })
    }
}
