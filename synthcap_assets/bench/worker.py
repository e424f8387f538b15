"""One benchmark measurement in a fresh process: build the table, reset the peak-memory mark,
run one tool, print seconds and the extra peak memory as JSON.

A process per tool keeps one tool's caches and allocator state from flattering another, and
lets the Linux high-water mark (VmHWM, reset through /proc/self/clear_refs) measure native
allocations that tracemalloc cannot see (polars, DuckDB, XLA).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from synthcap_assets.bench import peers
from synthcap_assets.bench.data import make_table, table_megabytes
from synthcap_assets.bench.memory import memory_mb, reset_peak


def tool_function(tool: str) -> Callable:
    if tool == "synthcap":
        from synthcap_assets.bench.synthcap_profile import synthcap_stats

        return synthcap_stats
    return {
        "polars": peers.polars_stats,
        "duckdb": peers.duckdb_stats,
        "numpy": peers.numpy_stats,
        "ydata-profiling": peers.ydata_stats,
    }[tool]


def measure(tool: str, rows: int, seed: int, warmup_rows: int) -> dict:
    function = tool_function(tool)
    # Imports and compilation outside the clock. synthcap's kernels compile per shape bucket,
    # so they warm up on a table of the measured size (same shapes, other values).
    warm = rows if tool == "synthcap" else warmup_rows
    if warm:
        function(make_table(warm, seed + 1))
    table = make_table(rows, seed)
    before = memory_mb("VmRSS")
    reset_peak()
    started = time.perf_counter()
    function(table)
    seconds = time.perf_counter() - started
    peak = memory_mb("VmHWM")
    return {
        "tool": tool,
        "rows": rows,
        "seconds": seconds,
        "peak_mb": max(0.0, peak - before),
        "table_mb": table_megabytes(table),
    }


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
