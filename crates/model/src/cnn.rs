//! Small convolutional classifier for square-ish grey images given as flat pixel rows.
//!
//! The input `x: [B, H·W]` (row-major pixels) is reshaped to `[B, 1, H, W]`, then for each
//! entry `c_k` of `channels`:
//!
//! `h_k = maxpool₂ₓ₂( relu( conv_{k×k, same}(h_{k−1}) ) )`, channels `c_{k−1} → c_k`,
//!
//! (the 2×2 pool is skipped once either side is down to 1), then the flattened `h` goes through an
//! optional hidden layer `relu(W_h·h + b_h)` and a final linear layer to `classes` logits:
//! `z = W_o·h + b_o`, trained with cross-entropy.
//!
//! `image = [8, 8], channels = [16, 32]` fits the UCI 8×8 digits; `image = [28, 28]` MNIST.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::ModelError;

fn three() -> usize {
    3
}

/// Config of a [`Cnn`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnConfig {
    /// `[height, width]` of the images; the input has `height·width` columns.
    pub image: [usize; 2],
    /// Output channels of each conv block (each block: conv → ReLU → 2×2 max-pool).
    pub channels: Vec<usize>,
    /// Square kernel side, odd (`same` padding keeps the size before pooling).
    #[serde(default = "three")]
    pub kernel_size: usize,
    /// Width of an optional hidden dense layer after the conv blocks (0 = none).
    #[serde(default)]
    pub hidden: usize,
    /// Number of classes (logits out).
    pub classes: usize,
}

impl CnnConfig {
    pub fn validate(&self) -> Result<(), ModelError> {
        let bad = |m: String| Err(ModelError::Config(m));
        if self.image.contains(&0) {
            return bad(format!("image = {:?}: both sides must be at least 1", self.image));
        }
        if self.channels.is_empty() || self.channels.contains(&0) {
            return bad(format!("channels = {:?}: give at least one conv block, each with ≥ 1 channel", self.channels));
        }
        if self.kernel_size == 0 || self.kernel_size % 2 == 0 {
            return bad(format!("kernel_size = {} must be odd (same padding)", self.kernel_size));
        }
        if self.classes < 2 {
            return bad(format!("classes = {} must be at least 2", self.classes));
        }
        Ok(())
    }

    /// Whether each block pools (a 2×2 pool needs both sides ≥ 2) and the spatial size after
    /// the conv blocks; the one place both are decided, so init and forward agree.
    pub(crate) fn plan(&self) -> (Vec<bool>, [usize; 2]) {
        let mut side = self.image;
        let mut pools = Vec::with_capacity(self.channels.len());
        for _ in &self.channels {
            let pool = side[0] >= 2 && side[1] >= 2;
            if pool {
                side = side.map(|v| v / 2);
            }
            pools.push(pool);
        }
        (pools, side)
    }

    pub fn init(&self, device: &Device) -> Result<Cnn, ModelError> {
        self.validate()?;
        let k = self.kernel_size;
        let mut convs = Vec::new();
        let mut c_in = 1;
        for &c in &self.channels {
            convs.push(Conv2dConfig::new([c_in, c], [k, k]).with_padding(PaddingConfig2d::Same).init(device));
            c_in = c;
        }
        let (pools, [h, w]) = self.plan();
        let flat = c_in * h * w;
        let (hidden, head_in) = if self.hidden > 0 {
            (Some(LinearConfig::new(flat, self.hidden).init(device)), self.hidden)
        } else {
            (None, flat)
        };
        Ok(Cnn {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            hidden,
            head: LinearConfig::new(head_in, self.classes).init(device),
            image: self.image,
            pools,
        })
    }
}

#[derive(Module, Debug)]
pub struct Cnn {
    pub convs: Vec<Conv2d>,
    pub pool: MaxPool2d,
    pub hidden: Option<Linear>,
    pub head: Linear,
    #[module(skip)]
    pub image: [usize; 2],
    /// Whether block `i` pools (a side of 1 is not pooled).
    #[module(skip)]
    pub pools: Vec<bool>,
}

impl Cnn {
    /// `x: [B, H·W]` → logits `[B, classes]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let [b, _] = x.dims();
        let [h, w] = self.image;
        let mut y: Tensor<4> = x.reshape([b, 1, h, w]);
        for (conv, &pool) in self.convs.iter().zip(&self.pools) {
            y = relu(crate::conv::conv2d(conv, y));
            if pool {
                y = crate::max_pool::max_pool2d(&self.pool, y);
            }
        }
        let [b, c, h, w] = y.dims();
        let mut z: Tensor<2> = y.reshape([b, c * h * w]);
        if let Some(hidden) = &self.hidden {
            z = relu(crate::linear::linear(hidden, z));
        }
        crate::linear::linear(&self.head, z)
    }

    pub fn input_size(&self) -> usize {
        self.image[0] * self.image[1]
    }

    pub fn output_size(&self) -> usize {
        self.head.weight.dims()[1]
    }
}
