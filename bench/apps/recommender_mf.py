#!/usr/bin/env python3
"""PyTorch twin of examples/configs/recommender-mf.toml: biased matrix factorisation on
descent's synthetic ratings.

Data: descent's generator (crates/train/src/data/ratings.rs) reproduced draw for draw
(SplitMix64 + Box-Muller, in f64), so the twin trains on the very ratings descent does, and
descent's 20% validation split. Model as descent-model's mf.rs:
r̂(u, i) = μ + b_u + c_i + p_u·q_i, embeddings N(0, 0.1²), biases 0; the training loss is
MSE + l2·(1/B)·Σ_batch(‖p_u‖² + ‖q_i‖²) on the batch's embeddings. Batch 256, Adam(lr 0.02),
CosineAnnealingLR(T_max 40, eta_min 5e-4) stepped per epoch. Prints one JSON line
(see common.py).

    /path/to/python bench/apps/recommender_mf.py [--threads N] [--epochs E]
"""

import math
import time

import torch

import common


class Normal:
    """descent's Box-Muller on SplitMix64."""

    def __init__(self, seed):
        self.rng = common.SplitMix64(seed)

    def uniform(self):
        return ((self.rng.next_u64() >> 11) + 0.5) / float(1 << 53)

    def sample(self):
        u1, u2 = self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def synthetic_ratings(users, items, rank, density, noise_std, seed):
    n = Normal(seed ^ 0xA0761D6478BD642F)
    s = rank ** -0.25
    p = [s * n.sample() for _ in range(users * rank)]
    q = [s * n.sample() for _ in range(items * rank)]
    bu = [0.3 * n.sample() for _ in range(users)]
    bi = [0.3 * n.sample() for _ in range(items)]
    n = Normal(seed ^ 0xE7037ED1A0B428DB)
    pairs, ratings = [], []
    for u in range(users):
        for i in range(items):
            if n.uniform() >= density:
                continue
            dot = sum(p[u * rank + k] * q[i * rank + k] for k in range(rank))
            ratings.append(3.0 + bu[u] + bi[i] + dot + noise_std * n.sample())
            pairs.append((u, i))
    return pairs, ratings


class Mf(torch.nn.Module):
    def __init__(self, users, items, dim, l2, init_std=0.1):
        super().__init__()
        self.user = torch.nn.Embedding(users, dim)
        self.item = torch.nn.Embedding(items, dim)
        torch.nn.init.normal_(self.user.weight, 0.0, init_std)
        torch.nn.init.normal_(self.item.weight, 0.0, init_std)
        self.user_bias = torch.nn.Embedding(users, 1)
        self.item_bias = torch.nn.Embedding(items, 1)
        torch.nn.init.zeros_(self.user_bias.weight)
        torch.nn.init.zeros_(self.item_bias.weight)
        self.global_bias = torch.nn.Parameter(torch.zeros(1))
        self.l2 = l2

    def forward_with_penalty(self, x):
        u, i = x[:, 0], x[:, 1]
        p, q = self.user(u), self.item(i)
        penalty = (p.pow(2).sum() + q.pow(2).sum()) * (self.l2 / x.shape[0]) if self.l2 != 0 else None
        pred = (p * q).sum(1, keepdim=True) + self.user_bias(u) + self.item_bias(i) + self.global_bias.reshape(1, 1)
        return pred, penalty

    def forward(self, x):
        return self.forward_with_penalty(x)[0]


def main():
    args, cfg = common.parse_args("recommender-mf")
    m, d = cfg["model"], cfg["data"]
    seed = cfg.get("seed", 0)
    t = time.perf_counter()
    pairs, ratings = synthetic_ratings(d["users"], d["items"], d["rank"], d["density"], d["noise_std"], seed)
    x = torch.tensor(pairs, dtype=torch.long)
    y = torch.tensor(ratings, dtype=torch.float64).float().unsqueeze(1)
    tr, va = (torch.tensor(v, dtype=torch.long) for v in common.split_rows(len(ratings), d["valid_fraction"], seed))
    data = (x[tr].contiguous(), y[tr].contiguous(), x[va].contiguous(), y[va].contiguous())
    load_s = time.perf_counter() - t
    mse = torch.nn.MSELoss()

    def train_loss(model, xb, yb):
        pred, penalty = model.forward_with_penalty(xb)
        loss = mse(pred, yb)
        return loss if penalty is None else loss + penalty

    common.train(
        "recommender-mf",
        cfg,
        data,
        lambda: Mf(d["users"], d["items"], m["dim"], m.get("l2", 0.0), m.get("init_std", 0.1)),
        train_loss,
        mse,
        False,
        load_s,
        args.threads,
    )


if __name__ == "__main__":
    main()
