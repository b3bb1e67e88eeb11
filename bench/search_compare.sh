#!/usr/bin/env bash
# Runs carbonsweep's BO and random search and Optuna's TPE on the same functions, seeds and
# budget, one after the other in one script, and prints the median simple regrets.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-20}
budget=${2:-50}
out=${OUT_DIR:-build/bench}
mkdir -p "$out"
ninja -C build search_bench >/dev/null
build/bench/search_bench "$seeds" "$budget" > "$out/search_regret.csv"
/usr/bin/python3 bench/optuna_tpe.py "$seeds" "$budget" > "$out/optuna_regret.csv"
echo "per-seed regrets: $out/search_regret.csv $out/optuna_regret.csv"
