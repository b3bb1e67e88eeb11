#!/usr/bin/env python3
"""A study of three arms on Branin (no training) with median pruning, under mpiexec -n 3.

Checks: the budget splits equally over the arms and their trials interleave; pruned trials
ran fewer epochs and carry an estimate of the energy they saved; synthetic energy and CO2
are positive; the run takes seconds; a site left without a worker is named and recorded.
"""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import pandas as pd
from harness import run_mpi


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--study", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "arms.h5")
        run = run_mpi(a.mpiexec, 3, a.carbonsweep, "run", a.study, "-o", output)
        print(run.stdout)
        print(run.stderr[-3000:], file=sys.stderr)
        assert run.returncode == 0, run.returncode

        f = h5py.File(output, "r")
        t = pd.DataFrame(f["trials"][:])
        t["arm"] = t.arm.str.decode("utf-8")
        t["status"] = t.status.str.decode("utf-8")
        assert len(t) == 90 and sorted(t.trial_id) == list(range(90))
        assert t.groupby("arm").size().to_dict() == {"random": 30, "sampled_grid": 30, "bayes": 30}
        arms_by_id = dict(zip(t.trial_id, t.arm))
        assert [arms_by_id[i] for i in range(3)] == ["random", "sampled_grid", "bayes"]
        assert all(arms_by_id[i] == arms_by_id[i % 3] for i in range(90)), "arms interleave by trial index"

        pruned = t[t.status == "pruned"]
        assert len(pruned) > 0, "the median rule should stop some trials"
        assert (pruned.epochs < 3).all()
        assert (pruned.pruning_saved_energy_j > 0).all()
        assert (t[t.status == "completed"].pruning_saved_energy_j == 0).all()
        assert (t.energy_synthetic_j > 0).all() and np.allclose(t.energy_j, t.energy_synthetic_j)
        assert (t.co2_g > 0).all()
        assert t.val_accuracy.isna().all(), "no accuracy for a synthetic function"
        # The objective is -f(x) >= -(max Branin) and <= -(min Branin).
        assert (t.objective <= -0.397887 + 1e-9).all()
        done = t[t.status == "completed"]
        print(done.groupby("arm").objective.max())

        # One worker for two sites: the run goes on, says which site has no worker, and records it.
        lonely = os.path.join(tmp, "lonely.h5")
        run = run_mpi(a.mpiexec, 2, a.carbonsweep, "run", a.study, "-o", lonely, "--set", "study.budget_trials=3")
        assert run.returncode == 0, run.stderr[-2000:]
        assert "warning: 1 worker rank(s) for 2 sites: no worker stands at de; start at least 3 ranks" in run.stderr, \
            run.stderr[-2000:]
        with h5py.File(lonely, "r") as lf:
            assert lf.attrs["sites_without_workers"] == "de", dict(lf.attrs)
            assert set(lf["trials"]["site"]) == {b"fr"}

        # Ctrl-C (SIGINT) stops like SIGTERM: no new trials, the finished ones flushed, exit 3,
        # and --resume completes the study with none lost or run twice.
        slow = os.path.join(tmp, "slow.toml")
        open(slow, "w").write(open(a.study).read().replace('epoch_time = "5ms"', 'epoch_time = "100ms"'))
        interrupted = os.path.join(tmp, "interrupted.h5")
        proc = subprocess.Popen([a.carbonsweep, "run", slow, "-o", interrupted], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        # Interrupt once a few trials are journaled (the handlers are installed by then).
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            journal = interrupted + ".journal"
            if os.path.exists(journal) and os.path.getsize(journal) > 2000:
                break
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 3, (proc.returncode, err[-2000:])
        assert "SIGINT" in err and "--resume" in err, err[-2000:]
        with h5py.File(interrupted) as f:
            kept = len(f["trials"])
        assert 0 < kept < 90, kept
        resumed = subprocess.run([a.carbonsweep, "run", slow, "-o", interrupted, "--resume"], capture_output=True,
                                 text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        with h5py.File(interrupted) as f:
            ids = sorted(int(i) for i in f["trials"]["trial_id"])
        assert ids == list(range(90)), ids
        print(f"ok   SIGINT kept {kept} trials, exit 3; --resume completed 90")
    print("ok")


if __name__ == "__main__":
    main()
