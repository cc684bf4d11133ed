//! Multi-layer perceptron: `y = W_k·σ(… σ(W_1·x + b_1) …) + b_k`.
//!
//! The seed network of the optimisation chapter is `sizes = [10, 5, 1]` with ReLU. The
//! parameter layout mirrors a torch module holding `self.layers = nn.ModuleList([nn.Linear…])`,
//! so `layers.{i}.weight` / `layers.{i}.bias` name the same tensors in both worlds.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::linear::linear;
use crate::{Activation, ModelError};

/// Config of an [`Mlp`]: layer widths from input to output and the hidden activation.
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use descent_model::MlpConfig;
///
/// let device = Device::flex();
/// let mlp = MlpConfig::seed().init(&device)?; // 10 → 5 → 1, ReLU
/// let y = mlp.forward(Tensor::<2>::zeros([4, 10], &device));
/// assert_eq!(y.dims(), [4, 1]);
/// // PyTorch's names and shapes (`nn.Linear` keeps weights as [out, in]), for weights in and out.
/// assert_eq!(mlp.torch_layout()[0], ("layers.0.weight".to_string(), vec![5, 10]));
/// assert!(MlpConfig { sizes: vec![10], ..MlpConfig::seed() }.init(&device).is_err());
/// # Ok::<(), descent_model::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Widths, input first: `[10, 5, 1]` is 10 inputs, one hidden layer of 5, 1 output.
    pub sizes: Vec<usize>,
    /// Applied after every layer but the last.
    #[serde(default)]
    pub activation: Activation,
}

impl MlpConfig {
    /// The seed network: 10 → 5 → 1 with ReLU.
    pub fn seed() -> Self {
        Self { sizes: vec![10, 5, 1], activation: Activation::Relu }
    }

    pub fn validate(&self) -> Result<(), ModelError> {
        if self.sizes.len() < 2 {
            return Err(ModelError::Config(format!(
                "model.sizes needs at least an input and an output width, got {:?}",
                self.sizes
            )));
        }
        if let Some(i) = self.sizes.iter().position(|&s| s == 0) {
            return Err(ModelError::Config(format!(
                "model.sizes[{i}] is 0; every layer needs at least one unit"
            )));
        }
        Ok(())
    }

    /// Builds the network with Burn's default (PyTorch-like uniform) initialisation.
    pub fn init(&self, device: &Device) -> Result<Mlp, ModelError> {
        self.validate()?;
        let layers = self
            .sizes
            .windows(2)
            .map(|w| LinearConfig::new(w[0], w[1]).init(device))
            .collect();
        Ok(Mlp { layers, activation: self.activation })
    }
}

#[derive(Module, Debug)]
pub struct Mlp {
    pub layers: Vec<Linear>,
    #[module(skip)]
    pub activation: Activation,
}

impl Mlp {
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |x, (i, layer)| {
            let y = linear(layer, x);
            if i < last {
                self.activation.forward(y)
            } else {
                y
            }
        })
    }

    pub fn input_size(&self) -> usize {
        self.layers[0].weight.dims()[0]
    }

    pub fn output_size(&self) -> usize {
        self.layers[self.layers.len() - 1].weight.dims()[1]
    }

    /// Expected tensors in PyTorch layout, `(name, shape)`, in module order.
    pub fn torch_layout(&self) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let [d_in, d_out] = layer.weight.dims();
            out.push((format!("layers.{i}.weight"), vec![d_out, d_in]));
            out.push((format!("layers.{i}.bias"), vec![d_out]));
        }
        out
    }
}
