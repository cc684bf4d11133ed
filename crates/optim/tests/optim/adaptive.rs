//! The adaptive optimizers (and Sgd) against PyTorch 2.5.1 trajectories
//! (`fixtures/optim_trajectories.json`, single-tensor path, f64), record round trips, serde
//! keys and defaults, and torch's validation messages.

use crate::common;

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use common::{exact_json, t1, tn, vec};
use descent_optim::*;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Fixture plumbing.
// ---------------------------------------------------------------------------------------------

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/optim_trajectories.json");
    exact_json::parse(&std::fs::read_to_string(path).expect("fixture"))
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn shape(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

/// One fixture case: two parameters, θ₀ of shape [3, 2] and θ₁ of shape [4].
struct Case {
    name: String,
    optimizer: String,
    config: OptimizerConfig,
    lr: f64,
    lr_per_step: Option<Vec<f64>>,
    momentum_per_step: Option<Vec<f64>>,
    init: [Vec<f64>; 2],
    h: [Vec<f64>; 2],
    c: [Vec<f64>; 2],
    noise: Vec<[Vec<f64>; 2]>,
    trajectory: Vec<[Vec<f64>; 2]>,
}

fn cases() -> Vec<Case> {
    let fx = fixture();
    let steps = fx["steps"].as_u64().unwrap() as usize;
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let params = c["params"].as_array().unwrap();
            assert_eq!(params.len(), 2);
            assert_eq!(shape(&params[0]["shape"]), vec![3, 2]);
            assert_eq!(shape(&params[1]["shape"]), vec![4]);
            let pair = |key: &str| [f64s(&params[0][key]), f64s(&params[1][key])];
            let per_step = |key: &str| -> Vec<[Vec<f64>; 2]> {
                let v = c[key].as_array().unwrap();
                assert_eq!(v.len(), steps);
                v.iter().map(|s| [f64s(&s[0]), f64s(&s[1])]).collect()
            };
            // torch kwargs + lr + kind → OptimizerConfig, through serde: proves the keys.
            let mut options = c["options"].clone();
            options["lr"] = c["lr"].clone();
            options["kind"] = c["optimizer"].clone();
            let config: OptimizerConfig = serde_json::from_value(options.clone())
                .unwrap_or_else(|e| panic!("{}: options {options} do not deserialize: {e}", c["name"]));
            Case {
                name: c["name"].as_str().unwrap().to_string(),
                optimizer: c["optimizer"].as_str().unwrap().to_string(),
                config,
                lr: c["lr"].as_f64().unwrap(),
                lr_per_step: c.get("lr_per_step").map(f64s),
                momentum_per_step: c.get("momentum_per_step").map(f64s),
                init: pair("init"),
                h: pair("h"),
                c: pair("c"),
                noise: per_step("noise"),
                trajectory: per_step("trajectory"),
            }
        })
        .collect()
}

impl Case {
    fn lr_at(&self, t: usize) -> f64 {
        self.lr_per_step.as_ref().map_or(self.lr, |v| v[t])
    }
    /// g = h·(θ − c) + noise[t], elementwise in f64.
    fn grad0(&self, theta: &Tensor<2>, t: usize) -> Tensor<2> {
        tn(&self.h[0], &[3, 2]) * (theta.clone() - tn(&self.c[0], &[3, 2])) + tn(&self.noise[t][0], &[3, 2])
    }
    fn grad1(&self, theta: &Tensor<1>, t: usize) -> Tensor<1> {
        t1(&self.h[1]) * (theta.clone() - t1(&self.c[1])) + t1(&self.noise[t][1])
    }
}

/// |a − e| / max(|e|, 0.01): the acceptance is ≤ 1e-10, i.e. 1e-10 relative with a 1e-12 floor.
fn err(actual: &[f64], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len());
    actual.iter().zip(expected).map(|(a, e)| (a - e).abs() / e.abs().max(1e-2)).fold(0.0, f64::max)
}

const TOL: f64 = 1e-10;

/// Runs a case through `Optimizer::step` directly, per tensor, carrying the states; returns
/// θ after every step. `before_step(t)` may turn hyper-parameters.
fn run_direct<O: Optimizer>(opt: &O, case: &Case, before_step: impl Fn(usize)) -> Vec<[Vec<f64>; 2]> {
    let mut p0 = tn(&case.init[0], &[3, 2]);
    let mut p1 = t1(&case.init[1]);
    let mut s0: Option<O::State<2>> = None;
    let mut s1: Option<O::State<1>> = None;
    let mut out = Vec::new();
    for t in 0..case.trajectory.len() {
        before_step(t);
        let lr = case.lr_at(t);
        let (g0, g1) = (case.grad0(&p0, t), case.grad1(&p1, t));
        let (n0, ns0) = opt.step(lr, p0, g0, s0);
        let (n1, ns1) = opt.step(lr, p1, g1, s1);
        (p0, p1, s0, s1) = (n0, n1, ns0, ns1);
        out.push([vec(&p0), vec(&p1)]);
    }
    out
}

fn direct(case: &Case) -> Vec<[Vec<f64>; 2]> {
    match &case.config {
        OptimizerConfig::Sgd(c) => {
            let opt = c.build().unwrap();
            let momentum = opt.momentum();
            run_direct(&opt, case, |t| {
                if let Some(m) = &case.momentum_per_step {
                    momentum.set(m[t]);
                }
            })
        }
        OptimizerConfig::Adam(c) => run_direct(&c.build().unwrap(), case, |_| {}),
        OptimizerConfig::AdamW(c) => run_direct(&c.build().unwrap(), case, |_| {}),
        OptimizerConfig::RmsProp(c) => run_direct(&c.build().unwrap(), case, |_| {}),
        OptimizerConfig::Adagrad(c) => run_direct(&c.build().unwrap(), case, |_| {}),
        OptimizerConfig::Adadelta(c) => run_direct(&c.build().unwrap(), case, |_| {}),
        OptimizerConfig::Adamax(c) => run_direct(&c.build().unwrap(), case, |_| {}),
        OptimizerConfig::NAdam(c) => run_direct(&c.build().unwrap(), case, |_| {}),
        OptimizerConfig::RAdam(c) => run_direct(&c.build().unwrap(), case, |_| {}),
        OptimizerConfig::Lion(c) => run_direct(&c.build().unwrap(), case, |_| {}),
        other => panic!("{}: no per-tensor fixture for {other:?}", case.name),
    }
}

fn trajectory_error(case: &Case, got: &[[Vec<f64>; 2]]) -> (f64, usize, usize) {
    let mut worst = 0.0f64;
    let (mut exact, mut total) = (0, 0);
    for (t, (g, e)) in got.iter().zip(&case.trajectory).enumerate() {
        for k in 0..2 {
            let step_err = err(&g[k], &e[k]);
            assert!(
                step_err <= TOL,
                "{}: step {} param {k}: error {step_err:e} > {TOL:e}\n got {:?}\nwant {:?}",
                case.name,
                t + 1,
                g[k],
                e[k]
            );
            worst = worst.max(step_err);
            exact += g[k].iter().zip(&e[k]).filter(|(a, b)| a.to_bits() == b.to_bits()).count();
            total += g[k].len();
        }
    }
    (worst, exact, total)
}

#[test]
fn every_case_follows_torchs_trajectory() {
    let cases = cases();
    let mut by_family: std::collections::BTreeMap<String, (f64, usize, usize)> = Default::default();
    let mut seen = std::collections::BTreeSet::new();
    for case in &cases {
        let got = direct(case);
        assert_eq!(got.len(), 60);
        let (worst, exact, total) = trajectory_error(case, &got);
        println!("{:<40} max err {worst:.3e}  bit-exact {exact}/{total}", case.name);
        let f = by_family.entry(case.optimizer.clone()).or_insert((0.0, 0, 0));
        *f = (f.0.max(worst), f.1 + exact, f.2 + total);
        seen.insert(case.optimizer.clone());
    }
    for (family, (worst, exact, total)) in &by_family {
        println!("family {family:<10} max err {worst:.3e}  bit-exact {exact}/{total}");
    }
    let want = ["adadelta", "adagrad", "adam", "adamax", "adamw", "lion", "nadam", "radam", "rmsprop", "sgd"];
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), want, "every family has fixture cases");
    assert!(cases.iter().any(|c| c.name == "sgd_varying"));
}

// ---------------------------------------------------------------------------------------------
// Whole-module path and record round trips.
// ---------------------------------------------------------------------------------------------

#[derive(Module, Debug)]
struct Two {
    a: Param<Tensor<2>>,
    b: Param<Tensor<1>>,
}

impl Two {
    /// Parameters live on the autodiff device, as in training (`ModuleOptimizer` requires it).
    fn new(case: &Case) -> Self {
        Two {
            a: Param::from_tensor(tn(&case.init[0], &[3, 2]).autodiff().require_grad()),
            b: Param::from_tensor(t1(&case.init[1]).autodiff().require_grad()),
        }
    }
    fn values(&self) -> [Vec<f64>; 2] {
        [vec(&self.a.val()), vec(&self.b.val())]
    }
    /// The fixture's gradient, registered as `GradientsParams::from_grads` would (inner tensors).
    fn grads(&self, case: &Case, t: usize) -> GradientsParams {
        let mut grads = GradientsParams::new();
        grads.register(self.a.id, case.grad0(&self.a.val().inner(), t));
        grads.register(self.b.id, case.grad1(&self.b.val().inner(), t));
        grads
    }
}

/// Steps `t0..t1` of a case through a `ModuleOptimizer` built from the case's config.
fn module_steps(case: &Case, built: &mut BuiltOptimizer, mut model: Two, t0: usize, t1: usize) -> (Two, Vec<[Vec<f64>; 2]>) {
    let mut out = Vec::new();
    for t in t0..t1 {
        if let (Some(m), Some(handle)) = (&case.momentum_per_step, &built.momentum) {
            handle.set(m[t]);
        }
        let grads = model.grads(case, t);
        model = built.optimizer.step(case.lr_at(t), model, grads);
        out.push(model.values());
    }
    (model, out)
}

fn bits(v: &[[Vec<f64>; 2]]) -> Vec<u64> {
    v.iter().flat_map(|p| p.iter().flatten().map(|x| x.to_bits())).collect()
}

#[test]
fn module_optimizer_matches_and_state_survives_bytes() {
    for case in &cases() {
        let model = Two::new(case);

        let mut whole = case.config.build().unwrap();
        let (_, uninterrupted) = module_steps(case, &mut whole, model.clone(), 0, 60);
        // The ModuleOptimizer path is the same update as the direct one.
        trajectory_error(case, &uninterrupted);
        assert_eq!(bits(&uninterrupted), bits(&direct(case)), "{}: module vs direct", case.name);

        let mut first = case.config.build().unwrap();
        let (model_30, mut resumed) = module_steps(case, &mut first, model.clone(), 0, 30);
        let record = first.optimizer.to_record();
        let stateless = matches!(&case.config, OptimizerConfig::Sgd(c) if c.momentum == 0.0);
        assert_eq!(record.is_empty(), stateless, "{}: record with {} tensors", case.name, record.len());
        let bytes = first.optimizer.into_bytes().unwrap();
        drop(first);

        let mut second = case.config.build().unwrap();
        second.optimizer = second.optimizer.from_bytes(bytes).unwrap();
        let (_, rest) = module_steps(case, &mut second, model_30, 30, 60);
        resumed.extend(rest);
        assert_eq!(bits(&resumed), bits(&uninterrupted), "{}: resumed run differs", case.name);
    }
}

#[test]
fn record_holds_torchs_state_names() {
    let case = cases().into_iter().find(|c| c.name == "adam_amsgrad").unwrap();
    let model = Two::new(&case);
    let mut built = case.config.build().unwrap();
    let _ = module_steps(&case, &mut built, model.clone(), 0, 3);
    let record = built.optimizer.to_record();
    // The record is opaque; its burnpack bytes carry the leaf names.
    let bytes = record.into_bytes().unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for leaf in ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"] {
        let name = format!("{}.{leaf}", model.a.id.val());
        assert!(text.contains(&name), "record lacks {name}");
    }
}

// ---------------------------------------------------------------------------------------------
// β₁ / momentum handles, as a one-cycle schedule uses them.
// ---------------------------------------------------------------------------------------------

#[test]
fn built_optimizers_expose_the_cycled_momentum() {
    let kinds = [
        ("sgd", true),
        ("adam", true),
        ("adamw", true),
        ("rmsprop", true),
        ("adagrad", false),
        ("adadelta", false),
        ("adamax", true),
        ("nadam", true),
        ("radam", true),
        ("lion", true),
    ];
    for (kind, has) in kinds {
        let c: OptimizerConfig = serde_json::from_value(serde_json::json!({ "kind": kind })).unwrap();
        let built = c.build().unwrap();
        assert_eq!(built.momentum.is_some(), has, "{kind}");
        assert_eq!(built.lr, c.lr());
    }
    let c: OptimizerConfig = serde_json::from_str(r#"{"kind": "adam", "betas": [0.8, 0.9]}"#).unwrap();
    assert_eq!(c.build().unwrap().momentum.unwrap().get(), 0.8);
}

/// Setting β₁ between steps is the same as an optimizer built with that β₁ from the start
/// when it is constant, and takes effect on the very next step otherwise.
#[test]
fn changing_beta1_between_steps_takes_effect() {
    let a = AdamConfig::new(0.1).build().unwrap();
    let b = AdamConfig::new(0.1).with_betas([0.5, 0.999]).build().unwrap();
    a.beta1().set(0.5);
    let g = t1(&[0.5, -0.25]);
    let (pa, sa) = a.step(0.1, t1(&[1.0, 2.0]), g.clone(), None);
    let (pb, sb) = b.step(0.1, t1(&[1.0, 2.0]), g.clone(), None);
    assert_eq!(vec(&pa), vec(&pb));
    let (pa, _) = a.step(0.1, pa, g.clone(), sa);
    let (pb, _) = b.step(0.1, pb, g, sb);
    assert_eq!(vec(&pa), vec(&pb));
}

// ---------------------------------------------------------------------------------------------
// Defaults, serde keys, validation.
// ---------------------------------------------------------------------------------------------

#[test]
fn defaults_are_torchs() {
    let adam: AdamConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(adam, AdamConfig { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.0, amsgrad: false, maximize: false });
    let adamw: AdamWConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(adamw, AdamWConfig { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 1e-2, amsgrad: false, maximize: false });
    let rms: RmsPropConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(
        rms,
        RmsPropConfig { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false, maximize: false }
    );
    let adagrad: AdagradConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(
        adagrad,
        AdagradConfig { lr: 1e-2, lr_decay: 0.0, weight_decay: 0.0, initial_accumulator_value: 0.0, eps: 1e-10, maximize: false }
    );
    let adadelta: AdadeltaConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(adadelta, AdadeltaConfig { lr: 1.0, rho: 0.9, eps: 1e-6, weight_decay: 0.0, maximize: false });
    let adamax: AdamaxConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(adamax, AdamaxConfig { lr: 2e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.0, maximize: false });
    let nadam: NAdamConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(
        nadam,
        NAdamConfig {
            lr: 2e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false
        }
    );
    let radam: RAdamConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(
        radam,
        RAdamConfig { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.0, decoupled_weight_decay: false, maximize: false }
    );
    let lion: LionConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(lion, LionConfig { lr: 1e-4, betas: [0.9, 0.99], weight_decay: 0.0 });
    // Builders agree with serde.
    assert_eq!(AdamConfig::new(1e-3), adam);
    assert_eq!(AdamWConfig::new(1e-3), adamw);
    assert_eq!(RmsPropConfig::new(1e-2), rms);
    assert_eq!(AdagradConfig::new(1e-2), adagrad);
    assert_eq!(AdadeltaConfig::new(1.0), adadelta);
    assert_eq!(AdamaxConfig::new(2e-3), adamax);
    assert_eq!(NAdamConfig::new(2e-3), nadam);
    assert_eq!(RAdamConfig::new(1e-3), radam);
    assert_eq!(LionConfig::new(1e-4), lion);
}

#[test]
fn serde_rejects_unknown_and_misshapen_keys() {
    let bad = [
        r#"{"kind": "adam", "beta1": 0.9}"#,
        r#"{"kind": "adam", "betas": [0.9]}"#,
        r#"{"kind": "adam", "betas": [0.9, 0.99, 0.999]}"#,
        r#"{"kind": "adamw", "nesterov": true}"#,
        r#"{"kind": "rmsprop", "rho": 0.9}"#,
        r#"{"kind": "adagrad", "betas": [0.9, 0.99]}"#,
        r#"{"kind": "lion", "eps": 1e-8}"#,
        r#"{"kind": "adam_w"}"#,
    ];
    for text in bad {
        assert!(serde_json::from_str::<OptimizerConfig>(text).is_err(), "accepted {text}");
    }
    // Round trip through serde keeps the kind and values.
    let c = OptimizerConfig::NAdam(NAdamConfig::new(0.01).with_decoupled_weight_decay(true).with_weight_decay(0.1));
    let text = serde_json::to_string(&c).unwrap();
    assert!(text.contains(r#""kind":"nadam""#), "{text}");
    assert_eq!(serde_json::from_str::<OptimizerConfig>(&text).unwrap(), c);
}

#[test]
fn validation_errors_match_pytorch() {
    use crate::common::rejected as msg;
    // Python prints floats with repr(): -1.0, 1e-08.
    assert_eq!(msg(AdamConfig::new(-0.1).build()), "Invalid learning rate: -0.1");
    assert_eq!(msg(AdamConfig::new(0.1).with_eps(-1e-8).build()), "Invalid epsilon value: -1e-08");
    assert_eq!(msg(AdamConfig::new(0.1).with_betas([1.0, 0.999]).build()), "Invalid beta parameter at index 0: 1.0");
    assert_eq!(msg(AdamConfig::new(0.1).with_betas([0.9, -0.5]).build()), "Invalid beta parameter at index 1: -0.5");
    assert_eq!(msg(AdamConfig::new(0.1).with_weight_decay(-1.0).build()), "Invalid weight_decay value: -1.0");
    assert_eq!(msg(AdamWConfig::new(0.1).with_weight_decay(-0.01).build()), "Invalid weight_decay value: -0.01");
    assert_eq!(msg(AdamWConfig::new(f64::NAN).build()), "Invalid learning rate: nan");
    // torch checks lr, eps, momentum, weight_decay, alpha — in that order.
    assert_eq!(msg(RmsPropConfig::new(0.1).with_momentum(-0.9).with_alpha(-1.0).build()), "Invalid momentum value: -0.9");
    assert_eq!(msg(RmsPropConfig::new(0.1).with_alpha(-1.0).build()), "Invalid alpha value: -1.0");
    assert_eq!(msg(AdagradConfig::new(0.1).with_lr_decay(-1.0).build()), "Invalid lr_decay value: -1.0");
    assert_eq!(
        msg(AdagradConfig::new(0.1).with_initial_accumulator_value(-0.5).build()),
        "Invalid initial_accumulator_value value: -0.5"
    );
    assert_eq!(msg(AdagradConfig::new(0.1).with_eps(-1e-10).build()), "Invalid epsilon value: -1e-10");
    assert_eq!(msg(AdadeltaConfig::new(1.0).with_rho(1.5).build()), "Invalid rho value: 1.5");
    assert!(AdadeltaConfig::new(1.0).with_rho(1.0).build().is_ok(), "torch allows rho = 1");
    assert_eq!(msg(AdamaxConfig::new(0.1).with_betas([0.9, 1.0]).build()), "Invalid beta parameter at index 1: 1.0");
    assert_eq!(msg(NAdamConfig::new(0.1).with_momentum_decay(-0.004).build()), "Invalid momentum_decay value: -0.004");
    assert_eq!(msg(RAdamConfig::new(-1.0).build()), "Invalid learning rate: -1.0");
    assert_eq!(msg(LionConfig::new(1e-4).with_betas([-0.1, 0.99]).build()), "Invalid beta parameter at index 0: -0.1");
    // Through the config enum as well.
    let c: OptimizerConfig = serde_json::from_str(r#"{"kind": "radam", "eps": -1.0}"#).unwrap();
    assert_eq!(msg(c.build()), "Invalid epsilon value: -1.0");
    // Boundaries torch accepts.
    assert!(AdamConfig::new(0.0).with_betas([0.0, 0.0]).with_eps(0.0).build().is_ok());
}

// ---------------------------------------------------------------------------------------------
// Hand-checked first steps (independent of the fixture).
// ---------------------------------------------------------------------------------------------

#[test]
fn first_adam_step_is_lr_times_sign() {
    // After one step m̂ = g, v̂ = g², so θ₁ = θ₀ − γ·g/(|g| + ε) ≈ θ₀ − γ·sign(g).
    let opt = AdamConfig::new(0.1).build().unwrap();
    let (p, s) = opt.step(0.1, t1(&[1.0, -2.0]), t1(&[0.5, -3.0]), None);
    common::assert_close(&vec(&p), &[0.9, -1.9], 1e-7, "adam step 1");
    assert_eq!(s.unwrap().step, 1);
}

#[test]
fn amsgrad_keeps_the_largest_second_moment() {
    let opt = AdamConfig::new(0.1).with_amsgrad(true).build().unwrap();
    let (p, s) = opt.step(0.1, t1(&[0.0]), t1(&[10.0]), None);
    let (_, s) = opt.step(0.1, p, t1(&[0.0]), s);
    let s = s.unwrap();
    let v = vec(&s.exp_avg_sq)[0];
    let vmax = vec(s.max_exp_avg_sq.as_ref().unwrap())[0];
    assert!(vmax > v, "max {vmax} should exceed decayed {v}");
    // v₁ = ((1 − β₂)·g)·g, torch's addcmul order.
    assert_eq!(vmax, ((1.0 - 0.999) * 10.0) * 10.0);
}

#[test]
fn lion_moves_each_coordinate_by_lr() {
    let opt = LionConfig::new(0.01).build().unwrap();
    let (p, _) = opt.step(0.01, t1(&[1.0, 1.0, 1.0]), t1(&[3.0, -1e-9, 0.0]), None);
    common::assert_close(&vec(&p), &[0.99, 1.01, 1.0], 1e-15, "lion");
}

// ---------------------------------------------------------------------------------------------
// Where loaded state lands: the parameter's device and dtype (record::land).
// ---------------------------------------------------------------------------------------------

#[cfg(feature = "fused")]
/// Adam's state after two steps from `theta`, saved and loaded back through its record as
/// Burn does (`Device::default()` passed to the loader).
fn adam_state_reloaded(theta: &Tensor<1>) -> (AdamState<1>, Adam) {
    use burn::optim::{RecordState, StateSink, StateSource};
    let adam = AdamConfig::new(0.01).with_amsgrad(true).build().unwrap();
    let g = theta.clone().mul_scalar(0.5).sin();
    let (p, s) = adam.step(0.01, theta.clone(), g.clone(), None);
    let (_, s) = adam.step(0.01, p, g, s);
    let mut sink = StateSink::default();
    s.unwrap().state_flatten("p", &mut sink);
    let mut src = StateSource::new(sink.scalars.into_iter().collect());
    for (name, data) in sink.tensors {
        src.insert_tensor(name, data);
    }
    let loaded = AdamState::<1>::state_unflatten("p", &mut src, &burn::tensor::Device::default()).unwrap();
    (loaded, adam)
}

// Without `fused` descent-optim knows no CPU device to hold loaded state on, so it loads onto
// the device Burn passes (the GPU here, which cannot take f64): these need the default feature.
#[cfg(feature = "fused")]
#[test]
fn loaded_state_lands_on_the_parameters_device_and_dtype_flex_f64() {
    use burn::tensor::DType;
    let theta = t1(&[0.5, -1.25, 2.0]);
    let (loaded, adam) = adam_state_reloaded(&theta);
    // Saved in f64, loaded in f64: not the default device's dtype.
    assert_eq!(loaded.exp_avg.dtype(), DType::F64);

    // A parameter in f64 on flex continues bit for bit, its state beside it.
    let g = t1(&[0.1, 0.2, -0.3]);
    let (next, state) = adam.step(0.01, theta.clone(), g.clone(), Some(loaded.clone()));
    let state = state.unwrap();
    for t in [&state.exp_avg, &state.exp_avg_sq, state.max_exp_avg_sq.as_ref().unwrap()] {
        assert_eq!((t.device(), t.dtype()), (theta.device(), DType::F64));
    }
    let (again, _) = adam.step(0.01, theta.clone(), g, Some(loaded.land(&theta)));
    assert_eq!(vec(&next), vec(&again));

    // A parameter in f32 gets its state in f32.
    let theta32 = theta.clone().cast(DType::F32);
    let (reloaded32, _) = adam_state_reloaded(&theta);
    let (next32, state32) = adam.step(0.01, theta32, t1(&[0.1, 0.2, -0.3]).cast(DType::F32), Some(reloaded32));
    assert_eq!(next32.dtype(), DType::F32);
    assert_eq!(state32.unwrap().exp_avg_sq.dtype(), DType::F32);
}

#[cfg(feature = "fused")]
#[test]
fn loaded_state_lands_on_the_parameters_device_and_dtype_wgpu() {
    use burn::tensor::{DType, Device, DeviceKind, TensorData};
    let wgpu = Device::wgpu(DeviceKind::DefaultDevice);
    // wgpu starts lazily and panics without an adapter: skip where there is none.
    let probe = {
        let d = wgpu.clone();
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let ok = std::panic::catch_unwind(move || Tensor::<1>::zeros([1], &d).into_data()).is_ok();
        std::panic::set_hook(hook);
        ok
    };
    if !probe {
        eprintln!("no wgpu adapter: skipped");
        return;
    }
    let theta = t1(&[0.5, -1.25, 2.0]);
    let (loaded, adam) = adam_state_reloaded(&theta);
    let on_wgpu = |v: &[f64]| {
        let v: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        Tensor::<1>::from_data(TensorData::new(v, [3]), (&wgpu, DType::F32))
    };
    let param = on_wgpu(&[0.5, -1.25, 2.0]);
    let (next, state) = adam.step(0.01, param, on_wgpu(&[0.1, 0.2, -0.3]), Some(loaded));
    let state = state.unwrap();
    assert_eq!((next.device(), next.dtype()), (wgpu.clone(), DType::F32));
    for t in [&state.exp_avg, &state.exp_avg_sq, state.max_exp_avg_sq.as_ref().unwrap()] {
        assert_eq!((t.device(), t.dtype()), (wgpu.clone(), DType::F32));
    }
    // The same step as on the CPU in f64, to f32 precision.
    let (cpu, _) = adam.step(0.01, theta.clone(), t1(&[0.1, 0.2, -0.3]), Some(adam_state_reloaded(&theta).0));
    common::assert_close(&vec(&next), &vec(&cpu), 1e-6, "wgpu step from loaded state");
}
