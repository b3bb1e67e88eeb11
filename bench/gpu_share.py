#!/usr/bin/env python3
"""bench/gpu_share.py CARBONSWEEP OUT.h5 [STUDY]: two workers share one GPU; does the study's NVML
energy add up to the device's? Runs `mpirun -n 3 CARBONSWEEP run STUDY` (bench/gpu_share.toml)
with CUDA_VISIBLE_DEVICES=0 for every rank, reads the GPU's own energy counter through NVML
(ctypes) every 20 ms meanwhile, and prints the sum of the trials' `energy_nvml_j` against the
device's energy over the union of the trial windows (both in J), and their ratio: 1 when the
two workers' shares add up to the device, about 2 when each counts the whole GPU.
CS_FASHION_MNIST_DIR, when set, is the dataset's folder."""
import csv
import ctypes
import os
import subprocess
import sys
import threading
import time

import numpy as np


def read_trials(cs, out, numeric):
    """The rows of OUT's /trials through our own export (the GPU machine has no h5py), and its
    columns by name, those named in `numeric` as float arrays (NaN where empty)."""
    table = out + ".csv"
    subprocess.run([cs, "export", out, "--format", "csv", "-o", table], check=True, capture_output=True)
    with open(table) as f:
        rows = list(csv.DictReader(f))
    t = {key: [r[key] for r in rows] for key in rows[0]}
    for key in numeric:
        if key in t:
            t[key] = np.array([float(v) if v not in ("", "nan") else np.nan for v in t[key]])
    return rows, t


def main():
    cs, out = sys.argv[1], sys.argv[2]
    study = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "gpu_share.toml")
    nvml = ctypes.CDLL("libnvidia-ml.so.1")
    assert nvml.nvmlInit_v2() == 0
    handle = ctypes.c_void_p()
    assert nvml.nvmlDeviceGetHandleByIndex_v2(0, ctypes.byref(handle)) == 0
    samples, stop = [], threading.Event()

    def poll():
        mj = ctypes.c_ulonglong()
        while not stop.is_set():
            nvml.nvmlDeviceGetTotalEnergyConsumption(handle, ctypes.byref(mj))
            samples.append((time.time(), mj.value * 1e-3))
            time.sleep(0.02)

    thread = threading.Thread(target=poll)
    thread.start()
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="0", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    data = ["--set", f"dataset.path={os.environ['CS_FASHION_MNIST_DIR']}"] if "CS_FASHION_MNIST_DIR" in os.environ else []
    run = subprocess.run(["mpirun", "--oversubscribe", "-n", "3", cs, "run", study, "-o", out, "--force",
                          "--progress", "off", *data], env=env, capture_output=True, text=True, timeout=500)
    stop.set()
    thread.join()
    if run.returncode != 0:
        sys.exit(f"the study failed ({run.returncode}): {run.stderr[-2000:]}")
    rows, t = read_trials(cs, out, ("start_unix_s", "end_unix_s", "energy_nvml_j", "gpu_counter_over_polled",
                                    "gpu_interpolated"))
    t_s = np.array([s[0] for s in samples])
    e_j = np.array([s[1] for s in samples])
    windows = sorted(zip(t["start_unix_s"], t["end_unix_s"]))
    union, (lo, hi) = [], windows[0]
    for a, b in windows[1:]:
        if a > hi:
            union.append((lo, hi))
            lo, hi = a, b
        else:
            hi = max(hi, b)
    union.append((lo, hi))
    device_j = sum(np.interp(b, t_s, e_j) - np.interp(a, t_s, e_j) for a, b in union)
    study_j = float(t["energy_nvml_j"].sum())
    busy_s = sum(b - a for a, b in union)
    print(f"trials: {len(rows)} on ranks {sorted(set(t['rank']))}, GPU busy {busy_s:.1f} s")
    print(f"sum of the trials' NVML energy: {study_j:.0f} J; the device over the same windows: {device_j:.0f} J; "
          f"ratio {study_j / device_j:.3f}")
    if "gpu" in t:  # a build before these columns has none of them
        print("gpu:", t["gpu"][0], "|", t["gpu_driver"][0])
        print("counter/polled per trial:", np.round(t["gpu_counter_over_polled"], 3).tolist())
        print("interpolated fraction per trial:", np.round(t["gpu_interpolated"], 3).tolist())
        print("cuda_graph:", sorted(set(t["cuda_graph"])))


if __name__ == "__main__":
    main()
