//! Criterion benches of one training step (batch, forward, loss, backward, momentum-SGD step)
//! of the seed MLP and the MNIST-size MLP on the CPU (flex) device — the `descent bench`
//! training cases with criterion's statistics:
//!
//! ```text
//! cargo bench -p descent-train --features criterion --bench train_step
//! ```
//!
//! Throughput is in samples (rows), so criterion's "elem/s" is `descent bench`'s samples/s.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use descent_train::batching::Mode;
use descent_cli::bench::{Net, TrainCase, ROWS};
use descent_train::config::DeviceChoice;

fn train_step(c: &mut Criterion) {
    // As the `descent` binary does: keep freed tensor memory mapped (alloc.rs).
    descent_train::alloc::keep_freed_memory();
    for net in [Net::Seed, Net::Mnist] {
        let mut group = c.benchmark_group(net.name());
        for (mode, batch) in [(Mode::Stochastic, 1), (Mode::Mini, 32), (Mode::Mini, 128), (Mode::Full, ROWS)] {
            let mut case = TrainCase::new(net, mode, batch, DeviceChoice::Cpu).expect("the CPU device exists");
            group.throughput(Throughput::Elements(case.batch() as u64));
            let mut phases = [0.0; 5];
            group.bench_function(BenchmarkId::new(mode.name(), case.batch()), |b| b.iter(|| case.step(&mut phases)));
        }
        group.finish();
    }
}

criterion_group!(benches, train_step);
criterion_main!(benches);
