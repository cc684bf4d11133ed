//! Optimizer-step cases: descent's optimizers against Burn's on the same module.

use super::*;


/// The optimizer-step cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimKind {
    Plain,
    Momentum,
    NesterovWd,
    Adam,
}

impl OptimKind {
    pub const ALL: [OptimKind; 4] = [OptimKind::Plain, OptimKind::Momentum, OptimKind::NesterovWd, OptimKind::Adam];

    /// The case's name in `descent bench` output (`sgd_momentum_step`, …).
    pub fn name(self) -> &'static str {
        match self {
            OptimKind::Plain => "sgd_step",
            OptimKind::Momentum => "sgd_momentum_step",
            OptimKind::NesterovWd => "sgd_nesterov_wd_step",
            OptimKind::Adam => "adam_step",
        }
    }
    /// Bytes one step must move per f32 parameter (the memory floor's numerator).
    pub fn bytes_per_param(self) -> usize {
        match self {
            OptimKind::Plain => 12,
            OptimKind::Momentum | OptimKind::NesterovWd => 20,
            OptimKind::Adam => 28,
        }
    }
    /// descent's optimizer for this case.
    pub fn descent(self) -> Result<ModuleOptimizer, TrainError> {
        let err = |e: descent_optim::OptimError| TrainError::Device(e.to_string());
        match self {
            OptimKind::Plain => descent_optim::SgdConfig::new(LR).init().map_err(err),
            OptimKind::Momentum => descent_optim::SgdConfig::new(LR).with_momentum(0.9).init().map_err(err),
            OptimKind::NesterovWd => descent_optim::SgdConfig::new(LR)
                .with_momentum(0.9)
                .with_nesterov(true)
                .with_weight_decay(1e-4)
                .init()
                .map_err(err),
            OptimKind::Adam => descent_optim::AdamConfig::new(LR).with_betas([0.9, 0.999]).with_eps(1e-8).init().map_err(err),
        }
    }
    /// Burn 0.22.1's built-in optimizer set to the same math.
    pub fn burn(self) -> ModuleOptimizer {
        use burn::optim::decay::WeightDecayConfig;
        use burn::optim::momentum::MomentumConfig;
        let momentum = |nesterov| MomentumConfig { momentum: 0.9, dampening: 0.0, nesterov };
        match self {
            OptimKind::Plain => burn::optim::SgdConfig::new().init(),
            OptimKind::Momentum => burn::optim::SgdConfig::new().with_momentum(Some(momentum(false))).init(),
            OptimKind::NesterovWd => burn::optim::SgdConfig::new()
                .with_momentum(Some(momentum(true)))
                .with_weight_decay(Some(WeightDecayConfig { penalty: 1e-4 }))
                .init(),
            OptimKind::Adam => burn::optim::AdamConfig::new().with_beta_1(0.9).with_beta_2(0.999).with_epsilon(1e-8).init(),
        }
    }
}

pub(super) const LR: f64 = 0.01;

/// A bag of 1-D parameters.
#[derive(Module, Debug)]
struct Flat {
    ps: Vec<Param<Tensor<1>>>,
}

/// Median seconds per step for descent's and Burn's optimizer.
pub(super) fn bench_optim(kind: OptimKind, params: usize, tensors: usize, device: &Device, reps: usize) -> Result<(f64, f64), TrainError> {
    let ours = time_optim(OptimCase::new(kind.descent()?, params, tensors, device), reps)?;
    let theirs = time_optim(OptimCase::new(kind.burn(), params, tensors, device), reps)?;
    Ok((ours, theirs))
}

fn split_sizes(total: usize, tensors: usize) -> Vec<usize> {
    let base = total / tensors;
    let mut v = vec![base; tensors];
    v[0] += total - base * tensors;
    v
}

/// One optimizer over a module of f32 parameters: what an optimizer-step case times. Also
/// driven by the criterion benches (`crates/cli/benches/`).
pub struct OptimCase {
    optim: ModuleOptimizer,
    model: Option<Flat>,
    /// Host copies of the gradients: each step gets fresh, uniquely owned tensors made from
    /// them (outside the timing), as a backward pass would hand over.
    grads: Vec<TensorData>,
    device: Device,
}

impl OptimCase {
    /// `params` parameters in `tensors` tensors on `device`, uniform in [-1, 1]; gradients in
    /// [-1, 1] from a fixed seed.
    pub fn new(optim: ModuleOptimizer, params: usize, tensors: usize, device: &Device) -> Self {
        let sizes = split_sizes(params, tensors.max(1));
        let mut rng = Rng::new(7);
        let grads = sizes
            .iter()
            .map(|&n| TensorData::new((0..n).map(|_| (rng.below(2001) as f32 - 1000.0) * 1e-3).collect::<Vec<f32>>(), [n]))
            .collect();
        // Parameters live on the autodiff device (as in training: Burn's ModuleOptimizer
        // expects them there), gradients on the inner one (as `GradientsParams::from_grads`
        // gives them).
        let ad = device.clone().autodiff();
        let model = Flat {
            ps: sizes
                .iter()
                .map(|&n| Param::from_tensor(Tensor::<1>::random([n], Distribution::Uniform(-1.0, 1.0), &ad)))
                .collect(),
        };
        OptimCase { optim, model: Some(model), grads, device: device.clone() }
    }

    /// This step's gradients, as fresh tensors on the device (not part of a step's time).
    pub fn gradients(&self) -> GradientsParams {
        let mut g = GradientsParams::new();
        if let Some(model) = &self.model {
            for (p, data) in model.ps.iter().zip(&self.grads) {
                g.register::<1>(p.id, Tensor::from_data(data.clone(), &self.device));
            }
        }
        g
    }

    /// One optimizer step, waited for.
    pub fn step(&mut self, grads: GradientsParams) -> Result<(), TrainError> {
        if let Some(model) = self.model.take() {
            self.model = Some(self.optim.step(LR, model, grads));
        }
        sync(&self.device)
    }

    /// Waits for the device.
    pub fn sync(&self) -> Result<(), TrainError> {
        sync(&self.device)
    }
}

fn time_optim(mut case: OptimCase, reps: usize) -> Result<f64, TrainError> {
    case.sync()?;
    let warmup = 2;
    let mut times = Vec::with_capacity(reps);
    for i in 0..warmup + reps {
        let g = case.gradients();
        case.sync()?;
        let t = Instant::now();
        case.step(g)?;
        if i >= warmup {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    Ok(median(&mut times))
}

pub(super) fn sync(device: &Device) -> Result<(), TrainError> {
    device.sync().map_err(|e| TrainError::Device(format!("device sync failed: {e:?}")))
}

pub(super) fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_split_to_the_total() {
        assert_eq!(split_sizes(1_000_003, 200).iter().sum::<usize>(), 1_000_003);
        assert_eq!(split_sizes(16_000_000, 4), vec![4_000_000; 4]);
    }

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
