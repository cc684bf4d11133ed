#!/usr/bin/env python3
"""PyTorch side of `descent bench`: the same training-throughput cases (and optimizer steps)
with torch on the CPU, printing the same JSON lines.

Run by hand, not by tests:

    pip install torch --index-url https://download.pytorch.org/whl/cpu   # or: pip install torch
    python3 bench/torch_bench.py [--threads N] [--quick] [--no-optim]

Cases (as crates/train/src/bench.rs): synthetic data of 1024 rows; seed MLP 10 -> 5 -> 1
(ReLU, MSE) and MNIST-size MLP 784 -> 256 -> 256 -> 10 (ReLU, cross-entropy); batch 1 = one
random row per step (index_select), 32 and 128 = contiguous mini-batches, 1024 = the whole set;
per step: zero_grad (set_to_none), forward + loss, loss.item(), backward, SGD step
(lr 0.01, momentum 0.9). The same thread count as descent: torch.set_num_threads(N), N = the
number of CPUs by default (Burn's CPU matmul uses every core through rayon).
"""

import argparse
import json
import os
import resource
import statistics
import time

import torch

ROWS = 1024
LR = 0.01


def cpu_model():
    """/proc/cpuinfo's model name, as `descent bench`'s machine line gives it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.machine()


def cpu_id():
    """x86's "family F model M stepping S" (empty elsewhere), as the machine line's `cpu_id`:
    this project's VMs all call themselves "AMD EPYC", Zen 3 and Zen 4 alike."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break
                k, _, v = line.partition(":")
                fields.setdefault(k.strip(), v.strip())
    except OSError:
        return ""
    if all(k in fields for k in ("cpu family", "model", "stepping")):
        return f"family {fields['cpu family']} model {fields['model']} stepping {fields['stepping']}"
    return ""


def peak_rss_mb():
    # ru_maxrss is in KB on Linux (not resettable: a process-wide peak).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def sync(device):
    """CUDA runs asynchronously: a timing must wait for the queued kernels."""
    if device == "cuda":
        torch.cuda.synchronize()


def bench_train(net, mode, batch, budget_s, device="cpu"):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    if net == "seed":
        sizes, name = [10, 5, 1], "train_seed_mlp"
    else:
        sizes, name = [784, 256, 256, 10], "train_mlp784"
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    x_all = torch.rand(ROWS, sizes[0], generator=g) * 2 - 1
    if net == "seed":
        y_all = torch.rand(ROWS, 1, generator=g) * 2 - 1
        loss_fn = torch.nn.MSELoss()
    else:
        y_all = torch.randint(0, 10, (ROWS,), generator=g)
        loss_fn = torch.nn.CrossEntropyLoss()
    x_all, y_all = x_all.to(device), y_all.to(device)

    cursor = [0]

    def next_batch():
        if mode == "stochastic":
            idx = torch.randint(0, ROWS, (1,), generator=g).to(device)
            return x_all.index_select(0, idx), y_all.index_select(0, idx)
        if mode == "full":
            return x_all, y_all
        if cursor[0] + batch > ROWS:
            cursor[0] = 0
        a, b = cursor[0], cursor[0] + batch
        cursor[0] = b
        return x_all[a:b], y_all[a:b]

    parts = [0.0] * 5

    def step():
        t0 = time.perf_counter()
        x, y = next_batch()
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        t2 = time.perf_counter()
        value = loss.item()
        t3 = time.perf_counter()
        loss.backward()
        sync(device)
        t4 = time.perf_counter()
        opt.step()
        sync(device)
        t5 = time.perf_counter()
        for i, d in enumerate([t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4]):
            parts[i] += d
        return value

    warm = time.perf_counter()
    for _ in range(5):
        step()
        if time.perf_counter() - warm > budget_s:
            break
    parts[:] = [0.0] * 5
    steps = 0
    start = time.perf_counter()
    while steps < 3 or time.perf_counter() - start < budget_s:
        step()
        steps += 1
        if steps >= 200_000:
            break
    total = time.perf_counter() - start
    per = lambda s: s / steps * 1e6
    return {
        "name": name,
        "mode": mode,
        "batch": batch,
        "device": device,
        "impl": "torch",
        "samples_per_s": steps * batch / total,
        "steps": steps,
        "step_us": per(total),
        "data_us": per(parts[0]),
        "forward_us": per(parts[1]),
        "loss_read_us": per(parts[2]),
        "backward_us": per(parts[3]),
        "optim_us": per(parts[4]),
        "peak_rss_mb": peak_rss_mb(),
    }


def bench_optim(kind, params, tensors, reps, device="cpu"):
    sizes = [params // tensors] * tensors
    sizes[0] += params - sum(sizes)
    ps = [torch.nn.Parameter(torch.rand(n, device=device) * 2 - 1) for n in sizes]
    grads = [torch.rand(n, device=device) * 2 - 1 for n in sizes]
    if kind == "sgd_step":
        opt = torch.optim.SGD(ps, lr=LR)
    elif kind == "sgd_momentum_step":
        opt = torch.optim.SGD(ps, lr=LR, momentum=0.9)
    elif kind == "sgd_nesterov_wd_step":
        opt = torch.optim.SGD(ps, lr=LR, momentum=0.9, nesterov=True, weight_decay=1e-4)
    else:
        opt = torch.optim.Adam(ps, lr=LR, betas=(0.9, 0.999), eps=1e-8)
    times = []
    for i in range(2 + reps):
        for p, gr in zip(ps, grads):
            p.grad = gr.clone()
        sync(device)
        t = time.perf_counter()
        opt.step()
        sync(device)
        if i >= 2:
            times.append(time.perf_counter() - t)
    return {
        "name": kind,
        "params": params,
        "tensors": tensors,
        "device": device,
        "impl": "torch",
        "median_s": statistics.median(times),
    }


def cuda_info():
    """The GPU and its measured copy bandwidth (read + write of a 1 GiB buffer, best of 10): what
    a memory-bound optimizer step can reach at most."""
    n = 1 << 28  # f32 elements: 1 GiB
    a, b = torch.rand(n, device="cuda"), torch.empty(n, device="cuda")
    best = float("inf")
    for _ in range(10):
        torch.cuda.synchronize()
        t = time.perf_counter()
        b.copy_(a)
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    props = torch.cuda.get_device_properties(0)
    return {"name": "cuda_info", "gpu": props.name, "memory_gb": props.total_memory / 1e9,
            "copy_gb_per_s": 2 * 4 * n / best / 1e9, "cuda": torch.version.cuda}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-optim", action="store_true", help="skip the optimizer-step lines")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                    help="cuda: the GPU twin of `descent bench --device wgpu` (bench/gpu.sh)")
    args = ap.parse_args()
    dev = args.device
    torch.set_num_threads(args.threads)
    print(json.dumps({"name": "torch_info", "version": torch.__version__, "threads": torch.get_num_threads(),
                      "cpu_model": cpu_model(), "cpu_id": cpu_id(), "simd": torch.backends.cpu.get_cpu_capability().lower(),
                      "mkldnn": torch.backends.mkldnn.is_available(), "mkl": torch.backends.mkl.is_available()}),
          flush=True)
    if dev == "cuda":
        print(json.dumps(cuda_info()), flush=True)
    if not args.no_optim:
        sizes = [1_000_000] if args.quick else [1_000_000, 16_000_000]
        for params in sizes:
            for tensors in ([4] if args.quick else [4, 200]):
                for kind in ["sgd_step", "sgd_momentum_step", "sgd_nesterov_wd_step", "adam_step"]:
                    reps = 15 if params <= 4_000_000 else 7
                    print(json.dumps(bench_optim(kind, params, tensors, reps, dev)), flush=True)
    budget = 0.15 if args.quick else 2.0
    for net in ["seed", "mnist"]:
        for mode, batch in [("stochastic", 1), ("mini", 32), ("mini", 128), ("full", ROWS)]:
            print(json.dumps(bench_train(net, mode, batch, budget, dev)), flush=True)


if __name__ == "__main__":
    main()
