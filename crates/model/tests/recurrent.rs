//! `gru_last` against Burn's own GRU forward, in f64: the last hidden state and every
//! gradient (input, the six weights, the six biases) agree to float rounding; GRUs it does
//! not cover fall back to Burn's forward exactly.

use burn::module::Param;
use burn::nn::{Gru, GruConfig};
use burn::tensor::{Device, Distribution, FloatDType, Tensor};
use descent_model::recurrent::{gru_last, is_torch_gru};

fn device() -> Device {
    let mut d = Device::flex().autodiff();
    if d.configure(FloatDType::F64).is_err() {
        assert_eq!(d.settings().float_dtype, FloatDType::F64, "device already initialised in another dtype");
    }
    d
}

fn burn_last(g: &Gru, x: Tensor<3>) -> Tensor<2> {
    let [b, t, _] = x.dims();
    let h = g.d_hidden;
    g.forward(x, None).slice([0..b, t - 1..t, 0..h]).reshape([b, h])
}

fn vals<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data().convert::<f64>().try_to_vec::<f64>().unwrap()
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Every parameter of the GRU, as (name, value), in a fixed order.
fn params(g: &Gru) -> Vec<(String, Param<Tensor<2>>, Option<Param<Tensor<1>>>)> {
    let gates = [("z", &g.update_gate), ("r", &g.reset_gate), ("n", &g.new_gate)];
    let mut out = Vec::new();
    for (name, c) in gates {
        out.push((format!("W_i{name}"), c.input_transform.weight.clone(), c.input_transform.bias.clone()));
        out.push((format!("W_h{name}"), c.hidden_transform.weight.clone(), c.hidden_transform.bias.clone()));
    }
    out
}

/// Loss = Σ h_T ⊙ c for a fixed random c; compares h_T and all gradients of both paths.
fn compare(g: &Gru, b: usize, t: usize, d_in: usize) -> (f64, f64) {
    let d = device();
    let x = Tensor::<3>::random([b, t, d_in], Distribution::Normal(0.0, 1.0), &d).require_grad();
    let c = Tensor::<2>::random([b, g.d_hidden], Distribution::Normal(0.0, 1.0), &d);
    let mut fwd = 0.0f64;
    let mut grad = 0.0f64;
    let runs: Vec<_> = [true, false]
        .into_iter()
        .map(|fast| {
            let h = if fast { gru_last(g, x.clone()) } else { burn_last(g, x.clone()) };
            let grads = (h.clone() * c.clone()).sum().backward();
            let mut gs = vec![vals(x.grad(&grads).unwrap())];
            for (_, w, bias) in params(g) {
                gs.push(vals(w.val().grad(&grads).unwrap()));
                if let Some(bias) = bias {
                    gs.push(vals(bias.val().grad(&grads).unwrap()));
                }
            }
            (vals(h), gs)
        })
        .collect();
    fwd = fwd.max(max_diff(&runs[0].0, &runs[1].0));
    assert_eq!(runs[0].1.len(), runs[1].1.len());
    for (a, b) in runs[0].1.iter().zip(&runs[1].1) {
        grad = grad.max(max_diff(a, b));
    }
    // Not a comparison of two zeros: the state and the gradients are O(0.1–1).
    assert!(runs[1].0.iter().map(|v| v.abs()).fold(0.0, f64::max) > 0.05);
    (fwd, grad)
}

#[test]
fn gru_last_equals_burns_gru_forward_and_gradients() {
    let d = device();
    for (bias, b, t, d_in, h) in [(true, 3, 6, 5, 7), (true, 1, 1, 2, 3), (false, 4, 9, 3, 5), (true, 2, 24, 8, 16)] {
        let g = GruConfig::new(d_in, h, bias).init(&d);
        assert!(is_torch_gru(&g));
        let (fwd, grad) = compare(&g, b, t, d_in);
        assert!(fwd <= 1e-14, "bias {bias}, B {b}, T {t}: h_T off by {fwd:e}");
        assert!(grad <= 1e-13, "bias {bias}, B {b}, T {t}: a gradient off by {grad:e}");
    }
}

#[test]
fn other_grus_go_through_burns_forward_unchanged() {
    let d = device();
    for g in [
        GruConfig::new(4, 6, true).with_reset_after(false).init(&d),
        GruConfig::new(4, 6, true).with_clip(Some(0.5)).init(&d),
    ] {
        assert!(!is_torch_gru(&g));
        let x = Tensor::<3>::random([2, 5, 4], Distribution::Normal(0.0, 1.0), &d);
        assert_eq!(vals(gru_last(&g, x.clone())), vals(burn_last(&g, x)));
    }
}

#[test]
#[allow(deprecated)] // Device::ndarray: the other CPU backend, still the one to tell apart here
fn the_fused_gates_run_on_flex_only() {
    use descent_model::flex::on_flex;
    assert!(on_flex(&Device::flex()));
    assert!(on_flex(&device()));
    assert!(!on_flex(&Device::ndarray()));
    assert!(!on_flex(&Device::ndarray().autodiff()));
}
