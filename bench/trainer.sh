#!/usr/bin/env bash
# bench/trainer.sh [BUILD_DIR] [ROUNDS] [TRAIN_N]: our trainer against the same loop in eager
# PyTorch (Debian's python3-torch 1.13, the same as our LibTorch, both on OpenBLAS and oneDNN) on
# the CPU, alternating the sides ROUNDS times (default 3); batch 64, 2 threads, one epoch.
# Networks (CS_BENCH_NETS, default all three): SimpleCNN of 2 conv blocks (16/32 channels) on
# TRAIN_N (default 12000) Fashion-MNIST images, evaluated on 2000; VGG-11 with BatchNorm and
# ResNet-18 (width 0.5, images resized to 32 x 32 x 3) on TRAIN_N / 6 images, evaluated on 1000.
# Sides: ours and PyTorch in fp32 (the defaults), and each with bf16 autocast and channels-last
# ("fast"; CS_BENCH_SIDES="plain" leaves it out, for a CPU without AVX-512 BF16, where bf16 is
# emulated and slow). Prints per network the median training and evaluation images/s, the ratio
# to eager PyTorch in fp32 and to PyTorch with the same setting, the accuracy, and the training
# step's effective GFLOP/s (3 x 2 x the forward multiply-accumulates per image) against two references on
# the same threads: the BLAS's sgemm (torch.mm, OpenBLAS) and oneDNN's fp32 GEMM (a 1 x 1
# convolution), the library the convolutions actually run on.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
rounds=${2:-3}
train_n=${3:-12000}
data=${CS_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
sides=${CS_BENCH_SIDES:-plain fast}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# shellcheck source=bench/trainer_nets.sh
source bench/trainer_nets.sh
for net in $nets; do
  if [[ $net == simple_cnn ]]; then
    args=("$data" "$train_n" 2000 64 2 16 2 1)
  else
    args=("$data" "$((train_n / 6))" 1000 64 2 16 2 1)
  fi
  opts=${zoo[$net]}
  for ((r = 0; r < rounds; r++)); do
    for side in $sides; do
      if [[ $side == fast ]]; then o="$fast${opts:+,$opts}"; flags=(--bf16 --channels-last); else o=$opts; flags=(); fi
      "$build/bench/trainer_bench" "${args[@]}" cpu "$o" |
        sed "s/\"side\": \"ours\"/\"side\": \"ours $side\", \"net\": \"$net\"/" >> "$out"
      # shellcheck disable=SC2086
      /usr/bin/python3 bench/trainer_pytorch.py "${args[@]}" ${peer[$net]} "${flags[@]}" |
        sed "s/\"side\": \"pytorch\"/\"side\": \"pytorch $side\", \"net\": \"$net\"/" >> "$out"
    done
  done
done
/usr/bin/python3 bench/trainer_pytorch.py "$data" 1 1 64 2 16 2 1 --sgemm >> "$out"
/usr/bin/python3 - "$out" "$nets" "$sides" << 'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
ref = [r for r in rows if r["side"] == "sgemm"][0]
sgemm, onednn = ref["gflop_per_s"], ref["onednn_gflop_per_s"]
print(f"on the same 2 threads: OpenBLAS sgemm {sgemm:.0f} GFLOP/s, oneDNN fp32 GEMM (1 x 1 convolution) {onednn:.0f} GFLOP/s")
print(f"{'network':11}{'side':15}{'train img/s':>12}{'x PT fp32':>10}{'x PT same':>10}{'eval img/s':>11}{'x PT fp32':>10}"
      f"{'accuracy':>9}{'GFLOP/s':>9}{'of sgemm':>9}{'of oneDNN':>10}")
for net in sys.argv[2].split():
    macs = [r["macs"] for r in rows if r.get("net") == net and "macs" in r][0]
    med = {}
    for side in [who + " " + side for who in ("ours", "pytorch") for side in sys.argv[3].split()]:
        epochs = [r for r in rows if r.get("net") == net and r["side"] == side and "epoch" in r]
        med[side] = tuple(statistics.median(r[k] for r in epochs)
                          for k in ("train_images_per_s", "eval_images_per_s", "accuracy"))
    for side, (train, evaluation, accuracy) in med.items():
        same = med["pytorch " + side.split()[1]]
        gflops = train * 6 * macs / 1e9
        print(f"{net:11}{side:15}{train:12.0f}{train / med['pytorch plain'][0]:10.2f}{train / same[0]:10.2f}"
              f"{evaluation:11.0f}{evaluation / med['pytorch plain'][1]:10.2f}{accuracy:9.4f}{gflops:9.1f}"
              f"{100 * gflops / sgemm:8.0f}%{100 * gflops / onednn:9.0f}%")
PY
