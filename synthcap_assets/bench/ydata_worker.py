"""ydata-profiling's measurement, run by ``ydata_env`` inside ydata's own environment.

``python ydata_worker.py TABLE.parquet``: reads the table with pandas, warms the imports on
10k rows outside the clock, resets the Linux peak-memory mark, builds the description set in
minimal mode (Pearson, Spearman and Cramér's V on; no HTML) and prints seconds and peak memory
as JSON. Imports nothing of synthcap (it is not installed there).
"""

import json
import sys
import time
from pathlib import Path


def _mb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def describe(frame):
    from ydata_profiling import ProfileReport

    report = ProfileReport(
        frame,
        minimal=True,
        progress_bar=False,
        correlations={
            "pearson": {"calculate": True},
            "spearman": {"calculate": True},
            "cramers": {"calculate": True},
        },
    )
    return report.get_description()


def main(path):
    import pandas as pd

    frame = pd.read_parquet(path)
    describe(frame.head(10_000))
    before = _mb("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    started = time.perf_counter()
    describe(frame)
    seconds = time.perf_counter() - started
    method = "ydata-profiling minimal mode description set (not split by family)"
    print(
        json.dumps(
            {
                "seconds": seconds,
                "accuracy": "exact",
                "peak_mb": max(0.0, _mb("VmHWM") - before),
                "families": {"all": {"seconds": seconds, "accuracy": "exact", "method": method}},
                "total_is": "one run of the whole set",
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
