//! `Sgd` against hand-derived updates, one option at a time, and against Burn's built-in
//! SGD where the two implement the same math.

use crate::common;

use burn::optim::Optimizer;
use common::{assert_close, t1, vec};
use descent_optim::{Sgd, SgdConfig, SgdState};

/// Runs `steps` updates of `opt` on θ₀ with a constant gradient `g`, returning each θ.
fn run(opt: &Sgd, lr: f64, theta0: &[f64], g: &[f64], steps: usize) -> Vec<Vec<f64>> {
    let mut theta = t1(theta0);
    let mut state: Option<SgdState<1>> = None;
    let mut out = Vec::new();
    for _ in 0..steps {
        let (next, s) = opt.step(lr, theta, t1(g), state);
        theta = next;
        state = s;
        out.push(vec(&theta));
    }
    out
}

const T0: [f64; 2] = [1.0, -2.0];
const G: [f64; 2] = [0.5, 0.25];

#[test]
fn plain_gd_is_theta_minus_lr_g() {
    let opt = SgdConfig::new(0.1).build().unwrap();
    let t = run(&opt, 0.1, &T0, &G, 2);
    assert_close(&t[0], &[0.95, -2.025], 1e-15, "step 1");
    assert_close(&t[1], &[0.9, -2.05], 1e-15, "step 2");
}

#[test]
fn momentum_starts_from_the_gradient_without_dampening() {
    // b₁ = g; b₂ = 0.9·b₁ + (1−0.5)·g = [0.7, 0.35]
    let opt = SgdConfig::new(0.1).with_momentum(0.9).with_dampening(0.5).build().unwrap();
    let t = run(&opt, 0.1, &T0, &G, 2);
    assert_close(&t[0], &[0.95, -2.025], 1e-15, "step 1");
    assert_close(&t[1], &[0.95 - 0.07, -2.025 - 0.035], 1e-15, "step 2");
}

#[test]
fn momentum_without_dampening() {
    // b₂ = 0.9·[0.5, 0.25] + [0.5, 0.25] = [0.95, 0.475]
    let opt = SgdConfig::new(0.1).with_momentum(0.9).build().unwrap();
    let t = run(&opt, 0.1, &T0, &G, 2);
    assert_close(&t[1], &[0.855, -2.0725], 1e-15, "step 2");
}

#[test]
fn nesterov_looks_ahead() {
    // step 1: b = g, d = g + 0.9·b = 1.9·g → θ = θ₀ − 0.1·1.9·g
    // step 2: b = 1.9·g, d = g + 0.9·1.9·g = 2.71·g
    let opt = SgdConfig::new(0.1).with_momentum(0.9).with_nesterov(true).build().unwrap();
    let t = run(&opt, 0.1, &T0, &G, 2);
    assert_close(&t[0], &[1.0 - 0.095, -2.0 - 0.0475], 1e-15, "step 1");
    assert_close(&t[1], &[1.0 - 0.095 - 0.1355, -2.0 - 0.0475 - 0.06775], 1e-15, "step 2");
}

#[test]
fn weight_decay_is_coupled_before_momentum() {
    // d = g + 0.1·θ₀ = [0.6, 0.05]; θ₁ = θ₀ − 0.1·d
    let opt = SgdConfig::new(0.1).with_weight_decay(0.1).with_momentum(0.9).build().unwrap();
    let t = run(&opt, 0.1, &T0, &G, 2);
    assert_close(&t[0], &[0.94, -2.005], 1e-15, "step 1");
    // d₂ = g + 0.1·θ₁ = [0.594, 0.0495]; b₂ = 0.9·[0.6, 0.05] + d₂ = [1.134, 0.0945]
    assert_close(&t[1], &[0.94 - 0.1134, -2.005 - 0.00945], 1e-15, "step 2");
}

#[test]
fn maximize_ascends() {
    let opt = SgdConfig::new(0.1).with_maximize(true).build().unwrap();
    let t = run(&opt, 0.1, &T0, &G, 1);
    assert_close(&t[0], &[1.05, -1.975], 1e-15, "step 1");
    // maximize negates g before weight decay: d = −g + 0.1·θ
    let opt = SgdConfig::new(0.1).with_maximize(true).with_weight_decay(0.1).build().unwrap();
    let t = run(&opt, 0.1, &T0, &G, 1);
    assert_close(&t[0], &[1.0 - 0.1 * (-0.5 + 0.1), -2.0 - 0.1 * (-0.25 - 0.2)], 1e-15, "wd");
}

#[test]
fn proximal_l1_soft_thresholds_to_exact_zeros() {
    // g = 0, so the step only soft-thresholds by lr·l1 = 0.1.
    let opt = SgdConfig::new(0.1).with_l1(1.0).build().unwrap();
    let t = run(&opt, 0.1, &[0.3, -0.05, 0.0, -1.0, 0.1], &[0.0; 5], 1);
    assert_eq!(t[0][1], 0.0);
    assert_eq!(t[0][2], 0.0);
    assert_close(&t[0], &[0.2, 0.0, 0.0, -0.9, 0.0], 1e-15, "prox");
    // With a gradient: θ − lr·g first, then the threshold.
    let t = run(&opt, 0.1, &[0.3, -0.3], &[-1.0, 1.0], 1);
    assert_close(&t[0], &[0.3, -0.3], 1e-15, "prox after step");
}

#[test]
fn changing_momentum_between_steps_takes_effect() {
    let opt = SgdConfig::new(0.1).with_momentum(0.9).build().unwrap();
    let handle = opt.momentum();
    let mut state: Option<SgdState<1>> = None;
    let (theta, s) = opt.step(0.1, t1(&T0), t1(&G), state.take());
    handle.set(0.5);
    let (theta, _) = opt.step(0.1, theta, t1(&G), s);
    // b₂ = 0.5·g + g = 1.5·g
    assert_close(&vec(&theta), &[0.95 - 0.075, -2.025 - 0.0375], 1e-15, "step 2");
}

#[test]
fn validation_errors_match_pytorch() {
    let msg = |c: SgdConfig| c.build().unwrap_err().to_string();
    assert_eq!(msg(SgdConfig::new(-0.1)), "Invalid learning rate: -0.1");
    assert_eq!(msg(SgdConfig::new(0.1).with_momentum(-0.5)), "Invalid momentum value: -0.5");
    assert_eq!(msg(SgdConfig::new(0.1).with_weight_decay(-1.0)), "Invalid weight_decay value: -1");
    assert_eq!(
        msg(SgdConfig::new(0.1).with_nesterov(true)),
        "Nesterov momentum requires a momentum and zero dampening"
    );
    assert_eq!(
        msg(SgdConfig::new(0.1).with_nesterov(true).with_momentum(0.9).with_dampening(0.1)),
        "Nesterov momentum requires a momentum and zero dampening"
    );
    assert_eq!(msg(SgdConfig::new(0.1).with_l1(-1.0)), "Invalid l1 value: -1");
    assert!(SgdConfig::new(0.1).with_nesterov(true).with_momentum(0.9).build().is_ok());
}

#[test]
fn defaults_are_pytorchs() {
    let c: SgdConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(c, SgdConfig { lr: 1e-3, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false, maximize: false, l1: 0.0 });
}

/// Burn's SGD stores momentum as f32, so use values exact in f32 for a bit-level match.
#[test]
fn agrees_with_burns_builtin_sgd() {
    use burn::optim::decay::WeightDecayConfig;
    use burn::optim::momentum::MomentumConfig;
    let cases: [(f64, f64, bool, f64); 4] =
        [(0.0, 0.0, false, 0.0), (0.5, 0.25, false, 0.0), (0.75, 0.0, true, 0.0), (0.5, 0.0, true, 0.125)];
    for (momentum, dampening, nesterov, wd) in cases {
        let mut ours = SgdConfig::new(0.05).with_momentum(momentum).with_dampening(dampening).with_weight_decay(wd);
        ours.nesterov = nesterov;
        let ours = ours.build().unwrap();
        let mut theirs = burn::optim::SgdConfig::new();
        if momentum != 0.0 {
            theirs = theirs.with_momentum(Some(MomentumConfig { momentum, dampening, nesterov }));
        }
        if wd != 0.0 {
            theirs = theirs.with_weight_decay(Some(WeightDecayConfig { penalty: wd as f32 }));
        }
        let theirs = theirs.build();
        let (mut a, mut b) = (t1(&[1.0, -2.0, 0.5]), t1(&[1.0, -2.0, 0.5]));
        let (mut sa, mut sb) = (None, None);
        for k in 0..20 {
            // A gradient that depends on θ, like a real loss: g = θ − c + k/10.
            let c = t1(&[0.3, 0.1, -0.2]);
            let ga = a.clone() - c.clone() + (k as f64) / 10.0;
            let gb = b.clone() - c + (k as f64) / 10.0;
            let (na, s1) = ours.step(0.05, a, ga, sa);
            let (nb, s2) = theirs.step(0.05, b, gb, sb);
            a = na;
            b = nb;
            sa = s1;
            sb = s2;
        }
        assert_close(&vec(&a), &vec(&b), 1e-14, &format!("momentum {momentum} dampening {dampening} nesterov {nesterov} wd {wd}"));
    }
}
