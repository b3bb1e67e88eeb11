#!/usr/bin/env bash
# Orchestration cost side by side: zero-work trials (bench/orchestration.toml) through our
# coordinator under mpirun with 1, 3, 7 and 15 workers, against Optuna 3.1 (Debian
# python3-optuna) in memory and with 3 processes sharing a journal file. Prints trials/s, the
# overhead per trial per worker, and the ratios. Usage: bench/orchestration.sh [build] [trials]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
trials=${2:-6000}
[[ $(id -u) -eq 0 ]] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sed "s/^budget_trials = .*/budget_trials = $trials/" bench/orchestration.toml > "$out/study.toml"
ours() {  # workers -> trials/s of the study loop (from the first to the last trial's end)
  local ranks=$(($1 + 1))
  mpirun --oversubscribe -n "$ranks" "$build/carbonsweep" run "$out/study.toml" -o "$out/r$1.h5" --force \
    >/dev/null 2>&1
  /usr/bin/python3 -c "
import h5py, sys
t = h5py.File('$out/r$1.h5')['trials']
span = t['end_unix_s'].max() - t['start_unix_s'].min()
print(f'{len(t) / span:.0f} {1e3 * $1 * span / len(t):.3f}')"
}
printf '%-34s %12s %22s\n' "setup" "trials/s" "ms per trial per worker"
for w in 1 3 7 15; do
  read -r rate overhead < <(ours "$w")
  printf '%-34s %12s %22s\n' "carbonsweep, $w worker(s)" "$rate" "$overhead"
  [[ $w -eq 3 ]] && ours3=$rate
done
if /usr/bin/python3 -c "import optuna" 2>/dev/null; then
  memory=$(/usr/bin/python3 bench/optuna_throughput.py memory "$trials")
  journal=$(/usr/bin/python3 bench/optuna_throughput.py 3 "$trials")
  printf '%-34s %12s\n' "optuna 3.1, in memory" "$memory"
  printf '%-34s %12s\n' "optuna 3.1, 3 processes, journal" "$journal"
  /usr/bin/python3 -c "print(f'ratio: carbonsweep 3 workers / optuna journal 3 processes = {$ours3 / ${journal%% *}:.1f}x; / optuna in memory = {$ours3 / $memory:.1f}x')"
else
  echo "(python3-optuna is not installed: apt-get install python3-optuna for the peer side)"
fi
