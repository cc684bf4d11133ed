//! `conv::conv2d` (descent's im2col kernel on flex) against Burn's `Conv2d::forward`, in f64:
//! the output and every gradient (input, weight, bias) agree to float rounding, for several
//! shapes and paddings; convolutions it does not cover are Burn's forward exactly.

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Distribution, Tensor, TensorData};
use descent_model::conv::{conv2d, on_host_kernel};

use crate::common::{flex as device, ndarray, vals};

/// Largest difference relative to the reference's largest magnitude.
fn rel_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().map(|v| v.abs()).fold(0.0, f64::max);
    assert!(scale > 0.05, "not a comparison of zeros");
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / scale
}

/// Loss = Σ y ⊙ r for a fixed random r through both paths; output and gradients of each.
fn runs(conv: &Conv2d, x: Tensor<4>, track_x: bool) -> Vec<Vec<Vec<f64>>> {
    let x = if track_x { x.require_grad() } else { x };
    [true, false]
        .into_iter()
        .map(|ours| {
            let y = if ours { conv2d(conv, x.clone()) } else { conv.forward(x.clone()) };
            // The same weights r on both paths: a fixed pattern, not a draw.
            let n = y.dims().iter().product::<usize>();
            let r: Vec<f64> = (0..n).map(|i| ((i * 7919 % 23) as f64 - 11.0) / 7.0).collect();
            let r = Tensor::<4>::from_data(TensorData::new(r, y.dims()), &y.device());
            let grads = (y.clone() * r).sum().backward();
            let mut out = vec![vals(y)];
            out.push(vals(conv.weight.val().grad(&grads).unwrap()));
            out.push(vals(conv.bias.as_ref().unwrap().val().grad(&grads).unwrap()));
            if track_x {
                out.push(vals(x.grad(&grads).unwrap()));
            } else {
                assert!(x.grad(&grads).is_none(), "an untracked input gets no gradient");
            }
            out
        })
        .collect()
}

#[test]
fn conv2d_matches_burns_conv_and_its_gradients() {
    let d = device();
    // (batch, channels in, out, [h, w], [kh, kw], padding, whether x needs a gradient)
    let cases: [(usize, usize, usize, [usize; 2], [usize; 2], PaddingConfig2d, bool); 6] = [
        (4, 1, 16, [28, 28], [3, 3], PaddingConfig2d::Same, false),
        (3, 16, 32, [14, 14], [3, 3], PaddingConfig2d::Same, true),
        (2, 3, 5, [7, 9], [3, 5], PaddingConfig2d::Same, true),
        (2, 2, 4, [6, 5], [3, 3], PaddingConfig2d::Valid, true),
        (1, 3, 2, [5, 6], [1, 3], PaddingConfig2d::Explicit(2, 1, 2, 1), true),
        (5, 4, 3, [1, 1], [3, 3], PaddingConfig2d::Same, true),
    ];
    for (b, ci, co, [h, w], kernel, padding, track_x) in cases {
        let conv = Conv2dConfig::new([ci, co], kernel).with_padding(padding.clone()).init(&d);
        let x = Tensor::<4>::random([b, ci, h, w], Distribution::Normal(0.0, 1.0), &d);
        assert!(on_host_kernel(&conv, &x), "descent's kernel should run here");
        // Without autodiff (validation, inference): the flex backend's own entry, same output.
        let (plain, x_plain) = (conv.valid(), x.clone().without_autodiff());
        assert!(on_host_kernel(&plain, &x_plain));
        assert_eq!(vals(conv2d(&plain, x_plain)), vals(conv2d(&conv, x.clone())));
        let r = runs(&conv, x, track_x);
        for (what, (ours, burns)) in ["output", "weight grad", "bias grad", "input grad"].iter().zip(r[0].iter().zip(&r[1])) {
            let diff = rel_diff(ours, burns);
            // f64 sums of up to ~3,000 terms in another order: ≤ 1e-12 of the largest value; a
            // wrong index or a missing term is off by 1e-2 or more.
            assert!(diff < 1e-12, "{what} of case {:?}: relative difference {diff:e}", (b, ci, co, h, w, kernel, &padding));
        }
    }
}

#[test]
fn conv2d_is_burns_forward_where_the_kernel_does_not_apply() {
    let d = device();
    let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &d);
    let strided = Conv2dConfig::new([3, 4], [3, 3]).with_stride([2, 2]).init(&d);
    let no_bias = Conv2dConfig::new([3, 4], [3, 3]).with_bias(false).init(&d);
    let even_same = Conv2dConfig::new([3, 4], [2, 2]).with_padding(PaddingConfig2d::Same).init(&d);
    for conv in [strided, no_bias, even_same] {
        assert!(!on_host_kernel(&conv, &x));
        assert_eq!(vals(conv2d(&conv, x.clone())), vals(conv.forward(x.clone())));
    }
    // Another device: Burn's ndarray backend.
    let nd = ndarray();
    let conv = Conv2dConfig::new([3, 4], [3, 3]).with_padding(PaddingConfig2d::Same).init(&nd);
    let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &nd);
    assert!(!on_host_kernel(&conv, &x));
}
