#!/usr/bin/env bash
# bench/trainer_gpu.sh [BUILD_DIR] [ROUNDS] [TRAIN_N] [EPOCHS]: our trainer against eager PyTorch
# and PyTorch with the whole step as a CUDA graph, on cuda:0, side by side in one script. Three
# networks of the model zoo, batch 256: SimpleCNN (2 blocks, 16/32 channels, 28 x 28 grey), VGG-11
# and ResNet-18 (width 0.5, images resized to 32 x 32 x 3). Per network, alternating ROUNDS times
# (default 2): ours eager (cuda_graphs = false), ours captured, ours captured + bf16 +
# channels-last, ours captured + fp16 (loss scaling) + channels-last; PyTorch eager (one loss.item() per step), PyTorch graph, PyTorch graph + bf16 +
# channels-last. Prints the median training images/s of epochs 2..EPOCHS (default 3) of TRAIN_N
# (default 60000) images, the ratio to eager PyTorch, the accuracy after the last epoch, and the
# training step's TFLOP/s (3 x 2 x the network's forward multiply-accumulates per image) against
# the card's dense peak (CS_PEAK_FP32_TFLOPS, CS_PEAK_BF16_TFLOPS; default the H200 SXM's 67 and
# 989 from NVIDIA's datasheet). PYTHON: the interpreter with CUDA torch (default python3);
# CS_BENCH_RAW: a file to keep the raw JSON lines in.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-gpu}
rounds=${2:-2}
train_n=${3:-60000}
epochs=${4:-3}
python=${PYTHON:-python3}
data=${CS_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
if [[ -n ${CS_BENCH_RAW:-} ]]; then  # keep every JSON line there
  out=$CS_BENCH_RAW
  : > "$out"
else
  out=$(mktemp)
  trap 'rm -f "$out"' EXIT
fi
# shellcheck source=bench/trainer_nets.sh
source bench/trainer_nets.sh
fp16="training.precision=fp16,training.channels_last=true"
for net in $nets; do
  args=("$data" "$train_n" 10000 256 2 16 4 "$epochs")
  opts=${zoo[$net]}
  for ((r = 0; r < rounds; r++)); do
    for side in eager graph fast fp16; do
      case $side in
        eager) o="training.cuda_graphs=false${opts:+,$opts}" ;;
        graph) o=${opts:-training.cuda_graphs=true} ;;
        fast) o="$fast${opts:+,$opts}" ;;
        fp16) o="$fp16${opts:+,$opts}" ;;
      esac
      "$build/bench/trainer_bench" "${args[@]}" cuda:0 "$o" | sed "s/\"side\": \"ours\"/\"side\": \"ours $side\", \"net\": \"$net\"/" >> "$out"
    done
    for side in eager graph fast; do
      case $side in
        eager) flags=() ;;
        graph) flags=(--graphs) ;;
        fast) flags=(--graphs --bf16 --channels-last) ;;
      esac
      # shellcheck disable=SC2086
      "$python" bench/trainer_pytorch.py "${args[@]}" --device cuda ${peer[$net]} "${flags[@]}" |
        sed "s/\"side\": \"pytorch\"/\"side\": \"pytorch $side\", \"net\": \"$net\"/" >> "$out"
    done
  done
done
"$python" - "$out" "${CS_PEAK_FP32_TFLOPS:-67}" "${CS_PEAK_BF16_TFLOPS:-989}" "$nets" << 'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
peak = {"fp32": float(sys.argv[2]), "bf16": float(sys.argv[3])}
print(f"{'network':11}{'side':16}{'train img/s':>12}{'x eager PT':>11}{'eval img/s':>12}{'accuracy':>9}{'TFLOP/s':>9}{'of peak':>9}  step")
for net in sys.argv[4].split():
    macs = [r["macs"] for r in rows if r.get("net") == net and "macs" in r][0]
    graph = {r["side"]: r["cuda_graph"] for r in rows if r.get("net") == net and "cuda_graph" in r}
    med = {}
    for side in ("ours eager", "ours graph", "ours fast", "ours fp16", "pytorch eager", "pytorch graph", "pytorch fast"):
        epochs = [r for r in rows if r.get("net") == net and r["side"] == side and "epoch" in r]
        last = max(r["epoch"] for r in epochs)
        steady = [r for r in epochs if r["epoch"] > 1] or epochs
        med[side] = (statistics.median(r["train_images_per_s"] for r in steady),
                     statistics.median(r["eval_images_per_s"] for r in steady),
                     statistics.median(r["accuracy"] for r in epochs if r["epoch"] == last))
    for side, (train, evaluation, accuracy) in med.items():
        tflops = train * 6 * macs / 1e12
        of = tflops / peak["bf16" if side.endswith(("fast", "fp16")) else "fp32"]  # fp16's dense peak is bf16's
        print(f"{net:11}{side:16}{train:12.0f}{train / med['pytorch eager'][0]:11.2f}{evaluation:12.0f}"
              f"{accuracy:9.4f}{tflops:9.1f}{100 * of:8.1f}%  {graph.get(side, '')}")
PY
