#!/usr/bin/env python3
"""Every broken input of tests/data/bad/ (listed in EXPECTED.tsv with its exit code and the
message it must give) is refused with that code and message, names no internal error, and
leaves nothing behind in the working directory. Inputs are read by check_input (the run's own
readers without LibTorch; under the sanitizers in the CS_TORCH_FREE build); study files (by
`validate` and `run`) and command lines also by the carbonsweep binary when it is given."""
import argparse
import concurrent.futures
import os
import re
import shlex
import subprocess
import sys
import tempfile


# A results file that HDF5 loops on (found by fuzzing) must be cut off by the read limit.
ENV = dict(os.environ, CARBONSWEEP_READ_TIMEOUT="5")


def run(command, cwd):
    before = set(os.listdir(cwd))
    p = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, errors="replace", timeout=120)
    left = set(os.listdir(cwd)) - before
    return p, left


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checker", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--carbonsweep")
    ap.add_argument("--sanitized", action="store_true",
                    help="check_input runs under ASan: skip inputs marked unsanitized (HDF5's own memory errors)")
    a = ap.parse_args()
    corpus = os.path.abspath(a.corpus)
    cases = []
    for line in open(os.path.join(corpus, "EXPECTED.tsv")):
        if line.startswith("#") or not line.strip():
            continue
        path, code, pattern, *flags = line.rstrip("\n").split("\t")
        cases.append((path, int(code), pattern, flags))
    listed = {c[0] for c in cases}
    on_disk = {os.path.relpath(os.path.join(d, f), corpus) for d, _, fs in os.walk(corpus) for f in fs} - {"EXPECTED.tsv"}
    assert listed == on_disk, f"listed but missing: {listed - on_disk}; on disk but not listed: {on_disk - listed}"

    runs = []  # (path, command, code, pattern)
    for path, code, pattern, flags in cases:
        kind = path.split("/")[0]
        if a.sanitized and "unsanitized" in flags:
            continue  # ASan reports the memory error inside HDF5 itself before our guard can
        if kind == "cli":
            if a.carbonsweep:
                args = open(os.path.join(corpus, path)).read().strip().replace("{corpus}", corpus)
                runs.append((path, [a.carbonsweep, *shlex.split(args)], code, pattern))
        else:
            runs.append((path, [a.checker, kind, os.path.join(corpus, path)], code, pattern))
            if kind == "study" and a.carbonsweep:  # refused alike before anything runs
                runs.append((path, [a.carbonsweep, "validate", os.path.join(corpus, path)], code, pattern))
                runs.append((path, [a.carbonsweep, "run", os.path.join(corpus, path), "--progress", "off"], code,
                             pattern))

    def check(item):
        path, command, code, pattern = item
        with tempfile.TemporaryDirectory() as cwd:
            p, left = run(command, cwd)
        problems = []
        if p.returncode != code:
            problems.append(f"exit {p.returncode}, expected {code}")
        if not re.search(pattern, p.stderr):
            problems.append(f"stderr does not match /{pattern}/")
        if re.search(r"internal error|AddressSanitizer|runtime error|terminate called", p.stderr):
            problems.append("an internal error or a sanitizer report")
        if left:
            problems.append(f"left behind: {sorted(left)}")
        if problems:
            return f"{path}: {' '.join(command[:2])}: {'; '.join(problems)}\n    stderr: {p.stderr.strip()[-400:]}"
        return None

    # Each run has its own empty folder, so they run side by side (one per core).
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        failures = [f for f in pool.map(check, runs) if f]
    ran = len(runs)
    print(f"{len(cases)} broken inputs, {ran} runs, {len(failures)} failed")
    for f in failures:
        print(f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
