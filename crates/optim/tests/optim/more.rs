//! ASGD, Rprop, Adafactor and Muon against PyTorch 2.15 (`fixtures/optim_more/*.json`, made by
//! tools/gen_fixtures_more.py, f64, single-tensor path): every case, all 60 steps, max |Δ| ≤
//! 1e-12; the state after step 30 against torch's `state_dict`; a run resumed from torch's
//! state; and a run saved and loaded through Burn's record bytes in the middle.
//!
//! Muon: torch runs Newton–Schulz in bfloat16, descent in the parameter's dtype, so the parity
//! reference is the fixture's `trajectory_ns_f64` (torch's algorithm, iteration in f64); the
//! distance to the shipped bf16 trajectory is reported and bounded by the fixture's own
//! `bf16_vs_f64_max_abs_diff`.

use crate::common;

use burn::module::{Module, Param};
use burn::optim::{GradientsParams, Optimizer};
use burn::tensor::{Tensor, TensorData};
use common::{device, exact_json, vec};
use descent_optim::*;
use serde_json::Value;

const TOL: f64 = 1e-12;
const STEPS: usize = 60;
const MID: usize = 30;

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("number")).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

fn tensor<const D: usize>(v: &[f64], shape: &[usize]) -> Tensor<D> {
    assert_eq!(shape.len(), D, "shape {shape:?}");
    Tensor::from_data(TensorData::new(v.to_vec(), shape.to_vec()), &device())
}

type Values = [Vec<f64>; 2];

struct Case {
    name: String,
    config: OptimizerConfig,
    lr: f64,
    shapes: [Vec<usize>; 2],
    init: Values,
    h: Values,
    c: Values,
    noise: Vec<Values>,
    /// θ after every step (Muon: the f64 Newton–Schulz reference).
    trajectory: Vec<Values>,
    /// torch's `state_dict()["state"]` after step 30 (Muon: the f64 one).
    state: Value,
    raw: Value,
}

fn cases(file: &str) -> Vec<Case> {
    let path = format!("{}/../../fixtures/optim_more/{file}.json", env!("CARGO_MANIFEST_DIR"));
    let fx = exact_json::parse(&std::fs::read_to_string(path).expect("fixture"));
    assert_eq!(fx["steps"].as_u64(), Some(STEPS as u64));
    assert_eq!(fx["state_after_step"].as_u64(), Some(MID as u64));
    let muon = file == "muon";
    fx["cases"].as_array().unwrap().iter().map(|c| case(c, muon)).collect()
}

fn case(c: &Value, muon: bool) -> Case {
    let params = c["params"].as_array().unwrap();
    let pair = |key: &str| [f64s(&params[0][key]), f64s(&params[1][key])];
    let per_step = |key: &str| -> Vec<Values> {
        c[key].as_array().unwrap().iter().map(|s| [f64s(&s[0]), f64s(&s[1])]).collect()
    };
    // torch's kwargs + lr + kind → OptimizerConfig through serde: proves the keys.
    let mut options = c["options"].clone();
    options["lr"] = c["lr"].clone();
    options["kind"] = c["optimizer"].clone();
    let config: OptimizerConfig = serde_json::from_value(options.clone())
        .unwrap_or_else(|e| panic!("{}: options {options} do not deserialize: {e}", c["name"]));
    let (trajectory, state) = if muon { ("trajectory_ns_f64", "state_ns_f64") } else { ("trajectory", "state") };
    Case {
        name: c["name"].as_str().unwrap().to_string(),
        config,
        lr: c["lr"].as_f64().unwrap(),
        shapes: [usizes(&params[0]["shape"]), usizes(&params[1]["shape"])],
        init: pair("init"),
        h: pair("h"),
        c: pair("c"),
        noise: per_step("noise"),
        trajectory: per_step(trajectory),
        state: c[state]["state"].clone(),
        raw: c.clone(),
    }
}

impl Case {
    /// g = h·(θ − c) + noise[t], elementwise in f64, for parameter k.
    fn grad<const D: usize>(&self, k: usize, theta: &Tensor<D>, t: usize) -> Tensor<D> {
        let s = &self.shapes[k];
        tensor::<D>(&self.h[k], s) * (theta.clone() - tensor::<D>(&self.c[k], s)) + tensor::<D>(&self.noise[t][k], s)
    }
}

fn max_abs(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// The largest |Δ| over steps `from..` between a run and a reference trajectory.
fn deviation(got: &[Values], want: &[Values], from: usize) -> f64 {
    assert_eq!(got.len(), want.len() - from);
    got.iter().zip(&want[from..]).map(|(g, w)| max_abs(&g[0], &w[0]).max(max_abs(&g[1], &w[1]))).fold(0.0, f64::max)
}

// ---------------------------------------------------------------------------------------------
// torch's state_dict entries ⇄ descent's state structs.
// ---------------------------------------------------------------------------------------------

fn torch_tensor<const D: usize>(v: &Value) -> Tensor<D> {
    assert_eq!(v["dtype"], "float64");
    tensor::<D>(&f64s(&v["data"]), &usizes(&v["shape"]))
}

fn torch_scalar(v: &Value) -> f64 {
    assert_eq!(usizes(&v["shape"]), Vec::<usize>::new());
    v["data"][0].as_f64().unwrap()
}

fn torch_step(v: &Value) -> u64 {
    let s = torch_scalar(v);
    assert_eq!(s.fract(), 0.0);
    s as u64
}

/// A state struct built from torch's per-parameter state, and its distance to it.
trait TorchState<const D: usize>: Sized {
    fn from_torch(v: &Value) -> Self;
    /// max |Δ| over every entry (steps must match exactly).
    fn distance(&self, v: &Value) -> f64;
}

fn dist<const D: usize>(t: &Tensor<D>, v: &Value) -> f64 {
    assert_eq!(t.dims().to_vec(), usizes(&v["shape"]));
    max_abs(&vec(t), &f64s(&v["data"]))
}

impl<const D: usize> TorchState<D> for AsgdState<D> {
    fn from_torch(v: &Value) -> Self {
        AsgdState { step: torch_step(&v["step"]), eta: torch_scalar(&v["eta"]), mu: torch_scalar(&v["mu"]), ax: torch_tensor(&v["ax"]) }
    }
    fn distance(&self, v: &Value) -> f64 {
        assert_eq!(self.step, torch_step(&v["step"]));
        let scalars = (self.eta - torch_scalar(&v["eta"])).abs().max((self.mu - torch_scalar(&v["mu"])).abs());
        scalars.max(dist(&self.ax, &v["ax"]))
    }
}

impl<const D: usize> TorchState<D> for RpropState<D> {
    fn from_torch(v: &Value) -> Self {
        RpropState { step: torch_step(&v["step"]), prev: torch_tensor(&v["prev"]), step_size: torch_tensor(&v["step_size"]) }
    }
    fn distance(&self, v: &Value) -> f64 {
        assert_eq!(self.step, torch_step(&v["step"]));
        dist(&self.prev, &v["prev"]).max(dist(&self.step_size, &v["step_size"]))
    }
}

impl<const D: usize> TorchState<D> for AdafactorState<D> {
    fn from_torch(v: &Value) -> Self {
        let opt = |key: &str| v.get(key).map(torch_tensor);
        AdafactorState { step: torch_step(&v["step"]), row_var: opt("row_var"), col_var: opt("col_var"), variance: opt("variance") }
    }
    fn distance(&self, v: &Value) -> f64 {
        assert_eq!(self.step, torch_step(&v["step"]));
        let mut worst = 0.0f64;
        for (key, t) in [("row_var", &self.row_var), ("col_var", &self.col_var), ("variance", &self.variance)] {
            assert_eq!(t.is_some(), v.get(key).is_some(), "{key}");
            if let Some(t) = t {
                worst = worst.max(dist(t, &v[key]));
            }
        }
        worst
    }
}

impl<const D: usize> TorchState<D> for MuonState<D> {
    fn from_torch(v: &Value) -> Self {
        MuonState { momentum_buffer: torch_tensor(&v["momentum_buffer"]) }
    }
    fn distance(&self, v: &Value) -> f64 {
        dist(&self.momentum_buffer, &v["momentum_buffer"])
    }
}

// ---------------------------------------------------------------------------------------------
// Direct runs through `Optimizer::step`.
// ---------------------------------------------------------------------------------------------

struct Direct {
    /// θ after steps t0..60.
    trajectory: Vec<Values>,
    /// max |Δ| between the state after step 30 and torch's (only for runs from step 0).
    state_distance: f64,
    /// Per-step extra check (ASGD's ax / eta / mu), max |Δ|.
    extra: f64,
}

/// Runs steps `t0..60` per tensor, from θ = `start` and the given states.
fn run<O, const A: usize, const B: usize>(
    opt: &O,
    case: &Case,
    t0: usize,
    start: &Values,
    mut s: (Option<O::State<A>>, Option<O::State<B>>),
    extra: impl Fn(usize, &O::State<A>, &O::State<B>) -> f64,
) -> Direct
where
    O: Optimizer,
    O::State<A>: TorchState<A>,
    O::State<B>: TorchState<B>,
{
    let mut p0 = tensor::<A>(&start[0], &case.shapes[0]);
    let mut p1 = tensor::<B>(&start[1], &case.shapes[1]);
    let mut out = Direct { trajectory: Vec::new(), state_distance: 0.0, extra: 0.0 };
    for t in t0..STEPS {
        let (g0, g1) = (case.grad(0, &p0, t), case.grad(1, &p1, t));
        let (n0, s0) = opt.step(case.lr, p0, g0, s.0);
        let (n1, s1) = opt.step(case.lr, p1, g1, s.1);
        (p0, p1, s) = (n0, n1, (s0, s1));
        out.trajectory.push([vec(&p0), vec(&p1)]);
        let (a, b) = (s.0.as_ref().unwrap(), s.1.as_ref().unwrap());
        out.extra = out.extra.max(extra(t, a, b));
        if t + 1 == MID {
            out.state_distance = a.distance(&case.state["0"]).max(b.distance(&case.state["1"]));
        }
    }
    out
}

/// The full run from step 0 and the run resumed from torch's state after step 30.
fn both<O, const A: usize, const B: usize>(
    opt_full: &O,
    opt_resumed: &O,
    case: &Case,
    extra: impl Fn(usize, &O::State<A>, &O::State<B>) -> f64 + Copy,
) -> (Direct, Direct)
where
    O: Optimizer,
    O::State<A>: TorchState<A>,
    O::State<B>: TorchState<B>,
{
    let full = run(opt_full, case, 0, &case.init, (None, None), extra);
    let states = (Some(O::State::<A>::from_torch(&case.state["0"])), Some(O::State::<B>::from_torch(&case.state["1"])));
    let resumed = run(opt_resumed, case, MID, &case.trajectory[MID - 1], states, extra);
    (full, resumed)
}

fn no_extra<S, T>(_: usize, _: &S, _: &T) -> f64 {
    0.0
}

/// ASGD's per-step `ax`, `eta`, `mu` against the fixture's arrays.
fn asgd_extra<'a, const A: usize, const B: usize>(case: &'a Case) -> impl Fn(usize, &AsgdState<A>, &AsgdState<B>) -> f64 + Copy + 'a {
    move |t, a, b| {
        let ax = &case.raw["ax"][t];
        let (eta, mu) = (case.raw["eta"][t].as_f64().unwrap(), case.raw["mu"][t].as_f64().unwrap());
        let worst = max_abs(&vec(&a.ax), &f64s(&ax[0])).max(max_abs(&vec(&b.ax), &f64s(&ax[1])));
        [a.eta - eta, b.eta - eta, a.mu - mu, b.mu - mu].iter().fold(worst, |w, d| w.max(d.abs()))
    }
}

fn direct(case: &Case) -> (Direct, Direct) {
    let dims = (case.shapes[0].len(), case.shapes[1].len());
    match (&case.config, dims) {
        (OptimizerConfig::Asgd(c), (2, 1)) => both(&c.build().unwrap(), &c.build().unwrap(), case, asgd_extra::<2, 1>(case)),
        (OptimizerConfig::Rprop(c), (2, 1)) => both::<_, 2, 1>(&c.build().unwrap(), &c.build().unwrap(), case, no_extra),
        (OptimizerConfig::Adafactor(c), (2, 1)) => both::<_, 2, 1>(&c.build().unwrap(), &c.build().unwrap(), case, no_extra),
        (OptimizerConfig::Adafactor(c), (3, 1)) => both::<_, 3, 1>(&c.build().unwrap(), &c.build().unwrap(), case, no_extra),
        (OptimizerConfig::Muon(c), (2, 2)) => both::<_, 2, 2>(&c.build().unwrap(), &c.build().unwrap(), case, no_extra),
        (other, dims) => panic!("{}: no runner for {other:?} with parameter ranks {dims:?}", case.name),
    }
}

/// Every case of `file`: the full run, the state after step 30 and the resumed run within
/// `TOL` of torch. Prints and returns (name, max |Δ| full run, state, resumed run) per case.
fn parity(file: &str, want_cases: usize) -> Vec<(String, f64, f64, f64)> {
    let cases = cases(file);
    assert_eq!(cases.len(), want_cases, "{file}: cases");
    let mut report = Vec::new();
    for case in &cases {
        let (full, resumed) = direct(case);
        let run_dev = deviation(&full.trajectory, &case.trajectory, 0).max(full.extra);
        let resumed_dev = deviation(&resumed.trajectory, &case.trajectory, MID).max(resumed.extra);
        println!(
            "{:<40} max |Δ| run {run_dev:.3e}  state@30 {:.3e}  resumed from torch's state {resumed_dev:.3e}",
            case.name, full.state_distance
        );
        for (what, d) in [("trajectory", run_dev), ("state after step 30", full.state_distance), ("resumed run", resumed_dev)] {
            assert!(d <= TOL, "{}: {what} max |Δ| {d:e} > {TOL:e}", case.name);
        }
        report.push((case.name.clone(), run_dev, full.state_distance, resumed_dev));
    }
    report
}

#[test]
fn asgd_follows_torch() {
    parity("asgd", 4);
}

#[test]
fn rprop_follows_torch() {
    parity("rprop", 3);
}

#[test]
fn adafactor_follows_torch() {
    parity("adafactor", 5);
}

#[test]
fn muon_follows_torch_with_newton_schulz_in_f64() {
    parity("muon", 5);
    // Against torch as shipped (bfloat16 Newton–Schulz): the distance is bf16's, as the fixture
    // measured between its two trajectories.
    for case in &cases("muon") {
        let (full, _) = direct(case);
        let shipped: Vec<Values> =
            case.raw["trajectory"].as_array().unwrap().iter().map(|s| [f64s(&s[0]), f64s(&s[1])]).collect();
        let d = deviation(&full.trajectory, &shipped, 0);
        let fixture_d = case.raw["bf16_vs_f64_max_abs_diff"].as_f64().unwrap();
        println!("{:<40} max |Δ| vs torch's bf16 trajectory {d:.3e} (fixture: f64 vs bf16 {fixture_d:.3e})", case.name);
        assert!((d - fixture_d).abs() <= TOL, "{}: {d:e} vs {fixture_d:e}", case.name);
    }
}

// ---------------------------------------------------------------------------------------------
// The whole-module path, with a save / load through the record's bytes after step 30.
// ---------------------------------------------------------------------------------------------

macro_rules! pair_module {
    ($name:ident, $a:literal, $b:literal) => {
        #[derive(Module, Debug)]
        struct $name {
            a: Param<Tensor<$a>>,
            b: Param<Tensor<$b>>,
        }
        impl $name {
            fn new(case: &Case) -> Self {
                Self {
                    a: Param::from_tensor(tensor::<$a>(&case.init[0], &case.shapes[0]).autodiff().require_grad()),
                    b: Param::from_tensor(tensor::<$b>(&case.init[1], &case.shapes[1]).autodiff().require_grad()),
                }
            }
            fn values(&self) -> Values {
                [vec(&self.a.val()), vec(&self.b.val())]
            }
            fn grads(&self, case: &Case, t: usize) -> GradientsParams {
                let mut grads = GradientsParams::new();
                grads.register(self.a.id, case.grad(0, &self.a.val().inner(), t));
                grads.register(self.b.id, case.grad(1, &self.b.val().inner(), t));
                grads
            }
            /// θ after every step: uninterrupted, and with the optimizer saved to bytes after
            /// step 30 and loaded into a freshly built one.
            fn runs(case: &Case) -> (Vec<Values>, Vec<Values>) {
                let steps = |built: &mut BuiltOptimizer, mut m: Self, t0: usize, t1: usize| {
                    let mut out = Vec::new();
                    for t in t0..t1 {
                        let grads = m.grads(case, t);
                        m = built.optimizer.step(case.lr, m, grads);
                        out.push(m.values());
                    }
                    (m, out)
                };
                let mut whole = case.config.build().unwrap();
                let (_, uninterrupted) = steps(&mut whole, Self::new(case), 0, STEPS);
                let mut first = case.config.build().unwrap();
                let (m30, mut resumed) = steps(&mut first, Self::new(case), 0, MID);
                let bytes = first.optimizer.into_bytes().unwrap();
                let mut second = case.config.build().unwrap();
                second.optimizer = second.optimizer.from_bytes(bytes).unwrap();
                resumed.extend(steps(&mut second, m30, MID, STEPS).1);
                (uninterrupted, resumed)
            }
        }
    };
}
pair_module!(Two21, 2, 1);
pair_module!(Two31, 3, 1);
pair_module!(Two22, 2, 2);

fn bits(v: &[Values]) -> Vec<u64> {
    v.iter().flat_map(|p| p.iter().flatten().map(|x| x.to_bits())).collect()
}

#[test]
fn module_optimizer_matches_and_survives_a_save_load_after_step_30() {
    for file in ["asgd", "rprop", "adafactor", "muon"] {
        for case in &cases(file) {
            let (uninterrupted, resumed) = match (case.shapes[0].len(), case.shapes[1].len()) {
                (2, 1) => Two21::runs(case),
                (3, 1) => Two31::runs(case),
                (2, 2) => Two22::runs(case),
                dims => panic!("{}: ranks {dims:?}", case.name),
            };
            let d = deviation(&uninterrupted, &case.trajectory, 0);
            println!("{:<40} ModuleOptimizer max |Δ| {d:.3e}; resumed run bit-identical", case.name);
            assert!(d <= TOL, "{}: ModuleOptimizer max |Δ| {d:e}", case.name);
            assert_eq!(bits(&resumed), bits(&uninterrupted), "{}: resumed run differs", case.name);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Defaults, serde, validation.
// ---------------------------------------------------------------------------------------------

#[test]
fn defaults_are_torchs() {
    let asgd: AsgdConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(asgd, AsgdConfig { lr: 1e-2, lambd: 1e-4, alpha: 0.75, t0: 1e6, weight_decay: 0.0, maximize: false });
    let rprop: RpropConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(rprop, RpropConfig { lr: 1e-2, etas: [0.5, 1.2], step_sizes: [1e-6, 50.0], maximize: false });
    let adafactor: AdafactorConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(
        adafactor,
        AdafactorConfig { lr: 1e-2, beta2_decay: -0.8, eps: [None, Some(1e-3)], d: 1.0, weight_decay: 0.0, maximize: false }
    );
    let muon: MuonConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(
        muon,
        MuonConfig {
            lr: 1e-3,
            weight_decay: 0.1,
            momentum: 0.95,
            nesterov: true,
            ns_coefficients: [3.4445, -4.775, 2.0315],
            eps: 1e-7,
            ns_steps: 5,
            adjust_lr_fn: None
        }
    );
    assert_eq!(AsgdConfig::new(1e-2), asgd);
    assert_eq!(RpropConfig::new(1e-2), rprop);
    assert_eq!(AdafactorConfig::new(1e-2), adafactor);
    assert_eq!(MuonConfig::new(1e-3), muon);
    for (kind, has_momentum) in [("asgd", false), ("rprop", false), ("adafactor", false), ("muon", true)] {
        let c: OptimizerConfig = serde_json::from_value(serde_json::json!({ "kind": kind })).unwrap();
        let built = c.build().unwrap();
        assert_eq!(built.momentum.is_some(), has_momentum, "{kind}");
        assert_eq!(built.lr, c.lr());
    }
}

#[test]
fn validation_errors_match_pytorch() {
    use crate::common::rejected as msg;
    assert_eq!(msg(AsgdConfig::new(-0.1).build()), "Invalid learning rate: -0.1");
    assert_eq!(msg(AsgdConfig::new(0.1).with_lambd(-1.0).build()), "Invalid lambd value: -1.0");
    assert_eq!(msg(AsgdConfig::new(0.1).with_alpha(-0.5).build()), "Invalid alpha value: -0.5");
    assert_eq!(msg(AsgdConfig::new(0.1).with_weight_decay(-1e-4).build()), "Invalid weight_decay value: -0.0001");
    assert_eq!(msg(RpropConfig::new(-1.0).build()), "Invalid learning rate: -1.0");
    assert_eq!(msg(RpropConfig::new(0.1).with_etas([1.2, 0.5]).build()), "Invalid eta values: 1.2, 0.5");
    assert_eq!(msg(RpropConfig::new(0.1).with_etas([0.5, 1.0]).build()), "Invalid eta values: 0.5, 1.0");
    assert_eq!(
        msg(RpropConfig::new(0.1).with_step_sizes([50.0, 1e-6]).build()),
        "Invalid step_sizes values: 50.0, 1e-06 (expected 0 <= minimum <= maximum)"
    );
    assert_eq!(msg(AdafactorConfig::new(-0.1).build()), "Learning rate should be >= 0 but is: -0.1");
    assert_eq!(msg(AdafactorConfig::new(0.1).with_beta2_decay(0.5).build()), "beta2_decay should be <= 0 but is: 0.5");
    assert_eq!(msg(AdafactorConfig::new(0.1).with_eps([Some(-1.0), Some(1e-3)]).build()), "epsilon1 should be >= 0 but is: -1.0");
    assert_eq!(msg(AdafactorConfig::new(0.1).with_eps([None, Some(-1e-3)]).build()), "epsilon2 should be >= 0 but is: -0.001");
    assert_eq!(msg(AdafactorConfig::new(0.1).with_d(0.5).build()), "Clipping threshold d should be >= 1 but is: 0.5");
    assert_eq!(msg(AdafactorConfig::new(0.1).with_weight_decay(-1.0).build()), "weight_decay should be >= 0 but is: -1.0");
    assert_eq!(msg(MuonConfig::new(-0.1).build()), "Learning rate should be >= 0 but is: -0.1");
    assert_eq!(msg(MuonConfig::new(0.1).with_momentum(-0.9).build()), "momentum should be >= 0 but is: -0.9");
    assert_eq!(msg(MuonConfig::new(0.1).with_weight_decay(-0.1).build()), "weight decay should be >= 0 but is: -0.1");
    assert_eq!(
        msg(MuonConfig::new(0.1).with_adjust_lr_fn(Some("rms".into())).build()),
        "Adjust learning rate function rms is not supported"
    );
    assert_eq!(
        msg(MuonConfig::new(0.1).with_ns_steps(100).build()),
        "Number of steps must be less than 100 for computational efficiency"
    );
    // Adafactor's eps is a pair: one number does not deserialize.
    assert!(serde_json::from_str::<OptimizerConfig>(r#"{"kind": "adafactor", "eps": [1e-3]}"#).is_err());
    assert!(serde_json::from_str::<OptimizerConfig>(r#"{"kind": "muon", "ns_coefficients": [3.0, -3.2]}"#).is_err());
}

#[test]
#[should_panic(expected = "Muon takes 2-D parameters only, got one of shape [4]")]
fn muon_panics_on_a_vector() {
    let muon = MuonConfig::new(0.02).build().unwrap();
    let v = tensor::<1>(&[1.0, 2.0, 3.0, 4.0], &[4]);
    let _ = muon.step(0.02, v.clone(), v, None);
}
