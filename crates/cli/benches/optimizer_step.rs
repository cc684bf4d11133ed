//! Criterion benches of one optimizer step, descent against Burn's built-in optimizer, on the
//! CPU (flex) device — the `descent bench` optimizer cases with criterion's statistics, for
//! comparing a change against a saved baseline:
//!
//! ```text
//! cargo bench -p descent-train --features criterion --bench optimizer_step -- --save-baseline before
//! # change something
//! cargo bench -p descent-train --features criterion --bench optimizer_step -- --baseline before
//! ```
//!
//! Each iteration is one `ModuleOptimizer::step` on fresh gradients (made outside the timing).

use std::time::{Duration, Instant};

use burn::tensor::Device;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use descent_cli::bench::{OptimCase, OptimKind};

fn optimizer_step(c: &mut Criterion) {
    // As the `descent` binary does: keep freed tensor memory mapped (alloc.rs).
    descent_train::alloc::keep_freed_memory();
    let device = Device::flex();
    for (params, tensors) in [(1_000_000usize, 4usize), (1_000_000, 200), (16_000_000, 4)] {
        let mut group = c.benchmark_group(format!("step_{}M_{tensors}t", params / 1_000_000));
        group.throughput(Throughput::Elements(params as u64));
        if params > 4_000_000 {
            group.sample_size(20);
        }
        for kind in OptimKind::ALL {
            let optims = [("descent", kind.descent().expect("the bench's optimizer config is valid")), ("burn", kind.burn())];
            for (who, optim) in optims {
                let mut case = OptimCase::new(optim, params, tensors, &device);
                group.bench_function(BenchmarkId::new(kind.name(), who), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let g = case.gradients();
                            let t = Instant::now();
                            case.step(g).expect("the CPU device syncs");
                            total += t.elapsed();
                        }
                        total
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, optimizer_step);
criterion_main!(benches);
