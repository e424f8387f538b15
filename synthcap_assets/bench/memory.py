"""Process memory readings for the benchmark workers (Linux ``/proc``).

The high-water mark (VmHWM), reset through ``/proc/self/clear_refs``, sees native allocations
that tracemalloc cannot (polars, DuckDB, XLA, Delta writers).
"""

from __future__ import annotations

from pathlib import Path

STATUS = Path("/proc/self/status")


def memory_mb(field: str) -> float:
    """A ``/proc/self/status`` field (``VmRSS``, ``VmHWM``, ...) in MiB."""
    for line in STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in {STATUS}")


def reset_peak() -> None:
    """Reset the process's high-water mark to its current size."""
    Path("/proc/self/clear_refs").write_text("5")
