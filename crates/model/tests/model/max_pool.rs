//! `max_pool::max_pool2d` (descent's 2×2 kernel on flex) against Burn's `MaxPool2d::forward`,
//! in f64: the output and the input's gradient are the same to the bit, ties and NaN included;
//! pools it does not cover are Burn's forward.

use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::tensor::{Distribution, Tensor, TensorData};
use descent_model::max_pool::{max_pool2d, on_host_kernel};

use crate::common::{flex as device, ndarray, vals};

/// Output and input gradient (loss Σ y ⊙ r, r a fixed pattern) through both paths, as bits.
fn runs(pool: &MaxPool2d, x: Tensor<4>) -> [[Vec<u64>; 2]; 2] {
    let x = x.require_grad();
    let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
    [true, false].map(|ours| {
        let y = if ours { max_pool2d(pool, x.clone()) } else { pool.forward(x.clone()) };
        let n = y.dims().iter().product::<usize>();
        let r: Vec<f64> = (0..n).map(|i| (i % 7) as f64 - 2.5).collect();
        let r = Tensor::<4>::from_data(TensorData::new(r, y.dims()), &y.device());
        let grads = (y.clone() * r).sum().backward();
        [bits(vals(y)), bits(vals(x.grad(&grads).unwrap()))]
    })
}

#[test]
fn max_pool2d_equals_burns_pool_and_its_gradient_to_the_bit() {
    let d = device();
    let pool = MaxPool2dConfig::new([2, 2]).init();
    // Random values, even and odd sides (an odd last row or column is dropped).
    for shape in [[3, 4, 8, 8], [2, 3, 7, 5], [1, 1, 2, 2], [33, 2, 4, 6]] {
        let x = Tensor::<4>::random(shape, Distribution::Normal(0.0, 1.0), &d);
        assert!(on_host_kernel(&pool, &x));
        // Without autodiff: the flex backend's own entry, same output.
        let x_plain = x.clone().without_autodiff();
        assert_eq!(vals(max_pool2d(&pool, x_plain.clone())), vals(pool.forward(x_plain)));
        let [ours, burns] = runs(&pool, x);
        assert_eq!(ours, burns, "shape {shape:?}");
    }
    // Ties (the first of equal values wins), NaN (the last NaN wins), infinities, signed zeros.
    let (nan, inf) = (f64::NAN, f64::INFINITY);
    #[rustfmt::skip]
    let special = [
        1.0, 1.0,   nan, 2.0,   -0.0, 0.0,   -inf, -inf,
        1.0, 1.0,   3.0, nan,    0.0, -0.0,  -inf, -inf,
        5.0, nan,   inf, 7.0,    2.0, 2.0,    nan, nan,
        nan, 4.0,   7.0, inf,    2.0, 3.0,    nan, nan,
    ];
    let x = Tensor::<4>::from_data(TensorData::new(special.to_vec(), [1, 1, 4, 8]), &d);
    let [ours, burns] = runs(&pool, x);
    assert_eq!(ours, burns);
    // Not vacuous: the pooled values hold the NaN and the infinity.
    let y: Vec<f64> = ours[0].iter().map(|&b| f64::from_bits(b)).collect();
    assert!(y[1].is_nan() && y[4].is_nan() && y[5] == inf, "{y:?}");
}

#[test]
fn other_pools_and_devices_are_burns_forward() {
    let d = device();
    let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &d);
    let overlapping = MaxPool2dConfig::new([2, 2]).with_strides([1, 1]).init();
    let three = MaxPool2dConfig::new([3, 3]).init();
    for pool in [overlapping, three] {
        assert!(!on_host_kernel(&pool, &x));
        assert_eq!(vals(max_pool2d(&pool, x.clone())), vals(pool.forward(x.clone())));
    }
    let x = Tensor::<4>::random([2, 3, 8, 8], Distribution::Normal(0.0, 1.0), &ndarray());
    assert!(!on_host_kernel(&MaxPool2dConfig::new([2, 2]).init(), &x));
}
