//! The data term of the loss.
//!
//! - `mse`: mean squared error over all elements, torch's `MSELoss()`:
//!   `L = (1/(m·k))·Σ (ŷ − y)²`.
//! - `cross_entropy`: torch's `CrossEntropyLoss()` on logits with integer class targets:
//!   `L = −(1/m)·Σᵢ log softmax(zᵢ)[yᵢ]`.

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};

/// Targets of a batch: real values for regression, class indices for classification.
#[derive(Clone, Debug)]
pub enum Targets {
    Values(Tensor<2>),
    Classes(Tensor<1, Int>),
}

pub fn mse(pred: Tensor<2>, target: Tensor<2>) -> Tensor<1> {
    let diff = pred - target;
    (diff.clone() * diff).mean()
}

pub fn cross_entropy(logits: Tensor<2>, classes: Tensor<1, Int>) -> Tensor<1> {
    let m = classes.dims()[0];
    let picked = log_softmax(logits, 1).gather(1, classes.reshape([m, 1]));
    picked.mean().neg()
}

/// The data loss of `output` against `targets`.
pub fn data_loss(output: Tensor<2>, targets: &Targets) -> Tensor<1> {
    match targets {
        Targets::Values(y) => mse(output, y.clone()),
        Targets::Classes(c) => cross_entropy(output, c.clone()),
    }
}

/// Number of correct argmax predictions (classification only).
pub fn correct(output: Tensor<2>, classes: &Tensor<1, Int>) -> usize {
    let m = classes.dims()[0];
    let pred = output.argmax(1).reshape([m]);
    pred.equal(classes.clone()).int().sum().into_scalar::<i64>() as usize
}
