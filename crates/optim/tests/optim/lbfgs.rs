//! L-BFGS against torch.optim.LBFGS (`fixtures/optim_more/lbfgs.json`, `lbfgs_defaults.json`):
//! losses, evaluation counts and parameters per step, torch's saved state loaded at step 30,
//! the byte round trip of the state, and the module (closure) API.

use crate::common;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use common::{exact_json, t1, tn, vec};
use descent_optim::*;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/optim_more/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    exact_json::parse(&std::fs::read_to_string(path).expect("fixture"))
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

/// A number, or a 0-dim tensor `{"shape": [], "data": [x]}`.
fn num(v: &Value) -> f64 {
    match v.get("data") {
        Some(d) => d[0].as_f64().expect("number"),
        None => v.as_f64().expect("number"),
    }
}

fn flat(v: &Value) -> Vec<f64> {
    f64s(&v["data"])
}

/// One case: the flat parameter vector is θ₀ [3, 2] then θ₁ [4], as torch gathers it.
struct Case {
    name: String,
    config: LbfgsConfig,
    sign: f64,
    init: Vec<f64>,
    h: Vec<f64>,
    c: Vec<f64>,
    noise: Vec<Vec<f64>>,
    loss: Vec<f64>,
    evals: Vec<u64>,
    trajectory: Vec<Vec<f64>>,
    state: Value,
    stable: usize,
    stable_after_resume: usize,
    /// How far ulp-level changes of the closure move torch's own trajectory.
    probe: f64,
}

fn cat(pair: &Value) -> Vec<f64> {
    pair.as_array().unwrap().iter().flat_map(f64s).collect()
}

fn cases(file: &str) -> Vec<Case> {
    let fx = fixture(file);
    fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut options = c["options"].clone();
            options["lr"] = c["lr"].clone();
            options["kind"] = c["optimizer"].clone();
            let config = match serde_json::from_value::<OptimizerConfig>(options.clone()) {
                Ok(OptimizerConfig::Lbfgs(l)) => l,
                other => panic!("{}: options {options} gave {other:?}", c["name"]),
            };
            assert_eq!(
                config.max_eval_resolved(),
                c["max_eval_resolved"].as_u64().unwrap()
            );
            let params = c["params"].as_array().unwrap();
            let key = |k: &str| {
                params
                    .iter()
                    .flat_map(|p| f64s(&p[k]))
                    .collect::<Vec<f64>>()
            };
            Case {
                name: c["name"].as_str().unwrap().to_string(),
                config,
                sign: c["closure_sign"].as_f64().unwrap(),
                init: key("init"),
                h: key("h"),
                c: key("c"),
                noise: c["noise"].as_array().unwrap().iter().map(cat).collect(),
                loss: f64s(&c["loss"]),
                evals: c["evals"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_u64().unwrap())
                    .collect(),
                trajectory: c["trajectory"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(cat)
                    .collect(),
                state: c["state"]["state"]["0"].clone(),
                stable: c["stability"]["stable_steps"].as_u64().unwrap() as usize,
                stable_after_resume: c["stability"]["stable_steps_after_resume"]
                    .as_u64()
                    .unwrap() as usize,
                probe: c["stability"]["probe_max_abs_diff"].as_f64().unwrap(),
            }
        })
        .collect()
}

impl Case {
    /// The fixture's closure at step t: sign·L and sign·(h(θ − c) + noise), in its order.
    fn closure(&self, t: usize, x: &[f64]) -> (f64, Vec<f64>) {
        let mut l = 0.0;
        let mut g = Vec::with_capacity(x.len());
        for i in 0..x.len() {
            let d = x[i] - self.c[i];
            l += ((0.5 * self.h[i]) * d) * d + self.noise[t][i] * x[i];
            g.push(self.sign * (self.h[i] * d + self.noise[t][i]));
        }
        (self.sign * l, g)
    }

    /// torch's saved state (after 30 steps).
    fn torch_state(&self) -> LbfgsState {
        let s = &self.state;
        let list = |k: &str| {
            s[k].as_array()
                .unwrap()
                .iter()
                .map(flat)
                .collect::<Vec<_>>()
        };
        LbfgsState {
            func_evals: s["func_evals"].as_u64().unwrap(),
            n_iter: s["n_iter"].as_u64().unwrap(),
            d: Some(flat(&s["d"])),
            t: Some(num(&s["t"])),
            old_dirs: list("old_dirs"),
            old_stps: list("old_stps"),
            ro: s["ro"].as_array().unwrap().iter().map(num).collect(),
            h_diag: num(&s["H_diag"]),
            prev_flat_grad: Some(flat(&s["prev_flat_grad"])),
            prev_loss: Some(num(&s["prev_loss"])),
        }
    }
}

/// What a run records per step: loss, evaluations, parameters.
type Run = Vec<(f64, u64, Vec<f64>)>;

fn run(case: &Case, lbfgs: &mut Lbfgs, mut x: Vec<f64>, steps: std::ops::Range<usize>) -> Run {
    steps
        .map(|t| {
            let before = lbfgs.state.func_evals;
            let loss = lbfgs.step_flat(&mut x, |x| case.closure(t, x));
            (loss, lbfgs.state.func_evals - before, x.clone())
        })
        .collect()
}

/// Max |Δθ| and max relative |Δloss| against the fixture over steps `from..from + n`;
/// evaluation counts must be equal.
fn deviation(case: &Case, got: &Run, from: usize, n: usize) -> (f64, f64) {
    let (mut dx, mut dl) = (0.0f64, 0.0f64);
    for (k, (loss, evals, x)) in got.iter().take(n).enumerate() {
        let t = from + k;
        assert_eq!(
            *evals, case.evals[t],
            "{}: step {t}: evaluations",
            case.name
        );
        dl = dl.max((loss - case.loss[t]).abs() / case.loss[t].abs().max(1.0));
        for (a, e) in x.iter().zip(&case.trajectory[t]) {
            dx = dx.max((a - e).abs());
        }
    }
    (dx, dl)
}

/// 1e-12 without line search, 1e-10 with strong Wolfe; or, where torch's own trajectory
/// moves further under ulp-level changes of the closure (its `probe_max_abs_diff`: the
/// order of MKL's dot-product sums is not reproducible), that figure.
fn tolerance(case: &Case) -> f64 {
    let base: f64 = if case.config.line_search_fn.is_some() {
        1e-10
    } else {
        1e-12
    };
    base.max(case.probe)
}

#[test]
fn every_lbfgs_case_follows_torch_and_resumes_from_its_state() {
    for case in cases("lbfgs.json") {
        assert_eq!(
            (case.stable, case.stable_after_resume),
            (60, 30),
            "{}: the fixture says all steps are stable",
            case.name
        );
        let tol = tolerance(&case);
        let mut lbfgs = case.config.build().unwrap();
        let got = run(&case, &mut lbfgs, case.init.clone(), 0..60);
        let (dx, dl) = deviation(&case, &got, 0, 60);
        // torch's state after 30 steps, loaded into a fresh optimizer at trajectory[29].
        let mut resumed = case.config.build().unwrap();
        resumed.state = case.torch_state();
        let rest = run(&case, &mut resumed, case.trajectory[29].clone(), 30..60);
        let (rx, rl) = deviation(&case, &rest, 30, 30);
        println!("{:<32} max |dθ| {dx:.2e}  max rel |dloss| {dl:.2e}  after torch's state: {rx:.2e} {rl:.2e}", case.name);
        for (what, v) in [
            ("θ", dx),
            ("loss", dl),
            ("θ after resume", rx),
            ("loss after resume", rl),
        ] {
            assert!(
                v <= tol,
                "{}: {what} deviates by {v:e} > {tol:e}",
                case.name
            );
        }
    }
}

#[test]
fn state_after_30_steps_is_torchs() {
    for case in cases("lbfgs.json") {
        let mut lbfgs = case.config.build().unwrap();
        run(&case, &mut lbfgs, case.init.clone(), 0..30);
        let (ours, torch) = (&lbfgs.state, case.torch_state());
        assert_eq!(
            (ours.func_evals, ours.n_iter),
            (torch.func_evals, torch.n_iter),
            "{}",
            case.name
        );
        assert_eq!(ours.old_dirs.len(), torch.old_dirs.len(), "{}", case.name);
        let close = |a: &[f64], b: &[f64]| {
            a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-9 * y.abs().max(1.0))
        };
        assert!(
            close(ours.d.as_ref().unwrap(), torch.d.as_ref().unwrap()),
            "{}: d",
            case.name
        );
        assert!(
            close(&ours.ro, &torch.ro),
            "{}: ro {:?} vs {:?}",
            case.name,
            ours.ro,
            torch.ro
        );
        assert!(
            close(
                &[ours.h_diag, ours.t.unwrap()],
                &[torch.h_diag, torch.t.unwrap()]
            ),
            "{}: H_diag, t",
            case.name
        );
    }
}

#[test]
fn default_cases_follow_torch_over_their_stable_steps() {
    for case in cases("lbfgs_defaults.json") {
        let mut lbfgs = case.config.build().unwrap();
        let got = run(&case, &mut lbfgs, case.init.clone(), 0..case.stable);
        let (dx, dl) = deviation(&case, &got, 0, case.stable);
        let mut resumed = case.config.build().unwrap();
        resumed.state = case.torch_state();
        let rest = run(
            &case,
            &mut resumed,
            case.trajectory[29].clone(),
            30..30 + case.stable_after_resume,
        );
        let (rx, rl) = deviation(&case, &rest, 30, case.stable_after_resume);
        println!(
            "{:<32} first {} steps: max |dθ| {dx:.2e} rel |dloss| {dl:.2e}; {} after torch's state: {rx:.2e} {rl:.2e}",
            case.name, case.stable, case.stable_after_resume
        );
        // The stable prefix only: beyond it torch itself is chaotic (see the fixture).
        for v in [dx, dl, rx, rl] {
            assert!(v <= 1e-10, "{}: deviates by {v:e}", case.name);
        }
    }
}

#[test]
fn state_bytes_round_trip_resumes_bit_for_bit() {
    for case in cases("lbfgs.json") {
        let mut whole = case.config.build().unwrap();
        let uninterrupted = run(&case, &mut whole, case.init.clone(), 0..60);
        let mut first = case.config.build().unwrap();
        let head = run(&case, &mut first, case.init.clone(), 0..30);
        let bytes = first.state.to_bytes();
        let mut second = case.config.build().unwrap();
        second.state = LbfgsState::from_bytes(&bytes).unwrap();
        assert_eq!(second.state, first.state);
        let tail = run(&case, &mut second, head[29].2.clone(), 30..60);
        let bits = |r: &[(f64, u64, Vec<f64>)]| {
            r.iter()
                .flat_map(|(l, e, x)| {
                    [l.to_bits(), *e]
                        .into_iter()
                        .chain(x.iter().map(|v| v.to_bits()))
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bits(&[head, tail].concat()),
            bits(&uninterrupted),
            "{}",
            case.name
        );
        assert!(LbfgsState::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        assert!(LbfgsState::from_bytes(b"not a state").is_err());
    }
}

#[derive(Module, Debug)]
struct Two {
    a: Param<Tensor<2>>,
    b: Param<Tensor<1>>,
}

/// The module API (a closure over a Burn module, gradients as `GradientsParams`) takes the
/// same steps as the flat one, bit for bit.
#[test]
fn module_closure_api_equals_the_flat_one() {
    for case in cases("lbfgs.json")
        .into_iter()
        .filter(|c| c.name == "lbfgs_it3_hist2" || c.name == "lbfgs_strong_wolfe_it3")
    {
        let mut model = Two {
            a: Param::from_tensor(tn(&case.init[..6], &[3, 2]).autodiff().require_grad()),
            b: Param::from_tensor(t1(&case.init[6..]).autodiff().require_grad()),
        };
        let mut flat_run = case.config.build().unwrap();
        let expected = run(&case, &mut flat_run, case.init.clone(), 0..20);
        let mut lbfgs = case.config.build().unwrap();
        for (t, (loss, _, x)) in expected.iter().enumerate() {
            let closure = |m: &Two| {
                let x: Vec<f64> = [vec(&m.a.val()), vec(&m.b.val())].concat();
                let (l, g) = case.closure(t, &x);
                let mut grads = GradientsParams::new();
                grads.register(m.a.id, tn(&g[..6], &[3, 2]));
                grads.register(m.b.id, t1(&g[6..]));
                (l, grads)
            };
            let first;
            (model, first) = lbfgs.step(model, closure);
            assert_eq!(
                first.to_bits(),
                loss.to_bits(),
                "{}: step {t} loss",
                case.name
            );
            let got: Vec<f64> = [vec(&model.a.val()), vec(&model.b.val())].concat();
            assert_eq!(&got, x, "{}: step {t}", case.name);
            assert!(model.a.val().is_require_grad());
        }
    }
}

#[test]
fn lbfgs_refuses_what_torch_refuses() {
    let err = |c: LbfgsConfig| c.build().unwrap_err().to_string();
    assert_eq!(err(LbfgsConfig::new(-1.0)), "Invalid learning rate: -1.0");
    assert!(
        err(LbfgsConfig::new(1.0).with_line_search_fn(Some("backtracking")))
            .starts_with("only 'strong_wolfe' is supported")
    );
    assert_eq!(
        err(LbfgsConfig::new(1.0).with_history_size(0)),
        "LBFGS history_size must be at least 1, but got 0"
    );
    assert_eq!(
        err(LbfgsConfig::new(1.0).with_max_iter(0)),
        "LBFGS max_iter must be at least 1, but got 0"
    );
    // It is no ModuleOptimizer: build() says how to use it instead.
    let e = OptimizerConfig::Lbfgs(LbfgsConfig::default())
        .build()
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("Lbfgs::step"), "{e}");
    assert_eq!(LbfgsConfig::default().max_eval_resolved(), 25);
}
