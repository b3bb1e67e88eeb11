#!/usr/bin/env python3
"""Optuna 3.1 on the same zero-work Branin trials as bench/orchestration.toml: random sampler,
in memory (one process) or with N processes sharing a JournalFileStorage. Prints trials/s."""
import math
import multiprocessing
import sys
import tempfile
import time

import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def journal(path):
    # The open(O_EXCL) lock: the default symlink lock let readers see half-written lines here.
    lock = optuna.storages.JournalFileOpenLock(path)
    return optuna.storages.JournalStorage(optuna.storages.JournalFileStorage(path, lock_obj=lock))


def branin(trial):
    x1, x2 = trial.suggest_float("x1", -5, 10), trial.suggest_float("x2", 0, 15)
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def worker(path, trials):
    import os
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # a dying worker's traceback is summarised by main()
    storage = journal(path)
    study = optuna.load_study(study_name="bench", storage=storage, sampler=optuna.samplers.RandomSampler())
    study.optimize(branin, n_trials=trials)


def main():
    mode, trials = sys.argv[1], int(sys.argv[2])
    if mode == "memory":
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
        start = time.perf_counter()
        study.optimize(branin, n_trials=trials)
        print(f"{trials / (time.perf_counter() - start):.0f}")
        return
    processes = int(mode)
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/journal.log"
        optuna.create_study(study_name="bench", storage=journal(path))
        start = time.perf_counter()
        pool = [multiprocessing.Process(target=worker, args=(path, trials // processes)) for _ in range(processes)]
        for p in pool:
            p.start()
        for p in pool:
            p.join()
        elapsed = time.perf_counter() - start
        done = len(optuna.load_study(study_name="bench", storage=journal(path)).trials)
        failed = sum(p.exitcode != 0 for p in pool)
        # Optuna 3.1's journal reader can meet a half-written line and the process dies
        # (JSONDecodeError); the rate then counts the trials that were written.
        print(f"{done / elapsed:.0f}" + (f" ({failed} of {processes} processes died, {done} of {trials} trials)"
                                         if failed else ""))


if __name__ == "__main__":
    main()
