#!/usr/bin/env python3
"""A real 4-trial study on 512 Fashion-MNIST images under mpiexec, read back with h5py.

Checks: exactly 4 trial rows, each with energy > 0, CO2 > 0 and a site from the study;
/params joins /trials; every column carries units; and docs/results-schema.md documents
exactly the datasets, columns and root attributes the file holds.
"""
import argparse
import math
import os
import socket
import subprocess
import time
import re
import sys
import tempfile

import h5py
import numpy as np
import pandas as pd
from harness import run_mpi

STUDY = """
[study]
name = "e2e"
seed = 11
output = "{output}"
budget_trials = 4

[search]
strategy = "random"

[search.space.lr]
type = "float"
low = 1e-3
high = 0.1
log = true

[search.space.batch_size]
type = "categorical"
choices = [32, 64]

[search.space.conv_blocks]
type = "int"
low = 1
high = 2

[dataset]
path = "{dataset}"
train_subset = 512
test_subset = 256

[training]
epochs = 1
channels = 4

[[sites]]
name = "hydro"
pue = 1.1
intensity_g_per_kwh = 25
ranks = 1

[[sites]]
name = "coal"
pue = 1.6
intensity_g_per_kwh = 800
ranks = 1

[energy]
meters = ["estimate", "external"]
external_log = "{log}"
interval = "20ms"
idle_baseline = "300ms"

[profiling]
layers = true
every = 2
"""


def documented(schema_doc):
    """{section: set of backticked names in the first column of its tables}."""
    sections, current = {}, None
    for line in open(schema_doc, encoding="utf-8"):
        heading = re.match(r"^##\s+`?([^`\n]+?)`?\s*$", line)
        if heading:
            current = heading.group(1).strip()
            sections[current] = set()
            continue
        cell = re.match(r"^\|\s*`([^`]+)`", line)
        if cell and current:
            sections[current].add(cell.group(1))
    return sections


def normalise(dataset, column):
    if dataset == "/params" and column != "trial_id":
        return "<param>"
    if re.fullmatch(r"energy_(?!j$)\w+_j", column):
        return "energy_<meter>_j"
    return column


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    ap.add_argument("--ranks", type=int, required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--schema-doc", required=True)
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "results.h5")
        study = os.path.join(tmp, "study.toml")
        log = os.path.join(tmp, "power.csv")
        with open(log, "w", encoding="utf-8") as f:  # a wall meter on this host, one reading a second
            f.write("timestamp,host,watts\n")
            now = int(time.time())
            for t in range(now - 120, now + 900):
                f.write(f"{t},{socket.gethostname()},{60 + 20 * math.sin(t / 7):.1f}\n")
        with open(study, "w", encoding="utf-8") as f:
            f.write(STUDY.format(output=output, dataset=a.dataset, log=log))
        run = run_mpi(a.mpiexec, a.ranks, a.carbonsweep, "run", study, timeout=500)
        print(run.stdout)
        print(run.stderr, file=sys.stderr)
        assert run.returncode == 0, f"carbonsweep exited {run.returncode}"
        assert f"results: {output}" in run.stdout, "the run must end by printing where the results are"

        f = h5py.File(output, "r")
        trials = pd.DataFrame(f["trials"][:])
        assert len(trials) == 4, f"expected 4 trial rows, got {len(trials)}"
        assert sorted(trials.trial_id) == [0, 1, 2, 3]
        sites = {s.decode() for s in trials.site}
        assert sites <= {"hydro", "coal"}, sites
        if a.ranks == 3:
            assert sites == {"hydro", "coal"}, f"two workers must stand at the two sites: {sites}"
        assert (trials.energy_j > 0).all(), trials.energy_j
        assert (trials.energy_estimate_j > 0).all()
        assert (trials.co2_g > 0).all(), trials.co2_g
        expected_pue = trials.site.map({b"hydro": 1.1, b"coal": 1.6})
        assert np.allclose(trials.facility_energy_j, trials.energy_j * expected_pue)
        assert np.allclose(trials.co2_g, trials.facility_energy_j / 3.6e6 * trials.intensity_g_per_kwh)
        assert (trials.status == b"completed").sum() >= 1

        params = pd.DataFrame(f["params"][:])
        joined = trials.merge(params, on="trial_id")
        assert len(joined) == 4 and {"lr", "batch_size", "conv_blocks"} <= set(joined.columns)
        assert joined.lr.between(1e-3, 0.1).all()

        # Phases, idle baseline and the layer profiler.
        assert (trials.train_energy_j > 0).all() and (trials.eval_energy_j > 0).all()
        assert (trials.train_energy_j + trials.eval_energy_j <= trials.energy_j * (1 + 1e-9)).all()
        assert (trials.idle_power_w > 0).all(), trials.idle_power_w
        assert (trials.net_energy_j <= trials.energy_j).all() and (trials.net_energy_j >= 0).all()
        assert (trials.profiled_steps >= 1).all()
        layers = pd.DataFrame(f["layers"][:])
        types = {t.decode() for t in layers.layer_type}
        assert {"conv", "linear", "activation", "pool", "other"} <= types, types
        shares = layers.groupby("trial_id").time_share.sum()
        assert np.allclose(shares, 1.0), shares
        by_trial = trials.set_index("trial_id").sort_index()
        profiled_energy = layers.groupby("trial_id").energy_j.sum().sort_index()
        assert (profiled_energy.values <= by_trial.train_energy_j.values * (1 + 1e-9)).all()
        epochs = pd.DataFrame(f["epochs"][:])
        assert np.allclose(epochs.groupby("trial_id").train_energy_j.sum().sort_index().values,
                           by_trial.train_energy_j.values)
        meters = pd.DataFrame(f["meters"][:])
        assert list(meters.meter) == [b"estimate", b"external"] and list(meters.primary) == [1, 0]
        assert list(meters.scope) == [b"process", b"node"] and list(meters.apportioned) == [0, 1]
        assert list(meters.apportioned_by) == [b"", b"cpu_time"]
        # No nvml meter in this study: no GPU is named and the cross-check is not a number.
        assert (trials.gpu == b"").all() and trials.gpu_counter_over_polled.isna().all()
        assert list(meters.idle_baseline_s) == [0.3, 0.3]
        # The wall meter reads 40-80 W for the node; each trial holds its CPU-time share of that.
        duration = trials.end_unix_s - trials.start_unix_s
        assert (trials.energy_external_j > 0).all() and (trials.energy_external_j <= 80 * duration * 1.05).all(), \
            trials[["trial_id", "rank", "start_unix_s", "end_unix_s", "energy_j", "energy_external_j"]].to_string()
        hydro = f["carbon/hydro"][:]
        assert len(hydro) == 1 and np.isnan(hydro["unix_s"][0]) and hydro["intensity_g_per_kwh"][0] == 25
        assert "SLURM_JOB_ID" in f.attrs["slurm_energy"] or "J" in f.attrs["slurm_energy"]

        for name in ("trials", "params", "epochs", "samples", "sites", "layers", "meters", "carbon/hydro", "carbon/coal"):
            ds = f[name]
            units = list(ds.attrs["units"])
            assert len(units) == len(ds.dtype.names), name
        units = dict(zip(f["trials"].dtype.names, f["trials"].attrs["units"]))
        assert units["energy_j"] == "J" and units["co2_g"] == "gCO2" and units["intensity_g_per_kwh"] == "gCO2/kWh"
        assert int(f.attrs["schema_version"]) == 5
        assert "budget_trials = 4" in f.attrs["study_toml"]

        # The report puts the software estimate against the wall meter and shows the layer shares.
        rep = subprocess.run([a.carbonsweep, "report", output, "-o", os.path.join(tmp, "rep")], capture_output=True,
                             text=True)
        assert rep.returncode == 0, rep.stderr
        md = open(os.path.join(tmp, "rep", "report.md")).read()
        assert re.search(r"^\| estimate \| external \| 4 \| [0-9.]+ \|", md, re.M), md
        assert "software_vs_hardware.svg" in md and "layer_share.svg" in md
        assert re.search(r"^\| conv \| [0-9.]+ \| [0-9.]+% \|", md, re.M)
        assert len(f["epochs"]) == 4 and len(f["samples"]) > 0

        docs = documented(a.schema_doc)
        written_datasets = set()

        def check(name, ds):
            if not isinstance(ds, h5py.Dataset):
                return
            section = re.sub(r"^/carbon/.*", "/carbon/<site>", "/" + name)
            written_datasets.add(section)
            assert section in docs, f"{section} is written but not documented"
            written = {normalise(section, c) for c in ds.dtype.names}
            expected = docs["/trials"] if section == "/attempts" else docs[section]  # documented as the same
            assert written == expected, f"{section}: written {sorted(written)} != documented {sorted(expected)}"

        f.visititems(check)
        datasets = {k for k in docs if k.startswith("/")}
        assert datasets == written_datasets, f"documented {sorted(datasets)} != written {sorted(written_datasets)}"
        attrs = set(f.attrs)
        assert attrs <= docs["Root attributes"], attrs - docs["Root attributes"]
        assert docs["Root attributes"] - attrs <= {"slurm_job_id", "slurm_step_id", "simulated", "cost_model",
                                               "suggest_wall_s", "suggest_wait_fraction",
                                               "sites_without_workers", "gpus"}
        assert f.attrs["placement"] == "fifo" and f.attrs["forecast"] == "none"
        idle = pd.DataFrame(f["idle"][:])
        assert len(idle) == a.ranks - (1 if a.ranks > 1 else 0) and (idle.idle_s >= 0).all()
        assert np.allclose(idle.energy_j, idle.idle_s * 30.0), "the default idle power is 30 W"
    print("ok")


if __name__ == "__main__":
    main()
