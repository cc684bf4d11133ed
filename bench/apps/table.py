#!/usr/bin/env python3
"""The markdown table of bench/apps.sh from its two JSON-line files: per app, the median
over rounds of each side's median seconds per epoch, and of its seconds with start-up
(process start to the end of the run: descent's `since_t0_s`, the twin's `total_s`).
ratio = torch ÷ descent: above 1, descent is faster."""

import argparse
import json
import statistics

from common import cpu_id, cpu_model

APPS = ["digits-cnn", "mnist-cnn", "text-char", "recommender-mf"]


def read(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("descent")
    p.add_argument("torch")
    p.add_argument("--simd", default="?")
    p.add_argument("--threads", default="?")
    a = p.parse_args()
    ours, theirs = read(a.descent), read(a.torch)
    torch_version = theirs[0]["torch"] if theirs else "?"
    print(f"CPU: {cpu_model()}" + (f" ({cpu_id()})" if cpu_id() else "") + f", SIMD: {a.simd}, threads: {a.threads}, torch {torch_version}\n")
    print("| app | epochs | descent s/epoch | torch s/epoch | ratio | descent s with start-up | torch s with start-up | ratio | rounds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for app in APPS:
        d = [x for x in ours if x["app"] == app]
        t = [x for x in theirs if x["app"] == app]
        if not d or not t:
            continue
        med = lambda rows, key: statistics.median(r[key] for r in rows)
        de, te = med(d, "median_epoch_s"), med(t, "median_epoch_s")
        ds = med(d, "since_t0_s") if all("since_t0_s" in r for r in d) else med(d, "total_s")
        ts = med(t, "total_s")
        print(f"| {app} | {d[0]['epochs']} | {de:.3f} | {te:.3f} | {te / de:.2f}× | {ds:.2f} | {ts:.2f} | {ts / ds:.2f}× | {min(len(d), len(t))} |")


if __name__ == "__main__":
    main()
