#!/usr/bin/env python3
"""Optuna 3.1's TPE, CMA-ES and random samplers on carbonsweep's benchmark suite, and the summary.

  search_compare.py optuna BENCH SEEDS BUDGET [NAME]   per-seed regrets (CSV) of Optuna's samplers
  search_compare.py summary CSV...              median [quartiles] of the regret per function

The functions are evaluated by `BENCH serve` (bench/search_bench.cpp), so both sides optimise
exactly the same code, and the suite (functions, dimensions, bounds, minima) comes from
`BENCH suite`.
"""
import csv
import statistics
import subprocess
import sys

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)

SAMPLERS = {
    "optuna_tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "optuna_cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed),
    "optuna_random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}


def read_suite(bench):
    out = subprocess.run([bench, "suite"], check=True, capture_output=True, text=True).stdout
    suite = []
    for row in csv.DictReader(out.splitlines()):
        bounds = [tuple(float(v) for v in b.split(":")) for b in row["bounds"].split(";")]
        suite.append((row["function"], int(row["dims"]), bounds, float(row["minimum"])))
    return suite


def run_optuna(bench, seeds, budget, only=None):
    print("function,strategy,seed,regret")
    for name, dims, bounds, minimum in read_suite(bench):
        if only and name != only:
            continue
        server = subprocess.Popen([bench, "serve", name, str(dims)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True)

        def objective(trial):
            x = [trial.suggest_float(f"x{i + 1}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
            server.stdin.write(" ".join(repr(v) for v in x) + "\n")
            server.stdin.flush()
            return float(server.stdout.readline())

        for strategy, make in SAMPLERS.items():
            regrets = []
            for seed in range(seeds):
                study = optuna.create_study(sampler=make(seed))
                study.optimize(objective, n_trials=budget)
                regrets.append(study.best_value - minimum)
                print(f"{name},{strategy},{seed},{regrets[-1]:.6g}", flush=True)
            print(f"{name:16s} median regret after {budget}: {strategy} {statistics.median(regrets):.4g}",
                  file=sys.stderr)
        server.stdin.close()
        server.wait()


def quartiles(values):
    q = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else [values[0]] * 3
    return q[0], statistics.median(values), q[2]


def summary(paths):
    regrets = {}
    order = []
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                key = (row["function"], row["strategy"])
                if row["function"] not in order:
                    order.append(row["function"])
                regrets.setdefault(key, []).append(float(row["regret"]))
    strategies = []
    for _, s in regrets:
        if s not in strategies:
            strategies.append(s)
    print("| function | " + " | ".join(strategies) + " | best | bayes vs the best peer |")
    print("|---|" + "---|" * (len(strategies) + 2))
    wins = 0
    for function in order:
        cells, medians = [], {}
        for s in strategies:
            q1, med, q3 = quartiles(regrets[(function, s)])
            medians[s] = med
            cells.append(f"{med:.3g} [{q1:.3g}, {q3:.3g}]")
        best = min(medians, key=medians.get)
        peers = {s: m for s, m in medians.items() if s != "bayes" and s != "random"}
        verdict = ""
        if "bayes" in medians and peers:
            peer = min(peers, key=peers.get)
            ratio = peers[peer] / medians["bayes"] if medians["bayes"] > 0 else float("inf")
            wins += medians["bayes"] <= peers[peer]
            verdict = f"{ratio:.2g}× lower than {peer}" if ratio >= 1 else f"{1 / ratio:.2g}× higher than {peer}"
        print(f"| {function} | " + " | ".join(cells) + f" | {best} | {verdict} |")
    print(f"\nmedian simple regret [quartiles]; bayes has the lowest median among peers on {wins} of {len(order)}")


def main():
    if len(sys.argv) in (5, 6) and sys.argv[1] == "optuna":
        run_optuna(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] if len(sys.argv) == 6 else None)
    elif len(sys.argv) >= 3 and sys.argv[1] == "summary":
        summary(sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
