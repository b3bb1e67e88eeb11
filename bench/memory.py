#!/usr/bin/env python3
"""Peak memory of carbonsweep's processes, and the coordinator's growth with the number of trials.

  memory.py BUILD demo                 the demo study under mpirun -n 4: each rank's peak RSS,
                                       and what a worker's memory is (libraries against heap)
  memory.py BUILD growth N [N ...]     N zero-work random trials (bench/orchestration.toml)
                                       under mpirun -n 4 (3 workers): the coordinator's peak
                                       RSS, time per trial and bytes per finished trial
  memory.py BUILD bo N [N ...]         N BO trials in `simulate` (bench/bo_scale.toml, 1,000
                                       workers): peak RSS and time per trial

Ranks are found by OMPI_COMM_WORLD_RANK in /proc/PID/environ and polled every 0.1 s
(VmHWM, and /proc/PID/smaps for the breakdown).
"""
import os
import re
import subprocess
import sys
import tempfile
import time

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def ranks_of(binary):
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/exe") != binary:
                continue
            environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        for item in environ:
            if item.startswith(b"OMPI_COMM_WORLD_RANK="):
                found[int(pid)] = int(item.split(b"=")[1])
    return found


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def breakdown(pid):
    """Resident KiB by kind of mapping: shared libraries, the heap and anonymous memory, other."""
    kinds = {"libraries": 0, "heap and anonymous": 0, "other": 0}
    current = "other"
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
            if head:
                path = head.group(1)
                current = ("libraries" if ".so" in path else
                           "heap and anonymous" if path in ("", "[heap]") or path.startswith("[anon") else "other")
            elif line.startswith("Rss:"):
                kinds[current] += int(line.split()[1])
    return kinds


def watch(command, binary):
    """Runs command; returns {rank: peak KiB}, a worker's breakdown at its peak, and the wall time."""
    peak, parts = {}, {}
    t0 = time.monotonic()
    proc = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None:
        for pid, rank in ranks_of(binary).items():
            try:
                hwm = status_kib(pid, "VmHWM")
                if hwm > peak.get(rank, 0):
                    peak[rank] = hwm
                    if rank != 0 and hwm >= max(v for r, v in peak.items() if r != 0):
                        parts = breakdown(pid)
            except OSError:
                pass
        time.sleep(0.1)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}): {proc.stderr.read()[-2000:]}")
    return peak, parts, wall


def demo(build):
    binary = os.path.realpath(f"{build}/carbonsweep")
    with tempfile.TemporaryDirectory() as out:
        peak, parts, wall = watch(["mpirun", "--oversubscribe", "-n", "4", binary, "run", "studies/demo.toml",
                                   "-o", f"{out}/demo.h5", "--force"], binary)
    print(f"demo study, mpirun -n 4, {wall:.0f} s")
    for rank in sorted(peak):
        print(f"  rank {rank} ({'coordinator' if rank == 0 else 'worker'}): peak RSS {peak[rank] / 1024:.0f} MiB")
    print("  the largest worker at its peak: " + ", ".join(f"{k} {v / 1024:.0f} MiB" for k, v in parts.items()))


def growth(build, sizes):
    binary = os.path.realpath(f"{build}/carbonsweep")
    study = open("bench/orchestration.toml").read()
    print(f"{'trials':>9} {'wall_s':>8} {'us/trial':>9} {'coordinator peak MiB':>21}")
    rows = []
    with tempfile.TemporaryDirectory() as out:
        for n in sizes:
            path = f"{out}/study.toml"
            with open(path, "w") as f:
                f.write(re.sub(r"(?m)^budget_trials = .*$", f"budget_trials = {n}", study))
            peak, _, wall = watch(["mpirun", "--oversubscribe", "-n", "4", binary, "run", path, "-o",
                                   f"{out}/g.h5", "--force"], binary)
            rows.append((n, peak.get(0, 0)))
            print(f"{n:>9} {wall:8.1f} {1e6 * wall / n:9.1f} {peak.get(0, 0) / 1024:21.1f}", flush=True)
    if len(rows) > 1:
        (n0, k0), (n1, k1) = rows[0], rows[-1]
        print(f"coordinator bytes per finished trial ({n0} to {n1}): {1024 * (k1 - k0) / (n1 - n0):.0f}")


def bo(build, sizes):
    binary = os.path.realpath(f"{build}/carbonsweep")
    print(f"{'trials':>9} {'wall_s':>8} {'ms/trial':>9} {'peak MiB':>9}")
    with tempfile.TemporaryDirectory() as out:
        for n in sizes:
            t0 = time.monotonic()
            res = subprocess.run(["/usr/bin/time", "-f", "%M", binary, "simulate", "bench/bo_scale.toml",
                                  "--workers-per-site", "1000", "--trials", str(n), "-o", f"{out}/b.h5", "--force"],
                                 capture_output=True, text=True, check=True)
            wall = time.monotonic() - t0
            kib = int(res.stderr.strip().splitlines()[-1])
            print(f"{n:>9} {wall:8.1f} {1e3 * wall / n:9.2f} {kib / 1024:9.0f}", flush=True)


def main():
    if len(sys.argv) == 3 and sys.argv[2] == "demo":
        demo(sys.argv[1])
    elif len(sys.argv) >= 4 and sys.argv[2] in ("growth", "bo"):
        (growth if sys.argv[2] == "growth" else bo)(sys.argv[1], [int(v) for v in sys.argv[3:]])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
