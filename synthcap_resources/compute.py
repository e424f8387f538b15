"""The JAX runtime: which platform the kernels run on, their float precision, and shape buckets.

- Platform: ``SYNTHCAP_JAX_PLATFORM`` (``cpu``, ``gpu``, ``tpu``) or JAX's own choice (an
  accelerator when one is present, else the CPU).
- Precision: float64 (``jax_enable_x64``) on the CPU, where it costs little and the statistics
  must agree with numpy in float64; float32 on accelerators, where the kernels use shifted,
  compensated formulas instead.
- Shape buckets: arrays are padded to the next bucket size (powers of two from 1024, with
  quarter steps above that) and masked, so a new row count reuses a compiled kernel instead of
  recompiling.

Nothing here computes a statistic: kernels live in ``synthcap_assets/kernels``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

import dagster as dg
import numpy as np

PLATFORM_ENV = "SYNTHCAP_JAX_PLATFORM"
PLATFORMS = ("cpu", "gpu", "tpu")
MIN_BUCKET = 1024
# Default rows per chunk when a table is profiled chunk by chunk (10 columns × 8 B × 4M = 320 MB).
DEFAULT_CHUNK_ROWS = 4_000_000


class ComputeConfigError(ValueError):
    """The requested JAX platform is unknown or not available on this machine."""


@dataclass(frozen=True)
class Runtime:
    """Where and how the kernels run."""

    platform: str
    dtype: np.dtype
    device_count: int

    @property
    def x64(self) -> bool:
        return self.dtype == np.float64


@cache
def runtime() -> Runtime:
    """Configure JAX once per process and say what it runs on."""
    wanted = os.environ.get(PLATFORM_ENV, "").strip().lower() or None
    if wanted is not None and wanted not in PLATFORMS:
        raise ComputeConfigError(
            f"{PLATFORM_ENV}={wanted!r}: expected one of {', '.join(PLATFORMS)}"
        )
    import jax

    if wanted is not None:
        jax.config.update("jax_platforms", wanted)
    try:
        backend = jax.default_backend()
    except RuntimeError as exc:
        raise ComputeConfigError(f"{PLATFORM_ENV}={wanted!r} is not available: {exc}") from exc
    if backend == "cpu":
        jax.config.update("jax_enable_x64", True)
    dtype = np.dtype(np.float64 if backend == "cpu" else np.float32)
    return Runtime(platform=backend, dtype=dtype, device_count=jax.device_count())


def bucket_size(rows: int) -> int:
    """The padded length for ``rows`` rows: powers of two from 1024, with quarter steps above."""
    if rows <= MIN_BUCKET:
        return MIN_BUCKET
    power = 1 << (rows - 1).bit_length()  # next power of two
    step = power // 8  # quarter steps between power/2 and power
    return -(-rows // step) * step


def pad_rows(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (rows × columns) and its validity ``mask`` padded to the bucket size; padding
    rows are masked out."""
    rows = values.shape[0]
    target = bucket_size(rows)
    if target == rows:
        return values, mask
    pad = [(0, target - rows)] + [(0, 0)] * (values.ndim - 1)
    return np.pad(values, pad), np.pad(mask, pad, constant_values=False)


class ComputeResource(dg.ConfigurableResource):
    """The JAX runtime as a Dagster resource: its platform and how big a chunk may be."""

    chunk_rows: int = DEFAULT_CHUNK_ROWS

    def runtime(self) -> Runtime:
        return runtime()
