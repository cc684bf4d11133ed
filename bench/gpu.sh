#!/usr/bin/env bash
# A GPU sitting, prepared to run on a machine with an NVIDIA GPU in under 8 minutes, from a
# carried binary (no build there):
#
#   # here:  cargo build --release --bin descent && strip -o bench/descent-release target/release/descent
#   # there: bench/gpu.sh [OUT_DIR]           (DESCENT_BIN=… to point at another binary)
#
# 1. Checks that the GPU has a Vulkan driver wgpu can use, and says plainly when it has none
#    (without one wgpu would fall back to a CPU rasterizer such as lavapipe and time the CPU).
# 2. `descent bench --device wgpu --json`: the optimizer steps (1M and 16M parameters, 4 and 200
#    tensors) and the training cases, then `descent bench --apps --device wgpu` when the binary
#    has that mode.
# 3. The PyTorch CUDA twin (bench/torch_bench.py --device cuda) when torch with CUDA imports.
# 4. A table (bench/report.py) and the 16M momentum step's bandwidth against the GPU's own
#    copy bandwidth (torch) and its datasheet figure (nvidia-smi's name, table below).
# Every stage has a time limit; the whole stays under 8 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/gpu-$(date +%Y-%m-%d)}
bin=${DESCENT_BIN:-bench/descent-release}
[[ -x $bin ]] || bin=target/release/descent
mkdir -p "$out"
log() { echo "[gpu.sh $(date +%T)] $*" | tee -a "$out/log.txt"; }

# --- 1. the GPU and its Vulkan driver -------------------------------------------------------
if ! command -v nvidia-smi >/dev/null; then
  log "no nvidia-smi: this machine has no NVIDIA driver (or no NVIDIA GPU); nothing to measure"
  exit 2
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
gpu=$(head -n1 "$out/gpu.txt" | cut -d, -f1)
icd=""
for d in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
  for f in "$d"/nvidia_icd*.json; do [[ -f $f ]] && icd=$f; done
done
if [[ -z $icd ]]; then
  log "NO VULKAN DRIVER FOR THE GPU: no nvidia_icd.json under /usr/share/vulkan/icd.d or /etc/vulkan/icd.d."
  log "wgpu (descent's GPU path) needs the NVIDIA driver's Vulkan part (Debian/Ubuntu: libnvidia-gl-<driver version>);"
  log "without it wgpu would run on a CPU rasterizer. Not measuring."
  exit 3
fi
log "Vulkan ICD: $icd"
if command -v vulkaninfo >/dev/null; then
  timeout 20 vulkaninfo --summary 2>/dev/null | grep -E "deviceName|driverName|apiVersion" | tee -a "$out/log.txt"
fi
[[ -x $bin ]] || { log "no descent binary at $bin (build it where cargo works; see the top of this script)"; exit 2; }
"$bin" --version | tee -a "$out/log.txt"

# --- 2. descent on wgpu ---------------------------------------------------------------------
log "descent bench --device wgpu (limit 240 s)"
timeout 240 "$bin" bench --device wgpu --json > "$out/descent-1.jsonl" 2> "$out/descent-1.err"
rc=$?; [[ $rc == 0 ]] || log "descent bench ended with $rc: $(tail -n1 "$out/descent-1.err")"
if "$bin" bench --help 2>/dev/null | grep -q -- "--apps"; then
  log "descent bench --apps --device wgpu (limit 120 s)"
  timeout 120 "$bin" bench --apps --device wgpu --json > "$out/descent-apps.jsonl" 2> "$out/descent-apps.err" \
    || log "apps ended early: $(tail -n1 "$out/descent-apps.err")"
fi

# --- 3. the PyTorch CUDA twin ---------------------------------------------------------------
py=${PYTHON:-python3}
if timeout 60 "$py" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  log "torch twin on cuda (limit 150 s)"
  timeout 150 "$py" bench/torch_bench.py --device cuda > "$out/torch-1.jsonl" 2> "$out/torch-1.err" \
    || log "torch twin ended early: $(tail -n1 "$out/torch-1.err")"
else
  log "torch with CUDA is not importable here: descent's figures only"
fi

# --- 4. tables ------------------------------------------------------------------------------
torch_files=""; [[ -s $out/torch-1.jsonl ]] && torch_files=$out/torch-1.jsonl
"$py" bench/report.py "$out/descent-1.jsonl" $torch_files > "$out/tables.md" 2>>"$out/log.txt" || true
# Datasheet memory bandwidth, GB/s (HBM/GDDR peak): what "≥ 50 % of the device's bandwidth" means.
"$py" - "$out" "$gpu" <<'EOF' | tee -a "$out/tables.md"
import json, sys
out, gpu = sys.argv[1], sys.argv[2]
sheet = {"H200": 4800, "H100 NVL": 3900, "H100 80GB HBM3": 3350, "H100 PCIe": 2000, "A100-SXM4-80GB": 2039,
         "A100-SXM4-40GB": 1555, "A100 80GB PCIe": 1935, "A100-PCIE-40GB": 1555, "L40S": 864, "L4": 300,
         "A10G": 600, "T4": 320, "V100": 900, "RTX 4090": 1008, "RTX 3090": 936}
peak = next((v for k, v in sheet.items() if k in gpu), None)
def lines(p):
    try:
        return [json.loads(l) for l in open(p) if l.strip()]
    except OSError:
        return []
ours = lines(f"{out}/descent-1.jsonl")
theirs = lines(f"{out}/torch-1.jsonl")
copy = next((l["copy_gb_per_s"] for l in theirs if l.get("name") == "cuda_info"), None)
print(f"\nGPU: {gpu}; datasheet bandwidth {peak or '?'} GB/s; measured copy (torch) {copy and round(copy)} GB/s\n")
print("| step (wgpu, f32) | params | tensors | median ms | GB/s moved | % of datasheet | % of measured copy | torch cuda ms |")
print("|---|---|---|---|---|---|---|---|")
for l in ours:
    if "params" not in l or l.get("device") != "wgpu":
        continue
    gbs = l["bytes_per_param"] * l["params"] / l["median_s"] / 1e9
    t = next((x for x in theirs if x.get("name") == l["name"] and x.get("params") == l["params"]
              and x.get("tensors") == l["tensors"]), None)
    pct = lambda ref: f"{100 * gbs / ref:.0f} %" if ref else "?"
    print(f"| {l['name']} | {l['params'] / 1e6:g}M | {l['tensors']} | {l['median_s'] * 1e3:.3f} | {gbs:.0f} | "
          f"{pct(peak)} | {pct(copy)} | {t['median_s'] * 1e3:.3f} |" if t else
          f"| {l['name']} | {l['params'] / 1e6:g}M | {l['tensors']} | {l['median_s'] * 1e3:.3f} | {gbs:.0f} | "
          f"{pct(peak)} | {pct(copy)} | - |")
EOF
log "done: $out/tables.md"
cat "$out/tables.md"
