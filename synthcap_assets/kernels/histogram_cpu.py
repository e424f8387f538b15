"""The refinement histogram's bucket passes on the CPU, as compiled loops (numba).

``histogram.bucket_pass`` (JAX) is the accelerator path; on the CPU this module replaces it,
one way per device (``refine`` picks). Why a hand-written loop: a pass is a gather through up
to four small tables followed by three scatters (count, min, max) into 2**14 buckets per
column. XLA:CPU runs scatters serially through a generic loop and cannot skip work per column;
numpy would need a pass per level and per statistic (``floor``, ``clip``, ``take``,
``bincount``, ``minimum.at``, the last alone ~10 ns a value). The loops here read each value
once, walk the levels and update the deepest bucket's count/min/max in place (the tables stay
in the L2 cache); they read a polars column's Arrow buffers in place (values and validity
bitmap, ``synthcap_resources.compute.float_columns``), so no NaN-coded column block is built,
and they skip every column that the deepest level does not refine. Row ranges of
``TASK_ROWS`` are tasks on the caller's thread count (the loops release the GIL); each task
fills its own tables, folded exactly afterwards, so both cores stay busy when only two or
three columns need a deeper level.

What they must equal: ``histogram.bucket_pass`` on the same rows, bit for bit (counts, minima
and maxima are exact whatever the order). So they do the same float64 arithmetic per value:
missing (NaN, +/-inf, null) values are skipped; half = v * 0.5; per level floor((half - low)
* scale) converted as XLA converts (NaN to 0, saturating) and clipped to [0, size - 1], the
parent bucket's slot read from the level's table (-1: the value stops there, uncounted);
min/max order -0.0 below +0.0 as XLA's min/max do (XLA folds ``blocks.clean``'s ``+ 0.0``, so
the JAX pass sees signed zeros); subnormal results of the halving and the subtraction are
flushed to zero, as XLA:CPU runs with flush-to-zero. No fastmath. Not covered: subnormal
input values (|v| < 2.2e-308), whose bucket is the same but whose stored min/max XLA may
flush to a signed zero. Tested against the JAX pass in
``synthcap_tests/kernels/test_histogram_cpu.py``.

Measured (2026-12-07, the 10M-row bench table, 5% nulls; CPU time of one thread, this 2-core
machine loaded by other jobs, so upper bounds): level 1 3.5-4.5 ns a value (the index
arithmetic ~2.3, the bitmap ~0.9, min/max ~1.5); two levels 8-10 ns a value on a
Student t column (a column none of whose buckets is refined costs nothing); count/min/max
1.7 ns. On the same 2M × 10 block the JAX pass took 5.7 ns a value for level 1 and 14 ns a
value (every column) for level 2. A whole 10M × 10 summary (count/min/max, level 1, level 2
on the 3 columns that need it, the JAX queries ~0.04 s) takes ~1.1-1.3 CPU-s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numba
import numpy as np

from synthcap_assets.kernels.histogram import LEVEL1_BINS, Buckets, Level, level_width
from synthcap_resources.compute import FloatColumn

_TINY = np.finfo(np.float64).tiny  # the smallest normal float64, 2**-1022
_SMALL = 2.0**-967  # from here up, halves and their differences are normal or zero


@numba.njit(cache=True, nogil=True, inline="always")
def _lower(v: float, lo: float) -> bool:
    """Whether ``v`` replaces the minimum ``lo`` (-0.0 below +0.0, XLA's order of signed zeros;
    equal values otherwise leave the same bits). One rarely true compare on the fast path."""
    return v <= lo and (v < lo or np.signbit(v))


@numba.njit(cache=True, nogil=True, inline="always")
def _higher(v: float, hi: float) -> bool:
    """Whether ``v`` replaces the maximum ``hi`` (+0.0 above -0.0)."""
    return v >= hi and (v > hi or not np.signbit(v))


@numba.njit(cache=True, nogil=True, inline="always")
def _plain(v: float) -> bool:
    """Finite and |v| >= 2**-967: then v/2 and v/2 - low (any low) are zero or normal, so
    no flush-to-zero can change them. The rest (zeros, tiny values, NaN, inf) takes
    ``_careful``."""
    a = abs(v)
    return a >= _SMALL and a < np.inf


@numba.njit(cache=True, nogil=True, inline="always")
def _null(validity: np.ndarray, has: bool, i: int) -> bool:
    """Null in the Arrow validity bitmap (bit ``i``, least significant first)."""
    return has and not (validity[i >> 3] >> (i & 7)) & 1


@numba.njit(cache=True, nogil=True, inline="always")
def _index(d: float, scale: float, size: int) -> int:
    t = np.floor(d * scale)
    if not t >= 0.0:  # NaN converts to 0 in XLA; negatives clip to 0
        return 0
    if t >= size - 1:
        return size - 1
    return int(t)


@numba.njit(cache=True, nogil=True, inline="always")
def _sub(half: float, low: float, scale: float, size: int) -> int:
    """The bin of ``half`` in a slot, for values that pass ``_plain``."""
    return _index(half - low, scale, size)


@numba.njit(cache=True, nogil=True, inline="always")
def _careful(half: float, low: float, scale: float, size: int) -> int:
    """``_sub`` with XLA:CPU's flush-to-zero of subnormal results (of the halving too)."""
    if abs(half) < _TINY:
        half = 0.0
    d = half - low
    if abs(d) < _TINY:
        d = 0.0
    return _index(d, scale, size)


@numba.njit(cache=True, nogil=True, inline="always")
def _bin(plain: bool, half: float, low: float, scale: float, size: int) -> int:
    return _sub(half, low, scale, size) if plain else _careful(half, low, scale, size)


@numba.njit(cache=True, nogil=True, inline="always")
def _missing(v: float, validity: np.ndarray, has: bool, i: int) -> bool:
    """NaN/inf, or null in the Arrow validity bitmap."""
    return not np.isfinite(v) or _null(validity, has, i)


@numba.njit(cache=True, nogil=True)
def _one(values, validity, has, offset, low0, scale0, size0, cnt, lo, hi):  # noqa: ANN001, ANN202
    """Level 1 only (the hot pass) over one column: bucket = floor((v/2 - low) * scale)."""
    for i in range(values.shape[0]):
        v = values[i]
        if _plain(v):
            if _null(validity, has, i + offset):
                continue
            b = _sub(v * 0.5, low0, scale0, size0)
        else:
            if _missing(v, validity, has, i + offset):
                continue
            b = _careful(v * 0.5, low0, scale0, size0)
        cnt[b] += 1
        if _lower(v, lo[b]):
            lo[b] = v
        if _higher(v, hi[b]):
            hi[b] = v


@numba.njit(cache=True, nogil=True)
def _deep(values, validity, has, offset, tables, lows, scales, offsets, sizes, cnt, lo, hi):  # noqa: ANN001, ANN202
    """Levels 1..D over one column: ``tables`` (D - 1, parent width), per slot (D, slots)."""
    depth = lows.shape[0]
    for i in range(values.shape[0]):
        v = values[i]
        if _missing(v, validity, has, i + offset):
            continue
        plain, half = _plain(v), v * 0.5
        b = offsets[0, 0] + _bin(plain, half, lows[0, 0], scales[0, 0], sizes[0, 0])
        inside = True
        for d in range(1, depth):
            s = tables[d - 1, b]
            if s < 0:
                inside = False
                break
            b = offsets[d, s] + _bin(plain, half, lows[d, s], scales[d, s], sizes[d, s])
        if not inside:
            continue
        cnt[b] += 1
        if _lower(v, lo[b]):
            lo[b] = v
        if _higher(v, hi[b]):
            hi[b] = v


@numba.njit(cache=True, nogil=True)
def _two(values, validity, has, offset, tables, lows, scales, offsets, sizes, cnt, lo, hi):  # noqa: ANN001, ANN202
    """``_deep`` unrolled for two levels (the usual refinement): 1-D tables hoisted, no inner
    loop (measured 8 against 11.5 ns a value on a Student t column)."""
    l0, s0, z0 = lows[0, 0], scales[0, 0], sizes[0, 0]
    l1, s1, o1, z1 = lows[1], scales[1], offsets[1], sizes[1]
    table = tables[0]
    for i in range(values.shape[0]):
        v = values[i]
        if _missing(v, validity, has, i + offset):
            continue
        plain, half = _plain(v), v * 0.5
        s = table[offsets[0, 0] + _bin(plain, half, l0, s0, z0)]
        if s < 0:
            continue
        b = o1[s] + _bin(plain, half, l1[s], s1[s], z1[s])
        cnt[b] += 1
        if _lower(v, lo[b]):
            lo[b] = v
        if _higher(v, hi[b]):
            hi[b] = v


@numba.njit(cache=True, nogil=True)
def _count_min_max(values, validity, has, offset, out):  # noqa: ANN001, ANN202
    """Adds to ``out`` = [count, min, max] the finite, non-null values of one piece."""
    n, lo, hi = 0, out[1], out[2]
    for i in range(values.shape[0]):
        v = values[i]
        if _missing(v, validity, has, i + offset):
            continue
        n += 1
        if _lower(v, lo):
            lo = v
        if _higher(v, hi):
            hi = v
    out[0] += n
    out[1], out[2] = lo, hi


_NO_BITMAP = np.zeros(1, np.uint8)


def _pieces(column: Sequence[FloatColumn]) -> list[tuple[np.ndarray, np.ndarray, bool, int]]:
    """The numba arguments (values, validity, has a bitmap, bit offset) of a column's pieces."""
    out = []
    for piece in column:
        values = piece.values
        if values.dtype != np.float64 or not values.flags.c_contiguous:
            raise TypeError(f"expected contiguous float64 pieces, got {values.dtype}")
        has = piece.validity is not None
        out.append((values, piece.validity if has else _NO_BITMAP, has, piece.offset))
    return out


def _block_pieces(x: np.ndarray, rows: int | None) -> list[list[FloatColumn]]:
    x = np.asarray(x)
    if x.dtype != np.float64 or x.ndim != 2:
        raise TypeError(f"expected a 2-D float64 block, got {x.dtype}{x.shape}")
    rows = x.shape[1] if rows is None else min(int(rows), x.shape[1])
    x = x[:, :rows]
    return [[FloatColumn(np.ascontiguousarray(row))] for row in x]


# Rows per task: columns are split into row ranges of about this many rows so that both cores
# stay busy when few columns need a pass (each task fills its own tables, merged exactly).
TASK_ROWS = 1 << 21


class _Task(NamedTuple):
    column: int
    values: np.ndarray
    validity: np.ndarray
    has: bool
    offset: int


def _tasks(columns: Sequence[Sequence[FloatColumn]], keep: np.ndarray | None = None) -> list:
    """Row ranges of the columns' pieces (only columns where ``keep``), as numba arguments."""
    out = []
    for c, column in enumerate(columns):
        if keep is not None and not keep[c]:
            continue
        for values, validity, has, offset in _pieces(column):
            parts = max(1, -(-values.size // TASK_ROWS))
            step = max(1, -(-values.size // parts))
            for a in range(0, values.size, step):
                out.append(_Task(c, values[a : a + step], validity, has, offset + a))
    return out


def _run(work: Callable[[int], None], tasks: int, workers: int) -> None:
    workers = max(1, min(workers, tasks))
    if workers == 1:
        for t in range(tasks):
            work(t)
        return
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(work, range(tasks)))  # the loops release the GIL


@numba.njit(cache=True, nogil=True)
def _fold(cnt, lo, hi, cnt2, lo2, hi2):  # noqa: ANN001, ANN202
    """Merge one task's count/min/max table into a column's (exact, order-free)."""
    for b in range(cnt.shape[0]):
        cnt[b] += cnt2[b]
        if _lower(lo2[b], lo[b]):
            lo[b] = lo2[b]
        if _higher(hi2[b], hi[b]):
            hi[b] = hi2[b]


def _levels_by_column(levels: tuple[Level, ...]) -> tuple[np.ndarray, ...]:
    """The levels stacked per column: tables (cols, D - 1, parent width), per slot low, scale,
    offset and size (cols, D, slots), padded with -1 / 0."""
    host = [Level(*(np.asarray(a) for a in level)) for level in levels]
    cols = host[0].low.shape[0]
    slots = max(level.low.shape[1] for level in host)
    parent = max([LEVEL1_BINS, *(level.table.shape[1] for level in host[1:])])

    def stack(field: int, width: int, dtype: type, fill: float, first: int = 0) -> np.ndarray:
        out = np.full((cols, len(host) - first, width), fill, dtype)
        for d, level in enumerate(host[first:]):
            a = level[field]
            out[:, d, : a.shape[1]] = a
        return out

    return (
        stack(0, parent, np.int32, -1, first=1),
        stack(1, slots, np.float64, 0.0),
        stack(2, slots, np.float64, 0.0),
        stack(3, slots, np.int64, 0),
        stack(4, slots, np.int64, 0),
    )


def bucket_pass_columns(
    columns: Sequence[Sequence[FloatColumn]], levels: tuple[Level, ...], workers: int = 1
) -> Buckets:
    """Count/min/max (numpy, columns × buckets of the deepest level) over columns given as
    float64 pieces (``synthcap_resources.compute.float_columns``: Arrow values and validity
    bitmap, no copy); equal to ``histogram.bucket_pass`` on the same rows as a column block.
    Row ranges of ``TASK_ROWS`` are tasks on ``workers`` threads; a column none of whose
    buckets the deepest level refines is not read."""
    cols, width = len(columns), level_width(len(levels))
    tables, lows, scales, offsets, sizes = _levels_by_column(levels)
    one = len(levels) == 1 and not np.any(offsets)
    keep = None if one else np.any(tables[:, 0] >= 0, axis=1)
    tasks = _tasks(columns, keep)
    count = np.zeros((len(tasks), width), np.int32)
    low = np.full((len(tasks), width), np.inf)
    high = np.full((len(tasks), width), -np.inf)

    def work(t: int) -> None:
        c, values, validity, has, offset = tasks[t]
        out = count[t], low[t], high[t]
        if one:
            _one(
                values, validity, has, offset, lows[c, 0, 0], scales[c, 0, 0], sizes[c, 0, 0], *out
            )
        else:
            args = (tables[c], lows[c], scales[c], offsets[c], sizes[c])
            (_two if len(levels) == 2 else _deep)(values, validity, has, offset, *args, *out)

    _run(work, len(tasks), workers)
    return _gather(tasks, cols, count, low, high)


def _gather(tasks: list, cols: int, *tables: np.ndarray) -> Buckets:
    """Task tables (one row per task) folded into one row per column."""
    count, low, high = tables
    width = count.shape[1]
    out = Buckets(
        np.zeros((cols, width), np.int32),
        np.full((cols, width), np.inf),
        np.full((cols, width), -np.inf),
    )
    for t, task in enumerate(tasks):
        c = task.column
        _fold(out.count[c], out.low[c], out.high[c], count[t], low[t], high[t])
    return out


def bucket_pass(x: np.ndarray, levels: tuple[Level, ...], rows: int | None = None) -> Buckets:
    """``bucket_pass_columns`` of a float64 column block (columns × padded rows, missing =
    NaN/inf), on the calling thread; only the first ``rows`` rows are read (default all)."""
    return bucket_pass_columns(_block_pieces(x, rows), levels)


def count_min_max_columns(
    columns: Sequence[Sequence[FloatColumn]], workers: int = 1
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(count as float64, minimum, maximum) of each column's finite non-null values, given as
    float64 pieces; +inf/-inf for an empty column, -0.0 below +0.0, as ``moments.moments``.
    Row ranges are tasks on ``workers`` threads."""
    tasks = _tasks(columns)
    parts = np.zeros((len(tasks), 3))
    parts[:, 1], parts[:, 2] = np.inf, -np.inf
    _run(lambda t: _count_min_max(*tasks[t][1:], parts[t]), len(tasks), workers)
    folded = _gather(
        tasks,
        len(columns),
        parts[:, :1].astype(np.int32),  # unused counts: a row per task
        np.ascontiguousarray(parts[:, 1:2]),
        np.ascontiguousarray(parts[:, 2:3]),
    )
    count = np.zeros(len(columns))
    np.add.at(count, [t.column for t in tasks], parts[:, 0])
    return count, folded.low[:, 0].copy(), folded.high[:, 0].copy()


def count_min_max(x: np.ndarray, rows: int | None = None) -> tuple[np.ndarray, ...]:
    """``count_min_max_columns`` of a float64 column block's first ``rows`` rows."""
    return count_min_max_columns(_block_pieces(x, rows))
