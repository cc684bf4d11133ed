#!/usr/bin/env python3
"""Markdown tables from `descent bench --json` and `bench/torch_bench.py` output.

    python3 bench/report.py descent.jsonl torch.jsonl > tables.md
    python3 bench/report.py d1.jsonl,d2.jsonl,d3.jsonl t1.jsonl,t2.jsonl,t3.jsonl

With several runs (comma-separated files, e.g. the rounds of bench/sitting.sh) every number is
the median over the runs of that case, and the descent/torch column is the median of the
per-round ratios (round i of descent against round i of torch, taken back to back), so a
slow moment of the machine hits both sides of a ratio.
"""

import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def runs(arg):
    return [load(p) for p in arg.split(",") if p]


def keyed(run, key):
    return {key(l): l for l in run if key(l) is not None}


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def merge(all_runs, key):
    """key -> (median line, list of per-run lines)."""
    per = [keyed(r, key) for r in all_runs]
    keys = []
    for p in per:
        keys += [k for k in p if k not in keys]
    out = {}
    for k in keys:
        lines = [p.get(k) for p in per]
        present = [l for l in lines if l]
        m = dict(present[0])
        for field, v in present[0].items():
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                m[field] = med([l.get(field) for l in present])
        out[k] = (m, lines)
    return out


def optim_key(l):
    return (l["name"], l["params"], l["tensors"], l.get("device", "cpu")) if "params" in l else None


def train_key(l):
    return (l["name"], l["mode"], l["batch"], l.get("device", "cpu")) if "samples_per_s" in l else None


def machine(ours, torch):
    """The heading every table needs: CPU model, SIMD level, threads (figures are per machine)."""
    m = next((l for r in ours for l in r if l["name"] == "machine"), None)
    t = next((l for r in torch for l in r if l["name"] == "torch_info"), None)
    if m:
        cpu = m['cpu_model'] + (f" ({m['cpu_id']})" if m.get('cpu_id') else "")
        print(f"Machine: {cpu}; descent: SIMD {m['simd']}, {m['threads']} threads "
              f"({m['logical_cpus']} logical CPUs), {m['build']} build, descent {m['descent_version']}"
              + (f"; torch {t['version']}: SIMD {t.get('simd', '?')}, {t['threads']} threads" if t else "") + ".\n")
    else:
        print("Machine: not recorded (a descent run from before the machine line).\n")


def main():
    ours = runs(sys.argv[1])
    torch = runs(sys.argv[2]) if len(sys.argv) > 2 else []
    if len(ours) > 1:
        print(f"Medians over {len(ours)} descent runs" + (f" and {len(torch)} torch runs" if torch else "") + ".\n")
    machine(ours, torch)
    copies = [l for r in ours for l in r if l["name"] == "copy_bandwidth"]
    if copies:
        c = copies[0]
        extra = ""
        if "one_thread_gb_per_s" in c:
            extra = (f"; 1 thread {med([x['one_thread_gb_per_s'] for x in copies]) / 1e9:.2f}, "
                     f"{c['threads']} threads {med([x['all_threads_gb_per_s'] for x in copies]) / 1e9:.2f}")
        print(f"Copy bandwidth (read + write, {c['bytes'] >> 20} MB, the floors use the faster): "
              f"{med([x['gb_per_s'] for x in copies]) / 1e9:.2f} GB/s{extra}\n")

    t_optim = merge(torch, lambda l: optim_key(dict(l, device="cpu")) if "params" in l else None)
    print("| step | params | tensors | device | descent ms | Burn ms | floor ms | descent/floor | descent/Burn | torch ms | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for k, (l, _) in merge(ours, optim_key).items():
        t = t_optim.get(k, (None,))[0] if l["device"] == "cpu" else None
        tm = f"{t['median_s'] * 1e3:.2f}" if t else ""
        rss = f"{l['peak_rss_mb']:.0f}" if l.get("peak_rss_mb") else ""
        print(f"| {l['name']} | {l['params'] / 1e6:g}M | {l['tensors']} | {l['device']} | {l['median_s'] * 1e3:.2f} | "
              f"{l['burn_median_s'] * 1e3:.2f} | {l['floor_s'] * 1e3:.2f} | {l['vs_floor']:.2f} | {l['vs_burn']:.2f} | {tm} | {rss} |")
    print()

    t_train = merge(torch, lambda l: train_key(dict(l, device="cpu")) if "samples_per_s" in l else None)
    print("| training | mode | batch | device | descent samples/s | torch samples/s | descent/torch | per-round ratios | descent µs/step (data, fwd, read, bwd, step) | torch µs/step (same) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    parts = lambda x: f"{x['step_us']:.0f} ({x['data_us']:.0f}, {x['forward_us']:.0f}, {x['loss_read_us']:.0f}, {x['backward_us']:.0f}, {x['optim_us']:.0f})"
    for k, (l, lines) in merge(ours, train_key).items():
        t, tlines = t_train.get(k, (None, [])) if l["device"] == "cpu" else (None, [])
        ts = f"{t['samples_per_s']:.0f}" if t else ""
        ratios = [a["samples_per_s"] / b["samples_per_s"] for a, b in zip(lines, tlines) if a and b]
        ratio = f"{med(ratios):.2f}" if ratios else ""
        each = " ".join(f"{r:.2f}" for r in ratios) if len(ratios) > 1 else ""
        tp = parts(t) if t else ""
        print(f"| {l['name']} | {l['mode']} | {l['batch']} | {l['device']} | {l['samples_per_s']:.0f} | {ts} | {ratio} | {each} | {parts(l)} | {tp} |")


if __name__ == "__main__":
    main()
