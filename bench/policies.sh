#!/usr/bin/env bash
# Placement policies side by side on one study (studies/policies_2020.toml: 3 sites priced with
# the real 2020 traces of France, Great Britain and Germany, 4 virtual workers per site, 1200
# trials of 45-90 minutes at 300 W, idle power 40 W, from 1 March 2020): fifo, greenest, and
# deferral with the oracle forecast and with the realistic day-ahead and persistence ones.
# Usage: bench/policies.sh [build-dir] [extra simulate flags, e.g. --workers-per-site 8]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {  # name, simulate flags...
  local name=$1
  shift
  "$build/carbonsweep" simulate studies/policies_2020.toml --workers-per-site 4 "$@" -o "$out/$name.h5" --force \
    2>/dev/null | sed -n 's/^makespan \([0-9.]*\) h | device \([0-9.]*\) kWh | trials \([0-9.]*\) gCO2 | idle \([0-9.]*\) kWh \([0-9.]*\) gCO2 | total \([0-9.]*\) gCO2.*/\1 \2 \3 \5 \6/p' \
    | { read -r makespan device trials idle total; echo "$name $makespan $device $trials $idle $total"; }
}
{
  run fifo --policy fifo "$@"
  run greenest --policy greenest "$@"
  run deferral-oracle --policy deferral --forecast oracle "$@"
  run deferral-day-ahead --policy deferral --forecast day_ahead "$@"
  run deferral-persistence --policy deferral --forecast persistence "$@"
} | awk 'NR == 1 { base_trials = $4; base_total = $6; base_makespan = $2 }
  { rows[NR] = $0 }
  END {
    printf "%-22s %10s %10s %12s %10s %12s %14s %14s\n", "policy", "makespan_h", "device_kWh", "trial_gCO2",
           "idle_gCO2", "total_gCO2", "saving_trials", "saving_total";
    for (i = 1; i <= NR; ++i) {
      split(rows[i], f, " ");
      printf "%-22s %10.1f %10.1f %12.0f %10.0f %12.0f %13.1f%% %13.1f%%   makespan %+.0f%%\n", f[1], f[2], f[3], f[4],
             f[5], f[6], 100 * (1 - f[4] / base_trials), 100 * (1 - f[6] / base_total), 100 * (f[2] / base_makespan - 1)
    }
  }'
echo "(gCO2 at the average-intensity traces; the 2020 traces are average, not marginal, so no marginal figure is shown)"
