#!/usr/bin/env bash
# simulate at scale: 10,000 virtual workers (3334 per site x 3 trace sites) and 1,000,000
# random-search trials. Targets: under 60 s and under 4 GiB. Reports events/s and peak memory.
# Usage: bench/simulate_scale.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/time -f "wall %e s (including writing the HDF5 file), peak RSS %M KiB" \
  "$build/carbonsweep" simulate studies/policies_2020.toml --workers-per-site 3334 --trials 1000000 \
  -o "$out/scale.h5" --force 2>&1 | grep -v '^\['
ls -l "$out/scale.h5" | awk '{ printf "results file %.0f MiB\n", $5 / 1048576 }'
