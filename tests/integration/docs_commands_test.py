#!/usr/bin/env python3
"""Every command line the README and docs/ show runs and exits 0, so the docs cannot drift:
each ```sh line and ```python block as written, in document order, and a quick variant of
every command of the README's synopsis. They run in a scratch folder that links the
project's studies/, data/, bench/ and scripts/ and the build, so relative paths hold."""
import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

# Commands that are not run here, and why.
SKIPPED = {
    "scripts/demo": "installs and builds first; its study runs below as the demo's own mpirun line",
    "scripts/test": "runs this very suite (CI runs it)",
}

# The README's synopsis, each with a quick concrete variant (they run after the blocks).
SYNOPSIS = [
    "build/carbonsweep --help",
    "build/carbonsweep run --help",
    "build/carbonsweep validate studies/demo.toml",
    "build/carbonsweep run studies/branin_arms.toml -o results/synopsis.h5 --threads 1 --force",
    "build/carbonsweep run studies/branin_arms.toml -o results/synopsis.h5 --resume",
    "build/carbonsweep report results/synopsis.h5 -o results/synopsis_report",
    "build/carbonsweep export results/synopsis.h5 --format csv -o results/synopsis.csv",
    "build/carbonsweep export results/synopsis.h5 --format codecarbon -o results/emissions.csv",
    "build/carbonsweep meters --seconds 1",
    "build/carbonsweep submit studies/demo.toml --dry-run -o results/submitted.h5",
    "build/carbonsweep simulate studies/policies_2020.toml --workers-per-site 2 --trials 60 --policy deferral "
    "--forecast oracle -o results/sim.h5 --force",
    "build/carbonsweep simulate studies/branin_arms.toml --workers-per-site 2 --trials 30 --cost-model "
    "results/synopsis.h5 -o results/sim2.h5 --force",
    "bench/orchestration.sh build 60",
]


def blocks(root):
    """(file, kind, text) for every ```sh and ```python block, in document order."""
    files = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    for path in files:
        for kind, text in re.findall(r"```(sh|bash|python)\n(.*?)```", open(path).read(), re.S):
            yield os.path.relpath(path, root), kind, text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    failures, ran = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("studies", "data", "bench", "scripts"):
            os.symlink(os.path.join(a.source, name), os.path.join(tmp, name))
        os.symlink(a.build, os.path.join(tmp, "build"))
        os.mkdir(os.path.join(tmp, "results"))

        def run(where, command, shell=True):
            nonlocal ran
            r = subprocess.run(command, shell=shell, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
            ran += 1
            if r.returncode != 0:
                failures.append(f"{where}: `{command if shell else command[-1][:60]}` exit {r.returncode}: "
                                f"{r.stderr.strip()[-600:]}")
            else:
                print(f"ok   {where}: {command if shell else '(python block)'}")

        # The demo's results first: README and docs snippets read them.
        run("README (scripts/demo)", "mpirun -n 4 --oversubscribe build/carbonsweep run studies/demo.toml")
        for where, kind, text in blocks(a.source):
            if kind == "python":
                run(where, ["/usr/bin/python3", "-c", text], shell=False)
                continue
            for line in text.splitlines():
                command = line.split("  #")[0].strip()
                if not command or command.startswith("#"):
                    continue
                if command in SKIPPED:
                    print(f"skip {where}: {command}: {SKIPPED[command]}")
                    continue
                if command.startswith("mpirun") and "--oversubscribe" not in command:
                    command = command.replace("mpirun", "mpirun --oversubscribe", 1)
                run(where, command)
        for command in SYNOPSIS:
            run("README synopsis", command)
    print(f"{ran} commands run, {len(failures)} failed")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
