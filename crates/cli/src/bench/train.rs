//! Training-throughput cases: a network, its optimizer and synthetic data, one step at a time.

use super::*;


/// Rows of the synthetic training sets.
pub const ROWS: usize = 1024;

/// The two networks of the training cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Net {
    /// 10 → 5 → 1, ReLU, MSE.
    Seed,
    /// 784 → 256 → 256 → 10, ReLU, cross-entropy.
    Mnist,
}

impl Net {
    /// The case's name in `descent bench` output.
    pub fn name(self) -> &'static str {
        match self {
            Net::Seed => "train_seed_mlp",
            Net::Mnist => "train_mlp784",
        }
    }
}

/// A network, its momentum-SGD optimizer and a synthetic data set of [`ROWS`] rows: what a
/// training case times, one step at a time. Also driven by the criterion benches.
pub struct TrainCase {
    model: Option<descent_model::Mlp>,
    optim: ModuleOptimizer,
    rng: Rng,
    x_all: Tensor<2>,
    y_all: Targets,
    mode: Mode,
    batch: usize,
    cursor: usize,
    device: Device,
}

impl TrainCase {
    /// `batch` is ignored for [`Mode::Stochastic`] (1) and [`Mode::Full`] ([`ROWS`]).
    pub fn new(net: Net, mode: Mode, batch: usize, choice: DeviceChoice) -> Result<Self, TrainError> {
        let device = make_device(choice, DType::F32)?.autodiff();
        device.seed(0);
        let sizes = match net {
            Net::Seed => vec![10, 5, 1],
            Net::Mnist => vec![784, 256, 256, 10],
        };
        let inputs = sizes[0];
        let model = MlpConfig { sizes, activation: Activation::Relu }
            .init(&device)
            .map_err(|e| TrainError::Device(e.to_string()))?;
        let optim = descent_optim::SgdConfig::new(LR)
            .with_momentum(0.9)
            .init()
            .map_err(|e| TrainError::Device(e.to_string()))?;
        let mut rng = Rng::new(1);
        let xs: Vec<f32> = (0..ROWS * inputs).map(|_| (rng.below(2001) as f32 - 1000.0) * 1e-3).collect();
        let x_all = Tensor::<2>::from_data(TensorData::new(xs, [ROWS, inputs]), &device);
        let y_all = match net {
            Net::Seed => {
                let ys: Vec<f32> = (0..ROWS).map(|_| (rng.below(2001) as f32 - 1000.0) * 1e-3).collect();
                Targets::Values(Tensor::<2>::from_data(TensorData::new(ys, [ROWS, 1]), &device))
            }
            Net::Mnist => {
                let cs: Vec<i64> = (0..ROWS).map(|_| rng.below(10) as i64).collect();
                Targets::Classes(Tensor::<1, Int>::from_data(TensorData::new(cs, [ROWS]), &device))
            }
        };
        let batch = match mode {
            Mode::Stochastic => 1,
            Mode::Mini => batch.clamp(1, ROWS),
            Mode::Full => ROWS,
        };
        Ok(TrainCase { model: Some(model), optim, rng, x_all, y_all, mode, batch, cursor: 0, device })
    }

    /// Rows per step.
    pub fn batch(&self) -> usize {
        self.batch
    }

    fn next_batch(&mut self) -> (Tensor<2>, Targets) {
        match self.mode {
            Mode::Stochastic => {
                let row = self.rng.below(ROWS) as i64;
                let idx = Tensor::<1, Int>::from_data(TensorData::new(vec![row], [1]), &self.device);
                let y = match &self.y_all {
                    Targets::Values(y) => Targets::Values(y.clone().select(0, idx.clone())),
                    Targets::Classes(c) => Targets::Classes(c.clone().select(0, idx.clone())),
                };
                (self.x_all.clone().select(0, idx), y)
            }
            Mode::Full => (self.x_all.clone(), self.y_all.clone()),
            Mode::Mini => {
                if self.cursor + self.batch > ROWS {
                    self.cursor = 0;
                }
                let (a, b) = (self.cursor, self.cursor + self.batch);
                self.cursor = b;
                let y = match &self.y_all {
                    Targets::Values(y) => Targets::Values(y.clone().slice(a..b)),
                    Targets::Classes(c) => Targets::Classes(c.clone().slice(a..b)),
                };
                (self.x_all.clone().slice(a..b), y)
            }
        }
    }

    /// One step: batch, forward and loss, reading the loss, backward, optimizer. Adds the five
    /// phases' seconds to `t` and returns the loss.
    pub fn step(&mut self, t: &mut [f64; 5]) -> f64 {
        let Some(model) = self.model.take() else { return f64::NAN };
        let t0 = Instant::now();
        let (x, y) = self.next_batch();
        let t1 = Instant::now();
        let loss = data_loss(model.forward(x), &y);
        let t2 = Instant::now();
        let value = loss.clone().into_scalar::<f64>();
        let t3 = Instant::now();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let t4 = Instant::now();
        self.model = Some(self.optim.step(LR, model, grads));
        let t5 = Instant::now();
        for (acc, d) in t.iter_mut().zip([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4]) {
            *acc += d.as_secs_f64();
        }
        value
    }

    /// Waits for the device.
    pub fn sync(&self) -> Result<(), TrainError> {
        sync(&self.device)
    }
}

pub(super) fn bench_train(net: Net, mode: Mode, batch: usize, choice: DeviceChoice, budget_s: f64) -> Result<TrainLine, TrainError> {
    let mut case = TrainCase::new(net, mode, batch, choice)?;
    let batch = case.batch();
    // Warm up (allocator, kernels, wgpu pipelines), then run for about `budget_s`.
    let mut scratch = [0.0; 5];
    let warm = Instant::now();
    for _ in 0..5 {
        case.step(&mut scratch);
        if warm.elapsed().as_secs_f64() > budget_s {
            break;
        }
    }
    case.sync()?;
    let mut parts = [0.0f64; 5];
    let mut steps = 0usize;
    let mut last = 0.0;
    let start = Instant::now();
    while steps < 3 || start.elapsed().as_secs_f64() < budget_s {
        last = case.step(&mut parts);
        steps += 1;
        if steps >= 200_000 {
            break;
        }
    }
    case.sync()?;
    let total = start.elapsed().as_secs_f64();
    let name = net.name();
    if !last.is_finite() {
        return Err(TrainError::Diverged(format!("{name} batch {batch}: loss became {last}")));
    }
    let per = |s: f64| s / steps as f64 * 1e6;
    Ok(TrainLine {
        name,
        mode: mode.name(),
        batch,
        device: choice.to_string(),
        samples_per_s: (steps * batch) as f64 / total,
        steps,
        step_us: per(total),
        data_us: per(parts[0]),
        forward_us: per(parts[1]),
        loss_read_us: per(parts[2]),
        backward_us: per(parts[3]),
        optim_us: per(parts[4]),
        peak_rss_mb: None,
    })
}
