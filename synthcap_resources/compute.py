"""The JAX runtime: which platform the kernels run on, their float precision, and shape buckets.

- Platform: ``SYNTHCAP_JAX_PLATFORM`` (``cpu``, ``gpu``, ``tpu``) or JAX's own choice (an
  accelerator when one is present, else the CPU).
- Compilation cache: compiled kernels persist on disk between processes
  (``SYNTHCAP_JAX_CACHE``, see ``compilation_cache_dir``).
- Precision: float64 (``jax_enable_x64``) on the CPU, where it costs little and the statistics
  must agree with numpy in float64; float32 on accelerators, where the kernels use shifted,
  compensated formulas instead.
- Shape buckets: arrays are padded to the next bucket size (powers of two from 1024, with
  quarter steps above that) and masked, so a new row count reuses a compiled kernel instead of
  recompiling.
- Column blocks: ``column_block``/``iter_column_blocks`` cut a table into row chunks laid out
  the way the kernels want them (one contiguous row per column, padded with NaN, 64-byte
  aligned so that JAX takes the buffer without a copy), so a table larger than memory is
  profiled chunk by chunk.
- Float columns without a copy: ``float_columns`` hands the numpy kernels (moments and
  distinct counts on the CPU) a polars column's own Arrow buffers, values and validity bitmap,
  instead of a NaN-filled copy (``fill_null`` plus the copy into a block cost 0.05-0.08 s per
  10M-row column, more than the statistics themselves).

Nothing here computes a statistic: kernels live in ``synthcap_assets/kernels``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import polars as pl

PLATFORM_ENV = "SYNTHCAP_JAX_PLATFORM"
CACHE_ENV = "SYNTHCAP_JAX_CACHE"
PLATFORMS = ("cpu", "gpu", "tpu")
MIN_BUCKET = 1024
# Default rows per chunk when a table is profiled chunk by chunk (10 columns × 8 B × 4M = 320 MB).
DEFAULT_CHUNK_ROWS = 4_000_000
_ALIGN = 64
# A column: anything with len(), slicing and np.asarray (numpy array, polars Series).
ArrayLike = Any


class ComputeConfigError(ValueError):
    """The requested JAX platform is unknown or not available on this machine."""


class ColumnBlockError(ValueError):
    """Columns, masks or a row range cannot be laid out as a column block."""


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
    cache = compilation_cache_dir()
    if cache is not None:
        jax.config.update("jax_compilation_cache_dir", str(cache))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    try:
        backend = jax.default_backend()
    except RuntimeError as exc:
        raise ComputeConfigError(f"{PLATFORM_ENV}={wanted!r} is not available: {exc}") from exc
    if backend == "cpu":
        jax.config.update("jax_enable_x64", True)
    dtype = np.dtype(np.float64 if backend == "cpu" else np.float32)
    return Runtime(platform=backend, dtype=dtype, device_count=jax.device_count())


def compilation_cache_dir() -> Path | None:
    """Where compiled kernels persist between processes: ``SYNTHCAP_JAX_CACHE`` (a directory,
    or ``off``), by default ``$XDG_CACHE_HOME/synthcap/jax`` (``~/.cache/synthcap/jax``).

    The profile kernels take ~10 s to compile and ~2 s to load from this cache.
    """
    value = os.environ.get(CACHE_ENV, "").strip()
    if value.lower() in ("off", "0", "false", "none"):
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "synthcap" / "jax"


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


def aligned_empty(shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
    """An uninitialised C-order array whose buffer is 64-byte aligned.

    ``jax.device_put`` adopts such a buffer on the CPU without copying it, so a column block
    costs its own size once instead of twice.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(nbytes + _ALIGN, np.uint8)
    offset = (-raw.ctypes.data) % _ALIGN
    return raw[offset : offset + nbytes].view(dtype).reshape(shape)


def column_block(
    columns: np.ndarray | Sequence[ArrayLike],
    start: int = 0,
    stop: int | None = None,
    mask: np.ndarray | Sequence[ArrayLike] | None = None,
    dtype: np.dtype | type | None = None,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Rows ``start:stop`` of ``columns`` as a padded (columns × bucket) block, and its row count.

    ``columns`` is a rows × columns array (either memory order) or a sequence of equally long
    1-D columns: anything that slices and converts with ``np.asarray`` (numpy arrays, polars
    Series, whose nulls become NaN), so only the chunk's rows are converted. The block is
    column-major in the kernels' sense: one contiguous row of the result per input column,
    padded with NaN to ``bucket_size(rows)`` (or to ``out``'s width, a buffer to fill instead
    of allocating). Kernels treat NaN and +/-inf as missing, so padding and nulls need no mask;
    ``mask`` (True = valid, same layout as ``columns``) writes NaN where it is False. ``dtype``
    defaults to the runtime's float type.
    """
    cols = _as_columns(columns)
    masks = None if mask is None else _as_columns(mask)
    if masks is not None and len(masks) != len(cols):
        raise ColumnBlockError(f"mask has {len(masks)} columns, values have {len(cols)}")
    length = _length(cols)
    stop = length if stop is None else min(stop, length)
    if not 0 <= start <= stop:
        raise ColumnBlockError(f"row range {start}:{stop} is outside 0:{length}")
    rows = stop - start
    if out is None:
        out = aligned_empty((len(cols), bucket_size(rows)), np.dtype(dtype or runtime().dtype))
    elif out.shape[0] != len(cols) or out.shape[1] < rows:
        raise ColumnBlockError(f"buffer {out.shape} cannot hold {len(cols)} × {rows}")
    out[:, rows:] = np.nan
    for j, col in enumerate(cols):
        out[j, :rows] = _chunk_values(col, start, stop)
        if masks is not None:
            np.copyto(out[j, :rows], np.nan, where=~np.asarray(masks[j][start:stop], bool))
    return out, rows


def iter_column_blocks(
    columns: np.ndarray | Sequence[ArrayLike],
    mask: np.ndarray | Sequence[ArrayLike] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    dtype: np.dtype | type | None = None,
    reuse: bool = False,
) -> Iterator[tuple[np.ndarray, int]]:
    """``column_block`` over consecutive row chunks of at most ``chunk_rows`` rows (at least one
    block, possibly empty).

    Chunks are made equally long, so they share one shape bucket (one compiled kernel). With
    ``reuse`` every chunk is written into the same buffer: the consumer must be done with a
    block (including any asynchronous JAX work on it) before asking for the next; this saves
    the page faults of a fresh allocation per chunk, which are slow in a VM.
    """
    cols = _as_columns(columns)
    ranges = chunk_ranges(_length(cols), chunk_rows)
    buffer = None
    if reuse:
        rows = max(stop - start for start, stop in ranges)
        buffer = aligned_empty((len(cols), bucket_size(rows)), np.dtype(dtype or runtime().dtype))
    for start, stop in ranges:
        yield column_block(cols, start, stop, mask, dtype, out=buffer)


def chunk_ranges(length: int, chunk_rows: int, multiple: int = 1) -> list[tuple[int, int]]:
    """Row ranges of equal length (the last may be shorter) covering ``length`` rows, at most
    ``chunk_rows`` each, their number a multiple of ``multiple`` (to share them evenly among
    workers); one empty range for an empty table."""
    if chunk_rows < 1 or multiple < 1:
        raise ColumnBlockError(
            f"chunk_rows and multiple must be positive: {chunk_rows}, {multiple}"
        )
    chunks = max(1, -(-length // chunk_rows))
    chunks = min(max(length, 1), -(-chunks // multiple) * multiple)
    size = max(1, -(-length // chunks))
    return [(start, min(start + size, length)) for start in range(0, max(length, 1), size)]


def host_workers() -> int:
    """How many chunks to profile at once: the usable CPU cores (at most 8) on the CPU, where
    one XLA:CPU computation mostly runs on one core; 1 on an accelerator."""
    if runtime().platform != "cpu":
        return 1
    return cpu_workers()


def cpu_workers() -> int:
    """The usable CPU cores, at most 8: threads for numpy kernels (numpy releases the GIL)."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux; elsewhere all cores
    cores = len(affinity(0)) if affinity else (os.cpu_count() or 1)
    return max(1, min(8, cores))


@dataclass(frozen=True)
class FloatColumn:
    """One contiguous piece of a float64 column: ``values`` and which of them are null.

    ``validity`` is an Arrow validity bitmap (bit ``offset + i`` set: row ``i`` is not null;
    least significant bit first) or None when no row is null. Null rows' ``values`` are
    undefined (whatever the buffer holds); NaN and +/-inf count as missing too, as everywhere
    in the kernels.
    """

    values: np.ndarray
    validity: np.ndarray | None = None
    offset: int = 0

    def not_null(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start:stop``: True where not null (all True without a bitmap)."""
        if self.validity is None:
            return np.ones(stop - start, bool)
        first = start + self.offset
        raw = self.validity[first >> 3 : (stop + self.offset + 7) >> 3]
        bits = np.unpackbits(raw, bitorder="little")
        return bits[first & 7 : (first & 7) + stop - start].view(bool)

    def not_null_at(self, rows: np.ndarray) -> np.ndarray:
        """True for each of ``rows`` (positions in ``values``) that is not null."""
        if self.validity is None:
            return np.ones(rows.shape, bool)
        at = rows + self.offset
        return ((self.validity[at >> 3] >> (at & 7).astype(np.uint8)) & 1).astype(bool)


def float_columns(column: ArrayLike) -> list[FloatColumn]:
    """A column as float64 pieces, without a copy for a polars Float64 Series (each of its
    chunks: the Arrow values buffer and validity bitmap) or a float64 numpy array; anything
    else (integers, float32, booleans) is cast to float64 once."""
    if isinstance(column, pl.Series):
        series = column if column.dtype == pl.Float64 else column.cast(pl.Float64)
        return [_arrow_piece(chunk.to_arrow()) for chunk in series.get_chunks() if chunk.len()]
    values = np.asarray(column)
    if values.dtype != np.float64:
        values = values.astype(np.float64)
    return [FloatColumn(np.ascontiguousarray(values).reshape(-1))]


def _arrow_piece(array: Any) -> FloatColumn:
    validity, data = array.buffers()[:2]
    values = np.frombuffer(data, np.float64)[array.offset : array.offset + len(array)]
    if validity is None or array.null_count == 0:
        return FloatColumn(values)
    return FloatColumn(values, np.frombuffer(validity, np.uint8), array.offset)


def _chunk_values(col: ArrayLike, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` of a column as numpy, nulls as NaN. A numeric polars Series gets its
    nulls filled first: 5x faster than converting a Series with nulls as it is."""
    if isinstance(col, pl.Series):
        part = col.slice(start, stop - start)
        if part.dtype.is_numeric() or part.dtype == pl.Boolean:
            if not part.dtype.is_float():
                part = part.cast(pl.Float64)
            return part.fill_null(float("nan")).to_numpy()
        return part.to_numpy()
    return np.asarray(col[start:stop])


def _length(cols: list[ArrayLike]) -> int:
    lengths = {len(c) for c in cols}
    if len(lengths) > 1:
        raise ColumnBlockError(f"columns differ in length: {sorted(lengths)}")
    return lengths.pop() if lengths else 0


def _as_columns(columns: np.ndarray | Sequence[ArrayLike]) -> list[ArrayLike]:
    if isinstance(columns, np.ndarray):
        if columns.ndim != 2:
            raise ColumnBlockError(f"expected rows × columns, got shape {columns.shape}")
        return [columns[:, j] for j in range(columns.shape[1])]
    return list(columns)


class ComputeResource(dg.ConfigurableResource):
    """The JAX runtime as a Dagster resource: its platform, how big a chunk may be and how
    many chunks are profiled at once (0: ``host_workers()``)."""

    chunk_rows: int = DEFAULT_CHUNK_ROWS
    workers: int = 0

    def runtime(self) -> Runtime:
        return runtime()
