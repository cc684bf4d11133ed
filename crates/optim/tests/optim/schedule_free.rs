//! Schedule-free SGD / AdamW against the `schedulefree` package
//! (`fixtures/optim_more/schedulefree.json`): y after every step, the evaluated x after every
//! step, the live eval()/train() round trips, the package's state loaded at step 30, and the
//! optimizer record's byte round trip.

use crate::common;

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::Tensor;
use common::{exact_json, t1, tn, vec};
use descent_optim::schedule_free::{eval, train};
use descent_optim::*;
use serde_json::Value;

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

type Pair = [Vec<f64>; 2];

fn pair(v: &Value) -> Pair {
    [f64s(&v[0]), f64s(&v[1])]
}

struct Case {
    name: String,
    config: OptimizerConfig,
    lr: f64,
    h: Pair,
    c: Pair,
    init: Pair,
    noise: Vec<Pair>,
    trajectory: Vec<Pair>,
    eval: Vec<Pair>,
    toggle_every: usize,
    y_after_toggle: Value,
    state: Value,
    state_params: Pair,
}

fn cases() -> Vec<Case> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/optim_more/schedulefree.json"
    );
    let fx = exact_json::parse(&std::fs::read_to_string(path).expect("fixture"));
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut options = c["options"].clone();
            options["lr"] = c["lr"].clone();
            // The package's class names → descent's kinds.
            options["kind"] = match c["optimizer"].as_str().unwrap() {
                "sgd_schedulefree" => "sgd_schedule_free".into(),
                _ => "adamw_schedule_free".into(),
            };
            let config = serde_json::from_value(options.clone())
                .unwrap_or_else(|e| panic!("{options}: {e}"));
            let params = c["params"].as_array().unwrap();
            let key = |k: &str| [f64s(&params[0][k]), f64s(&params[1][k])];
            let steps = |k: &str| {
                c[k].as_array()
                    .unwrap()
                    .iter()
                    .map(pair)
                    .collect::<Vec<_>>()
            };
            Case {
                name: c["name"].as_str().unwrap().to_string(),
                config,
                lr: c["lr"].as_f64().unwrap(),
                h: key("h"),
                c: key("c"),
                init: key("init"),
                noise: steps("noise"),
                trajectory: steps("trajectory"),
                eval: steps("eval"),
                toggle_every: c["toggle_every"].as_u64().unwrap() as usize,
                y_after_toggle: c["y_after_toggle"].clone(),
                state: c["state"].clone(),
                state_params: pair(&c["state_params"]),
            }
        })
        .collect()
}

#[derive(Module, Debug)]
struct Two {
    a: Param<Tensor<2>>,
    b: Param<Tensor<1>>,
}

impl Two {
    fn new(p: &Pair) -> Self {
        Two {
            a: Param::from_tensor(tn(&p[0], &[3, 2]).autodiff().require_grad()),
            b: Param::from_tensor(t1(&p[1]).autodiff().require_grad()),
        }
    }
    fn values(&self) -> Pair {
        [vec(&self.a.val()), vec(&self.b.val())]
    }
}

impl Case {
    /// g = h·(θ − c) + noise[t], at the parameters the optimizer holds (y).
    fn grads(&self, m: &Two, t: usize) -> GradientsParams {
        let g0 = tn(&self.h[0], &[3, 2]) * (m.a.val().inner() - tn(&self.c[0], &[3, 2]))
            + tn(&self.noise[t][0], &[3, 2]);
        let g1 = t1(&self.h[1]) * (m.b.val().inner() - t1(&self.c[1])) + t1(&self.noise[t][1]);
        let mut grads = GradientsParams::new();
        grads.register(m.a.id, g0);
        grads.register(m.b.id, g1);
        grads
    }
}

fn max_diff(a: &Pair, b: &Pair) -> f64 {
    a.iter()
        .flatten()
        .zip(b.iter().flatten())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Steps `t0..t1` through the ModuleOptimizer: returns the model and, per step, (y, x).
fn module_run(
    case: &Case,
    built: &mut BuiltOptimizer,
    mut model: Two,
    t0: usize,
    t1: usize,
) -> (Two, Vec<(Pair, Pair)>) {
    let mode = built
        .schedule_free
        .clone()
        .expect("a schedule-free optimizer has a mode");
    let mut out = Vec::new();
    for t in t0..t1 {
        let grads = case.grads(&model, t);
        model = built.optimizer.step(case.lr, model, grads);
        // x from a copy, as the fixture's deep copy; back to train mode without using it.
        let x = eval(model.clone(), &mut built.optimizer, &mode);
        assert!(!mode.is_train());
        let x_values = x.values();
        let _ = train(x, &mut built.optimizer, &mode);
        if case.toggle_every > 0 && (t + 1) % case.toggle_every == 0 {
            model = eval(model, &mut built.optimizer, &mode);
            model = train(model, &mut built.optimizer, &mode);
        }
        out.push((model.values(), x_values));
    }
    (model, out)
}

#[test]
fn every_schedule_free_case_matches_the_package() {
    for case in cases() {
        let mut built = case.config.build().unwrap();
        let (_, got) = module_run(&case, &mut built, Two::new(&case.init), 0, 60);
        let (mut dy, mut dx, mut dt) = (0.0f64, 0.0f64, 0.0f64);
        for (t, (y, x)) in got.iter().enumerate() {
            let toggled = case.y_after_toggle.get(t.to_string());
            match toggled {
                Some(v) if case.toggle_every > 0 => dt = dt.max(max_diff(y, &pair(v))),
                _ => dy = dy.max(max_diff(y, &case.trajectory[t])),
            }
            dx = dx.max(max_diff(x, &case.eval[t]));
        }
        println!(
            "{:<28} max |dy| {dy:.2e}  max |dx| {dx:.2e}  max |dy| after eval/train {dt:.2e}",
            case.name
        );
        for (what, v) in [("y", dy), ("x", dx), ("y after toggle", dt)] {
            assert!(v <= 1e-12, "{}: {what} deviates by {v:e}", case.name);
        }
    }
}

/// The package's state after 30 steps, loaded per tensor, continues its trajectory.
#[test]
fn package_state_at_step_30_resumes() {
    for case in cases() {
        let g = &case.state["param_groups"][0];
        let (k, lr_max, weight_sum) = (
            g["k"].as_u64().unwrap(),
            g["lr_max"].as_f64().unwrap(),
            g["weight_sum"].as_f64().unwrap(),
        );
        let st = |i: usize, key: &str| {
            case.state["state"][i.to_string()]
                .get(key)
                .map(|v| f64s(&v["data"]))
        };
        let state0 = ScheduleFreeState {
            k,
            lr_max,
            weight_sum,
            z: tn(&st(0, "z").unwrap(), &[3, 2]),
            exp_avg_sq: st(0, "exp_avg_sq").map(|v| tn(&v, &[3, 2])),
        };
        let state1 = ScheduleFreeState {
            k,
            lr_max,
            weight_sum,
            z: t1(&st(1, "z").unwrap()),
            exp_avg_sq: st(1, "exp_avg_sq").map(|v| t1(&v)),
        };
        let worst = match &case.config {
            OptimizerConfig::SgdScheduleFree(c) => {
                let o = c.build().unwrap();
                direct(
                    &case,
                    |p, g, s| o.step(case.lr, p, g, s),
                    |p, g, s| o.step(case.lr, p, g, s),
                    state0,
                    state1,
                )
            }
            OptimizerConfig::AdamWScheduleFree(c) => {
                let o = c.build().unwrap();
                direct(
                    &case,
                    |p, g, s| o.step(case.lr, p, g, s),
                    |p, g, s| o.step(case.lr, p, g, s),
                    state0,
                    state1,
                )
            }
            other => panic!("{other:?}"),
        };
        println!(
            "{:<28} after the package's state: max |dy| {worst:.2e}",
            case.name
        );
        assert!(worst <= 1e-12, "{}: {worst:e}", case.name);
    }
}

type Step<const D: usize> = (Tensor<D>, Option<ScheduleFreeState<D>>);

/// Steps 30..60 per tensor from the saved state (at `state_params`); after a step the
/// fixture followed by a live eval()/train(), the next starts from its recorded y.
fn direct(
    case: &Case,
    step2: impl Fn(Tensor<2>, Tensor<2>, Option<ScheduleFreeState<2>>) -> Step<2>,
    step1: impl Fn(Tensor<1>, Tensor<1>, Option<ScheduleFreeState<1>>) -> Step<1>,
    s0: ScheduleFreeState<2>,
    s1: ScheduleFreeState<1>,
) -> f64 {
    let (mut s0, mut s1) = (Some(s0), Some(s1));
    let mut y = case.state_params.clone();
    let mut worst = 0.0f64;
    for t in 30..60 {
        let model = Two::new(&y);
        let grads = case.grads(&model, t);
        let (p0, n0) = step2(
            model.a.val().inner(),
            grads.get::<2>(model.a.id).unwrap(),
            s0,
        );
        let (p1, n1) = step1(
            model.b.val().inner(),
            grads.get::<1>(model.b.id).unwrap(),
            s1,
        );
        (s0, s1) = (n0, n1);
        y = [vec(&p0), vec(&p1)];
        worst = worst.max(max_diff(&y, &case.trajectory[t]));
        if let (true, Some(v)) = (
            case.toggle_every > 0,
            case.y_after_toggle.get(t.to_string()),
        ) {
            y = pair(v);
        }
    }
    worst
}

/// The optimizer record (z, exp_avg_sq, k, lr_max, weight_sum) survives its bytes: a run
/// resumed at step 30 equals the uninterrupted one bit for bit.
#[test]
fn record_round_trip_resumes_bit_for_bit() {
    for case in cases() {
        let mut whole = case.config.build().unwrap();
        let (_, uninterrupted) = module_run(&case, &mut whole, Two::new(&case.init), 0, 60);
        let mut first = case.config.build().unwrap();
        let (model_30, mut resumed) = module_run(&case, &mut first, Two::new(&case.init), 0, 30);
        let bytes = first.optimizer.into_bytes().unwrap();
        let mut second = case.config.build().unwrap();
        second.optimizer = second.optimizer.from_bytes(bytes).unwrap();
        resumed.extend(module_run(&case, &mut second, model_30, 30, 60).1);
        let bits = |r: &[(Pair, Pair)]| {
            r.iter()
                .flat_map(|(y, x)| {
                    y.iter()
                        .chain(x)
                        .flatten()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&resumed), bits(&uninterrupted), "{}", case.name);
    }
}

#[test]
fn schedule_free_defaults_and_checks() {
    let sgd: OptimizerConfig = serde_json::from_str(r#"{"kind": "sgd_schedule_free"}"#).unwrap();
    assert_eq!(
        sgd,
        OptimizerConfig::SgdScheduleFree(SgdScheduleFreeConfig::new(1.0))
    );
    let adamw: OptimizerConfig =
        serde_json::from_str(r#"{"kind": "adamw_schedule_free"}"#).unwrap();
    assert_eq!(adamw.lr(), 0.0025);
    let err = |c: OptimizerConfig| c.build().err().unwrap().to_string();
    assert_eq!(
        err(OptimizerConfig::SgdScheduleFree(
            SgdScheduleFreeConfig::new(-0.1)
        )),
        "Invalid learning rate: -0.1"
    );
    assert_eq!(
        err(OptimizerConfig::SgdScheduleFree(
            SgdScheduleFreeConfig::new(0.1).with_momentum(1.0)
        )),
        "Momentum must be between 0 and 1 exclusive: 1.0"
    );
    assert_eq!(
        err(OptimizerConfig::SgdScheduleFree(
            SgdScheduleFreeConfig::new(0.1).with_weight_decay(-1.0)
        )),
        "Invalid weight_decay value: -1.0"
    );
    assert_eq!(
        err(OptimizerConfig::AdamWScheduleFree(
            AdamWScheduleFreeConfig::new(0.1).with_betas([0.9, 1.0])
        )),
        "Invalid beta parameter at index 1: 1.0"
    );
    assert!(sgd.build().unwrap().schedule_free.unwrap().is_train());
}
