"""The one-pass floor of the profile benchmark: the seconds it takes just to read the bytes once.

Measured, not assumed: the memory bandwidth is the best of a few timed ``numpy.sum`` reads of an
array far larger than the caches, one slice per core in threads (numpy releases the GIL in the
reduction), so it is the bandwidth this process can draw with all its cores. A family's floor is
the bytes of the columns it reads divided by that bandwidth; a tool's fraction of the floor is
floor seconds / its seconds (1.0 would be reading every byte once and doing nothing else).
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from synthcap_assets.bench.families import CATEGORICAL_FAMILIES, FAMILIES


def memory_bandwidth(megabytes: int = 512, repeats: int = 5, workers: int | None = None) -> float:
    """Bytes per second read by summing a ``megabytes`` float64 array across ``workers``."""
    workers = workers or len(os.sched_getaffinity(0))
    data = np.ones(megabytes * 2**20 // 8)
    parts = np.array_split(data, workers)
    best = float("inf")
    with ThreadPoolExecutor(workers) as pool:
        for _ in range(repeats):
            started = time.perf_counter()
            list(pool.map(np.sum, parts))
            best = min(best, time.perf_counter() - started)
    return data.nbytes / best


def family_floors(numeric_bytes: int, categorical_bytes: int, bandwidth: float) -> dict[str, float]:
    """Each family's floor in seconds: the bytes of the columns it reads, once."""
    return {
        f: (categorical_bytes if f in CATEGORICAL_FAMILIES else numeric_bytes) / bandwidth
        for f in FAMILIES
    }
