"""What the four PyTorch twins of descent's example applications share: the config, the
data split, the optimizer and scheduler built from the config's own keys, the training loop
with descent's per-epoch validation, and the one JSON line each twin prints.

The loop mirrors descent-train's (crates/train/src/epoch.rs): each epoch reshuffles the
training rows (torch.randperm, not descent's SplitMix64: same sizes and batch counts, other
order), takes mini-batches of `batch_size` (the last one short), and per step does
zero_grad -> forward + loss -> loss.item() (descent reads and records every step's loss) ->
backward -> optimizer step -> scheduler step when `interval = "step"`. After the steps:
validation in chunks of 4096 rows (under torch.no_grad()), then the scheduler step when
`interval = "epoch"`. The epoch's train loss is the mean of its steps' losses, as descent's.
descent also computes each step's gradient norm for metrics.jsonl; the twins do not.

Timing: `data_load_s` (files read, parsed, split, tensors made), `setup_s` (model,
optimizer, scheduler), each epoch (`epoch_s`), and `total_s` from the Unix time in the
environment variable BENCH_T0 (bench/apps.sh sets it just before starting the process, so
the interpreter's start and `import torch` count) or else from this module's import.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
import tomllib

T_START = float(os.environ.get("BENCH_T0") or time.time())

import torch  # noqa: E402  (after T_START: importing torch is part of the start-up cost)

# One definition of the machine's name for both benches: bench/torch_bench.py's.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from torch_bench import cpu_id, cpu_model  # noqa: E402,F401  (table.py imports it from here)

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
MASK64 = (1 << 64) - 1


def parse_args(app):
    p = argparse.ArgumentParser(description=f"PyTorch twin of descent's {app} example")
    p.add_argument("--config", default=os.path.join(REPO, "examples", "configs", f"{app}.toml"))
    p.add_argument("--epochs", type=int, default=None, help="epochs instead of the config's (its schedule keeps its length)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: the machine's cores)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.config, "rb") as f:
        cfg = tomllib.load(f)
    cfg["_dir"] = os.path.dirname(os.path.abspath(args.config))
    if args.epochs is not None:
        cfg["epochs"] = args.epochs
    return args, cfg


class SplitMix64:
    """descent-train's Rng (crates/train/src/rng.rs), so the validation split and the
    synthetic ratings are the very rows descent uses."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        threshold = ((1 << 64) - n) % n
        while True:
            m = self.next_u64() * n
            if (m & MASK64) >= threshold:
                return m >> 64

    def shuffle(self, xs):
        for i in range(len(xs) - 1, 0, -1):
            j = self.below(i + 1)
            xs[i], xs[j] = xs[j], xs[i]


def round_half_away(x):
    """Rust's f64::round (Python's round() rounds half to even)."""
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def split_rows(rows, fraction, seed):
    """descent's data::split: round(fraction·rows) held out, chosen from `seed`; both parts
    keep file order. Returns (train indices, valid indices)."""
    order = list(range(rows))
    SplitMix64(seed ^ 0x5851F42D4C957F2D).shuffle(order)
    n_valid = int(round_half_away(rows * fraction))
    return sorted(order[n_valid:]), sorted(order[:n_valid])


def make_optimizer(params, section):
    kind = section["kind"]
    kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in section.items() if k != "kind"}
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[kind]
    return cls(params, **kw)


def make_scheduler(opt, section):
    """(scheduler, interval) from [scheduler]: its keys are torch's argument names."""
    if section is None:
        return None, "epoch"
    kind = section["kind"]
    interval = section.get("interval", "epoch")
    kw = {k: v for k, v in section.items() if k not in ("kind", "interval")}
    cls = {"onecycle": torch.optim.lr_scheduler.OneCycleLR, "cosine": torch.optim.lr_scheduler.CosineAnnealingLR}[kind]
    return cls(opt, **kw), interval


def evaluate(model, loss_fn, x, y, classify):
    """Mean data loss (and accuracy) in chunks of 4096 rows, as descent's epoch.rs."""
    total, hits, rows = 0.0, 0, x.shape[0]
    with torch.no_grad():
        for a in range(0, rows, 4096):
            xb, yb = x[a:a + 4096], y[a:a + 4096]
            out = model(xb)
            total += loss_fn(out, yb).item() * xb.shape[0]
            if classify:
                hits += int((out.argmax(1) == yb).sum())
    return total / rows, (hits / rows if classify else None)


def train(app, cfg, data, build_model, train_loss, valid_loss, classify, data_load_s, threads):
    """Trains and prints the JSON line. `data` = (x_train, y_train, x_valid, y_valid);
    `train_loss(model, xb, yb)` is the step's loss (penalties included), `valid_loss(out, y)`
    the data loss."""
    x, y, xv, yv = data
    t0 = time.perf_counter()
    torch.manual_seed(cfg.get("seed", 0))
    model = build_model()
    opt = make_optimizer(model.parameters(), cfg["optimizer"])
    sched, interval = make_scheduler(opt, cfg.get("scheduler"))
    batch = cfg["batching"]["batch_size"]
    setup_s = time.perf_counter() - t0
    gen = torch.Generator().manual_seed(cfg.get("seed", 0))
    epoch_s, train_l, valid_l, acc, steps = [], float("nan"), None, None, 0
    rows = x.shape[0]
    for _ in range(cfg["epochs"]):
        t = time.perf_counter()
        order = torch.randperm(rows, generator=gen)
        total, n = 0.0, 0
        for a in range(0, rows, batch):
            idx = order[a:a + batch]
            opt.zero_grad()
            loss = train_loss(model, x[idx], y[idx])
            total += loss.item()
            n += 1
            loss.backward()
            opt.step()
            if sched is not None and interval == "step":
                sched.step()
        train_l = total / n
        steps += n
        valid_l, acc = evaluate(model, valid_loss, xv, yv, classify)
        if sched is not None and interval == "epoch":
            sched.step()
        epoch_s.append(time.perf_counter() - t)
    line = {
        "name": "torch_app",
        "app": app,
        "epochs": cfg["epochs"],
        "steps": steps,
        "threads": threads,
        "torch": torch.__version__,
        "cpu": cpu_model(),
        "cpu_id": cpu_id(),
        "data_load_s": data_load_s,
        "setup_s": setup_s,
        "epoch_s": epoch_s,
        "median_epoch_s": statistics.median(epoch_s),
        "train_s": sum(epoch_s),
        "total_s": time.time() - T_START,
        "final_train_loss": train_l,
        "final_valid_loss": valid_l,
    }
    if acc is not None:
        line["final_valid_accuracy"] = acc
    print(json.dumps(line))
    sys.stdout.flush()
