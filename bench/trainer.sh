#!/usr/bin/env bash
# bench/trainer.sh [BUILD_DIR] [ROUNDS] [TRAIN_N]: our trainer against the same loop in eager
# PyTorch (Debian's python3-torch 1.13, the same as our LibTorch, both on OpenBLAS), alternating
# the two sides ROUNDS times (default 5): SimpleCNN of 2 conv blocks (16/32 channels), batch 64,
# 2 threads, one epoch of TRAIN_N (12000) Fashion-MNIST images and an evaluation of 2000.
# Prints the median images/s of each side, their ratio, and the training step's effective
# GFLOP/s (counted from the network's shape) against sgemm's on the same threads.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-5}
train_n=${3:-12000}
data=${CS_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
args=("$data" "$train_n" 2000 64 2 16 2 1)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 0; r < rounds; r++)); do
  "$build/bench/trainer_bench" "${args[@]}" >> "$out"
  /usr/bin/python3 bench/trainer_pytorch.py "${args[@]}" >> "$out"
done
/usr/bin/python3 bench/trainer_pytorch.py "${args[@]}" --sgemm >> "$out"
/usr/bin/python3 - "$out" << 'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
sgemm = [r["gflop_per_s"] for r in rows if r["side"] == "sgemm"][0]
# Forward multiply-accumulates per image: conv 1x16x9 at 28x28, conv 16x32x9 at 14x14, then
# linear 32*7*7 -> 64 -> 10; a training step is about 3 forward passes (forward, two backward).
macs = 1 * 16 * 9 * 28 * 28 + 16 * 32 * 9 * 14 * 14 + 32 * 7 * 7 * 64 + 64 * 10
train_flop = 3 * 2 * macs
med = {}
for side in ("ours", "pytorch"):
    for key in ("train_images_per_s", "eval_images_per_s"):
        med[side, key] = statistics.median(r[key] for r in rows if r["side"] == side)
print(f"{'':24}{'ours':>12}{'PyTorch':>12}{'ratio':>8}")
for key, label in (("train_images_per_s", "training images/s"), ("eval_images_per_s", "evaluation images/s")):
    print(f"{label:24}{med['ours', key]:12.0f}{med['pytorch', key]:12.0f}{med['ours', key] / med['pytorch', key]:8.2f}")
for side in ("ours", "pytorch"):
    gflops = med[side, "train_images_per_s"] * train_flop / 1e9
    print(f"{side}: training step {gflops:.1f} GFLOP/s effective = {100 * gflops / sgemm:.0f}% of sgemm's {sgemm:.0f} GFLOP/s")
PY
