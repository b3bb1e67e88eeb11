#!/usr/bin/env python3
"""bench/reproductions.py [--layers F.h5] [--hpo F.h5] [--locations F.h5]: the figures of
docs/reproductions.md from the results files of the shipped published studies (studies/
yarally2023-*.toml, xu2023-locations.toml). Needs h5py, pandas and numpy (Debian's python3-h5py,
python3-pandas). Each claim prints our figure beside the paper's; `carbonsweep report` on the
same file gives the Kruskal-Wallis tests and eta squared.
"""
import argparse

import h5py
import numpy as np
import pandas as pd


def load(path):
    with h5py.File(path, "r") as f:
        t = pd.DataFrame(f["trials"][:])
        p = pd.DataFrame(f["params"][:])
    for c in t.columns:
        if t[c].dtype == object:
            t[c] = t[c].str.decode("utf-8")
    for c in p.columns:
        if p[c].dtype == object:
            p[c] = p[c].str.decode("utf-8")
    t = t.merge(p, on="trial_id")
    return t[t.status == "completed"].copy()


def pct(a, b):
    return 100.0 * (b - a) / a


def layers(path):
    t = load(path)
    t["epoch_j"] = t.energy_j / t.epochs
    med = lambda col, v: t[t[col] == v].epoch_j.median()
    print(f"\n## Layer study ({path}, {len(t)} completed trials, primary meter {t.primary_meter.iloc[0]})")
    print(f"conv 1 -> 4 blocks: {pct(med('model.conv_layers', 1), med('model.conv_layers', 4)):+.0f}% median energy "
          f"per epoch (published +95%)")
    print(f"linear 3 -> 7 layers: {pct(med('model.linear_layers', 3), med('model.linear_layers', 7)):+.0f}% "
          f"(published +5%)")
    print(f"ReLU off -> on: {pct(med('model.activation', 'none'), med('model.activation', 'relu')):+.0f}% "
          f"(published +3%)")
    arch = ["model.conv_layers", "model.linear_layers", "model.activation"]
    cv = t.groupby(arch).epoch_j.agg(lambda e: 100.0 * e.std() / e.mean())
    print(f"coefficient of variation of energy among the 8 learning rates of one architecture: median "
          f"{cv.median():.1f}%, range {cv.min():.1f}-{cv.max():.1f}% (published: under 2%)")
    g = t.groupby(arch).agg(energy=("epoch_j", "median"), best=("val_accuracy", "max"))
    slope = np.polyfit(np.log2(g.energy), 100.0 * g.best, 1)[0]
    print(f"best validation accuracy against log2(energy per epoch) over the 8 architectures: {slope:+.2f} points "
          f"per doubling of energy (published: under one point)")
    print(g.sort_values("energy").to_string(float_format=lambda v: f"{v:.4g}"))
    rho = pd.Series(t.macs).rank().corr(pd.Series(t.epoch_j).rank())
    print(f"Spearman(MACs, energy per epoch) over the trials: {rho:.3f}")
    software_vs_hardware(t)


def software_vs_hardware(t):
    hardware = [m for m in ("nvml", "rapl", "external") if f"energy_{m}_j" in t.columns]
    if "energy_estimate_j" in t.columns and hardware:
        h = hardware[0]
        ratio = (t.energy_estimate_j / t[f"energy_{h}_j"]).median()
        print(f"software estimate / {h}: median {ratio:.3f} per trial (published: software 41-46% below a wall "
              f"meter, i.e. 0.54-0.59)")


def hpo(path):
    t = load(path).sort_values("trial_id")
    best = t.objective.max()
    print(f"\n## HPO study ({path}, {len(t)} completed trials; best validation accuracy {best:.4f})")
    for arm, a in t.groupby("arm", sort=False):
        a = a.reset_index(drop=True)
        at_best = int(a.objective.idxmax()) + 1
        within = a.index[a.objective >= best - 0.01 * abs(best)]
        round_1pct = int(within[0]) + 1 if len(within) else None
        kwh = a.energy_j.cumsum() / 3.6e6
        print(f"{arm:>8}: best {a.objective.max():.4f} (test {a.test_accuracy[a.objective.idxmax()]:.4f}) at round "
              f"{at_best} of {len(a)}; within 1% of the best at round {round_1pct}, after "
              f"{kwh[round_1pct - 1] if round_1pct else float('nan'):.6f} kWh; total {kwh.iloc[-1]:.6f} kWh")
    cv = 100.0 * t.energy_j.std() / t.energy_j.mean()
    print(f"coefficient of variation of trial energy over all trials (one architecture): {cv:.1f}%")
    print("published: Bayesian optimisation at its optimum after ~27 rounds, grid and random after ~36-39")


def locations(path):
    t = load(path)
    t["epoch_j"] = t.energy_j / t.epochs
    print(f"\n## Location study ({path}, {len(t)} completed trials, primary meter {t.primary_meter.iloc[0]})")
    print(t.pivot_table(index="model", columns="site", values="epoch_j", aggfunc="median")
          .to_string(float_format=lambda v: f"{v:.0f} J"))
    per_j = t.groupby("site").apply(lambda s: s.co2_g.sum() / (s.facility_energy_j.sum() / 3.6e6))
    print("gCO2 per facility kWh by site: " + ", ".join(f"{k} {v:.1f}" for k, v in per_j.items()))
    g = t.groupby("model").agg(macs=("macs", "first"), energy=("epoch_j", "median"))
    print(g.to_string(float_format=lambda v: f"{v:.4g}"))
    base = g.sort_values("macs").iloc[0]
    print("against the smallest network: " + ", ".join(
        f"{m} MACs {r.macs / base.macs:.2f}x, energy {r.energy / base.energy:.2f}x" for m, r in g.iterrows()))
    software_vs_hardware(t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers")
    ap.add_argument("--hpo")
    ap.add_argument("--locations")
    a = ap.parse_args()
    if a.layers:
        layers(a.layers)
    if a.hpo:
        hpo(a.hpo)
    if a.locations:
        locations(a.locations)


if __name__ == "__main__":
    main()
