//! descent-optim's `Sgd` as a library, in a hand-written Burn loop — the way a Burn user
//! imports it into their own project:
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Tensor};
use descent::optim::SgdConfig;

/// Your own model: nothing descent-specific about it.
#[derive(Module, Debug)]
struct Net {
    hidden: Linear,
    out: Linear,
    relu: Relu,
}

impl Net {
    fn new(device: &Device) -> Self {
        Self { hidden: LinearConfig::new(10, 5).init(device), out: LinearConfig::new(5, 1).init(device), relu: Relu }
    }
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(self.relu.forward(self.hidden.forward(x)))
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Device::flex().autodiff();
    device.seed(0);

    // A regression task: y = Σ sin(x_i) over 10 features.
    let x = Tensor::<2>::random([512, 10], Distribution::Normal(0.0, 1.0), &device);
    let y = x.clone().sin().sum_dim(1);

    let mut model = Net::new(&device);
    // torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    let config = SgdConfig::new(0.05).with_momentum(0.9).with_nesterov(true);
    let mut optim = config.init()?;

    for step in 1..=200 {
        let pred = model.forward(x.clone());
        let loss = (pred - y.clone()).powi_scalar(2).mean();
        if step == 1 || step % 50 == 0 {
            println!("step {step:>3}  loss {:.5}", loss.clone().into_scalar::<f32>());
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(config.lr, model, grads);
    }
    Ok(())
}
