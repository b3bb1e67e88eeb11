#!/usr/bin/env python3
"""bench/gpu_vs_cpu.py CARBONSWEEP OUT_DIR [TRIALS]: the energy of one trial on the GPU and on
the CPU of the same node. Runs bench/gpu_share.toml (VGG-11, width 0.5, with BatchNorm, 32 x 32)
with one worker (`mpirun -n 2`), TRIALS trials (default 2) of one epoch of 10,000 images, twice: on cuda:0 with
the nvml and estimate meters (the GPU's energy and the host's CPU/RAM share), and with
`training.device = "cpu"` on every core with the estimate meter (and rapl where it reads).
Prints per side the median trial time, energy per meter, the total (J, Wh), its gCO2 at the
study site's 300 gCO2/kWh and PUE 1.2, and the validation accuracy; then the CPU/GPU ratios.
CS_FASHION_MNIST_DIR, when set, is the dataset's folder."""
import os
import statistics
import subprocess
import sys

from gpu_share import read_trials


def run(cs, study, out, overrides):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    data = [f"dataset.path={os.environ['CS_FASHION_MNIST_DIR']}"] if "CS_FASHION_MNIST_DIR" in os.environ else []
    sets = [a for o in overrides + data for a in ("--set", o)]
    done = subprocess.run(["mpirun", "--oversubscribe", "-n", "2", cs, "run", study, "-o", out, "--force",
                           "--progress", "off", *sets], env=env, capture_output=True, text=True, timeout=500)
    if done.returncode != 0:
        sys.exit(f"the study failed ({done.returncode}): {done.stderr[-2000:]}")


def main():
    cs, folder = sys.argv[1], sys.argv[2]
    trials = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    study = os.path.join(os.path.dirname(__file__), "gpu_share.toml")
    os.makedirs(folder, exist_ok=True)
    common = [f"study.budget_trials={trials}", "training.epochs=1", "dataset.train_subset=10000", "model.batch_norm=true",
              "dataset.test_subset=2000"]
    rapl = subprocess.run([cs, "meters"], capture_output=True, text=True).stdout
    cpu_meters = '["estimate", "rapl"]' if any(line.startswith("rapl") and "W over" in line for line in rapl.splitlines()) \
        else '["estimate"]'
    sides = {"gpu": common, "cpu": common + ["training.device=cpu", f"energy.meters={cpu_meters}"]}
    numeric = ("duration_s", "energy_j", "energy_nvml_j", "energy_estimate_j", "energy_rapl_j", "co2_g",
               "val_accuracy")
    medians = {}
    for side, overrides in sides.items():
        out = os.path.join(folder, f"{side}.h5")
        run(cs, study, out, overrides)
        _, t = read_trials(cs, out, numeric)
        m = {k: statistics.median(t[k]) for k in numeric if k in t}
        meters = [k for k in ("energy_nvml_j", "energy_estimate_j", "energy_rapl_j") if k in m]
        # The GPU side's total is the GPU plus the host's CPU/RAM; the CPU side's, its primary meter.
        m["total_j"] = m["energy_nvml_j"] + m["energy_estimate_j"] if side == "gpu" else m["energy_j"]
        medians[side] = m
        print(f"{side}: {len(t['duration_s'])} trials, median {m['duration_s']:.2f} s, "
              + ", ".join(f"{k[7:-2]} {m[k]:.1f} J" for k in meters)
              + f"; total {m['total_j']:.1f} J ({m['total_j'] / 3600:.3f} Wh), {m['co2_g']:.3f} gCO2 (primary meter),"
              f" val accuracy {m['val_accuracy']:.3f}")
    g, c = medians["gpu"], medians["cpu"]
    print(f"cpu / gpu: time {c['duration_s'] / g['duration_s']:.1f}x, energy per trial {c['total_j'] / g['total_j']:.1f}x")


if __name__ == "__main__":
    main()
