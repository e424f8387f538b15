"""One benchmark measurement in a fresh process: build the table, reset the peak-memory mark,
run one tool's statistic families and its whole set, print the timings as JSON.

A process per tool keeps one tool's caches and allocator state from flattering another, and
lets the Linux high-water mark (VmHWM, reset through /proc/self/clear_refs) measure native
allocations that tracemalloc cannot see (polars, DuckDB, XLA).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import polars as pl

from synthcap_assets.bench.data import CATEGORICAL_COLUMNS, NUMERIC_COLUMNS, make_table
from synthcap_assets.bench.families import ToolRun, run_families
from synthcap_assets.bench.memory import memory_mb, reset_peak


def tool_run(tool: str) -> Callable[[pl.DataFrame], ToolRun]:
    """The function that prepares ``tool``'s run on a table."""
    from synthcap_assets.bench import peers

    if tool.startswith("synthcap"):
        from synthcap_assets.bench import synthcap_profile

        return (
            synthcap_profile.exact_run if tool == "synthcap-exact" else synthcap_profile.sketch_run
        )
    return {
        "polars": peers.polars_run,
        "polars-exact": lambda df: peers.polars_run(df, exact=True),
        "duckdb": peers.duckdb_run,
        "duckdb-exact": lambda df: peers.duckdb_run(df, exact=True),
        "numpy": peers.numpy_run,
    }[tool]


def measure(tool: str, rows: int, seed: int, warmup_rows: int) -> dict:
    make = tool_run(tool)
    # Imports and compilation outside the clock. synthcap's kernels compile per shape bucket,
    # so they warm up on a table of the measured size (same shapes, other values).
    warm = rows if tool.startswith("synthcap") else warmup_rows
    if warm:
        run_families(make(make_table(warm, seed + 1)))
    table = make_table(rows, seed)
    before = memory_mb("VmRSS")
    reset_peak()
    started = time.perf_counter()
    run = make(table)
    setup = time.perf_counter() - started
    result = run_families(run)
    result.update(
        tool=tool,
        rows=rows,
        setup_seconds=setup,
        peak_mb=max(0.0, memory_mb("VmHWM") - before),
        table_mb=table.estimated_size("mb"),
        numeric_bytes=int(table.select(NUMERIC_COLUMNS).estimated_size()),
        categorical_bytes=int(table.select(CATEGORICAL_COLUMNS).estimated_size()),
        notes=run.notes,
    )
    if tool == "synthcap":
        from synthcap_assets.bench.synthcap_profile import measured_bounds

        result["bounds"] = measured_bounds(table)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tool")
    parser.add_argument("rows", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup-rows", type=int, default=10_000)
    args = parser.parse_args()
    print(json.dumps(measure(args.tool, args.rows, args.seed, args.warmup_rows)))


if __name__ == "__main__":
    main()
