#!/usr/bin/env python3
"""The layering of docs/architecture.md holds: a library's sources include only headers of the
libraries it links (directly or through them), only nodes/ includes torch, and only
orchestrator/ includes MPI. Reads the */CMakeLists.txt link lists and every #include."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
links = {}
for cmake in root.glob("*/CMakeLists.txt"):
    text = cmake.read_text()
    for name, body in re.findall(r"cs_library\((\w+)\s(.*?)\)", text, re.S):
        links.setdefault(name, set()).update(re.findall(r"cs::(\w+)", body))


def closure(lib, seen=None):
    seen = set() if seen is None else seen
    for dep in links.get(lib, ()):
        if dep not in seen:
            seen.add(dep)
            closure(dep, seen)
    return seen


problems = []
for lib in sorted(links):
    allowed = closure(lib) | {lib}
    for source in sorted((root / lib).glob("*.[ch]pp")):
        for number, line in enumerate(source.read_text().splitlines(), 1):
            m = re.match(r'#include [<"]([^>"]+)[>"]', line)
            if not m:
                continue
            header = m.group(1)
            top = header.split("/")[0]
            where = f"{source.relative_to(root)}:{number}"
            if (root / top).is_dir() and "/" in header and top not in allowed:
                problems.append(f"{where}: includes {header}, but cs::{lib} does not link cs::{top}")
            if header.startswith(("torch/", "ATen/", "c10/")) and lib != "nodes":
                problems.append(f"{where}: includes {header}; only nodes/ may include torch")
            if header == "mpi.h" and lib != "orchestrator":
                problems.append(f"{where}: includes mpi.h; only orchestrator/ may touch MPI")
for lib, deps in sorted(links.items()):
    if lib in closure(lib):
        problems.append(f"cs::{lib} links itself through {sorted(deps)}: a cycle")
print("\n".join(problems) or f"ok: {len(links)} libraries, every include within its links")
sys.exit(1 if problems else 0)
