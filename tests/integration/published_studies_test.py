#!/usr/bin/env python3
"""Each shipped study of a published paper (studies/yarally2023-*.toml, xu2023-locations.toml)
and the TorchScript example (studies/torchscript_example.toml):
`validate` accepts it as shipped, and a quick mode of it (a few hundred images, one epoch, one
trial per worker or arm, set with --set) runs under mpiexec and is read back with h5py.

Checks per study: every trial completed; the searched settings are /params columns named by
their dotted keys; each trial records its network, parameter count, multiply-accumulates and a
test accuracy beside the validation accuracy; the file's study text records the overrides.
"""
import argparse
import os
import sys
import tempfile

import h5py
import numpy as np
import pandas as pd
from harness import run_mpi

QUICK = ["--set", "dataset.train_subset=300", "--set", "dataset.test_subset=100", "--set", "training.epochs=1"]

# study file, ranks, trials, the searched settings, the networks its quick run may train
STUDIES = [
    ("yarally2023-hpo.toml", 3, 3, {"optimizer.lr", "optimizer.beta1", "optimizer.beta2"}, {"simple_cnn"}),
    ("yarally2023-hpo5.toml", 3, 3,
     {"optimizer.lr", "optimizer.beta1", "optimizer.beta2", "optimizer.eps", "optimizer.weight_decay"}, {"simple_cnn"}),
    ("yarally2023-layers.toml", 3, 2,
     {"model.conv_layers", "model.linear_layers", "model.activation", "optimizer.lr"}, {"simple_cnn"}),
    ("xu2023-locations.toml", 4, 3, {"model.arch", "optimizer.lr"}, {"vgg16", "vgg19", "resnet50"}),
    # Not a paper's: the user's own network, a TorchScript file saved by PyTorch (docs/example_net.py).
    ("torchscript_example.toml", 3, 2, {"optimizer.lr", "training.batch_size"}, {"torchscript"}),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--studies", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, ranks, trials, searched, networks in STUDIES:
            path = os.path.join(a.studies, name)
            validate = run_mpi(a.mpiexec, 1, a.carbonsweep, "validate", path)
            assert validate.returncode == 0, f"{name}: {validate.stderr}"
            output = os.path.join(tmp, name.replace(".toml", ".h5"))
            run = run_mpi(a.mpiexec, ranks, a.carbonsweep, "run", path, "-o", output, "--progress", "off",
                          "--set", f"study.budget_trials={trials}", *QUICK)
            print(run.stdout)
            assert run.returncode == 0, f"{name}: exit {run.returncode}\n{run.stderr[-3000:]}"
            with h5py.File(output, "r") as f:
                t = pd.DataFrame(f["trials"][:])
                params = pd.DataFrame(f["params"][:])
                study_text = f.attrs["study_toml"]
            for column in ("status", "model"):
                t[column] = t[column].str.decode("utf-8")
            assert len(t) == trials, f"{name}: {len(t)} trials"
            assert (t.status == "completed").all(), f"{name}: {t.status.tolist()}"
            assert searched <= set(params.columns), f"{name}: /params has {list(params.columns)}"
            assert set(t.model) <= networks, f"{name}: trained {set(t.model)}"
            assert (t.parameters > 0).all(), name
            if "torchscript" in networks:  # a script is not walked layer by layer: its MACs are unknown
                assert t.macs.isna().all() and (t.parameters == 8 * 9 + 8 + 8 * 14 * 14 * 10 + 10).all(), name
            else:
                assert (t.macs > 0).all(), name
            assert t.val_accuracy.between(0, 1).all() and t.test_accuracy.between(0, 1).all(), name
            if isinstance(study_text, bytes):
                study_text = study_text.decode()
            assert "--set study.budget_trials=" in study_text, f"{name}: the overrides are not recorded"
            print(f"{name}: {len(t)} trials, networks {sorted(set(t.model))}, "
                  f"val {t.val_accuracy.round(3).tolist()}, test {t.test_accuracy.round(3).tolist()}")
            if name.startswith("xu2023"):  # the grid's first three points: the three networks
                macs = dict(zip(t.model, t.macs))
                assert set(macs) == networks, macs
                assert macs["resnet50"] > macs["vgg19"] > macs["vgg16"], macs
    return 0


if __name__ == "__main__":
    sys.exit(main())
