"""Measure one large partition profiled both ways: in-process (files one after another) and
as one Dask task per Delta file on a LocalCluster; prints seconds and peak memory per process.

    .venv/bin/python infra/measure_split.py --rows 100_000_000 --files 20 --workers 2
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from deltalake import write_deltalake


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, unlike ru_maxrss, which a
    spawned worker inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    root = args.dir or tempfile.mkdtemp(prefix="split-")
    per_file = args.rows // args.files
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    if not (Path(root) / "_delta_log").exists():  # else: measure the table already there
        for _ in range(args.files):
            x = rng.standard_t(3, per_file)
            x[rng.random(per_file) < 0.01] = np.nan
            write_deltalake(root, pa.table({"x": x}), mode="append")
    print(f"{args.rows:,} rows in {args.files} files: {time.perf_counter() - started:.1f}s")

    from synthcap_assets.kernels.profile import finalize, merge_many
    from synthcap_assets.profile.files import delta_files, profile_files

    files = delta_files(root)
    base = _peak_mb()
    t = time.perf_counter()
    parts = profile_files(files, ["x"])
    merged = merge_many([p.state for p in parts])
    single_s = time.perf_counter() - t
    stats = finalize(merged)
    print(
        f"in-process: {single_s:.1f}s, peak RSS {_peak_mb():.0f} MB (before {base:.0f} MB), "
        f"per file {np.mean([p.seconds for p in parts]):.2f}s; "
        f"count {stats.moments['count'][0]:.0f}"
    )
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("synthcap_assets.profile.files"))
        idle = client.run(_peak_mb)
        t = time.perf_counter()
        parts = profile_files(files, ["x"], client=client)
        merged = merge_many([p.state for p in parts])
        split_s = time.perf_counter() - t
        peaks = client.run(_peak_mb)
        per_file = [p.seconds for p in parts]
        print(
            f"dask x{args.workers}: {split_s:.1f}s, per task {np.mean(per_file):.2f}s "
            f"(max {max(per_file):.2f}s), peak RSS per worker "
            + ", ".join(f"{peaks[w]:.0f} MB (idle {idle[w]:.0f} MB)" for w in peaks)
        )
        print(
            f"estimate at N workers with a core each: ~{sum(per_file):.0f}s / N "
            f"+ merge; floor {max(per_file):.1f}s (one file)"
        )


if __name__ == "__main__":
    main()
