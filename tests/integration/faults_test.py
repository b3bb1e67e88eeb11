#!/usr/bin/env python3
"""Faults inside a run under mpiexec: a worker stopped (SIGSTOP) or killed, SIGTERM to rank 0,
to a worker and to mpiexec itself, a trial over its time limit, and retries. After each, the
results file (and, where the run was cut short, a --resume) must hold every trial exactly once."""
import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import pandas as pd
from harness import branin_search, mpi_command, mpi_env

TRIALS = 12

STUDY = """
[study]
name = "faults"
seed = 3
budget_trials = {trials}
output = "{out}"
checkpoint = "200ms"
""" + branin_search("{epoch_time}", 3) + """
[[sites]]
name = "a"
pue = 1.2
intensity_g_per_kwh = 100

[faults]
heartbeat_timeout = "2s"
{faults}
"""


class Run:
    """One study under mpiexec in the background, with its ranks' process ids."""

    def __init__(self, a, tmp, name, ranks=4, epoch_time="300ms", faults="", launcher_args=(), extra=()):
        self.out = os.path.join(tmp, f"{name}.h5")
        self.study = os.path.join(tmp, f"{name}.toml")
        with open(self.study, "w") as f:
            f.write(STUDY.format(trials=TRIALS, out=self.out, epoch_time=epoch_time, faults=faults))
        self.a, self.ranks, self.launcher_args = a, ranks, list(launcher_args)
        self.start(extra)

    def start(self, extra=()):
        command = mpi_command(self.a.mpiexec, self.ranks, self.a.carbonsweep, "run", self.study, "--progress", "lines",
                              *extra)
        command[1:1] = self.launcher_args
        self.log = open(self.out + ".log", "a")
        self.proc = subprocess.Popen(command, env=mpi_env(), stdout=self.log, stderr=subprocess.STDOUT)
        self.started = time.time()

    def rank_pids(self):
        """The carbonsweep processes of this run, in rank order (Open MPI starts them in order)."""
        deadline = time.time() + 30
        while time.time() < deadline:
            out = subprocess.run(["pgrep", "-f", f"carbonsweep run {self.study}"], capture_output=True, text=True)
            pids = sorted(int(p) for p in out.stdout.split() if int(p) != self.proc.pid)
            if len(pids) == self.ranks:
                return pids
            time.sleep(0.05)
        raise AssertionError(f"the {self.ranks} ranks did not start")

    def wait_for_results(self, n):
        """Until n trials are durable in the journal (or the results file)."""
        deadline = time.time() + 60
        while time.time() < deadline:
            if os.path.exists(self.out):
                try:
                    with h5py.File(self.out, "r") as f:
                        if len(f["trials"]) >= n:
                            return
                except OSError:
                    pass  # being replaced
            time.sleep(0.05)
        raise AssertionError(f"no {n} trials in {self.out}: {self.text()[-2000:]}")

    def finish(self, timeout=120):
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Which of the job's processes were still there, and in what state, before the kill.
            ps = subprocess.run(["ps", "-o", "pid,stat,wchan:24,args", "--ppid", str(self.proc.pid), "-p",
                                 str(self.proc.pid)], capture_output=True, text=True).stdout
            self.proc.kill()
            raise AssertionError(f"still running after {timeout} s:\n{ps}\n{self.text()[-3000:]}")
        self.log.close()
        return code, time.time() - self.started

    def text(self):
        if not self.log.closed:
            self.log.flush()
        return open(self.out + ".log").read()

    def trials(self, table="trials"):
        with h5py.File(self.out, "r") as f:
            t = pd.DataFrame(f[table][:])
            faults = f.attrs.get("faults", "")
        for c in ("status", "error"):
            t[c] = t[c].str.decode("utf-8")
        return t, faults


def check_complete(run, statuses=("completed",)):
    t, faults = run.trials()
    assert sorted(t.trial_id) == list(range(TRIALS)), (sorted(t.trial_id), run.text()[-3000:])
    assert set(t.status) <= set(statuses), (t.status.value_counts(), run.text()[-3000:])
    return t, faults


def stopped_worker(a, tmp):
    """SIGSTOP of one worker: declared lost after heartbeat_timeout, its trial runs elsewhere,
    the study ends with every trial, then the job is ended (exit 4)."""
    run = Run(a, tmp, "stopped")
    pids = run.rank_pids()
    run.wait_for_results(1)
    os.kill(pids[2], signal.SIGSTOP)
    try:
        code, took = run.finish()
    finally:
        for p in pids:
            try:
                os.kill(p, signal.SIGCONT)
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert code == 4, (code, run.text()[-3000:])
    t, faults = check_complete(run)
    assert faults.startswith("lost workers: 1; requeued trials: 1"), faults
    assert "rank 2 was lost (no heartbeat" in run.text(), run.text()[-3000:]
    print(f"stopped worker: exit {code} after {took:.1f} s, {faults}")


def killed_worker_with_recovery(a, tmp):
    """SIGKILL of one worker under `mpirun --enable-recovery`: the job lives on, the lost trial
    runs on another worker, every trial is written."""
    run = Run(a, tmp, "recovered", launcher_args=["--enable-recovery"])
    pids = run.rank_pids()
    run.wait_for_results(1)
    os.kill(pids[3], signal.SIGKILL)
    code, took = run.finish()
    t, faults = check_complete(run)
    assert faults.startswith("lost workers: 1; requeued trials: 1"), (faults, run.text()[-3000:])
    # Open MPI with --enable-recovery reports 0 for MPI_Abort's code; without it, 4.
    assert code in (0, 4), (code, run.text()[-3000:])
    print(f"killed worker, --enable-recovery: exit {code} after {took:.1f} s, {faults}")


def killed_worker(a, tmp):
    """SIGKILL of one worker without recovery: Open MPI ends the job within seconds; every
    finished trial is kept and --resume runs the rest."""
    run = Run(a, tmp, "killed")
    pids = run.rank_pids()
    run.wait_for_results(2)
    os.kill(pids[1], signal.SIGKILL)
    killed_at = time.time()
    code, _ = run.finish()
    ended_after = time.time() - killed_at
    assert code != 0, code
    kept = len(run.trials()[0])
    run.start(["--resume"])
    code, _ = run.finish()
    assert code == 0, (code, run.text()[-3000:])
    check_complete(run)
    print(f"killed worker: the job ended {ended_after:.1f} s later with {kept} trials kept; --resume completed it")


def sigterm(a, tmp, target):
    """SIGTERM to rank 0, a worker or mpiexec (or SIGUSR2 to mpiexec): running trials stop at their next step and are
    kept as interrupted, the job ends (the time it took is printed), and --resume runs every
    other trial once."""
    run = Run(a, tmp, f"term_{target}", epoch_time="1s")
    pids = run.rank_pids()
    run.wait_for_results(3)
    victim = pids[0] if target == "rank0" else pids[2] if target == "worker" else run.proc.pid
    os.kill(victim, {"mpiexec_usr2": signal.SIGUSR2, "mpiexec_usr1": signal.SIGUSR1}.get(target, signal.SIGTERM))
    sent = time.time()
    stopped_code, _ = run.finish()
    took = time.time() - sent  # reported, not asserted: the machines are shared
    t, _ = run.trials()
    interrupted = t[t.status == "interrupted"]
    assert len(interrupted) >= 1 and (interrupted.energy_j > 0).all(), (t, run.text()[-3000:])
    assert (interrupted.epochs < 3).all(), interrupted.epochs  # stopped at a step, not at the trial's end
    assert len(set(t.trial_id)) == len(t), t.trial_id
    if target != "mpiexec":  # mpiexec signalled itself reports Open MPI's own status
        assert stopped_code == 3, (stopped_code, run.text()[-3000:])
    run.start(["--resume"])
    code, _ = run.finish()
    assert code == 0, (code, run.text()[-3000:])
    check_complete(run)
    attempts, _ = run.trials("attempts")
    assert sorted(attempts.trial_id) == sorted(interrupted.trial_id), (attempts.trial_id, interrupted.trial_id)
    print(f"SIGTERM to {target}: exit {stopped_code} {took:.1f} s later, {len(interrupted)} interrupted; --resume completed it")


def time_limit_and_retries(a, tmp):
    """A trial over trial_timeout stops at its next step (status timeout, its energy kept);
    retries = 1 runs each once more, and both attempts are recorded."""
    run = Run(a, tmp, "timeout", epoch_time="400ms", faults='trial_timeout = "1s"\nretries = 1')
    code, _ = run.finish()
    assert code == 0, (code, run.text()[-3000:])
    t, faults = check_complete(run, statuses=("timeout",))
    assert (t.attempt == 2).all() and (t.energy_j > 0).all(), t
    assert (t.epochs < 3).all(), t.epochs  # stopped at the limit, before its third epoch
    attempts, _ = run.trials("attempts")
    assert sorted(attempts.trial_id) == list(range(TRIALS)) and (attempts.attempt == 1).all(), attempts
    assert set(attempts.status) == {"timeout"}, attempts.status
    assert faults.endswith(f"retried attempts: {TRIALS}"), faults
    print(f"time limit: {TRIALS} trials timed out twice each, {len(attempts)} attempts recorded")


SCENARIOS = {
    "stopped_worker": stopped_worker,
    "killed_worker_with_recovery": killed_worker_with_recovery,
    "killed_worker": killed_worker,
    "sigterm_rank0": lambda a, tmp: sigterm(a, tmp, "rank0"),
    "sigterm_worker": lambda a, tmp: sigterm(a, tmp, "worker"),
    "sigterm_mpiexec": lambda a, tmp: sigterm(a, tmp, "mpiexec"),
    # What the batch script of `submit` sends mpirun for a SIGTERM: forwarded, so the exit is 3.
    "sigusr2_mpiexec": lambda a, tmp: sigterm(a, tmp, "mpiexec_usr2"),
    "sigusr1_mpiexec": lambda a, tmp: sigterm(a, tmp, "mpiexec_usr1"),
    "time_limit_and_retries": time_limit_and_retries,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    a = ap.parse_args()
    for name in a.scenarios:
        with tempfile.TemporaryDirectory() as tmp:
            SCENARIOS[name](a, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
