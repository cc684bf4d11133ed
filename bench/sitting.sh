#!/usr/bin/env bash
# One sitting: ROUNDS rounds of `descent bench --device cpu --json` and bench/torch_bench.py,
# back to back, then the tables (medians, per-round ratios) with bench/report.py.
#
#   cargo build --release --bin descent
#   bench/sitting.sh bench/sitting-YYYY-MM-DD 3
#
# Run it with nothing else on the machine: a shared core moves every figure.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/sitting.sh OUT_DIR [ROUNDS]}
rounds=${2:-3}
bin=${DESCENT_BIN:-target/release/descent}
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  "$bin" bench --device cpu --json > "$out/descent-$r.jsonl"
  python3 bench/torch_bench.py > "$out/torch-$r.jsonl"
done
python3 bench/report.py "$(ls "$out"/descent-*.jsonl | paste -sd,)" "$(ls "$out"/torch-*.jsonl | paste -sd,)" > "$out/tables.md"
cat "$out/tables.md"
