"""One large partition profiled by the per-file reader in one process vs split over a Dask
``LocalCluster``: seconds, peak memory per worker, and the time k workers would take.

    python -m synthcap_assets.bench.scale_split --rows 100000000 --workers 2 --json split.json

The table is the scale bench's (``bench.scale.write_delta``: ``FILE_ROWS`` rows per Delta file,
written first if absent). Both modes run ``profile.files.profile_files`` over the numeric
columns (the scale bench's synthcap families), each in a fresh process:

- ``single``: one file after another in this process; its peak is this process's high-water
  mark above its size once the imports are done;
- ``dask``: ``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)``, one task
  per file; each worker's peak is its own high-water mark (``/proc/self/status`` read on the
  worker) above its size after the imports, read the same way.

A worker holds one file's columns at a time, so its peak is bounded by one file's share
(``FILE_ROWS`` x columns x ~70 bytes: Parquet decode, the float64 columns, the padded kernel
block and XLA's buffers) plus its states (a few KiB per column and file), whatever the
partition's size. The estimate for k workers schedules the measured per-file task times
longest-first on k workers and adds the measured merge: on a machine with fewer cores than
workers (2 here) the split cannot save time, the estimate says where it would.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from synthcap_assets.bench.data import NUMERIC_COLUMNS
from synthcap_assets.bench.memory import memory_mb, reset_peak
from synthcap_assets.bench.scale import FILE_ROWS, write_delta

ESTIMATE_WORKERS = (1, 2, 4, 8, 16, 32, 64)
MODULE = "synthcap_assets.bench.scale_split"


def _prepare() -> None:
    """Imports (and XLA's start-up) before the baseline, on a worker or here."""
    from synthcap_assets.profile.files import profile_files  # noqa: F401
    from synthcap_resources.compute import runtime

    runtime()


def _baseline() -> float:
    _prepare()
    reset_peak()
    return memory_mb("VmRSS")


def _peak() -> float:
    return memory_mb("VmHWM")


def _merge(parts: list) -> float:
    from synthcap_assets.bench.data import PROBS
    from synthcap_assets.kernels.profile import finalize, merge_many

    started = time.perf_counter()
    finalize(merge_many([p.state for p in parts]), PROBS)
    return time.perf_counter() - started


def measure_single(uri: str) -> dict:
    """The per-file reader in this process, one file after another."""
    from synthcap_assets.profile.files import delta_files, profile_files

    before = _baseline()
    started = time.perf_counter()
    parts = profile_files(delta_files(uri), NUMERIC_COLUMNS)
    merge = _merge(parts)
    return {
        "mode": "single",
        "seconds": time.perf_counter() - started,
        "merge_seconds": merge,
        "peak_mb": _peak() - before,
        "peak_rss_mb": _peak(),
        "task_seconds": [p.seconds for p in parts],
        "files": len(parts),
    }


def measure_dask(uri: str, workers: int) -> dict:
    """The per-file reader as one task per file on a ``workers``-process LocalCluster."""
    from distributed import Client, LocalCluster, get_task_stream

    from synthcap_assets.profile.files import delta_files, profile_files

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        before = client.run(_baseline)
        client_before = _baseline()
        started = time.perf_counter()
        with get_task_stream(client) as stream:
            parts = profile_files(delta_files(uri), NUMERIC_COLUMNS, client=client)
        merge = _merge(parts)
        seconds = time.perf_counter() - started
        peaks = client.run(_peak)
    tasks = Counter(str(t.get("worker")) for t in stream.data)
    per_worker = {a: peaks[a] - before[a] for a in peaks}
    return {
        "mode": "dask",
        "workers": workers,
        "seconds": seconds,
        "merge_seconds": merge,
        "peak_mb_per_worker": sorted(per_worker.values()),
        "peak_rss_mb_per_worker": sorted(peaks.values()),
        "client_peak_mb": _peak() - client_before,
        "tasks_per_worker": sorted(tasks.values()),
        "task_seconds": [p.seconds for p in parts],
        "files": len(parts),
    }


def estimate_seconds(task_seconds: list[float], merge_seconds: float, workers: int) -> float:
    """Longest-first schedule of the per-file task times on ``workers`` workers, plus the
    merge: the split's time where each worker has a core of its own."""
    loads = [0.0] * workers
    for t in sorted(task_seconds, reverse=True):
        loads[loads.index(min(loads))] += t
    return max(loads) + merge_seconds


def run_split_bench(
    rows: int, workers: int, root: Path | None = None, file_rows: int = FILE_ROWS
) -> dict:
    """Both modes, each in a fresh process, and the estimate for ``ESTIMATE_WORKERS``."""
    uri = write_delta(rows, root, file_rows=file_rows)
    results = []
    for mode in ("single", "dask"):
        command = [sys.executable, "-m", MODULE, "--measure", mode, uri, str(workers)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"split bench, {mode}: {done.stderr.strip()[-800:]}")
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    single = results[0]
    estimate = {
        k: estimate_seconds(single["task_seconds"], single["merge_seconds"], k)
        for k in ESTIMATE_WORKERS
    }
    return {
        "bench": "profile-scale-split",
        "rows": rows,
        "file_rows": file_rows,
        "columns": len(NUMERIC_COLUMNS),
        "results": results,
        "estimate_seconds": estimate,
    }


def format_split(document: dict) -> str:
    single, dask = document["results"]
    tasks = single["task_seconds"]
    lines = [
        f"{document['rows']:,} rows, {single['files']} Delta files of "
        f"{document['file_rows']:,} rows, {document['columns']} numeric columns",
        f"single process : {single['seconds']:8.1f} s, peak {single['peak_mb']:6.0f} MB above "
        f"its size ({single['peak_rss_mb']:.0f} MB RSS), merge {single['merge_seconds']:.2f} s",
        f"dask, {dask['workers']} workers: {dask['seconds']:8.1f} s, peak per worker "
        + ", ".join(f"{m:.0f}" for m in dask["peak_mb_per_worker"])
        + " MB above its size ("
        + ", ".join(f"{m:.0f}" for m in dask["peak_rss_mb_per_worker"])
        + f" MB RSS), client {dask['client_peak_mb']:.0f} MB",
        f"per-file task: median {sorted(tasks)[len(tasks) // 2]:.2f} s, "
        f"max {max(tasks):.2f} s (single process)",
        "estimated seconds on k workers with a core each: "
        + ", ".join(f"k={k}: {s:.1f}" for k, s in document["estimate_seconds"].items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", help="also write the results as JSON to this path")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)  # mode uri workers
    args = parser.parse_args(argv)
    if args.measure:
        mode, uri, workers = args.measure
        result = measure_single(uri) if mode == "single" else measure_dask(uri, int(workers))
        print(json.dumps(result))
        return 0
    document = run_split_bench(args.rows, args.workers)
    print(format_split(document))
    if args.json:
        Path(args.json).write_text(json.dumps(document, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
