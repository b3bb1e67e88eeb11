#!/usr/bin/env bash
# carbonsweep's BO and random search against Optuna 3.1's TPE, CMA-ES and random sampler on the
# same ten test functions, seeds and budget, one after the other in one script; prints the
# median simple regret and its quartiles per function (bench/search_compare.py summary), then
# BO's suggestion latency.
#   bench/search_compare.sh [BUILD_DIR=build] [SEEDS=20] [BUDGET=50]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seeds=${2:-20}
budget=${3:-50}
out=${OUT_DIR:-$build/bench}
mkdir -p "$out"
cmake --build "$build" --target search_bench >/dev/null
bench=$build/bench/search_bench
"$bench" regret "$seeds" "$budget" > "$out/search_regret.csv"
csvs=("$out/search_regret.csv")
if /usr/bin/python3 -c "import optuna, cmaes" 2>/dev/null; then
  /usr/bin/python3 bench/search_compare.py optuna "$bench" "$seeds" "$budget" > "$out/optuna_regret.csv"
  csvs+=("$out/optuna_regret.csv")
else
  echo "(python3-optuna is not installed: apt-get install python3-optuna for the peer side)"
fi
/usr/bin/python3 bench/search_compare.py summary "${csvs[@]}"
echo "per-seed regrets: ${csvs[*]}"
"$bench" latency
