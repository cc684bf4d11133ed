//! The vectorisable f32 exp, sigmoid and tanh against f64 references: error in units in the
//! last place of the f32 result, over a dense grid of [−30, 30] and the points where the
//! formulas switch branch.

use descent_model::fast_math::{exp, sigmoid, sigmoid_slice, tanh, tanh_slice};

/// |f32 result − exact| in ulps of the exact value (at least the smallest normal's ulp).
fn ulps(got: f32, exact: f64) -> f64 {
    let e = exact as f32;
    let ulp = (f32::from_bits(e.abs().to_bits() + 1) - e.abs()).max(f32::MIN_POSITIVE * f32::EPSILON) as f64;
    (got as f64 - exact).abs() / ulp
}

fn grid() -> Vec<f32> {
    let mut xs: Vec<f32> = (-3_000_000..=3_000_000).map(|i| i as f32 * 1e-5).collect();
    for x in [0.0f32, -0.0, 0.625, -0.625, 0.624_999_94, 1e-30, -1e-30, 1e-8, 20.0, 44.0, 87.0, -87.0] {
        xs.push(x);
    }
    xs
}

fn worst(f: impl Fn(f32) -> f32, exact: impl Fn(f64) -> f64, xs: &[f32]) -> (f64, f32) {
    xs.iter().map(|&x| (ulps(f(x), exact(x as f64)), x)).fold((0.0, 0.0), |a, b| if b.0 > a.0 { b } else { a })
}

#[test]
fn exp_sigmoid_and_tanh_are_within_a_few_ulps() {
    let xs = grid();
    let (e, at) = worst(exp, f64::exp, &xs);
    assert!(e <= 1.0, "exp: {e} ulp at {at}");
    let (s, at) = worst(sigmoid, |x| 1.0 / (1.0 + (-x).exp()), &xs);
    assert!(s <= 2.5, "sigmoid: {s} ulp at {at}");
    let (t, at) = worst(tanh, f64::tanh, &xs);
    assert!(t <= 1.5, "tanh: {t} ulp at {at}");
    eprintln!("worst: exp {e:.2}, sigmoid {s:.2}, tanh {t:.2} ulp");
}

#[test]
fn limits_signs_and_the_slice_forms() {
    assert_eq!(tanh(0.0), 0.0);
    assert!(tanh(-0.0).is_sign_negative());
    assert_eq!(tanh(50.0), 1.0);
    assert_eq!(tanh(-1e6), -1.0);
    assert_eq!(sigmoid(0.0), 0.5);
    assert_eq!(sigmoid(200.0), 1.0);
    assert!(sigmoid(-200.0) >= 0.0 && sigmoid(-200.0) < 1e-37);
    // The slice forms (AVX2 where the CPU has it) give the scalar forms' bits.
    let xs: Vec<f32> = (-1000..1000).map(|i| i as f32 * 0.037).collect();
    let (mut s, mut t) = (xs.clone(), xs.clone());
    sigmoid_slice(&mut s);
    tanh_slice(&mut t);
    for (i, &x) in xs.iter().enumerate() {
        assert_eq!(s[i].to_bits(), sigmoid(x).to_bits(), "sigmoid({x})");
        assert_eq!(t[i].to_bits(), tanh(x).to_bits(), "tanh({x})");
    }
}
