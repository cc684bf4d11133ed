//! `linear::linear` (descent's products on flex) against Burn's `Linear::forward`, in f64:
//! output and gradients the same to the bit (the f32 case is in the crate's own tests).

use burn::nn::LinearConfig;
use burn::tensor::{activation, Distribution, Tensor};
use descent_model::linear::{linear, on_host_kernel};

use crate::common::{flex as device, ndarray, vals};

#[test]
fn f64_layers_equal_burns_linear_to_the_bit() {
    let d = device();
    let bits = |t: Tensor<2>| vals(t).into_iter().map(f64::to_bits).collect::<Vec<_>>();
    // Split products (1024 rows) and single calls; one input needs no gradient.
    for (rows, i, o) in [(1024, 300, 64), (16, 10, 5), (3, 1, 7)] {
        let layer = LinearConfig::new(i, o).init(&d);
        let x = Tensor::<2>::random([rows, i], Distribution::Normal(0.0, 1.0), &d).require_grad();
        assert!(on_host_kernel(&layer, &x));
        let [ours, burns] = [true, false].map(|ours| {
            let y = activation::relu(if ours { linear(&layer, x.clone()) } else { layer.forward(x.clone()) });
            let w = layer.weight.val();
            let grads = ((y.clone() * y.clone()).sum() + (w.clone() * w.clone()).sum()).backward();
            let db = layer.bias.as_ref().unwrap().val().grad(&grads).unwrap().unsqueeze::<2>();
            [bits(y), bits(x.grad(&grads).unwrap()), bits(w.grad(&grads).unwrap()), bits(db)]
        });
        assert!(ours == burns, "{rows}×{i}→{o}");
    }
}

#[test]
fn other_devices_are_burns_forward() {
    let layer = LinearConfig::new(3, 2).init(&ndarray());
    let x = Tensor::<2>::random([4, 3], Distribution::Normal(0.0, 1.0), &ndarray());
    assert!(!on_host_kernel(&layer, &x));
    assert_eq!(vals(linear(&layer, x.clone())), vals(layer.forward(x)));
}
