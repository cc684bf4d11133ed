"""The CNN of descent-model (crates/model/src/cnn.rs) and its bundled image data, shared by
the digits and MNIST twins.

x: [B, H·W] -> [B, 1, H, W]; per entry c of `channels`: conv k×k 'same' (c_prev -> c) ->
ReLU -> 2×2 max-pool (skipped once a side is 1); flatten; optional dense `hidden` + ReLU;
dense to `classes` logits; cross-entropy.
"""

import gzip
import time

import numpy as np
import torch

import common


class Cnn(torch.nn.Module):
    def __init__(self, image, channels, kernel_size, hidden, classes):
        super().__init__()
        self.image = image
        convs, pools, c_in, side = [], [], 1, list(image)
        for c in channels:
            convs.append(torch.nn.Conv2d(c_in, c, kernel_size, padding="same"))
            pool = side[0] >= 2 and side[1] >= 2
            if pool:
                side = [s // 2 for s in side]
            pools.append(pool)
            c_in = c
        self.convs = torch.nn.ModuleList(convs)
        self.pools = pools
        flat = c_in * side[0] * side[1]
        self.hidden = torch.nn.Linear(flat, hidden) if hidden > 0 else None
        self.head = torch.nn.Linear(hidden if hidden > 0 else flat, classes)

    def forward(self, x):
        h, w = self.image
        y = x.reshape(x.shape[0], 1, h, w)
        for conv, pool in zip(self.convs, self.pools):
            y = torch.relu(conv(y))
            if pool:
                y = torch.nn.functional.max_pool2d(y, 2)
        z = y.flatten(1)
        if self.hidden is not None:
            z = torch.relu(self.hidden(z))
        return self.head(z)


def load_pixels(path, image, max_pixel, valid_fraction, seed):
    """descent's bundled loader: header-less gzip CSV, pixels / max_pixel (in f64, then f32),
    the label last; descent's validation split."""
    t = time.perf_counter()
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)
    assert table.shape[1] == image[0] * image[1] + 1, f"{path}: {table.shape[1]} columns"
    x = torch.from_numpy(table[:, :-1] / max_pixel).float()
    y = torch.from_numpy(table[:, -1]).long()
    tr, va = split(x.shape[0], valid_fraction, seed)
    data = (x[tr].contiguous(), y[tr].contiguous(), x[va].contiguous(), y[va].contiguous())
    return data, time.perf_counter() - t


def split(rows, fraction, seed):
    tr, va = common.split_rows(rows, fraction, seed)
    return torch.tensor(tr, dtype=torch.long), torch.tensor(va, dtype=torch.long)


def run(app, data_file, image, max_pixel):
    args, cfg = common.parse_args(app)
    m, d = cfg["model"], cfg["data"]
    data, load_s = load_pixels(f"{common.REPO}/data/{data_file}", image, max_pixel, d["valid_fraction"], cfg.get("seed", 0))
    ce = torch.nn.CrossEntropyLoss()
    common.train(
        app,
        cfg,
        data,
        lambda: Cnn(image, m["channels"], m.get("kernel_size", 3), m.get("hidden", 0), m["classes"]),
        lambda model, xb, yb: ce(model(xb), yb),
        ce,
        True,
        load_s,
        args.threads,
    )
