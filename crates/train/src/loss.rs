//! The data term of the loss.
//!
//! - `mse`: mean squared error over all elements, torch's `MSELoss()`:
//!   `L = (1/(m·k))·Σ (ŷ − y)²`.
//! - `cross_entropy`: torch's `CrossEntropyLoss()` on logits with integer class targets:
//!   `L = −(1/m)·Σᵢ log softmax(zᵢ)[yᵢ]`.
//!
//! [`batch_loss`] is the one place the training loss is assembled from these and the
//! penalties (the trainer and the LR range test both use it).

use burn::tensor::activation::log_softmax;
use burn::tensor::{Int, Tensor};
use descent_model::Model;
use descent_optim::penalty::Penalty;

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

/// The training loss of one batch (or one micro-batch of an accumulated step), summed in
/// the order the numbers depend on: the data loss plus the model's own penalty (MF's
/// embedding L2, a per-sample mean like the data loss, so it takes the same micro-batch
/// weight), times `weight` (`n_i/Σn`, only when a step has several micro-batches), plus the
/// `[loss]` L1/L2 term over the parameters with `m` samples — given once per step.
pub fn batch_loss(
    model: &Model,
    x: Tensor<2>,
    y: &Targets,
    weight: Option<f64>,
    penalty: Option<(&Penalty, usize)>,
) -> Tensor<1> {
    let (out, own_penalty) = model.forward_with_penalty(x);
    let mut loss = data_loss(out, y);
    if let Some(r) = own_penalty {
        loss = loss + r;
    }
    if let Some(w) = weight {
        loss = loss.mul_scalar(w);
    }
    if let Some(term) = penalty.and_then(|(p, m)| p.term(model, m)) {
        loss = loss + term;
    }
    loss
}

/// Number of correct argmax predictions (classification only).
pub fn correct(output: Tensor<2>, classes: &Tensor<1, Int>) -> usize {
    let m = classes.dims()[0];
    let pred = output.argmax(1).reshape([m]);
    pred.equal(classes.clone()).int().sum().into_scalar::<i64>() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn cross_entropy_is_minus_log_softmax_of_the_target() {
        let d = Device::flex();
        let logits = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 0.5, 0.5, 0.5], [2, 3]), &d);
        let classes = Tensor::<1, Int>::from_data(TensorData::new(vec![2i64, 0], [2]), &d);
        let loss = cross_entropy(logits.clone(), classes.clone()).into_scalar::<f64>();
        // −log(e³/(e¹+e²+e³)) = 0.4076059644…, −log(1/3) = 1.0986122886…
        let want = (0.40760596444437 + 1.0986122886681098) / 2.0;
        assert!((loss - want).abs() < 1e-6, "{loss} vs {want}");
        // A tie counts as the first index (torch.argmax does the same): both rows are right.
        assert_eq!(correct(logits, &classes), 2);
    }

    #[test]
    fn mse_is_the_mean_of_squared_errors() {
        let d = Device::flex();
        let p = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]), &d);
        let y = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 2.0, 5.0, 4.5], [2, 2]), &d);
        assert!((mse(p, y).into_scalar::<f64>() - (1.0 + 0.0 + 4.0 + 0.25) / 4.0).abs() < 1e-7);
    }
}
