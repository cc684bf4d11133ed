//! The one-pass updates against the tensor-op updates they replace: same bits, every option,
//! f32 and f64, serial and chunked.

use burn::optim::Optimizer;
use burn::tensor::{DType, Tensor};

use super::testing::{bits, tensor};
use crate::adam::AdamState;
use crate::adam_core::AdamCore;
use crate::hyper::HyperParam;
use crate::parts::Momentum;
use crate::regularization::WeightDecay;
use crate::sgd::{SgdConfig, SgdState};

/// The one-pass flex update gives the same bits as the tensor-op update, for every option,
/// over several steps (first momentum step included), in f32 and f64, serial and chunked.
#[test]
fn fused_flex_step_matches_tensor_ops_bit_for_bit() {
    let configs = [
        SgdConfig::new(0.1),
        SgdConfig::new(0.1).with_maximize(true),
        SgdConfig::new(0.03).with_weight_decay(0.01),
        SgdConfig::new(0.05).with_momentum(0.9),
        SgdConfig::new(0.05).with_momentum(0.9).with_dampening(0.3),
        SgdConfig::new(0.05).with_momentum(0.9).with_nesterov(true).with_weight_decay(1e-4),
        SgdConfig::new(0.07).with_momentum(0.5).with_maximize(true).with_weight_decay(0.2).with_dampening(0.1),
        SgdConfig::new(0.07).with_momentum(0.8).with_nesterov(true).with_maximize(true),
    ];
    let mut seed = 12345u64;
    let mut rand = move |n: usize| -> Vec<f64> {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 3.7
            })
            .collect()
    };
    // The larger size runs the parallel path: 34 chunks on two threads, the last one short.
    let big = 3 * 350_000;
    assert!(big >= super::PARALLEL_MIN && big % super::chunk_len(big) != 0);
    for (n, dtype) in [(3 * 37, DType::F32), (3 * 37, DType::F64), (big, DType::F32), (big, DType::F64)] {
        for cfg in &configs {
            let sgd = cfg.build().unwrap();
            let theta = rand(n);
            let (mut a, mut b) = (tensor(&theta, dtype), tensor(&theta, dtype));
            let (mut sa, mut sb): (Option<SgdState<2>>, Option<Tensor<2>>) = (None, None);
            for step in 0..4 {
                let g = rand(n);
                let lr = cfg.lr * (1.0 + 0.1 * step as f64);
                assert!(super::flex_eligible(&a, &tensor(&g, dtype), sa.as_ref().and_then(|s| s.momentum_buffer.as_ref())));
                let (na, ns) = sgd.step(lr, a, tensor(&g, dtype), sa);
                let momentum = Momentum { momentum: cfg.momentum, dampening: cfg.dampening, nesterov: cfg.nesterov };
                let (nb, nbuf) = sgd.step_ops(lr, momentum, b, tensor(&g, dtype), sb);
                assert_eq!(bits(&na), bits(&nb), "{cfg:?} {dtype:?} n={n} step {step}: parameters");
                let ba = ns.as_ref().and_then(|s| s.momentum_buffer.clone());
                assert_eq!(ba.is_some(), nbuf.is_some());
                if let (Some(x), Some(y)) = (&ba, &nbuf) {
                    assert_eq!(bits(x), bits(y), "{cfg:?} {dtype:?} n={n} step {step}: momentum buffer");
                }
                assert_eq!(na.dtype(), dtype);
                (a, b, sa, sb) = (na, nb, ns, nbuf);
            }
        }
    }
}

/// The split threshold follows the CPU's vendor, as /proc/cpuinfo names it.
#[test]
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn the_split_starts_at_64k_elements_on_intel_and_1m_elsewhere() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap();
    let intel = cpuinfo.lines().find(|l| l.starts_with("vendor_id")).unwrap().ends_with("GenuineIntel");
    assert_eq!(super::parallel_min(), if intel { 1 << 16 } else { 1 << 20 });
}

/// The chunks of a split tensor cover it, come in a multiple of the pool's threads (each thread
/// gets as many elements, give or take one chunk's 64-element rounding), and stay near [`CHUNK`].
#[test]
fn a_split_makes_equal_chunks_in_a_multiple_of_the_threads() {
    use super::{chunk_len, CHUNK};
    for threads in [1, 2, 3, 8] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        for n in [1 << 16, 80_000, 80_001, 200_704, 1_050_000, 4_000_000] {
            let chunk = pool.install(|| chunk_len(n));
            let count = n.div_ceil(chunk);
            assert_eq!(chunk % 64, 0, "n={n} threads={threads}");
            assert!(chunk <= CHUNK + 63, "n={n} threads={threads}: chunk {chunk}");
            // The rounding to 64 can leave the last chunk empty, never more than that one.
            let planned = n.div_ceil(threads * CHUNK) * threads;
            assert!(count == planned || count + 1 == planned, "n={n} threads={threads}: {count} chunks, {planned} planned");
            assert!(count * chunk >= n && (count - 1) * chunk < n);
        }
    }
    // The case that made the split uneven: 80K elements on two threads were 32K + 32K + 16K.
    let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
    assert_eq!(two.install(|| chunk_len(80_000)), 20_032);
}

/// A parameter shared with someone else (refcount > 1) is copied, not written through.
#[test]
fn fused_step_leaves_a_shared_parameter_alone() {
    let sgd = SgdConfig::new(0.5).with_momentum(0.9).build().unwrap();
    let theta = tensor(&[1.0, 2.0, 3.0], DType::F32);
    let keep = theta.clone();
    let (next, _) = sgd.step(0.5, theta, tensor(&[1.0, 1.0, 1.0], DType::F32), None);
    assert_eq!(keep.to_data().as_slice::<f32>().unwrap(), &[1.0, 2.0, 3.0]);
    assert_eq!(next.to_data().as_slice::<f32>().unwrap(), &[0.5, 1.5, 2.5]);
}

/// The one-pass flex Adam/AdamW gives the same bits as the tensor-op update, serial and chunked.
#[test]
fn fused_flex_adam_matches_tensor_ops_bit_for_bit() {
    let core = |beta1: f64, beta2: f64, wd: f64, maximize: bool, decoupled: bool| AdamCore {
        beta1: HyperParam::new(beta1),
        beta2,
        eps: 1e-8,
        decay: WeightDecay::new(wd, decoupled),
        amsgrad: false,
        maximize,
    };
    let cores = [
        core(0.9, 0.999, 0.0, false, false),
        core(0.9, 0.999, 0.01, false, false),
        core(0.3, 0.9, 0.0, true, false),
        core(0.9, 0.999, 0.01, false, true),
        core(0.4, 0.99, 0.1, true, true),
    ];
    let mut seed = 99u64;
    let mut rand = move |n: usize| -> Vec<f64> {
        (0..n)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 2.9
            })
            .collect()
    };
    // The larger size runs the parallel path: 34 chunks on two threads, the last one short.
    let big = 3 * 350_000;
    assert!(big >= super::PARALLEL_MIN && big % super::chunk_len(big) != 0);
    for (n, dtype) in [(3 * 29, DType::F32), (3 * 29, DType::F64), (big, DType::F32), (big, DType::F64)] {
        for c in &cores {
            let theta = rand(n);
            let (mut a, mut b) = (tensor(&theta, dtype), tensor(&theta, dtype));
            let (mut sa, mut sb): (Option<AdamState<2>>, Option<AdamState<2>>) = (None, None);
            for step in 0..5 {
                let g = rand(n);
                let lr = 0.01 * (1.0 + step as f64);
                let (na, nsa) = c.step(lr, a, tensor(&g, dtype), sa);
                let (nb, nsb) = c.step_ops(lr, b, tensor(&g, dtype), sb);
                assert_eq!(bits(&na), bits(&nb), "{c:?} {dtype:?} n={n} step {step}: parameters");
                let (x, y) = (nsa.clone().unwrap(), nsb.clone().unwrap());
                assert_eq!(x.step, y.step);
                assert_eq!(bits(&x.exp_avg), bits(&y.exp_avg), "{c:?} {dtype:?} n={n} step {step}: exp_avg");
                assert_eq!(bits(&x.exp_avg_sq), bits(&y.exp_avg_sq), "{c:?} {dtype:?} n={n} step {step}: exp_avg_sq");
                (a, b, sa, sb) = (na, nb, nsa, nsb);
            }
        }
    }
}
