#!/usr/bin/env python3
"""PyTorch twin of examples/configs/digits-cnn.toml: the UCI 8×8 digits (data/digits.csv.gz,
pixels / 16, 359 of 1,797 held out), conv3×3(16) -> ReLU -> pool -> conv3×3(32) -> ReLU ->
pool -> dense 64 -> 10, batch 32, SGD (Nesterov momentum, weight decay) under OneCycleLR
stepped per batch. Prints one JSON line (see common.py).

    /path/to/python bench/apps/digits_cnn.py [--threads N] [--epochs E]
"""

import cnn

if __name__ == "__main__":
    cnn.run("digits-cnn", "digits.csv.gz", (8, 8), 16.0)
