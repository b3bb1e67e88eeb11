#!/usr/bin/env python3
"""`carbonsweep submit` against a real Slurm (slurmctld and two slurmd on loopback): the batch
script sized from the study, a job that runs the study under mpirun and writes the results
(Slurm job id in the provenance, Slurm's energy accounting reported as not configured), a
job stopped by SIGUSR1 (Slurm's warning before a time limit) that keeps every finished
trial and is resumed by resubmitting, and a heterogeneous job with one component per site
partition, launched by srun across both nodes."""
import argparse
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time

import h5py
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import branin_search  # noqa: E402
from local_slurm import local_slurm, wait_for_job  # noqa: E402

STUDY = """
[study]
name = "slurm-test"
seed = 4
output = "{out}"
budget_trials = {trials}
""" + branin_search("{epoch_time}", 2) + """
[[sites]]
name = "north"
pue = 1.1
intensity_g_per_kwh = 30
ranks = 1

[[sites]]
name = "south"
pue = 1.5
intensity_g_per_kwh = 600
ranks = 1

[slurm]
time = "10min"
signal_before = "1min"
launcher_args = ["--oversubscribe"]
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    a = ap.parse_args()
    cs = a.carbonsweep
    with tempfile.TemporaryDirectory() as tmp, local_slurm() as env:
        def study(name, trials, epoch_time):
            path = os.path.join(tmp, f"{name}.toml")
            with open(path, "w") as f:
                f.write(STUDY.format(out=os.path.join(tmp, f"{name}.h5"), trials=trials, epoch_time=epoch_time))
            return path

        def submit(path):
            r = subprocess.run([cs, "submit", path], env=env, capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, r.stdout + r.stderr
            m = re.search(r"submitted job (\d+) \(3 tasks\)", r.stdout)
            assert m, r.stdout
            return m.group(1)

        # The script, without submitting anything.
        quick = study("quick", 8, "50ms")
        dry = subprocess.run([cs, "submit", quick, "--dry-run"], env=env, capture_output=True, text=True)
        assert dry.returncode == 0, dry.stderr
        assert "#SBATCH --ntasks=3" in dry.stdout and "#SBATCH --time=0-00:10:00" in dry.stdout
        assert "#SBATCH --signal=B:USR1@60" in dry.stdout and "--oversubscribe" in dry.stdout
        assert not os.path.exists(os.path.join(tmp, "quick.h5.sbatch")), "--dry-run writes nothing"

        # A job that runs the study to the end.
        job = submit(quick)
        state, exit_code = wait_for_job(env, job)
        log = open(os.path.join(tmp, f"quick.h5.slurm-{job}.log")).read()
        print(log[-1500:])
        assert state == "COMPLETED", (state, exit_code, log[-2000:])
        f = h5py.File(os.path.join(tmp, "quick.h5"), "r")
        trials = pd.DataFrame(f["trials"][:])
        assert len(trials) == 8 and set(trials.site.str.decode("utf-8")) == {"north", "south"}
        assert f.attrs["slurm_job_id"] == job
        # Every trial says where it ran, to join with sacct.
        assert set(trials.slurm_job_id.str.decode("utf-8")) == {job}, trials.slurm_job_id
        assert all(trials.slurm_step_id.str.decode("utf-8").str.len() > 0), trials.slurm_step_id
        assert all(trials.slurm_node.str.decode("utf-8").str.len() > 0), trials.slurm_node
        assert "AcctGatherEnergyType = acct_gather_energy/none" in f.attrs["slurm_energy"], f.attrs["slurm_energy"]
        f.close()

        # SIGUSR1 before the time limit: the job stops starting trials, keeps what finished, exits 3.
        slow = study("slow", 30, "300ms")
        job = submit(slow)
        slow_log = os.path.join(tmp, f"slow.h5.slurm-{job}.log")
        journal = os.path.join(tmp, "slow.h5.journal")
        deadline = time.time() + 120
        while time.time() < deadline and (not os.path.exists(journal) or os.path.getsize(journal) < 600):
            time.sleep(0.2)  # until a few trials are durable
        subprocess.run(["scancel", "--signal=USR1", "--batch", job], env=env, check=True)
        try:
            state, exit_code = wait_for_job(env, job)
        finally:
            with contextlib.suppress(OSError):
                print(open(slow_log).read()[-3000:])
        log = open(os.path.join(tmp, f"slow.h5.slurm-{job}.log")).read()
        print(log[-1500:])
        assert "interrupted by SIGUSR1" in log and "--resume" in log, log[-2000:]
        status = pd.Series(h5py.File(os.path.join(tmp, "slow.h5"), "r")["trials"]["status"]).str.decode("utf-8")
        kept = int((status != "interrupted").sum())  # interrupted ones run again on resume
        assert 0 < kept < 30, status.value_counts()

        # Resubmitting the same study resumes it: every trial once, none lost.
        job = submit(slow)
        state, exit_code = wait_for_job(env, job)
        log = open(os.path.join(tmp, f"slow.h5.slurm-{job}.log")).read()
        assert state == "COMPLETED", (state, exit_code, log[-2000:])
        assert f"resuming from" in log and f"{kept} finished trial(s) kept" in log, log[-2000:]
        resumed = pd.DataFrame(h5py.File(os.path.join(tmp, "slow.h5"), "r")["trials"][:])
        assert sorted(resumed.trial_id) == list(range(30)), sorted(resumed.trial_id)
        assert set(resumed.status.str.decode("utf-8")) == {"completed"}, resumed.status

        # One het component per site partition, one MPI job across both nodes (srun with PMIx;
        # TCP between ranks, because both emulated nodes share this host's shared memory).
        with open(quick) as src:
            text = src.read().replace(os.path.join(tmp, "quick.h5"), os.path.join(tmp, "het.h5"))
        text = text.replace("ranks = 1\n\n[[sites]]", 'ranks = 1\npartition = "site_a"\n\n[[sites]]')
        text = text.replace('ranks = 1\n\n[slurm]', 'ranks = 1\npartition = "site_b"\n\n[slurm]')
        text = text.replace('launcher_args = ["--oversubscribe"]',
                            'launcher = "srun"\nlauncher_args = ["--mpi=pmix"]\nenvironment = ["OMPI_MCA_btl=self,tcp"]')
        het = os.path.join(tmp, "het.toml")
        with open(het, "w") as f:
            f.write(text)
        dry = subprocess.run([cs, "submit", het, "--dry-run"], env=env, capture_output=True, text=True)
        assert dry.returncode == 0, dry.stderr
        assert "#SBATCH --partition=site_a\n" in dry.stdout and "#SBATCH hetjob\n" in dry.stdout
        assert "#SBATCH --partition=site_b\n" in dry.stdout and "srun --het-group=0,1 '--mpi=pmix'" in dry.stdout
        job = submit(het)
        het_log = os.path.join(tmp, f"het.h5.slurm-{job}.log")
        try:
            state, exit_code = wait_for_job(env, job, timeout=90)
        except AssertionError as hang:
            # Seen about once in 30 het jobs here: srun's teardown of a step spanning two emulated
            # nodes on one host hangs after every task has ended. Tolerated only when carbonsweep
            # itself finished (the results line is in the log); its results are checked below.
            assert f"results: {os.path.join(tmp, 'het.h5')}" in open(het_log).read(), hang
            print("note: the het step did not end after carbonsweep had finished; the job was cancelled")
            state, exit_code = "COMPLETED", "0:0"
        finally:
            with contextlib.suppress(OSError):
                print(open(het_log).read()[-3000:])
        log = open(het_log).read()
        print(log[-1500:])
        assert state == "COMPLETED", (state, exit_code, log[-2000:])
        nodes = subprocess.run(["grep", f"JobId={int(job) + 1}", os.path.join(os.path.dirname(env["SLURM_CONF"]),
                                                                              "log", "jobcomp.txt")],
                               capture_output=True, text=True).stdout
        assert "NodeList=b1" in nodes and "Partition=site_b" in nodes, nodes
        trials = pd.DataFrame(h5py.File(os.path.join(tmp, "het.h5"), "r")["trials"][:])
        assert len(trials) == 8 and set(trials.site.str.decode("utf-8")) == {"north", "south"}
    print("ok")


if __name__ == "__main__":
    sys.exit(main())
