#!/usr/bin/env python3
"""`carbonsweep report` and `export` on a real results file; headless Chromium renders the
HTML, and the screenshot must not be blank. Broken results files and report directories get
one line and exit 2."""
import argparse
import csv
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib

import h5py


def png_ink_fraction(path):
    """The fraction of decompressed (still filtered) PNG bytes that are neither 0 nor 255: a blank
    page is 255 unfiltered and 0 after the Sub/Up filters, so it scores about 0."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return sum(1 for b in raw[::7] if b not in (0, 255)) / len(raw[::7])


def expect_bad(cmd, pattern, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, f"{what}: exit {r.returncode}: {r.stderr}"
    assert len(lines) == 1, f"{what}: {len(lines)} lines: {r.stderr}"
    assert re.search(pattern, r.stderr), f"{what}: {r.stderr}"
    print(f"ok   {what}: {lines[0]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--carbonsweep", required=True)
    ap.add_argument("--study", required=True)
    a = ap.parse_args()
    cs = a.carbonsweep
    with tempfile.TemporaryDirectory() as tmp:
        results = os.path.join(tmp, "r.h5")
        subprocess.run([cs, "run", a.study, "-o", results], check=True, capture_output=True, timeout=300)
        out = os.path.join(tmp, "report")
        r = subprocess.run([cs, "report", results, "-o", out], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        md = open(os.path.join(out, "report.md")).read()
        html = open(os.path.join(out, "report.html")).read()
        for heading in ("## Strategies", "## Sites", "## Statistics", "## Accuracy against energy"):
            assert heading in md, heading
        assert re.search(r"\| bayes \| 30 \|", md), "a row per arm with its trial count"
        assert "Kruskal-Wallis" in md and "all trials at" in md
        assert html.count("<svg") == 3, f"{html.count('<svg')} inline plots"
        assert "http://" not in html.replace("http://www.w3.org", ""), "the HTML must not load anything"

        chromium = shutil.which("chromium")
        assert chromium, "chromium is installed by scripts/install-deps"
        shot = os.path.join(tmp, "shot.png")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        f"--user-data-dir={tmp}/chromium", f"--screenshot={shot}", "--window-size=1100,2400",
                        "file://" + os.path.join(out, "report.html")], capture_output=True, timeout=120)
        ink = png_ink_fraction(shot)
        print(f"screenshot ink fraction {ink:.3f}")
        assert ink > 0.01, "the rendered report looks blank"

        # A real results file from the GPU machine (tests/data/gpu/README.md): the report names the
        # GPU and its driver, how the steps ran, and NVML's counter against its polled power.
        gpu_file = os.path.join(os.path.dirname(__file__), "..", "data", "gpu", "h200_two_workers_one_gpu.h5")
        gpu_out = os.path.join(tmp, "gpu-report")
        r = subprocess.run([cs, "report", gpu_file, "-o", gpu_out], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        gpu_md = open(os.path.join(gpu_out, "report.md")).read()
        assert "GPU: 0 GPU-361ace64-afb6-b0c7-dff8-b9d078087df6 NVIDIA H200 (driver 580.159.04, CUDA 13.0)" in gpu_md
        assert "Of 8 trials on a GPU, the training step ran as a CUDA graph in 8" in gpu_md
        assert re.search(r"counter over its polled power: median 0\.9\d\d", gpu_md), gpu_md
        assert "GPU:" not in md, "a CPU study has no GPU paragraph"

        subprocess.run([cs, "export", results, "--format", "csv", "-o", os.path.join(tmp, "t.csv")], check=True)
        rows = list(csv.DictReader(open(os.path.join(tmp, "t.csv"))))
        assert len(rows) == 90 and {"x1", "x2", "co2_g", "energy_j", "arm"} <= set(rows[0])
        with h5py.File(results) as f:
            missing = set(f["trials"].dtype.names) - set(rows[0])
        assert not missing, f"the CSV export lacks /trials columns {missing}"
        subprocess.run([cs, "export", results, "--format", "codecarbon", "-o", os.path.join(tmp, "e.csv")], check=True)
        cc = list(csv.reader(open(os.path.join(tmp, "e.csv"))))
        assert cc[0][:6] == ["timestamp", "project_name", "run_id", "duration", "emissions", "emissions_rate"]
        assert all(len(row) == len(cc[0]) == 31 for row in cc) and len(cc) == 91
        with h5py.File(results) as f:
            co2 = sorted(float(x) for x in f["trials"]["co2_g"])
        assert abs(sorted(float(r[4]) for r in cc[1:])[0] * 1000 - co2[0]) < 1e-9, "emissions are kg"
        for r in cc[1:]:  # CodeCarbon's meaning: device energy = power x duration; PUE only in the total
            duration, cpu_power, cpu_energy, total, pue = float(r[3]), float(r[6]), float(r[9]), float(r[12]), float(r[30])
            assert abs(cpu_energy - cpu_power * duration / 3.6e6) <= 1e-9 + 1e-6 * cpu_energy, r
            assert abs(total - cpu_energy * pue) <= 1e-9 + 1e-6 * total, r

        # A real file whose site was priced outside its trace (every trial's CO2 is NaN, as
        # documented): the report must finish and count the missing values, not spin.
        old_trace = os.path.join(tmp, "old.csv")
        open(old_trace, "w").write("Time,Carbon Intensity\n2019-01-01 00:00:00,100\n2019-01-01 01:00:00,200\n")
        outside = os.path.join(tmp, "outside.toml")
        open(outside, "w").write(
            '[study]\nname = "outside"\nbudget_trials = 12\n[search]\nstrategy = "random"\n'
            '[search.space.x1]\ntype = "float"\nlow = -5.0\nhigh = 10.0\n'
            '[search.space.x2]\ntype = "float"\nlow = 0.0\nhigh = 15.0\n'
            '[model]\nfamily = "function"\nfunction = "branin"\n'
            '[[sites]]\nname = "old"\npue = 1.1\ntrace = "old.csv"\n')
        nan_results = os.path.join(tmp, "new", "folder", "nan.h5")  # a missing output folder is created
        made = subprocess.run([cs, "run", outside, "-o", nan_results], capture_output=True, text=True, timeout=300)
        assert "note: created the output folder " + os.path.join(tmp, "new", "folder") in made.stderr, made.stderr
        with h5py.File(nan_results) as f:
            assert all(x != x for x in f["trials"]["co2_g"]), "every trial is priced outside the trace"
        r = subprocess.run([cs, "report", nan_results, "-o", os.path.join(tmp, "nan-report")], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        nan_md = open(os.path.join(tmp, "nan-report", "report.md")).read()
        assert re.search(r"^\| CO2 \| site \| 1 \| 0 \| 12 \|", nan_md, re.M), "12 missing CO2 values counted"
        assert re.search(r"^\| old \| 12 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \| - \| 12 \|", nan_md, re.M), \
            "the sites table counts the 12 unpriced trials and claims no intensity"
        # The intensity column is gCO2 per facility kWh (energy-weighted), not a mean over trials.
        row = re.search(r"^\| fr \| 90 \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| 0 \|", md, re.M)
        assert row, "the fr row of the sites table"
        facility_kwh, co2, per_kwh = float(row.group(2)), float(row.group(3)), float(row.group(4))
        assert abs(per_kwh - co2 / facility_kwh) <= 0.1 + 0.01 * per_kwh, row.group(0)

        # Broken inputs.
        empty = os.path.join(tmp, "empty.h5")
        open(empty, "w").close()
        expect_bad([cs, "report", empty, "-o", out], "empty.h5", "empty results file")
        truncated = os.path.join(tmp, "truncated.h5")
        with open(results, "rb") as src, open(truncated, "wb") as dst:
            dst.write(src.read()[: os.path.getsize(results) // 2])
        expect_bad([cs, "report", truncated, "-o", out], "truncated.h5", "truncated results file")
        future = os.path.join(tmp, "future.h5")
        shutil.copy(results, future)
        with h5py.File(future, "a") as f:
            f.attrs["schema_version"] = 99
        expect_bad([cs, "report", future, "-o", out], "schema_version 99", "future schema_version")
        blocker = os.path.join(tmp, "a-file")
        open(blocker, "w").close()
        expect_bad([cs, "report", results, "-o", os.path.join(blocker, "r")], "report directory",
                   "unwritable report directory")
        expect_bad([cs, "export", results, "--format", "parquet"], "parquet", "unknown export format")
        other = os.path.join(tmp, "other.toml")
        open(other, "w").write(open(a.study).read().replace('seed = 7', 'seed = 8'))
        expect_bad([cs, "run", other, "-o", results, "--resume"], "different study", "resume with another study")
    print("ok")


if __name__ == "__main__":
    main()
