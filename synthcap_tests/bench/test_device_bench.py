"""The kernel-only device benchmark (``synthcap_assets/bench/device.py``), run on JAX's CPU.

Each run is a subprocess of the venv's python in isolated mode (``-I``: no PYTHONPATH, no user
site, no script directory on sys.path) with the heavy packages a bare JAX machine lacks made
unimportable, so that what passes here also starts on a device machine that has only jax and
numpy and the working tree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "synthcap_assets" / "bench" / "device.py"
FAMILIES = {"moments", "registers", "level1", "summary", "pearson"}
# Not on a machine with JAX alone; the benchmark must run without any of them.
BLOCKED = (
    "polars",
    "dagster",
    "dagster_shared",
    "deltalake",
    "pyarrow",
    "numba",
    "llvmlite",
    "pandas",
    "duckdb",
    "scipy",
    "connectorx",
    "antlr4",
)
ENV = {"SYNTHCAP_JAX_PLATFORM": "cpu", "JAX_PLATFORMS": "cpu"}

# Runs ``code`` after making BLOCKED unimportable and importing jax; prints, as the last line,
# the third-party top-level modules imported after jax and the file moments_cpu came from.
DRIVER = """
import importlib.abc, json, runpy, sys
BLOCKED = set({blocked!r})
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"blocked for the test: {{name}}", name=name)
        return None
sys.meta_path.insert(0, Block())
import jax, jax.numpy
def third_party():
    return {{m.split(".")[0] for m in sys.modules}} - set(sys.stdlib_module_names)
before = third_party()
rc = 0
try:
{code}
except SystemExit as exc:
    rc = exc.code or 0
cpu = sys.modules.get("synthcap_assets.kernels.moments_cpu")
print(json.dumps({{
    "rc": rc,
    "new_modules": sorted(m for m in third_party() - before if not m.startswith("_")),
    "moments_cpu_file": getattr(cpu, "__file__", None),
}}))
"""


def run_isolated(code: str, tmp_path: Path) -> tuple[dict, str, str]:
    """``code`` (indented four spaces) in ``python -I`` with BLOCKED unimportable: (the
    driver's audit, stdout, stdout and stderr for messages)."""
    import os

    driver = DRIVER.format(blocked=BLOCKED, code=code)
    env = {**os.environ, **ENV}
    proc = subprocess.run(
        [sys.executable, "-I", "-c", driver],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    audit = json.loads(proc.stdout.strip().splitlines()[-1])
    return audit, proc.stdout, proc.stdout + proc.stderr


def test_device_bench_runs_with_jax_and_numpy_only(tmp_path: Path) -> None:
    out = tmp_path / "device.json"
    argv = [
        str(SCRIPT),
        "--rows",
        "200000",
        "--columns",
        "6",
        "--repeat",
        "2",
        "--bandwidth-mb",
        "128",
        "--json",
        str(out),
    ]
    code = f"    sys.argv = {argv!r}\n    runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    audit, _, log = run_isolated(code, tmp_path)
    assert audit["rc"] == 0, log
    # Nothing but the project's own packages beyond what `import jax` brings; the numba loops
    # are the benchmark's stand-ins, not the real modules.
    assert set(audit["new_modules"]) <= {"synthcap_assets", "synthcap_resources"}, audit
    assert audit["moments_cpu_file"] is None, audit

    report = json.loads(out.read_text())
    assert report["platform"] == "cpu" and report["device"]
    assert report["jax"] and report["x64"] is True  # x64 on the CPU, as the kernels' runtime
    assert report["dtypes"] == ["float32", "float64"]
    assert report["rows"] == 200_000 and report["padded_rows"] % 32768 == 0
    bandwidth = report["bandwidth"]
    assert bandwidth["gbps"] > 0 and bandwidth["bytes"] >= 128 * 2**20
    assert bandwidth["gbps"] == max(bandwidth["read_gbps"], bandwidth["copy_gbps"])
    seen = {(r["family"], r["dtype"]) for r in report["results"]}
    assert seen == {(f, d) for f in FAMILIES for d in report["dtypes"]}
    for row in report["results"]:
        itemsize = 4 if row["dtype"] == "float32" else 8
        table = 6 * report["padded_rows"] * itemsize
        assert row["seconds"] > 0 and row["median_s"] >= row["seconds"], row
        mask = 6 * report["padded_rows"] if row["family"] == "pearson" else 0
        assert row["bytes"] == table + mask, row
        assert row["gbps"] == pytest.approx(row["bytes"] / row["seconds"] / 1e9)
        assert 0 < row["fraction"] <= 1.5, row
        assert row["fraction"] == pytest.approx(row["gbps"] / bandwidth["gbps"])
        # moments, HLL, level-1 totals, knots within their bound, Pearson: all vs numpy float64
        assert row["check"] == "ok" and row["error"] is None, row
    moments64 = next(
        r for r in report["results"] if r["family"] == "moments" and r["dtype"] == "float64"
    )
    assert moments64["detail"]["mean_err_std"] <= 1e-10
    assert moments64["detail"]["var_rel_err"] <= 1e-10
    assert report["ok"] is True


CHECKS = """
    import numpy as np
    spec = importlib.util.spec_from_file_location("device_bench", {script!r})
    d = sys.modules["device_bench"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(d)
    d._SETTINGS["x64"] = False  # float32 states, as on an accelerator
    k = d.load_kernels()
    rows = 60000
    x = d.generate(5, rows, np.float32, 0.05, seed=3)
    st = k.moments.moments(x, rows)
    levels = (k.histogram.level_one(st.minimum, st.maximum),)
    xt = jax.numpy.transpose(x)
    results = {{
        "moments": st,
        "registers": k.distinct.registers(x),
        "level1": k.histogram.bucket_pass(x, levels),
        "summary": k.refine._refine(lambda lv: k.histogram.bucket_pass(x, lv),
                                    st.count, st.minimum, st.maximum),
        "pearson": k.correlation._pearson_sums(xt, jax.numpy.isfinite(xt)),
    }}
    host = np.asarray(x[:, :rows])
    clean = d.check_results(k, host, results, "float32")
    verdicts = {{"clean": {{f: v[0] for f, v in clean.items()}}}}
    std = np.nanstd(host.astype(np.float64), axis=1)
    summary, first = results["summary"]
    spread = st.maximum - st.minimum
    bad = {{
        "moments": st._replace(mean=st.mean + 3e-4 * std.astype(np.float32)),
        "registers": jax.numpy.zeros_like(results["registers"]),
        "level1": first._replace(count=first.count.at[:, 0].add(1)),
        "summary": (summary._replace(values=summary.values + 0.01 * spread[:, None]), first),
        "pearson": tuple(a * 1.001 if i == 4 else a for i, a in enumerate(results["pearson"])),
        # column 0 flat (m2 = 0): its pairs come out NaN where numpy has an r
        "pearson_nan": tuple(a.at[0].set(0.0) if i == 3 else a
                             for i, a in enumerate(results["pearson"])),
    }}
    for label, wrong in bad.items():
        family = label.split("_")[0]
        checks = d.check_results(k, host, {{**results, family: wrong}}, "float32")
        verdicts[label] = checks[family][0]
    print(json.dumps(verdicts))
"""


def test_device_checks_catch_wrong_results(tmp_path: Path) -> None:
    """The benchmark's checks pass on the kernels' results and fail on each family's result
    made slightly wrong: the "ok" of the run above means something."""
    code = "    import importlib.util\n" + CHECKS.format(script=str(SCRIPT)).strip("\n")
    audit, stdout, log = run_isolated(code, tmp_path)
    assert audit["rc"] == 0, log
    verdicts = json.loads(stdout.strip().splitlines()[-2])
    assert verdicts["clean"] == dict.fromkeys(FAMILIES, "ok"), verdicts
    for label in (*FAMILIES, "pearson_nan"):
        assert verdicts[label] == "FAIL", (label, verdicts)


def test_device_bench_module_entry() -> None:
    """``python -m synthcap_assets.bench.device`` where the package imports (the venv)."""
    proc = subprocess.run(
        [sys.executable, "-m", "synthcap_assets.bench.device", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--rows" in proc.stdout and "--json" in proc.stdout
