//! Gradient clipping against `torch.nn.utils.clip_grad_norm_` / `clip_grad_value_`
//! (`fixtures/clip_grad_norm.json`, PyTorch 2.5.1, f64), on a three-parameter module.

use crate::common;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use common::{device, t1, tn, vec};
use descent_optim::{clip_grad_norm, clip_grad_norm_tensors, clip_grad_value, clip_grad_value_tensors, NormType};
use serde_json::Value;

fn fixture() -> Vec<Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/clip_grad_norm.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    v["cases"].as_array().unwrap().clone()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn t3(v: &[f64], shape: [usize; 3]) -> Tensor<3> {
    Tensor::from_data(TensorData::new(v.to_vec(), shape), &device())
}

/// Parameters of the fixture's shapes [5, 3], [3], [2, 2, 2], plus one that never has a gradient.
#[derive(Module, Debug)]
struct Three {
    w: Param<Tensor<2>>,
    b: Param<Tensor<1>>,
    k: Param<Tensor<3>>,
    frozen: Param<Tensor<1>>,
}

impl Three {
    fn new() -> Self {
        Three {
            w: Param::from_tensor(tn(&[0.0; 15], &[5, 3])),
            b: Param::from_tensor(t1(&[0.0; 3])),
            k: Param::from_tensor(t3(&[0.0; 8], [2, 2, 2])),
            frozen: Param::from_tensor(t1(&[1.0; 2])),
        }
    }
    fn grads(&self, g: &[Vec<f64>]) -> GradientsParams {
        let mut grads = GradientsParams::new();
        grads.register(self.w.id, tn(&g[0], &[5, 3]));
        grads.register(self.b.id, t1(&g[1]));
        grads.register(self.k.id, t3(&g[2], [2, 2, 2]));
        grads
    }
    fn read(&self, grads: &GradientsParams) -> Vec<Vec<f64>> {
        assert!(grads.get::<1>(self.frozen.id).is_none());
        vec![
            vec(&grads.get::<2>(self.w.id).unwrap()),
            vec(&grads.get::<1>(self.b.id).unwrap()),
            vec(&grads.get::<3>(self.k.id).unwrap()),
        ]
    }
}

fn norm_type(v: &Value) -> NormType {
    serde_json::from_value(v.clone()).expect("norm_type")
}

fn close(actual: f64, expected: f64, what: &str) {
    let tol = 1e-12 * expected.abs().max(1.0);
    assert!((actual - expected).abs() <= tol, "{what}: got {actual:e}, expected {expected:e}");
}

#[test]
fn clip_grad_norm_matches_torch_globally() {
    let mut n = 0;
    for case in fixture().iter().filter(|c| c["fn"] == "clip_grad_norm_") {
        let name = case["name"].as_str().unwrap();
        assert_eq!(case["shapes"], serde_json::json!([[5, 3], [3], [2, 2, 2]]));
        let grads_in: Vec<Vec<f64>> = case["grads_in"].as_array().unwrap().iter().map(f64s).collect();
        let grads_out: Vec<Vec<f64>> = case["grads_out"].as_array().unwrap().iter().map(f64s).collect();
        let max_norm = case["max_norm"].as_f64().unwrap();
        let p = norm_type(&case["norm_type"]);
        let flag = case["error_if_nonfinite"].as_bool().unwrap();

        let module = Three::new();
        let mut grads = module.grads(&grads_in);
        let total = clip_grad_norm(&module, &mut grads, max_norm, p, flag).unwrap();
        close(total, case["total_norm"].as_f64().unwrap(), &format!("{name}: total_norm"));
        let out = module.read(&grads);
        let coef = case["clip_coef"].as_f64().unwrap();
        let worst = out
            .iter()
            .flatten()
            .zip(grads_out.iter().flatten())
            .map(|(a, e)| (a - e).abs() / e.abs().max(1e-300))
            .fold(0.0, f64::max);
        println!(
            "{name:<18} total_norm err {:.1e}  max grad rel err {worst:.1e}",
            (total - case["total_norm"].as_f64().unwrap()).abs() / total
        );
        for (k, (o, e)) in out.iter().zip(&grads_out).enumerate() {
            for (j, (a, b)) in o.iter().zip(e).enumerate() {
                close(*a, *b, &format!("{name}: grad {k}[{j}]"));
                // torch always multiplies, so even an unclipped gradient is g·1.
                close(*a, grads_in[k][j] * coef, &format!("{name}: grad {k}[{j}] = coef·g"));
            }
        }

        // The lower-level form, over flattened tensors, agrees.
        let mut flat: Vec<Tensor<1>> = grads_in.iter().map(|g| t1(g)).collect();
        let total_flat = clip_grad_norm_tensors(&mut flat, max_norm, p, flag).unwrap();
        assert_eq!(total_flat.to_bits(), total.to_bits(), "{name}: tensors vs module total");
        for (f, o) in flat.iter().zip(&out) {
            assert_eq!(&vec(f), o, "{name}: tensors vs module gradients");
        }
        n += 1;
    }
    assert_eq!(n, 4, "l2, inf, l2-noclip, l1 cases");
}

#[test]
fn clip_grad_value_matches_torch() {
    let mut n = 0;
    for case in fixture().iter().filter(|c| c["fn"] == "clip_grad_value_") {
        let grads_in: Vec<Vec<f64>> = case["grads_in"].as_array().unwrap().iter().map(f64s).collect();
        let grads_out: Vec<Vec<f64>> = case["grads_out"].as_array().unwrap().iter().map(f64s).collect();
        let v = case["clip_value"].as_f64().unwrap();
        let module = Three::new();
        let mut grads = module.grads(&grads_in);
        clip_grad_value(&module, &mut grads, v);
        assert_eq!(module.read(&grads), grads_out, "clamping is exact");
        let mut flat: Vec<Tensor<1>> = grads_in.iter().map(|g| t1(g)).collect();
        clip_grad_value_tensors(&mut flat, v);
        assert_eq!(flat.iter().map(vec).collect::<Vec<_>>(), grads_out);
        n += 1;
    }
    assert_eq!(n, 1);
}

#[test]
fn other_norm_types_follow_vector_norm() {
    // g = [3, −4, 0] and [12]: the per-tensor norms, then the norm of those norms (values from
    // torch 2.5.1's clip_grad_norm_).
    let cases: [(f64, f64); 5] = [
        (2.0, 13.0),
        (1.0, 19.0),
        (f64::INFINITY, 12.0),
        (3.0, 12.207054953820636),
        // ‖[‖g₀‖₀, ‖g₁‖₀]‖₀ = ‖[2, 1]‖₀ = 2: the non-zero count of the per-tensor counts.
        (0.0, 2.0),
    ];
    for (p, expected) in cases {
        let mut g = vec![t1(&[3.0, -4.0, 0.0]), t1(&[12.0])];
        let total = clip_grad_norm_tensors(&mut g, 1e9, p, false).unwrap();
        close(total, expected, &format!("p = {p}"));
    }
}

#[test]
fn nonfinite_norm_errors_with_torchs_message_or_propagates() {
    let module = Three::new();
    let bad = vec![vec![f64::NAN; 15], vec![0.0; 3], vec![0.0; 8]];
    let mut grads = module.grads(&bad);
    let err = clip_grad_norm(&module, &mut grads, 1.0, NormType::L2, true).unwrap_err();
    assert_eq!(
        err.to_string(),
        "The total norm of order 2.0 for gradients from `parameters` is non-finite, so it cannot be clipped. \
         To disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`"
    );
    // Untouched on error.
    assert_eq!(vec(&grads.get::<1>(module.b.id).unwrap()), vec![0.0; 3]);

    let inf = vec![vec![0.0; 15], vec![f64::INFINITY, 0.0, 0.0], vec![0.0; 8]];
    let mut grads = module.grads(&inf);
    let err = clip_grad_norm(&module, &mut grads, 1.0, NormType::INF, true).unwrap_err();
    assert!(err.to_string().starts_with("The total norm of order inf for gradients"), "{err}");

    // Without the flag torch scales by the non-finite coefficient: NaN·g, 0·g for an inf norm.
    let mut grads = module.grads(&bad);
    let total = clip_grad_norm(&module, &mut grads, 1.0, 2.0, false).unwrap();
    assert!(total.is_nan());
    assert!(vec(&grads.get::<1>(module.b.id).unwrap()).iter().all(|x| x.is_nan()));
    let mut grads = module.grads(&inf);
    let total = clip_grad_norm(&module, &mut grads, 1.0, 2.0, false).unwrap();
    assert_eq!(total, f64::INFINITY);
    assert_eq!(vec(&grads.get::<2>(module.w.id).unwrap()), vec![0.0; 15]);
}

#[test]
fn no_gradients_is_a_zero_norm() {
    let module = Three::new();
    let mut grads = GradientsParams::new();
    assert_eq!(clip_grad_norm(&module, &mut grads, 1.0, 2.0, true).unwrap(), 0.0);
    let mut none: Vec<Tensor<1>> = Vec::new();
    assert_eq!(clip_grad_norm_tensors(&mut none, 1.0, 2.0, true).unwrap(), 0.0);
}

#[test]
fn works_on_gradients_from_backward() {
    // loss = Σθ², so g = 2θ and the total L2 norm is 2‖θ‖.
    let a = Param::from_tensor(t1(&[3.0, 4.0]).autodiff().require_grad());
    let module = Three { w: Param::from_tensor(tn(&[0.0; 15], &[5, 3])), b: a, ..Three::new() };
    let theta = module.b.val();
    let loss = (theta.clone() * theta).sum();
    let mut grads = GradientsParams::from_grads(loss.backward(), &module);
    let total = clip_grad_norm(&module, &mut grads, 5.0, NormType::L2, false).unwrap();
    close(total, 10.0, "total");
    let g = vec(&grads.get::<1>(module.b.id).unwrap());
    close(g[0], 6.0 * 5.0 / (10.0 + 1e-6), "g0");
    close(g[1], 8.0 * 5.0 / (10.0 + 1e-6), "g1");
}

#[test]
fn norm_type_serde_and_display() {
    assert_eq!(serde_json::from_str::<NormType>("2.0").unwrap(), NormType::L2);
    assert_eq!(serde_json::from_str::<NormType>("1").unwrap(), NormType::L1);
    assert_eq!(serde_json::from_str::<NormType>(r#""inf""#).unwrap(), NormType::INF);
    assert_eq!(serde_json::from_str::<NormType>(r#""-inf""#).unwrap(), NormType(f64::NEG_INFINITY));
    assert!(serde_json::from_str::<NormType>(r#""l2""#).is_err());
    assert_eq!(serde_json::to_string(&NormType::INF).unwrap(), r#""inf""#);
    assert_eq!(serde_json::to_string(&NormType::L2).unwrap(), "2.0");
    assert_eq!(NormType::L2.to_string(), "2.0");
    assert_eq!(NormType::INF.to_string(), "inf");
    assert_eq!(NormType(1.5).to_string(), "1.5");
}
