#!/usr/bin/env python3
"""PyTorch twin of examples/configs/mnist-cnn.toml: 5,000 MNIST images (data/mnist_5k.csv.gz,
pixels / 255, 1,000 held out), conv3×3(16) -> ReLU -> pool -> conv3×3(32) -> ReLU -> pool ->
dense 64 -> 10, batch 32, SGD (Nesterov momentum, weight decay) under OneCycleLR stepped per
batch. Prints one JSON line (see common.py).

    /path/to/python bench/apps/mnist_cnn.py [--threads N] [--epochs E]
"""

import cnn

if __name__ == "__main__":
    cnn.run("mnist-cnn", "mnist_5k.csv.gz", (28, 28), 255.0)
