//! `cargo bench -p descent-optim --bench sgd_step`: one optimizer step over 1M f32 parameters
//! (4 tensors) on Burn's CPU (flex) backend — descent's SGD/Adam next to Burn's built-in ones.
//! `descent bench` (crates/train/src/bench.rs) gives the full matrix with the memory floor.

use burn::module::{Module, Param};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

#[derive(Module, Debug)]
struct Flat {
    ps: Vec<Param<Tensor<1>>>,
}

const PARAMS: usize = 1_000_000;
const TENSORS: usize = 4;

fn model(device: &Device) -> Flat {
    Flat {
        ps: (0..TENSORS)
            .map(|_| Param::from_tensor(Tensor::<1>::random([PARAMS / TENSORS], Distribution::Uniform(-1.0, 1.0), device)))
            .collect(),
    }
}

fn grads(model: &Flat, data: &TensorData, device: &Device) -> GradientsParams {
    let mut g = GradientsParams::new();
    for p in &model.ps {
        g.register::<1>(p.id, Tensor::from_data(data.clone(), device));
    }
    g
}

fn bench_one(c: &mut Criterion, name: &str, mut optim: ModuleOptimizer) {
    let device = Device::flex();
    let data = TensorData::new((0..PARAMS / TENSORS).map(|i| ((i % 2001) as f32 - 1000.0) * 1e-3).collect::<Vec<f32>>(), [PARAMS / TENSORS]);
    let m = std::cell::RefCell::new(Some(model(&device.clone().autodiff())));
    let mut group = c.benchmark_group("step_1M_f32_flex");
    group.throughput(Throughput::Elements(PARAMS as u64));
    group.bench_function(name, |b| {
        b.iter_batched(
            || grads(m.borrow().as_ref().expect("model"), &data, &device),
            |g| {
                let current = m.borrow_mut().take().expect("model");
                *m.borrow_mut() = Some(optim.step(0.01, current, g));
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn steps(c: &mut Criterion) {
    let momentum = |nesterov| MomentumConfig { momentum: 0.9, dampening: 0.0, nesterov };
    bench_one(c, "descent_sgd", descent_optim::SgdConfig::new(0.01).init().unwrap());
    bench_one(c, "burn_sgd", burn::optim::SgdConfig::new().init());
    bench_one(c, "descent_sgd_momentum", descent_optim::SgdConfig::new(0.01).with_momentum(0.9).init().unwrap());
    bench_one(c, "burn_sgd_momentum", burn::optim::SgdConfig::new().with_momentum(Some(momentum(false))).init());
    bench_one(c, "descent_adam", descent_optim::AdamConfig::new(0.01).init().unwrap());
    bench_one(c, "burn_adam", burn::optim::AdamConfig::new().with_epsilon(1e-8).init());
}

criterion_group!(benches, steps);
criterion_main!(benches);
