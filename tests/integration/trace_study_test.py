#!/usr/bin/env python3
"""Three sites priced with the real 2020 traces of France, Great Britain and Germany, replayed
at one trace hour per second, under mpiexec -n 4: every trial's CO2 is its facility energy at
the intensity it saw, that intensity lies within its own site's trace, and the sites rank as the
grids do in June 2020 (France lowest)."""
import argparse
import csv
import gzip
import os
import re
import subprocess
import sys
import tempfile

import h5py
import numpy as np
import pandas as pd
from harness import run_mpi


def trace_range(path):
    with gzip.open(path, "rt") as f:
        values = [float(row[1]) for row in list(csv.reader(f))[1:]]
    return min(values), max(values)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--study", required=True)
    ap.add_argument("--traces", required=True)
    a = ap.parse_args()
    v = subprocess.run([a.carbonsweep, "validate", a.study], capture_output=True, text=True)
    assert v.returncode == 0 and "fr_2020_ci.csv.gz (18574 points, linear" in v.stdout, v.stdout + v.stderr
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "traces.h5")
        r = run_mpi(a.mpiexec, 4, a.carbonsweep, "run", a.study, "-o", out)
        print(r.stdout)
        print(r.stderr[-2000:], file=sys.stderr)
        assert r.returncode == 0
        t = pd.DataFrame(h5py.File(out)["trials"][:])
        t["site"] = t.site.str.decode("utf-8")
        assert len(t) == 30 and set(t.site) == {"france", "great-britain", "germany"}
        assert np.allclose(t.co2_g, t.facility_energy_j / 3.6e6 * t.intensity_g_per_kwh)
        files = {"france": "fr_2020_ci.csv.gz", "great-britain": "gb_2020_ci.csv.gz", "germany": "ger_2020_ci.csv.gz"}
        for site, name in files.items():
            lo, hi = trace_range(os.path.join(a.traces, name))
            seen = t[t.site == site].intensity_g_per_kwh
            assert seen.between(lo, hi).all(), f"{site}: {seen.min()}..{seen.max()} outside {lo}..{hi}"
        mean = t.groupby("site").intensity_g_per_kwh.mean()
        assert mean["france"] < mean["great-britain"] and mean["france"] < mean["germany"], mean
        sites = h5py.File(out)["sites"][:]
        assert all(b"trace" in s["carbon_source"] for s in sites)
        stored = h5py.File(out)["carbon/france"][:]
        assert len(stored) == 18574 and stored["unix_s"][0] == 1576800000.0, "the whole trace, from 2019-12-20"

        # The report re-prices the sweep at every site and later start times from the stored traces.
        rep = subprocess.run([a.carbonsweep, "report", out, "-o", os.path.join(tmp, "rep")], capture_output=True,
                             text=True)
        assert rep.returncode == 0, rep.stderr
        md = open(os.path.join(tmp, "rep", "report.md")).read()
        rows = re.findall(r"^\| (france|great-britain|germany) \| ([^|]*[a-z][^|]*) \| [0-9.]+ \| ([0-9.]+) \| ([0-9.]+) \|",
                          md, re.M)
        starts = {(site, when.strip()) for site, when, _, _ in rows}
        for site in files:
            for when in ("as run", "6 h later", "12 h later", "18 h later"):
                assert (site, when) in starts, (site, when, starts)
        as_run = {site: float(co2) for site, when, _, co2 in rows if when.strip() == "as run"}
        for site, when, intensity, co2 in rows:
            lo, hi = trace_range(os.path.join(a.traces, files[site]))
            assert lo <= float(intensity) <= hi, (site, when, intensity)
            pue = [s["pue"] for s in sites if s["name"].decode() == site][0]
            expected = t.energy_j.sum() * pue / 3.6e6 * float(intensity)  # the mean is energy-weighted
            assert abs(float(co2) - expected) <= 0.002 * expected + 1e-4, (site, when, co2, expected)
        # The real coordinator holds workers for greener hours under mpiexec too (wall clock replaying
        # the traces at 3600x): every trial still runs, and the held time is recorded as idle.
        text = open(a.study).read().replace('"../data/carbon-traces/', '"' + os.path.abspath(a.traces) + "/")
        text += '\n[scheduling]\npolicy = "deferral"\nforecast = "oracle"\nmax_delay = "8h"\nidle_power_w = 20\n'
        deferred_study = os.path.join(tmp, "deferral.toml")
        with open(deferred_study, "w") as f:
            f.write(text)
        deferred = os.path.join(tmp, "deferral.h5")
        r = run_mpi(a.mpiexec, 4, a.carbonsweep, "run", deferred_study, "-o", deferred)
        assert r.returncode == 0, r.stderr[-2000:]
        d = h5py.File(deferred)
        assert len(d["trials"]) == 30 and d.attrs["placement"].startswith("deferral (forecast oracle")
        idle = pd.DataFrame(d["idle"][:])
        assert len(idle) == 3 and idle.idle_s.sum() > 0.5, idle
        assert np.allclose(idle.energy_j, idle.idle_s * 20.0)

        best = [(site, when) for site, when, _, _ in rows if when.strip().startswith("best start 1-23 h later")]
        assert all(not when.strip().endswith("(0 h later)") for _, when in best), best
        assert len(best) == 3, best
        assert as_run["france"] < as_run["germany"], as_run
    print("ok")


if __name__ == "__main__":
    main()
