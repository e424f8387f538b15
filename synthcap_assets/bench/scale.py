"""``synthcap bench profile --scale``: how cost grows with rows, from Delta files on disk.

For each size (1M, 10M, 100M rows by default) the bench table is written straight to a Delta
table, ``FILE_ROWS`` rows per data file, chunk by chunk (never whole in memory), under
``.bench_envs/scale/`` (reused while it holds that many rows). Then, each tool in its own
process, the per-column families that every tool can run from files:

- ``synthcap``: the production per-file reader (``profile.files.profile_delta_files``, the one
  the Dask split runs as one task per file), one file's columns in memory at a time, states
  merged: moments, quantiles (rank-bounded), histograms (from the summaries), distinct.
- ``polars``: ``scan_delta`` and ONE plan (moments, ``quantile`` lists, ``approx_n_unique``) on
  the streaming engine.
- ``duckdb``: the same data files as an Arrow dataset (``pyarrow.dataset``; no DuckDB extension
  is downloaded), ONE query (moments, ``approx_quantile``, ``approx_count_distinct``).

Correlations, Cramér's V and top values are not part of the scale runs (every tool would need
a second pass; the in-memory bench measures them). Peak memory is the Linux high-water mark
above the process's size before the run (nothing is loaded beforehand). A tool that fails at a
size (killed out of memory, an error, past ``TOOL_TIMEOUT_SECONDS``) gets "cannot run at that
size: <cause>" in its row, not a crash of the bench.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from synthcap_assets.bench.data import NUMERIC_COLUMNS, PROBS, make_table
from synthcap_assets.bench.memory import memory_mb, reset_peak

SCALE_ROWS = (1_000_000, 10_000_000, 100_000_000)
FILE_ROWS = 1_000_000
SCALE_TOOLS = ("synthcap", "polars", "duckdb")
# One tool's run at one size; past it the row says the tool cannot run at that size.
TOOL_TIMEOUT_SECONDS = 3600.0
CANNOT_RUN = "cannot run at that size"
FAMILIES = {
    "synthcap": ["moments", "quantiles", "histograms", "distinct"],
    "polars": ["moments", "quantiles", "distinct"],
    "duckdb": ["moments", "quantiles", "distinct"],
}


def scale_folder(rows: int, root: Path | None = None) -> Path:
    return (root or Path(".bench_envs/scale")).resolve() / f"rows_{rows}"


def write_delta(
    rows: int, root: Path | None = None, seed: int = 0, file_rows: int = FILE_ROWS
) -> str:
    """The bench table of ``rows`` rows as a Delta table, ``file_rows`` rows per data file."""
    from deltalake import DeltaTable, write_deltalake

    folder = scale_folder(rows, root)
    marker = folder / "_synthcap_rows"
    if marker.exists() and marker.read_text() == f"{rows} {file_rows}":
        return str(folder)
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    done, part = 0, 0
    while done < rows:
        chunk = make_table(min(file_rows, rows - done), seed + part)
        write_deltalake(str(folder), chunk.to_arrow(), mode="append" if part else "overwrite")
        done, part = done + chunk.height, part + 1
    DeltaTable(str(folder))  # readable
    marker.write_text(f"{rows} {file_rows}")
    return str(folder)


def _synthcap(uri: str) -> object:
    from synthcap_assets.kernels.profile import finalize
    from synthcap_assets.profile.files import profile_delta_files

    return finalize(profile_delta_files(uri, NUMERIC_COLUMNS), PROBS)


def _polars(uri: str) -> object:
    import polars as pl

    exprs = []
    for c in NUMERIC_COLUMNS:
        col = pl.col(c)
        exprs += [
            col.count().alias(f"{c}:count"),
            col.sum().alias(f"{c}:sum"),
            col.mean().alias(f"{c}:mean"),
            col.var().alias(f"{c}:var"),
            col.skew().alias(f"{c}:skew"),
            col.kurtosis().alias(f"{c}:kurt"),
            col.min().alias(f"{c}:min"),
            col.max().alias(f"{c}:max"),
            col.quantile(list(PROBS), "linear").alias(f"{c}:q"),
            col.drop_nulls().approx_n_unique().alias(f"{c}:distinct"),
        ]
    return pl.scan_delta(uri).select(exprs).collect(engine="streaming")


def _duckdb(uri: str) -> object:
    import duckdb
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

    files = DeltaTable(uri).file_uris()
    con = duckdb.connect()
    con.register("t", ds.dataset(files, format="parquet"))
    probs = "[" + ", ".join(str(p) for p in PROBS) + "]"
    selects = []
    for c in NUMERIC_COLUMNS:
        selects += [
            f"count({c})",
            f"sum({c})",
            f"avg({c})",
            f"var_samp({c})",
            f"skewness({c})",
            f"kurtosis({c})",
            f"min({c})",
            f"max({c})",
            f"approx_quantile({c}, {probs})",
            f"approx_count_distinct({c})",
        ]
    return con.sql(f"select {', '.join(selects)} from t").fetchall()


RUNNERS = {"synthcap": _synthcap, "polars": _polars, "duckdb": _duckdb}


def measure(tool: str, uri: str) -> dict:
    """One tool's run over the Delta table (call in a fresh process)."""
    if tool == "synthcap":
        from synthcap_assets.profile.files import profile_delta_files  # noqa: F401  imports
    before = memory_mb("VmRSS")
    reset_peak()
    started = time.perf_counter()
    RUNNERS[tool](uri)
    return {
        "tool": tool,
        "seconds": time.perf_counter() - started,
        "peak_mb": max(0.0, memory_mb("VmHWM") - before),
        "families": FAMILIES[tool],
    }


def run_tool(tool: str, uri: str, timeout: float = TOOL_TIMEOUT_SECONDS) -> dict:
    """One tool's row, measured in a fresh process; a tool that fails, is killed (out of
    memory, say) or runs past ``timeout`` gets ``error: "cannot run at that size: <cause>"``."""
    command = [sys.executable, "-m", "synthcap_assets.bench.scale", tool, uri]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "error": f"{CANNOT_RUN}: did not finish within {timeout:.0f} s"}
    if done.returncode == 0:
        return json.loads(done.stdout.strip().splitlines()[-1])
    return {"tool": tool, "error": f"{CANNOT_RUN}: {failure_cause(done.returncode, done.stderr)}"}


def failure_cause(returncode: int, stderr: str) -> str:
    """Why a tool's process failed: the signal that killed it, or its last error line."""
    if returncode < 0:
        name = signal.Signals(-returncode).name
        oom = " (the kernel's out-of-memory killer sends it)" if name == "SIGKILL" else ""
        return f"killed by {name}{oom}"
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else f"exit status {returncode}"


def run_scale_bench(
    sizes: tuple[int, ...] = SCALE_ROWS,
    root: Path | None = None,
    file_rows: int = FILE_ROWS,
    timeout: float = TOOL_TIMEOUT_SECONDS,
) -> dict:
    """Every tool at every size; a failed run is a row with its error."""
    rows_out = []
    for rows in sizes:
        uri = write_delta(rows, root, file_rows=file_rows)
        files = len(list(Path(uri).glob("*.parquet")))
        for tool in SCALE_TOOLS:
            rows_out.append({**run_tool(tool, uri, timeout), "rows": rows, "files": files})
    return {"bench": "profile-scale", "results": rows_out, "file_rows": file_rows}


def format_scale(document: dict) -> str:
    lines = [
        "profile benchmark, scale: Delta files of "
        f"{document['file_rows']:,} rows each, per-column families",
        f"{'rows':>12}{'files':>7}  {'tool':<10}{'seconds':>9}{'peak MB':>9}  families",
    ]
    for r in document["results"]:
        if "error" in r:
            lines.append(f"{r['rows']:>12,}{r['files']:>7}  {r['tool']:<10}  {r['error']}")
            continue
        lines.append(
            f"{r['rows']:>12,}{r['files']:>7}  {r['tool']:<10}{r['seconds']:>9.2f}"
            f"{r['peak_mb']:>9.0f}  {', '.join(r['families'])}"
        )
    return "\n".join(lines)


def plot_scale(document: dict, path: Path) -> Path:
    """Seconds and peak memory against rows, one line per tool (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for tool in SCALE_TOOLS:
        ok = [r for r in document["results"] if r["tool"] == tool and "error" not in r]
        left.plot([r["rows"] for r in ok], [r["seconds"] for r in ok], "o-", label=tool)
        right.plot([r["rows"] for r in ok], [r["peak_mb"] for r in ok], "o-", label=tool)
    for axis, label in ((left, "seconds"), (right, "peak memory (MB)")):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("rows")
        axis.set_ylabel(label)
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    fig.suptitle("synthcap bench profile --scale (Delta files, per-column families)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], sys.argv[2])))
