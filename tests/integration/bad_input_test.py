#!/usr/bin/env python3
"""Broken input must end with one line naming file:line:key or the path, exit code 2, and
no results file."""
import argparse
import os
import re
import subprocess
import tempfile

GOOD = """[study]
name = "bad"
output = "{output}"
budget_trials = 2

[search.space.lr]
type = "float"
low = 1e-3
high = 0.1

[dataset]
path = "{dataset}"
train_subset = 64
test_subset = 64

[[sites]]
name = "a"
pue = 1.2
intensity_g_per_kwh = 100
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    ap.add_argument("--dataset", required=True)
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "out.h5")
        good = GOOD.format(output=output, dataset=a.dataset)
        blocker = os.path.join(tmp, "a-file")
        open(blocker, "w").close()
        cases = [
            ("missing dataset", good.replace(a.dataset, "/nonexistent/fmnist"), [],
             r"/nonexistent/fmnist/train-images-idx3-ubyte\.gz"),
            ("malformed TOML", good.replace('budget_trials = 2', 'budget_trials = = 2'), [], r"study\.toml:4: "),
            ("unknown key", good.replace('budget_trials = 2', 'budget_trials = 2\nbudjet = 3'), [],
             r"study\.toml:5: key 'budjet' in \[study\]: unknown key"),
            ("wrong type", good.replace('budget_trials = 2', 'budget_trials = "2"'), [],
             r"study\.toml:4: key 'budget_trials'.*expected an integer"),
            ("negative PUE", good.replace("pue = 1.2", "pue = -1.2"), [], r"study\.toml:\d+: key 'pue'"),
            ("unwritable output", good.replace(output, os.path.join(blocker, "out.h5")), [],
             re.escape(os.path.join(blocker, "out.h5"))),
            ("zero interval", good + '\n[energy]\ninterval = "0ms"\n', [], r"key 'interval'"),
            ("unknown meter", good + '\n[energy]\nmeters = ["wattmeter"]\n', [], r"key 'meters'"),
            ("budget of 0", good.replace("budget_trials = 2", "budget_trials = 0"), [], r"key 'budget_trials'"),
            ("low >= high", good.replace("high = 0.1", "high = 0.0001"), [], r"key 'lr'.*low"),
            ("log with low <= 0", good.replace("high = 0.1", "high = 0.1\nlog = true").replace("low = 1e-3", "low = 0.0"),
             [], r"key 'lr'.*log"),
            ("empty categorical", good.replace("[dataset]", "[search.space.batch_size]\ntype = \"categorical\"\nchoices = []\n\n[dataset]"),
             [], r"batch_size"),
            ("unknown strategy", good.replace("[search.space.lr]", "[search]\nstrategy = \"annealing\"\n\n[search.space.lr]"),
             [], r"key 'strategy'.*annealing"),
            ("unknown acquisition", good.replace("[search.space.lr]", "[search]\nstrategy = \"bayes\"\nacquisition = \"kg\"\n\n[search.space.lr]"),
             [], r"key 'acquisition'"),
            ("empty space", good.replace("[search.space.lr]\ntype = \"float\"\nlow = 1e-3\nhigh = 0.1\n", "[search]\n"), [],
             r"search space is empty"),
            ("bad flag", good, ["--threads", "0"], r"--threads"),
            ("unknown meter name", good + '\n[energy]\nmeters = ["estimate", "wattson"]\n', [], r"key 'meters'.*estimate, rapl"),
            ("negative interval", good + '\n[energy]\ninterval = "-100ms"\n', [], r"key 'interval'"),
            ("cuda without a GPU", good + '\n[training]\ndevice = "cuda"\n', [], r"key 'device'.*no CUDA device"),
            ("zero idle baseline", good + '\n[energy]\nidle_baseline = "0s"\n', [], r"key 'idle_baseline'"),
            ("profiling every 0", good + '\n[profiling]\nlayers = true\nevery = 0\n', [], r"key 'every'"),
            ("unknown flag", good, ["--frobnicate"], r"frobnicate"),
        ]
        failures = []
        for name, text, extra, pattern in cases:
            study = os.path.join(tmp, "study.toml")
            with open(study, "w", encoding="utf-8") as f:
                f.write(text)
            commands = [["run", study] + extra]
            if not extra and name != "unwritable output":  # validate does not write
                commands.append(["validate", study])
            for command in commands:
                r = subprocess.run([a.carbonsweep] + command, capture_output=True, text=True, cwd=tmp, timeout=120)
                lines = r.stderr.strip().splitlines()
                problems = []
                if r.returncode != 2:
                    problems.append(f"exit {r.returncode}")
                if len(lines) != 1:
                    problems.append(f"{len(lines)} lines on stderr")
                if not re.search(pattern, r.stderr):
                    problems.append(f"no /{pattern}/")
                if os.path.exists(output) or os.path.exists(output + ".tmp"):
                    problems.append("a results file was left behind")
                if problems:
                    failures.append(f"{name} ({command[0]}): {', '.join(problems)}: {r.stderr!r}")
                else:
                    print(f"ok   {name} ({command[0]}): {lines[0]}")
        # A meter that cannot read here is an error, never a silent fallback.
        if not os.path.exists("/sys/class/powercap/intel-rapl:0"):
            with open(os.path.join(tmp, "study.toml"), "w", encoding="utf-8") as f:
                f.write(good + '\n[energy]\nmeters = ["rapl"]\n')
            r = subprocess.run([a.carbonsweep, "run", os.path.join(tmp, "study.toml")], capture_output=True, text=True)
            if r.returncode != 2 or "rapl" not in r.stderr or os.path.exists(output):
                failures.append(f"unavailable rapl: exit {r.returncode}, {r.stderr!r}")
            else:
                print("ok   unavailable rapl:", r.stderr.strip())
        # An existing results file is not replaced without --force.
        with open(os.path.join(tmp, "study.toml"), "w", encoding="utf-8") as f:
            f.write(good)
        with open(output, "w") as f:
            f.write("precious")
        r = subprocess.run([a.carbonsweep, "run", os.path.join(tmp, "study.toml")], capture_output=True, text=True)
        if r.returncode != 2 or open(output).read() != "precious" or "--force" not in r.stderr:
            failures.append(f"existing output: exit {r.returncode}, {r.stderr!r}")
        else:
            print("ok   existing output is kept:", r.stderr.strip())
        assert not failures, "\n".join(failures)
    print("ok")


if __name__ == "__main__":
    main()
