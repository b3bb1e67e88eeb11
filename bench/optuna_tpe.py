#!/usr/bin/env python3
"""Optuna's TPE sampler on Branin and Hartmann-6, same budget and seeds as search_bench."""
import math
import statistics
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
     [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]
ALPHA = [1.0, 1.2, 3.0, 3.2]


def branin(x):
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x[1] - b * x[0] ** 2 + c * x[0] - 6) ** 2 + 10 * (1 - t) * math.cos(x[0]) + 10


def hartmann6(x):
    return -sum(ALPHA[i] * math.exp(-sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6))) for i in range(4))


FUNCTIONS = {"branin": (branin, [(-5, 10), (0, 15)], 0.397887357729739),
             "hartmann6": (hartmann6, [(0, 1)] * 6, -3.32236801141551)}


def main():
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    budget = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    print("function,strategy,seed,regret")
    for name, (f, bounds, minimum) in FUNCTIONS.items():
        regrets = []
        for seed in range(seeds):
            study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
            study.optimize(lambda t: f([t.suggest_float(f"x{i + 1}", lo, hi) for i, (lo, hi) in enumerate(bounds)]),
                           n_trials=budget)
            regrets.append(study.best_value - minimum)
            print(f"{name},optuna_tpe,{seed},{regrets[-1]:.6g}")
        print(f"{name:10s} median regret after {budget}: optuna TPE {statistics.median(regrets):.4g}", file=sys.stderr)


if __name__ == "__main__":
    main()
