#!/usr/bin/env python3
"""SIGKILL a study under mpiexec at random moments, resume, three times; the end state must
hold exactly the budget, no duplicate ids, every trial that a checkpoint had shown, and the
same parameters per trial as an uninterrupted run. h5dump must read the file after every kill."""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import h5py
from harness import branin_search, mpi_command, mpi_env

STUDY = """
[study]
name = "kill"
seed = 5
budget_trials = 60
checkpoint = "200ms"
""" + branin_search("40ms", 3) + """
[[sites]]
name = "a"
pue = 1.2
intensity_g_per_kwh = 100
"""


def trials(path):
    with h5py.File(path, "r") as f:
        t = f["trials"][:]
        p = f["params"][:]
    params = {int(r["trial_id"]): (float(r["x1"]), float(r["x2"])) for r in p}
    return {int(r["trial_id"]): (float(r["objective"]), params[int(r["trial_id"])]) for r in t}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--h5dump", default="", help="empty: h5dump is not installed; its check is skipped")
    a = ap.parse_args()
    rng = random.Random(20201)
    env = mpi_env()
    with tempfile.TemporaryDirectory() as tmp:
        study = os.path.join(tmp, "kill.toml")
        with open(study, "w") as f:
            f.write(STUDY)
        reference = os.path.join(tmp, "reference.h5")
        output = os.path.join(tmp, "killed.h5")
        base = mpi_command(a.mpiexec, 3, a.carbonsweep, "run", study)
        subprocess.run(base + ["-o", reference], env=env, check=True, capture_output=True, timeout=300)
        expected = trials(reference)
        assert len(expected) == 60

        seen = {}
        for attempt in range(3):
            cmd = base + ["-o", output] + (["--resume"] if attempt else [])
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
            # Wait until this run has opened its results (MPI start-up is slow on a loaded
            # machine), then kill at a random moment of the run itself.
            deadline = time.time() + 120
            started = os.path.getmtime(output + ".journal") if attempt else 0.0
            while time.time() < deadline and proc.poll() is None:
                if os.path.exists(output + ".journal") and os.path.getmtime(output + ".journal") > started:
                    break
                time.sleep(0.05)
            delay = rng.uniform(0.1, 0.8)  # at most ~15 of the 60 trials per run
            time.sleep(delay)
            assert proc.poll() is None, f"run {attempt + 1} ended before it could be killed"
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if a.h5dump:
                dump = subprocess.run([a.h5dump, "-H", output], capture_output=True)
                assert dump.returncode == 0, f"h5dump failed after kill {attempt + 1}: {dump.stderr[-500:]}"
            elif attempt == 0:
                print("skipped: the h5dump check (h5dump is not installed; install hdf5-tools)")
            now = trials(output)
            for tid, value in seen.items():
                assert now.get(tid) == value, f"trial {tid} changed or vanished after kill {attempt + 1}"
            seen.update(now)
            print(f"kill {attempt + 1} after {delay:.2f}s: the checkpoint holds {len(now)} trials")

        final = subprocess.run(base + ["-o", output, "--resume"], env=env, capture_output=True, text=True, timeout=300)
        print(final.stderr[-1500:], file=sys.stderr)
        assert final.returncode == 0, final.returncode
        assert "resuming from" in final.stderr
        done = trials(output)
        assert sorted(done) == list(range(60)), f"ids: {sorted(done)}"
        with h5py.File(output, "r") as f:
            ids = list(f["trials"]["trial_id"])
        assert len(ids) == len(set(ids)) == 60, "duplicate trial ids"
        for tid, value in seen.items():
            assert done[tid] == value, f"trial {tid} finished before a kill but differs at the end"
        for tid, (objective, params) in done.items():
            assert params == expected[tid][1], f"trial {tid} ran with other parameters than uninterrupted"
            assert abs(objective - expected[tid][0]) < 1e-12
    print("ok")


if __name__ == "__main__":
    main()
