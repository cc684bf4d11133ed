#!/usr/bin/env python3
"""Markdown tables from `descent bench --json` and `bench/torch_bench.py` output.

    python3 bench/report.py descent.jsonl torch.jsonl > tables.md
"""

import json
import sys


def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def main():
    ours = load(sys.argv[1])
    torch = load(sys.argv[2]) if len(sys.argv) > 2 else []
    copy = next((l for l in ours if l["name"] == "copy_bandwidth"), None)
    if copy:
        print(f"Copy bandwidth (read + write, `copy_from_slice`, {copy['bytes'] >> 20} MB): "
              f"{copy['gb_per_s'] / 1e9:.2f} GB/s\n")
    t_optim = {(l["name"], l["params"], l["tensors"]): l for l in torch if "params" in l}
    print("| step | params | tensors | device | descent ms | Burn ms | floor ms | descent/floor | descent/Burn | torch ms | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for l in ours:
        if "params" not in l:
            continue
        t = t_optim.get((l["name"], l["params"], l["tensors"])) if l["device"] == "cpu" else None
        tm = f"{t['median_s'] * 1e3:.2f}" if t else ""
        rss = f"{l['peak_rss_mb']:.0f}" if l.get("peak_rss_mb") else ""
        print(f"| {l['name']} | {l['params'] / 1e6:g}M | {l['tensors']} | {l['device']} | {l['median_s'] * 1e3:.2f} | "
              f"{l['burn_median_s'] * 1e3:.2f} | {l['floor_s'] * 1e3:.2f} | {l['vs_floor']:.2f} | {l['vs_burn']:.2f} | {tm} | {rss} |")
    print()
    t_train = {(l["name"], l["mode"], l["batch"]): l for l in torch if "samples_per_s" in l}
    print("| training | mode | batch | device | descent samples/s | torch samples/s | descent/torch | descent µs/step (data, fwd, read, bwd, step) | torch µs/step (same) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for l in ours:
        if "samples_per_s" not in l:
            continue
        t = t_train.get((l["name"], l["mode"], l["batch"])) if l["device"] == "cpu" else None
        parts = lambda x: f"{x['step_us']:.0f} ({x['data_us']:.0f}, {x['forward_us']:.0f}, {x['loss_read_us']:.0f}, {x['backward_us']:.0f}, {x['optim_us']:.0f})"
        ts = f"{t['samples_per_s']:.0f}" if t else ""
        ratio = f"{l['samples_per_s'] / t['samples_per_s']:.2f}" if t else ""
        tp = parts(t) if t else ""
        print(f"| {l['name']} | {l['mode']} | {l['batch']} | {l['device']} | {l['samples_per_s']:.0f} | {ts} | {ratio} | {parts(l)} | {tp} |")


if __name__ == "__main__":
    main()
