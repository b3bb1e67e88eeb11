#!/usr/bin/env python3
"""A CPU study whose workers meter "a GPU" through the fake NVML library (tests/energy/fake_nvml.cpp,
found as libnvidia-ml.so.1 on LD_LIBRARY_PATH), under mpiexec -n 3 with both workers on GPU 0.

Checks what CI cannot see on a real GPU: each trial names the GPU and the driver, the file's
`gpus` attribute says the same once, `/meters` says nvml is shared by busy time, the CPU trials
ran eagerly in fp32, and the workers' busy-board entries are gone when the run ends.
"""
import argparse
import os
import sys
import tempfile

import h5py
import pandas as pd
from harness import run_mpi

STUDY = """
[study]
name = "fake-gpu"
budget_trials = 4

[search.space.lr]
type = "float"
low = 1e-3
high = 0.1

[dataset]
path = "{dataset}"
train_subset = 256
test_subset = 128

[model]
channels = 4

[energy]
meters = ["estimate", "nvml"]
interval = "20ms"

[[sites]]
name = "lab"
pue = 1.1
intensity_g_per_kwh = 200
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    ap.add_argument("--mpiexec", required=True)
    ap.add_argument("--fake-nvml", required=True)
    ap.add_argument("--dataset", required=True)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lib = os.path.join(tmp, "lib")
        os.mkdir(lib)
        os.symlink(a.fake_nvml, os.path.join(lib, "libnvidia-ml.so.1"))
        os.environ["LD_LIBRARY_PATH"] = lib + ":" + os.environ.get("LD_LIBRARY_PATH", "")
        os.environ["CUDA_VISIBLE_DEVICES"] = "0"
        study = os.path.join(tmp, "study.toml")
        open(study, "w").write(STUDY.format(dataset=a.dataset))
        output = os.path.join(tmp, "gpu.h5")
        run = run_mpi(a.mpiexec, 3, a.carbonsweep, "run", study, "-o", output, "--progress", "off")
        print(run.stdout)
        print(run.stderr[-3000:], file=sys.stderr)
        assert run.returncode == 0, run.returncode

        with h5py.File(output, "r") as f:
            t = pd.DataFrame(f["trials"][:])
            meters = pd.DataFrame(f["meters"][:])
            gpus = f.attrs["gpus"]
        assert len(t) == 4 and set(t["rank"]) == {1, 2}, t[["trial_id", "rank"]]
        assert (t.gpu == b"0 GPU-fake-0 Fake GPU 0").all(), t.gpu
        assert (t.gpu_driver == b"driver 580.95.05, CUDA 13.0").all(), t.gpu_driver
        assert gpus == "0 GPU-fake-0 Fake GPU 0 (driver 580.95.05, CUDA 13.0)", gpus
        assert list(meters.apportioned_by) == [b"", b"gpu_utilisation"], meters
        assert (t.precision == b"fp32").all() and (t.cuda_graph == b"").all() and (t.channels_last == 0).all()
        assert (t.energy_nvml_j == 0).all(), "the fake's counter stands still at 0 mJ"
        board = f"/dev/shm/carbonsweep-gpu-{os.getuid()}/GPU-fake-0"
        if not os.path.isdir(board):
            board = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"carbonsweep-gpu-{os.getuid()}", "GPU-fake-0")
        assert os.path.isdir(board), "the workers shared GPU 0 through its busy board"
        left = [e for e in os.listdir(board) if not e.startswith(".")]
        assert not left, f"busy-board entries left after the run: {left}"
    print("ok")


if __name__ == "__main__":
    main()
