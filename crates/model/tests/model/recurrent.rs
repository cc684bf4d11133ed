//! `gru_last` and `lstm_last` against Burn's own GRU and LSTM forward, in f64: the last
//! hidden state and every gradient (input, weights, biases) agree to float rounding; cells
//! they do not cover fall back to Burn's forward exactly.

use burn::module::Param;
use burn::nn::{GateController, Gru, GruConfig, LstmConfig};
use burn::tensor::{Device, Distribution, Tensor};
use descent_model::flex::on_flex;
use descent_model::gru::{gru_last, is_torch_gru};
use descent_model::lstm::{is_torch_lstm, lstm_last};

use crate::common::{flex as device, ndarray, vals};

fn burn_gru_last(g: &Gru, x: Tensor<3>) -> Tensor<2> {
    let [b, t, _] = x.dims();
    let h = g.d_hidden;
    g.forward(x, None).slice([0..b, t - 1..t, 0..h]).reshape([b, h])
}


fn largest<'a>(xs: impl IntoIterator<Item = &'a f64>) -> f64 {
    xs.into_iter().map(|v| v.abs()).fold(0.0, f64::max)
}

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Every weight and bias of the gate controllers, in a fixed order.
fn params(gates: &[&GateController]) -> Vec<(Param<Tensor<2>>, Option<Param<Tensor<1>>>)> {
    let mut out = Vec::new();
    for c in gates {
        out.push((c.input_transform.weight.clone(), c.input_transform.bias.clone()));
        out.push((c.hidden_transform.weight.clone(), c.hidden_transform.bias.clone()));
    }
    out
}

/// Loss = Σ h_T ⊙ c for a fixed random c, through `ours` and `burns`; the largest difference
/// of h_T and of any gradient.
fn compare(
    shape: [usize; 3],
    hidden: usize,
    gates: &[&GateController],
    ours: impl Fn(Tensor<3>) -> Tensor<2>,
    burns: impl Fn(Tensor<3>) -> Tensor<2>,
) -> (f64, f64) {
    let d = device();
    let x = Tensor::<3>::random(shape, Distribution::Normal(0.0, 1.0), &d).require_grad();
    let c = Tensor::<2>::random([shape[0], hidden], Distribution::Normal(0.0, 1.0), &d);
    let runs: Vec<_> = [true, false]
        .into_iter()
        .map(|fast| {
            let h = if fast { ours(x.clone()) } else { burns(x.clone()) };
            let grads = (h.clone() * c.clone()).sum().backward();
            let mut gs = vec![vals(x.grad(&grads).unwrap())];
            for (w, bias) in params(gates) {
                gs.push(vals(w.val().grad(&grads).unwrap()));
                if let Some(bias) = bias {
                    gs.push(vals(bias.val().grad(&grads).unwrap()));
                }
            }
            (vals(h), gs)
        })
        .collect();
    // Not a comparison of two zeros. The inputs are not seeded, and the small cases' values
    // vary: the one-step, 3-unit LSTM's state and gradients all fell below 0.05 in ~1 run of 40.
    assert!(largest(&runs[1].0) > 1e-4, "the state is all but 0");
    assert!(largest(runs[1].1.iter().flatten()) > 1e-4, "the gradients are all but 0");
    assert_eq!(runs[0].1.len(), runs[1].1.len());
    let grad = runs[0].1.iter().zip(&runs[1].1).map(|(a, b)| max_diff(a, b)).fold(0.0, f64::max);
    (max_diff(&runs[0].0, &runs[1].0), grad)
}

// (bias, B, T, input, hidden); B = 70 spans three of the GRU operation's 32-row blocks.
const CASES: [(bool, usize, usize, usize, usize); 5] = [(true, 3, 6, 5, 7), (true, 1, 1, 2, 3), (false, 4, 9, 3, 5), (true, 2, 24, 8, 16), (true, 70, 5, 4, 6)];

#[test]
fn gru_last_equals_burns_gru_forward_and_gradients() {
    let d = device();
    for (bias, b, t, d_in, h) in CASES {
        let g = GruConfig::new(d_in, h, bias).init(&d);
        assert!(is_torch_gru(&g));
        let gates = [&g.update_gate, &g.reset_gate, &g.new_gate];
        let (fwd, grad) = compare([b, t, d_in], h, &gates, |x| gru_last(&g, x), |x| burn_gru_last(&g, x));
        assert!(fwd <= 1e-14, "bias {bias}, B {b}, T {t}: h_T off by {fwd:e}");
        assert!(grad <= 1e-13, "bias {bias}, B {b}, T {t}: a gradient off by {grad:e}");
    }
}

#[test]
fn lstm_last_equals_burns_lstm_forward_and_gradients() {
    let d = device();
    for (bias, b, t, d_in, h) in CASES {
        let l = LstmConfig::new(d_in, h, bias).init(&d);
        assert!(is_torch_lstm(&l));
        let forget = l.forget_gate.as_ref().unwrap();
        let gates = [&l.input_gate, forget, &l.cell_gate, &l.output_gate];
        let (fwd, grad) = compare([b, t, d_in], h, &gates, |x| lstm_last(&l, x), |x| l.forward(x, None).1.hidden);
        assert!(fwd <= 1e-14, "bias {bias}, B {b}, T {t}: h_T off by {fwd:e}");
        assert!(grad <= 1e-13, "bias {bias}, B {b}, T {t}: a gradient off by {grad:e}");
    }
}

#[test]
fn other_cells_go_through_burns_forward_unchanged() {
    let d = device();
    for g in [GruConfig::new(4, 6, true).with_reset_after(false).init(&d), GruConfig::new(4, 6, true).with_clip(Some(0.5)).init(&d)] {
        assert!(!is_torch_gru(&g));
        let x = Tensor::<3>::random([2, 5, 4], Distribution::Normal(0.0, 1.0), &d);
        assert_eq!(vals(gru_last(&g, x.clone())), vals(burn_gru_last(&g, x)));
    }
    for l in [LstmConfig::new(4, 6, true).with_clip(Some(0.5)).init(&d), LstmConfig::new(4, 6, true).with_input_forget(true).init(&d)] {
        assert!(!is_torch_lstm(&l));
        let x = Tensor::<3>::random([2, 5, 4], Distribution::Normal(0.0, 1.0), &d);
        assert_eq!(vals(lstm_last(&l, x.clone())), vals(l.forward(x, None).1.hidden));
    }
}

#[test]
#[allow(deprecated)] // Device::ndarray: the other CPU backend, still the one to tell apart here
fn the_host_gates_run_on_flex_only() {
    assert!(on_flex(&Device::flex()));
    assert!(on_flex(&device()));
    assert!(!on_flex(&Device::ndarray()));
    assert!(!on_flex(&Device::ndarray().autodiff()));
}

/// On a device other than flex the gates are Burn's tensor ops on column slices of the side by
/// side projections: the same results as Burn's modules there too.
#[test]
fn other_devices_take_the_tensor_path_with_the_same_results() {
    let d = ndarray();
    assert!(!on_flex(&d));
    let g = GruConfig::new(5, 7, true).init(&d);
    let l = LstmConfig::new(5, 7, true).init(&d);
    let x = Tensor::<3>::random([3, 6, 5], Distribution::Normal(0.0, 1.0), &d).require_grad();
    let gate_grads = |h: Tensor<2>| {
        let grads = h.sum().backward();
        vals(x.grad(&grads).unwrap())
    };
    let pairs = [
        (gru_last(&g, x.clone()), burn_gru_last(&g, x.clone())),
        (lstm_last(&l, x.clone()), l.forward(x.clone(), None).1.hidden),
    ];
    for (ours, burns) in pairs {
        assert!(max_diff(&vals(ours.clone()), &vals(burns.clone())) <= 1e-14);
        assert!(max_diff(&gate_grads(ours), &gate_grads(burns)) <= 1e-13);
    }
}

/// An input that makes a projection infinite or NaN: the GRU's fast paths decline and Burn's
/// ops give Burn's values (∞ − ∞ in the linked form would not be zero). And without autodiff
/// (validation) the GRU gives the same state as with it.
#[test]
fn gru_last_with_non_finite_input_and_without_autodiff() {
    let d = device();
    let g = GruConfig::new(3, 4, true).init(&d);
    let mut v: Vec<f64> = (0..2 * 5 * 3).map(|i| ((i * 37 % 11) as f64 - 5.0) / 4.0).collect();
    v[7] = f64::INFINITY;
    v[20] = f64::NAN;
    let x = Tensor::<3>::from_data(burn::tensor::TensorData::new(v, [2, 5, 3]), &d);
    let bits = |t: Tensor<2>| vals(t).into_iter().map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() }).collect::<Vec<_>>();
    let ours = bits(gru_last(&g, x.clone()));
    assert_eq!(ours, bits(burn_gru_last(&g, x.clone())));
    assert!(ours.contains(&u64::MAX), "not vacuous: a NaN reaches the state");
    // Finite input, plain flex (the path validation takes) against autodiff flex.
    let x = Tensor::<3>::random([3, 7, 3], Distribution::Normal(0.0, 1.0), &d);
    let plain = burn::module::Module::valid(&g);
    assert_eq!(vals(gru_last(&plain, x.clone().without_autodiff())), vals(gru_last(&g, x)));
}
