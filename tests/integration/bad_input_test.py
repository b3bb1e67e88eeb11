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
        cut = os.path.join(tmp, "cut-fmnist")  # a gzip file cut in half: valid header, short data
        os.mkdir(cut)
        for name in os.listdir(a.dataset):
            data = open(os.path.join(a.dataset, name), "rb").read()
            if name.startswith("train-images"):
                data = data[: len(data) // 2]
            open(os.path.join(cut, name), "wb").write(data)
        junk_net = os.path.join(tmp, "junk.pt")
        open(junk_net, "w").write("not a TorchScript archive")
        cifar = os.path.join(tmp, "cifar")  # CIFAR-10 files of whole records but one of them short
        os.mkdir(cifar)
        for batch in ["data_batch_%d.bin" % i for i in range(1, 6)] + ["test_batch.bin"]:
            open(os.path.join(cifar, batch), "wb").write(bytes([3] + [0] * 3072) * 2)
        open(os.path.join(cifar, "test_batch.bin"), "ab").write(b"\x01" * 100)
        torchscript = '[model]\nfamily = "torchscript"\npath = "{}"\n\n[dataset]'
        cases = [
            ("missing TorchScript file", good.replace("[dataset]", torchscript.format("/nonexistent/net.pt")), [],
             r"study\.toml:\d+: key 'path' in \[model\]: /nonexistent/net\.pt: TorchScript file not found"),
            ("not a TorchScript file", good.replace("[dataset]", torchscript.format(junk_net)), [],
             r"key 'path' in \[model\]: .*junk\.pt: not a TorchScript file"),
            ("missing CIFAR files", good.replace(a.dataset, "/nonexistent/cifar").replace(
                "[dataset]", '[dataset]\nname = "cifar10"'), [],
             r"/nonexistent/cifar/data_batch_1\.bin: dataset file not found"),
            ("CIFAR file cut mid-record", good.replace(a.dataset, cifar).replace("[dataset]", '[dataset]\nname = "cifar10"'),
             [], r"cifar/test_batch\.bin: 6246 bytes is not a whole number of 3073-byte CIFAR records"),
            ("truncated gzip dataset", good.replace(a.dataset, cut), [], r"cut-fmnist/train-images-idx3-ubyte\.gz: truncated"),
            ("missing dataset", good.replace(a.dataset, "/nonexistent/fmnist"), [],
             r"/nonexistent/fmnist/train-images-idx3-ubyte\.gz"),
            ("unwritable output", good.replace(output, os.path.join(blocker, "out.h5")), [],
             re.escape(os.path.join(blocker, "out.h5"))),
            ("zero interval", good + '\n[energy]\ninterval = "0ms"\n', [], r"key 'interval'"),
            ("low >= high", good.replace("high = 0.1", "high = 0.0001"), [], r"key 'lr'.*low"),
            ("empty categorical", good.replace("[dataset]", "[search.space.batch_size]\ntype = \"categorical\"\nchoices = []\n\n[dataset]"),
             [], r"batch_size"),
            ("empty space", good.replace("[search.space.lr]\ntype = \"float\"\nlow = 1e-3\nhigh = 0.1\n", "[search]\n"), [],
             r"search space is empty"),
            ("bad flag", good, ["--threads", "0"], r"--threads"),
            ("unknown meter name", good + '\n[energy]\nmeters = ["estimate", "wattson"]\n', [], r"key 'meters'.*estimate, rapl"),
            ("negative interval", good + '\n[energy]\ninterval = "-100ms"\n', [], r"key 'interval'"),
            ("cuda without a GPU", good + '\n[training]\ndevice = "cuda"\n', [],
             r"study\.toml:\d+: key 'device' in \[training\].*no CUDA device"),
            ("meters for the function family",
             good.replace("[dataset]", "[model]\nfamily = \"function\"\nfunction = \"branin\"\n\n[dataset]").replace(
                 "[search.space.lr]\ntype = \"float\"\nlow = 1e-3\nhigh = 0.1\n",
                 "[search.space.x1]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n[search.space.x2]\ntype = \"float\"\n"
                 "low = 0.0\nhigh = 1.0\n").replace("train_subset = 64\ntest_subset = 64\n", "") +
             '\n[energy]\nmeters = ["rapl"]\n', [], r"key 'meters' in \[energy\]: the function family measures nothing"),
            ("zero idle baseline", good + '\n[energy]\nidle_baseline = "0s"\n', [], r"key 'idle_baseline'"),
            ("profiling every 0", good + '\n[profiling]\nlayers = true\nevery = 0\n', [], r"key 'every'"),
            ("unknown flag", good, ["--frobnicate"], r"frobnicate"),
            # Every number has a range a real cluster could use: typos are refused, not allocated.
            ("grid smaller than the budget",
             good.replace("budget_trials = 2", "budget_trials = 12").replace(
                 "[search.space.lr]", "[search]\nstrategy = \"grid\"\ngrid_resolution = 3\n\n[search.space.lr]"),
             [], r"key 'grid_resolution'.*3 points, fewer than the arm's 12 trials"),
            ("huge channels parameter",
             good.replace("[dataset]", "[search.space.channels]\ntype = \"int\"\nlow = 1\nhigh = 100000\n\n[dataset]"),
             [], r"key 'channels'.*\[1, 1024\]"),
            ("subset larger than the dataset", good.replace("train_subset = 64", "train_subset = 1000000000"), [],
             r"key 'train_subset'.*\[1, 60000\]"),
            ("study-wide key in an arm",
             good.replace("[search.space.lr]", "[[search.arms]]\nstrategy = \"random\"\npruner = \"median\"\n\n[search.space.lr]"),
             [], r"key 'pruner'.*whole study"),
            ("5000-character output name", good, ["-o", "a" * 5000 + ".h5"], r"longer than"),
            ("output that is a directory", good, ["-o", tmp, "--force"], r"is a directory"),
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
        leftovers = [p for p in os.listdir(os.path.dirname(tmp)) if p.startswith(os.path.basename(tmp) + ".")]
        if leftovers:
            failures.append(f"a refused run left {leftovers} beside the output directory")
        # No command: the usage goes to stderr, exit 2.
        r = subprocess.run([a.carbonsweep], capture_output=True, text=True)
        if r.returncode != 2 or "usage:" not in r.stderr or r.stdout:
            failures.append(f"no command: exit {r.returncode}, stdout {r.stdout!r}")
        else:
            print("ok   no command:", r.stderr.splitlines()[0])
        # A meter that cannot read here is an error, never a silent fallback.
        if not os.path.exists("/sys/class/powercap/intel-rapl:0"):
            with open(os.path.join(tmp, "study.toml"), "w", encoding="utf-8") as f:
                f.write(good + '\n[energy]\nmeters = ["rapl"]\n')
            r = subprocess.run([a.carbonsweep, "run", os.path.join(tmp, "study.toml")], capture_output=True, text=True)
            if r.returncode != 2 or not re.search(r"study\.toml:\d+: key 'meters' in \[energy\]: .*rapl", r.stderr) \
                    or os.path.exists(output):
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
