#!/usr/bin/env bash
# descent's four example applications against their PyTorch twins (bench/apps/*.py), same
# machine, same thread count, R rounds, one process per app and side; prints a markdown table.
#
#   bench/apps.sh [-r ROUNDS] [-t THREADS] [-e EPOCHS] [-o OUT_DIR]
#
# DESCENT (default: target/release/descent; build it with `cargo build --release`) and
# PYTHON (default: python3, with torch and numpy) name the two programs. Each process is
# started with BENCH_T0 = the Unix time just before, so "with start-up" counts process start,
# imports, data loading and setup as well as the epochs. Threads: RAYON_NUM_THREADS for
# descent (Burn's CPU backend computes on rayon's pool), torch.set_num_threads for the twins.
# The raw JSON lines stay in OUT_DIR (default: a temporary folder) for a second look.
set -euo pipefail

rounds=3
threads=$(nproc)
epochs=""
out=""
while getopts "r:t:e:o:" opt; do
    case $opt in
        r) rounds=$OPTARG ;;
        t) threads=$OPTARG ;;
        e) epochs=$OPTARG ;;
        o) out=$OPTARG ;;
        *) echo "usage: $0 [-r ROUNDS] [-t THREADS] [-e EPOCHS] [-o OUT_DIR]" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
descent=${DESCENT:-$repo/target/release/descent}
python=${PYTHON:-python3}
[ -x "$descent" ] || { echo "error: $descent is not an executable; build it (cargo build --release) or set DESCENT" >&2; exit 1; }
out=${out:-$(mktemp -d)}
mkdir -p "$out"
epoch_arg=()
[ -n "$epochs" ] && epoch_arg=(--epochs "$epochs")

now() { date +%s.%N; }
for ((r = 1; r <= rounds; r++)); do
    for app in digits-cnn mnist-cnn text-char recommender-mf; do
        echo "round $r/$rounds: $app" >&2
        BENCH_T0=$(now) RAYON_NUM_THREADS=$threads "$descent" bench --apps --json --filter "$app" \
            --configs "$repo/examples/configs" "${epoch_arg[@]}" >> "$out/descent.jsonl"
        BENCH_T0=$(now) "$python" "$here/apps/${app//-/_}.py" --threads "$threads" "${epoch_arg[@]}" >> "$out/torch.jsonl"
    done
done

simd=$(grep -m1 -o -w 'avx512f' /proc/cpuinfo || grep -m1 -o -w 'avx2' /proc/cpuinfo || echo "no avx2")
"$python" "$here/apps/table.py" "$out/descent.jsonl" "$out/torch.jsonl" --simd "$simd" --threads "$threads"
echo "(raw lines: $out)" >&2
