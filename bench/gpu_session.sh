#!/usr/bin/env bash
# Everything the GPU path needs checked on a real GPU, in one run of under 10 minutes:
#   1. the card and driver (nvidia-smi), then `xpnet doctor --device gpu`;
#   2. every GPU test (tests parametrized over devices, the GPU kernels, the GPU path),
#      on the real CuPy;
#   3. the default `train.py` job on the GPU and the same job in PyTorch on CUDA, wall time
#      from process start, each in its own process;
#   4. SimpleConvNet and DeepConvNet training steps at batch 100 and 500, xpnet against
#      PyTorch eager, each in its own process, the two alternated, 3 rounds.
# Results go to $OUT (the device tool's folder) or ./gpu-session: one log per part and
# summary.md, the table for README. Run from anywhere: bash bench/gpu_session.sh
# Needs CuPy, PyTorch with CUDA, NumPy, Numba, SciPy, tqdm, matplotlib, pytest,
# pytest-benchmark and hypothesis importable by python3; xpnet is used from this checkout.
set -u
cd "$(dirname "$0")/.."
out=${OUT:-gpu-session}
mkdir -p "$out"
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 MPLBACKEND=Agg
py=${PYTHON:-python3}
summary=$out/summary.md
say() { echo "$*" | tee -a "$summary"; }
: >"$summary"

say "# GPU session, $(date -u +%Y-%m-%d) on $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo 'no nvidia-smi')"
nvidia-smi >"$out/nvidia-smi.txt" 2>&1

# 1. doctor: versions, devices, kernels, 20 steps compared with the CPU
timeout 120 $py -m xpnet.doctor --device gpu 2>&1 | tee "$out/doctor.txt"
say "doctor: $(tail -n 1 "$out/doctor.txt")"

# 2. the GPU tests: every test whose name or parameters say gpu, and the doctor's
timeout 240 $py -m pytest -q -p no:cacheprovider -k "gpu or doctor" tests 2>&1 \
    | tee "$out/gpu-tests.txt" | tail -n 25
say "GPU tests: $(grep -E '(passed|failed)' "$out/gpu-tests.txt" | tail -n 1)"

# 3. the default job, wall time from process start to exit
clock() {  # seconds that "$@" took, or "failed (see jobs.txt)"
  local start end; start=$(date +%s.%N)
  "$@" >>"$out/jobs.txt" 2>&1 || { echo "failed (see jobs.txt)"; return; }
  end=$(date +%s.%N); $py -c "print(f'{$end - $start:.1f}')"; }
$py -c "from xpnet.datasets import load_mnist; import numpy as np
(a, b), (c, d) = load_mnist(normalize=True, flatten=False)
np.savez('$out/mnist.npz', x_train=a, t_train=b, x_test=c, t_test=d)" 2>>"$out/jobs.txt"
xp_s=$(XPNET_DEVICE=gpu clock timeout 150 $py train.py --no-progress --overwrite --out "$out/run")
torch_s=$(clock timeout 150 $py bench/probe.py torch-train "$out/mnist.npz" 15 cuda)
accuracy=$($py -c "import json; print(json.load(open('$out/run/metrics.json'))['test_accuracy'])" 2>/dev/null)
say ""
say "| default train.py job (15 epochs, 5,000-image sample) | wall time | test accuracy |"
say "| --- | ---: | ---: |"
say "| xpnet, XPNET_DEVICE=gpu | ${xp_s} s | ${accuracy:-?} |"
say "| PyTorch eager on CUDA (bench/torch_nets.py train_job) | ${torch_s} s | $(grep -o '"test_accuracy": [0-9.]*' "$out/jobs.txt" | tail -n 1 | cut -d' ' -f2) |"
say "(s: from process start to exit, one run each)"

# 4. training steps, alternated, each in a fresh process
say ""
say "| step (float32, forward + backward + Adam) | xpnet median (min-max) ms | PyTorch median (min-max) ms | xpnet / PyTorch |"
say "| --- | ---: | ---: | ---: |"
for model in simple_convnet deep_convnet; do
  for batch in 100 500; do
    for round in 1 2 3; do
      for impl in xpnet torch; do
        timeout 60 $py bench/step_time.py $impl $model $batch 20 gpu 2>>"$out/steps.err" | tail -n 1 >>"$out/steps.jsonl"
      done
    done
    $py - "$out/steps.jsonl" $model $batch >>"$summary" <<'EOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
mine = {impl: [r for r in rows if (r["impl"], r["model"], r["batch"]) == (impl, sys.argv[2], int(sys.argv[3]))]
        for impl in ("xpnet", "torch")}
def cell(rs):
    if not rs:
        return "failed", None
    m = statistics.median(r["median_ms"] for r in rs)
    return f"{m:.2f} ({min(r['min_ms'] for r in rs):.2f}-{max(r['max_ms'] for r in rs):.2f})", m
(a, ma), (b, mb) = cell(mine["xpnet"]), cell(mine["torch"])
ratio = f"{ma / mb:.2f}" if ma and mb else "?"
print(f"| {sys.argv[2]} batch {sys.argv[3]} | {a} | {b} | {ratio} |")
EOF
    tail -n 1 "$summary"
  done
done
