#!/usr/bin/env python3
"""`carbonsweep simulate` end to end: a generated (synthetic) daily-cycle trace site and a
constant one, fifo against deferral with the oracle forecast, the results file read with h5py,
a cost model fitted on that file, the report on a simulated file, and bad input (exit 2, one
line, no file)."""
import argparse
import math
import os
import re
import subprocess
import tempfile
from datetime import datetime, timedelta, timezone

import h5py
import pandas as pd

from harness import BRANIN_SPACE

STUDY = """
[study]
name = "sim-test"
seed = 3
output = "{out}"
budget_trials = 120

[search]
strategy = "random"

""" + BRANIN_SPACE + """
[model]
family = "function"
function = "branin"

[simulate]
trial_duration = "1h"
duration_per_unit = 0.5
trial_power_w = 250

[scheduling]
policy = "fifo"
max_delay = "12h"
idle_power_w = 25
{scheduling_extra}

[time]
start = "2020-06-02T00:00:00Z"

[[sites]]
name = "cycle"
pue = 1.2
trace = "cycle.csv"

[[sites]]
name = "steady"
pue = 1.4
{steady}
"""


def summary(stdout):
    m = re.search(r"makespan ([0-9.]+) h \| device ([0-9.]+) kWh \| trials ([0-9.]+) gCO2 \| idle ([0-9.]+) kWh "
                  r"([0-9.]+) gCO2", stdout)
    assert m, stdout
    return dict(zip(["makespan_h", "device_kwh", "trial_g", "idle_kwh", "idle_g"], map(float, m.groups())))


def expect_bad(cmd, pattern, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, f"{what}: exit {r.returncode}: {r.stderr}"
    assert len(lines) == 1 and re.search(pattern, r.stderr), f"{what}: {r.stderr}"
    print(f"ok   {what}: {lines[0]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    a = ap.parse_args()
    cs = a.carbonsweep
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "cycle.csv"), "w") as f:  # synthetic: 300 g/kWh at midnight, 100 at noon
            f.write("Time,Carbon Intensity\n")
            t0 = datetime(2020, 6, 1, tzinfo=timezone.utc)
            for h in range(24 * 30):
                f.write(f"{(t0 + timedelta(hours=h)):%Y-%m-%d %H:%M:%S},{200 + 100 * math.cos(2 * math.pi * h / 24):.3f}\n")

        def study(name, scheduling_extra="", steady="intensity_g_per_kwh = 150"):
            path = os.path.join(tmp, f"{name}.toml")
            with open(path, "w") as f:
                f.write(STUDY.format(out=os.path.join(tmp, f"{name}.h5"), scheduling_extra=scheduling_extra,
                                     steady=steady))
            return path

        def simulate(path, *extra):
            r = subprocess.run([cs, "simulate", path, "--workers-per-site", "3", *extra], capture_output=True,
                               text=True, timeout=120)
            assert r.returncode == 0, r.stderr
            return r.stdout

        fifo = summary(simulate(study("fifo")))
        deferral = summary(simulate(study("deferral", 'forecast = "oracle"'), "--policy", "deferral"))
        print("fifo", fifo, "\ndeferral", deferral)
        assert abs(fifo["device_kwh"] - deferral["device_kwh"]) < 1e-6, "the same trials, the same energy"
        assert deferral["trial_g"] < fifo["trial_g"], "deferral moves work into greener hours"
        assert deferral["makespan_h"] > fifo["makespan_h"] and deferral["idle_kwh"] > 0

        out = os.path.join(tmp, "deferral.sim.h5")
        f = h5py.File(out, "r")
        assert f.attrs["simulated"] == "1" and f.attrs["forecast"] == "oracle"
        assert f.attrs["placement"].startswith("deferral (forecast oracle")
        assert f.attrs["cost_model"].startswith("analytic")
        trials = pd.DataFrame(f["trials"][:])
        assert len(trials) == 120 and trials.trial_id.is_unique
        assert set(trials.site.str.decode("utf-8")) == {"cycle", "steady"}
        idle = pd.DataFrame(f["idle"][:])
        assert len(idle) == 6 and abs(idle.energy_j.sum() / 3.6e6 - deferral["idle_kwh"]) < 1e-3
        f.close()

        fitted = simulate(study("fitted"), "--cost-model", out, "--trials", "30")
        assert "fitted on 120 completed trials" in fitted, fitted
        rep = subprocess.run([cs, "report", out, "-o", os.path.join(tmp, "rep")], capture_output=True, text=True)
        assert rep.returncode == 0, rep.stderr

        expect_bad([cs, "simulate", study("p1"), "--workers-per-site", "2", "--policy", "cheapest"],
                   r"--policy 'cheapest' is not a policy; expected \"fifo\"", "unknown policy flag")
        expect_bad([cs, "simulate", study("p10"), "--workers-per-site", "2", "--policy", "carbon_budget"],
                   r"p10.toml: key 'budget_g_co2' in \[scheduling\]", "--policy carbon_budget without a budget")
        with open(study("p9")) as src:
            text = src.read()
        with open(os.path.join(tmp, "p9.toml"), "w") as dst:
            dst.write(text.replace('policy = "fifo"', 'policy = "cheapest"'))
        expect_bad([cs, "simulate", os.path.join(tmp, "p9.toml"), "--workers-per-site", "2"],
                   r"p9.toml:[0-9]+: .*key 'policy'.*unknown policy", "unknown policy in the study")
        bad = study("p2").replace(".toml", "")
        with open(bad + ".toml") as src:
            text = src.read().replace('max_delay = "12h"\n', "")
        with open(bad + ".toml", "w") as dst:
            dst.write(text.replace('policy = "fifo"', 'policy = "deferral"'))
        expect_bad([cs, "simulate", bad + ".toml", "--workers-per-site", "2"], r"max_delay", "deferral without max_delay")
        expect_bad([cs, "simulate", study("p3", "", 'region = "atlantis"'), "--workers-per-site", "2"],
                   r"key 'region'.*unknown region", "unknown region")
        expect_bad([cs, "simulate", study("p4"), "--workers-per-site", "0"], r"workers-per-site", "zero workers")
        expect_bad([cs, "simulate", study("p5")], r"--workers-per-site N is required", "no worker count")
        expect_bad([cs, "simulate", study("p6"), "--workers-per-site", "2", "--forecast", "tarot"], r"--forecast",
                   "unknown forecast")
        expect_bad([cs, "simulate", study("p7"), "--workers-per-site", "2", "--cost-model",
                    os.path.join(tmp, "missing.h5")], r"missing.h5", "missing cost-model file")
        expect_bad([cs, "simulate", study("p8", 'deadline = "soon"'), "--workers-per-site", "2"], r"key 'deadline'",
                   "bad deadline")
        existing = os.path.join(tmp, "p11.sim.h5")  # the default output exists: the bad flag is still named
        open(existing, "w").write("keep")
        expect_bad([cs, "simulate", study("p11"), "--workers-per-site", "2", "--policy", "cheapest"],
                   r"--policy 'cheapest' is not a policy", "unknown policy flag beside an existing output")
        assert open(existing).read() == "keep"
        for name in ("p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10"):
            assert not os.path.exists(os.path.join(tmp, f"{name}.sim.h5")), f"{name}: a file was written"
    print("ok")


if __name__ == "__main__":
    main()
