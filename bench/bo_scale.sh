#!/usr/bin/env bash
# Bayesian optimisation at cluster scale: `carbonsweep simulate` of bench/bo_scale.toml (Branin,
# 60 s trials) with more and more workers. Prints, per run, the wall time and peak memory, the
# sampler's time per suggestion, the fraction of worker time spent waiting for suggestions, and
# the best trial's simple regret; each run twice, with the next batch prepared ahead on a thread
# of its own (ahead = yes, the default) and with each batch fitted when it is needed (no).
#   bench/bo_scale.sh [BUILD_DIR=build] [full|smoke]   (BO_RUNS="WORKERS:TRIALS ..." picks the full runs)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
size=${2:-full}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ "$size" = smoke ]; then
  runs="20:100 200:1000"
else
  runs="${BO_RUNS:-20:1000 100:1000 500:1000 1000:20000 10000:100000}"
fi
printf '%8s %8s %6s %8s %9s %12s %8s %10s\n' workers trials ahead wall_s peak_MiB ms/suggest wait_% regret
for run in $runs; do
  workers=${run%%:*} trials=${run##*:}
  for ahead in yes no; do
    flag=()
    [ "$ahead" = no ] && flag=(--no-prepare-ahead)
    /usr/bin/time -f '%e %M' -o "$out/time" "$build/carbonsweep" simulate bench/bo_scale.toml \
      --workers-per-site "$workers" --trials "$trials" "${flag[@]}" -o "$out/bo.h5" --force > "$out/log" 2>&1
    read -r wall kib < "$out/time"
    /usr/bin/python3 - "$out/bo.h5" "$workers" "$trials" "$ahead" "$wall" "$kib" <<'PY'
import sys
import h5py
path, workers, trials, ahead, wall, kib = sys.argv[1:]
with h5py.File(path, "r") as f:
    wait = float(f.attrs["suggest_wait_fraction"])
    per = 1e3 * float(f.attrs["suggest_wall_s"]) / int(trials)
    regret = -f["trials"]["objective"][:].max() - 0.397887357729739
print(f"{workers:>8} {trials:>8} {ahead:>6} {float(wall):8.1f} {int(kib) / 1024:9.0f} {per:12.2f} {100 * wait:8.3f} "
      f"{regret:10.2e}")
PY
  done
done
