//! The pieces optimizers are built from, each a small transform of the gradient, the
//! parameter or a piece of state, in torch's arithmetic (its operation order, so its bits):
//!
//! | piece | formula | file |
//! |---|---|---|
//! | [`maximize`] | g ← −g | here |
//! | [`WeightDecay`](crate::regularization::WeightDecay) | g ← g + λθ (coupled) or θ ← θ(1 − γλ) (decoupled) | [`regularization`](crate::regularization) |
//! | [`Momentum`] | b ← μb + (1 − τ)g; g ← b or g + μb (Nesterov) | [`momentum`] |
//! | [`first_moment`], [`second_moment`], [`amsgrad_max`] | m ← lerp(m, g, 1 − β₁); v ← β₂v + (1 − β₂)g² | [`moments`] |
//! | [`bias_correction`] | 1 − βᵗ | [`moments`] |
//! | [`lerp`], [`ema_square`], [`addcdiv`] | ATen's fused kernels, in its order | [`torch_ops`] |
//!
//! They are public so an optimizer torch has no class for can be composed from them; the
//! [crate page](crate) shows sign-SGD with decoupled weight decay.

pub mod moments;
pub mod momentum;
pub mod torch_ops;

use burn::tensor::Tensor;

pub use moments::{amsgrad_max, bias_correction, first_moment, second_moment};
pub use momentum::{Momentum, MomentumState};
pub use torch_ops::{addcdiv, ema_square, lerp};

/// torch's `maximize`: ascend instead of descend, by negating the gradient first.
pub fn maximize<const D: usize>(grad: Tensor<D>, maximize: bool) -> Tensor<D> {
    if maximize {
        grad.neg()
    } else {
        grad
    }
}
