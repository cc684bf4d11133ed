//! The optimizer's param group as PyTorch's schedulers see it.

/// The optimizer's param group as PyTorch's schedulers see it: its lr and momentum, and the
/// entries schedulers store in it (`initial_lr`; one-cycle's `max_lr`, `min_lr`,
/// `max_momentum`, `base_momentum`). Sub-schedulers of a composite share it, as they share
/// the optimizer in PyTorch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    pub lr: f64,
    pub initial_lr: Option<f64>,
    /// `None`: the optimizer has no momentum term.
    pub momentum: Option<f64>,
    pub max_lr: Option<f64>,
    pub min_lr: Option<f64>,
    pub max_momentum: Option<f64>,
    pub base_momentum: Option<f64>,
}

impl Group {
    pub(crate) fn new(lr: f64, momentum: Option<f64>) -> Self {
        Self {
            lr,
            initial_lr: None,
            momentum,
            max_lr: None,
            min_lr: None,
            max_momentum: None,
            base_momentum: None,
        }
    }

    pub(crate) fn optional(&self) -> [(&'static str, Option<f64>); 6] {
        [
            ("initial_lr", self.initial_lr),
            ("momentum", self.momentum),
            ("max_lr", self.max_lr),
            ("min_lr", self.min_lr),
            ("max_momentum", self.max_momentum),
            ("base_momentum", self.base_momentum),
        ]
    }

}
