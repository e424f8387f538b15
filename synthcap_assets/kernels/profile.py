"""The numeric column profile: one mergeable state per column block, merged, then finished.

    state = profile_block(block, rows)          # or profile_columns(...) chunk by chunk
    state = merge(state, other) / merge_many([...])
    stats = finalize(state, probs)               # numpy arrays, one entry per column

A state holds the moments (``moments``), a quantile summary (``quantiles``/``refine``) and the
distinct-count sketch (``distinct``); ``state_io`` turns it into per-column records to store.
Building one costs two passes over the rows for light-tailed data (moments + HLL registers,
compiled loops on the CPU and ``first_pass`` in JAX on accelerators; then the level-1
histogram; a few set-finding passes only for large columns with at most ~2**14 distinct values
that a histogram bucket cannot separate) and 1-3 refinement passes
where heavy tails or far outliers need them. On the CPU, ``profile_columns`` reads float64
columns (polars Float64 Series, contiguous numpy arrays) in place, whole, from their Arrow
buffers (``profile_pieces``: no column block, one state, no merge; each pass runs columns or
row ranges as tasks on the cores); other inputs, and accelerators, go chunk by chunk through
column blocks, several chunks at once (one XLA:CPU computation mostly uses one core).
Merging never needs the rows: month profiles come from day profiles. Stated bounds: moments
exact to float rounding; quantiles carry their rank bound (``ProfileStats.rank_error``, a
fraction of the count), histogram and outlier counts a count bound
(``outliers["count_bound"]``); distinct counts are exact where ``distinct_exact``, else HLL
(0.81% standard error).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import polars as pl

from synthcap_assets.kernels.blocks import clean, first_valid, fold_blocks, state_dtype
from synthcap_assets.kernels.distinct import (
    SMALL_SET,
    DistinctState,
    block_registers,
    distinct_count,
    distinct_registers,
    empty_registers,
    hll_estimate,
    merge_distinct,
    registers_of_block,
    small_set_from_buckets,
    small_set_from_sorted,
    small_set_rounds,
)
from synthcap_assets.kernels.histogram import Buckets
from synthcap_assets.kernels.moments import (
    MomentState,
    block_moments,
    empty_moments,
    merge_moments,
    moment_stats,
    moments_of_block,
    moments_of_columns,
)
from synthcap_assets.kernels.outliers import outliers
from synthcap_assets.kernels.quantiles import (
    QuantileSummary,
    equal_width_bins,
    quantiles,
    rank_error_fraction,
)
from synthcap_assets.kernels.quantiles import merge_many as merge_summaries_many
from synthcap_assets.kernels.refine import SORT_ROWS, summarize, summarize_columns
from synthcap_resources.compute import (
    DEFAULT_CHUNK_ROWS,
    ArrayLike,
    FloatColumn,
    aligned_empty,
    bucket_size,
    chunk_ranges,
    column_block,
    float_columns,
    host_workers,
    iter_column_blocks,
    runtime,
)

DEFAULT_PROBS: tuple[float, ...] = tuple(i / 100 for i in range(101))
DEFAULT_BINS = 20
# Columns whose HLL estimate is below this may still have a small exact set worth finding.
_SMALL_SET_PROBE = 1.25 * SMALL_SET


class ProfileError(ValueError):
    """Profile states or inputs that cannot be combined or read."""


class ProfileState(NamedTuple):
    """Mergeable per-column profile state (a JAX pytree)."""

    moments: MomentState
    quantiles: QuantileSummary
    distinct: DistinctState


@dataclass(frozen=True)
class ProfileStats:
    """Finished statistics, numpy arrays with one entry (or row) per column."""

    moments: dict[str, np.ndarray]
    distinct: np.ndarray
    distinct_exact: np.ndarray
    probs: np.ndarray
    quantiles: np.ndarray
    rank_error: np.ndarray
    hist_edges: np.ndarray
    hist_counts: np.ndarray
    outliers: dict[str, np.ndarray]


@jax.jit
def first_pass(x: jax.Array, rows: jax.Array) -> tuple[MomentState, jax.Array]:
    """Moments and HLL registers of a column block in one pass over its rows."""
    shift = first_valid(x)
    dtype = state_dtype()

    def body(block: jax.Array, carry: tuple) -> tuple:
        state, regs = carry
        valid, values = clean(block)
        part = jax.tree.map(lambda a: a.astype(dtype), block_moments(valid, values, shift))
        return merge_moments(state, part), block_registers(valid, values, regs)

    init = (empty_moments(x.shape[0], dtype)._replace(shift=shift.astype(dtype)),)
    state, regs = fold_blocks(x, body, (*init, empty_registers(x.shape[0])))
    state = state._replace(rows=jnp.full(x.shape[0], rows, dtype))
    return state, regs[:-1].reshape(x.shape[0], -1).astype(jnp.uint8)


def profile_block(block: np.ndarray | jax.Array, rows: int) -> ProfileState:
    """The state of a column block (columns × padded rows, NaN/inf = missing, see
    ``synthcap_resources.compute.column_block``) whose first ``rows`` rows are real."""
    on_cpu = runtime().platform == "cpu"
    x = jax.device_put(block)
    if x.ndim != 2 or not jnp.issubdtype(x.dtype, jnp.floating):
        raise ProfileError(f"expected a 2-D float column block, got {x.dtype}{tuple(x.shape)}")
    if not 0 <= rows <= x.shape[1]:
        raise ProfileError(f"rows={rows} is outside the block's {x.shape[1]} rows")
    host = np.asarray(x) if on_cpu else None  # the same buffer on the CPU
    if on_cpu:  # the first pass in numpy (faster there: see ``moments`` and ``distinct``)
        moments, regs = moments_of_block(host, rows), registers_of_block(host, rows)
    else:
        moments, regs = first_pass(x, rows)
    summary, ordered, first = summarize(
        host if on_cpu else x, moments.count, moments.minimum, moments.maximum, rows
    )
    distinct = _distinct_state(regs, ordered, first, lambda probe: small_set_rounds(x, probe))
    # Done with the block before returning: the caller may overwrite a reused buffer.
    return jax.block_until_ready(ProfileState(moments, summary, distinct))


def _distinct_state(
    regs: ArrayLike,
    ordered: jax.Array | None,
    first: Buckets | None,
    find: Callable[[np.ndarray], tuple[ArrayLike, ArrayLike]],
) -> DistinctState:
    """The distinct sketch with each column's small exact set: from the sorted rows when
    the summary sorted them, else from level-1 buckets that each hold one value, else by
    ``find`` (hash-table rounds) for the columns whose HLL estimate says they may be small."""
    if ordered is not None:
        small, size = small_set_from_sorted(ordered)
    else:
        small, size = small_set_from_buckets(first.count, first.low, first.high)
        probe = (np.asarray(size) < 0) & (hll_estimate(np.asarray(regs)) <= _SMALL_SET_PROBE)
        if probe.any():
            found, found_size = find(probe)
            small, size = _take_found(probe, found, found_size, small, size)
    return DistinctState(regs, _canonical(small, size), size)


@jax.jit
def _take_found(
    probe: jax.Array, found: jax.Array, found_size: jax.Array, small: jax.Array, size: jax.Array
) -> tuple[jax.Array, jax.Array]:
    return jnp.where(probe[:, None], found, small), jnp.where(probe, found_size, size)


@jax.jit
def _canonical(small: jax.Array, size: jax.Array) -> jax.Array:
    """+inf throughout a dropped set, so that equal states are equal arrays."""
    return jnp.where(size[:, None] >= 0, small, jnp.inf).astype(state_dtype())


def _check_columns(states: Sequence[ProfileState]) -> None:
    widths = {int(s.moments.count.shape[0]) for s in states}
    if len(widths) > 1:
        raise ProfileError(f"states cover different numbers of columns: {sorted(widths)}")


def merge(a: ProfileState, b: ProfileState) -> ProfileState:
    """The state of the union of the rows behind ``a`` and ``b``."""
    return merge_many([a, b])


def merge_many(states: Sequence[ProfileState]) -> ProfileState:
    """One state from many (chunks, days): moments and sketches merged exactly, quantile
    summaries merged flat (``quantiles.merge_many``) so the rank bound grows by ~1/K once."""
    if not states:
        raise ProfileError("merge_many needs at least one profile state")
    _check_columns(states)
    mom, dis = states[0].moments, states[0].distinct
    for s in states[1:]:
        mom = _merge_moments_jit(mom, s.moments)
        dis = merge_distinct(dis, s.distinct)
    return ProfileState(mom, merge_summaries_many([s.quantiles for s in states]), dis)


_merge_moments_jit = jax.jit(merge_moments)


def profile_chunks(blocks: Iterable[tuple[np.ndarray | jax.Array, int]]) -> ProfileState:
    """Profile (block, rows) chunks one at a time and merge their states (flat)."""
    states = [profile_block(block, rows) for block, rows in blocks]
    if not states:
        raise ProfileError("profile_chunks got no blocks")
    return states[0] if len(states) == 1 else merge_many(states)


def profile_columns(
    columns: np.ndarray | Sequence[ArrayLike],
    mask: np.ndarray | Sequence[ArrayLike] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    dtype: np.dtype | type | None = None,
    workers: int | None = None,
) -> ProfileState:
    """Profile a rows × columns array, or a list of 1-D columns (numpy arrays, polars Series),
    chunk by chunk, ``workers`` chunks at a time (default ``host_workers()``: XLA:CPU runs one
    computation mostly on one core), each worker through its own reused block buffer. At most
    ``chunk_rows`` rows are in flight at once (``chunk_rows / workers`` per worker), so the
    extra memory is about ``chunk_rows`` × columns × 8 bytes whatever the table's size.
    On the CPU, columns that are float64 already (and no ``mask``) skip the blocks: see
    ``profile_pieces`` (no copy at all; the rare hash-table rounds use ``chunk_rows`` blocks)."""
    workers = workers or host_workers()
    cols = list(columns.T) if isinstance(columns, np.ndarray) and columns.ndim == 2 else columns
    length = len(cols[0]) if len(cols) else 0
    pieces = _in_place(cols, mask, dtype) if length > SORT_ROWS else None
    if pieces is not None:
        return profile_pieces(pieces, chunk_rows, workers)
    ranges = chunk_ranges(length, max(1, chunk_rows // workers), multiple=workers)
    workers = min(workers, len(ranges))
    if workers == 1:
        return profile_chunks(iter_column_blocks(cols, mask, chunk_rows, dtype, reuse=True))
    masks = None if mask is None else (list(mask.T) if isinstance(mask, np.ndarray) else mask)

    def work(mine: list[tuple[int, int]]) -> list[ProfileState]:
        rows = max(stop - start for start, stop in mine)
        buffer = aligned_empty((len(cols), bucket_size(rows)), np.dtype(dtype or runtime().dtype))
        return [
            profile_block(*column_block(cols, start, stop, masks, dtype, out=buffer))
            for start, stop in mine
        ]

    with ThreadPoolExecutor(workers) as pool:
        done = pool.map(work, [ranges[i::workers] for i in range(workers)])
        return merge_many([state for states in done for state in states])


def _in_place(
    cols: Sequence[ArrayLike], mask: object, dtype: np.dtype | type | None
) -> list[list[FloatColumn]] | None:
    """The columns as float64 pieces read in place (``float_columns``), on the CPU, when none
    needs a copy (polars Float64 Series, contiguous float64 numpy columns) and no mask is
    given; else None (the chunked path)."""
    if mask is not None or runtime().platform != "cpu" or runtime().dtype != np.float64:
        return None
    if dtype is not None and np.dtype(dtype) != np.float64:
        return None
    if len({len(col) for col in cols}) > 1:
        return None  # the chunked path says what is wrong
    for col in cols:
        if isinstance(col, pl.Series):
            if col.dtype != pl.Float64:
                return None
        elif not (
            isinstance(col, np.ndarray)
            and col.dtype == np.float64
            and col.ndim == 1
            and col.flags.c_contiguous
        ):
            return None
    return [float_columns(col) for col in cols]


def profile_pieces(
    pieces: Sequence[Sequence[FloatColumn]],
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    workers: int | None = None,
) -> ProfileState:
    """The CPU path of ``profile_columns``: whole float64 columns read in place (Arrow values
    and validity bitmaps, no column block, no chunk states to merge), one column per task on
    ``workers`` threads in each pass: moments and HLL registers (``moments_of_columns``,
    ``distinct_registers``), then the quantile summary's bucket passes
    (``refine.summarize_columns``, numba). Small exact sets come from the level-1 buckets; a
    column whose buckets mix values but whose HLL estimate is small gets hash-table rounds
    over blocks of ``chunk_rows`` rows of the columns that need them only."""
    workers = workers or host_workers()
    moments = moments_of_columns(pieces, workers)
    regs = distinct_registers(pieces, workers)
    summary, ordered, first = summarize_columns(
        pieces, moments.count, moments.minimum, moments.maximum, workers
    )
    distinct = _distinct_state(
        regs, ordered, first, lambda probe: _rounds_by_chunk(pieces, probe, chunk_rows)
    )
    return jax.block_until_ready(ProfileState(moments, summary, distinct))


def _rounds_by_chunk(
    pieces: Sequence[Sequence[FloatColumn]], probe: np.ndarray, chunk_rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """``small_set_rounds`` of the ``probe`` columns, chunk by chunk, sets united."""
    which = np.flatnonzero(probe)
    cols = [_as_nan_coded(pieces[c]) for c in which]
    state = None
    for block, _ in iter_column_blocks(cols, None, chunk_rows, np.float64, reuse=True):
        found, found_size = small_set_rounds(jax.device_put(block), np.ones(len(which), bool))
        regs = jnp.zeros((len(which), 1), jnp.uint8)
        part = DistinctState(regs, found, found_size)
        state = part if state is None else merge_distinct(state, part)
    full = np.full((probe.size, SMALL_SET), np.inf)
    full_size = np.full(probe.size, -1, np.int32)
    full[which], full_size[which] = np.asarray(state.small), np.asarray(state.small_count)
    return full, full_size


class _as_nan_coded:  # noqa: N801 - a column view for ``column_block``
    """Rows of a pieced column, nulls as NaN, sliced lazily (what ``column_block`` reads)."""

    def __init__(self, pieces: Sequence[FloatColumn]) -> None:
        self.pieces = list(pieces)
        self.starts = np.cumsum([0] + [p.values.size for p in self.pieces])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def __getitem__(self, rows: slice) -> np.ndarray:
        start, stop, _ = rows.indices(len(self))
        out = np.full(stop - start, np.nan)
        for piece, begin in zip(self.pieces, self.starts[:-1], strict=False):
            lo, hi = max(start, begin), min(stop, begin + piece.values.size)
            if lo < hi:
                part = piece.values[lo - begin : hi - begin]
                ok = piece.not_null(lo - begin, hi - begin)
                out[lo - start : hi - start] = np.where(ok, part, np.nan)
        return out


def finalize(
    state: ProfileState, probs: Sequence[float] = DEFAULT_PROBS, bins: int = DEFAULT_BINS
) -> ProfileStats:
    """Statistics from a state: moments, distinct, quantiles at ``probs``, an equal-width
    histogram of ``bins`` bins over [min, max] and outlier counts (all read from the state)."""
    p = np.asarray(probs, float)
    if p.ndim != 1 or np.any((p < 0) | (p > 1)):
        raise ProfileError("probs must be a 1-D sequence of probabilities in [0, 1]")
    if bins < 1:
        raise ProfileError(f"bins must be at least 1, got {bins}")
    mom = moment_stats(state.moments)
    distinct, exact = distinct_count(state.distinct)
    summary = state.quantiles
    quant = np.asarray(quantiles(summary, jnp.asarray(p, summary.values.dtype)))
    edges, counts = (np.asarray(a) for a in equal_width_bins(summary, bins))
    found = jax.tree.map(np.asarray, outliers(summary))
    return ProfileStats(
        moments=mom,
        distinct=distinct,
        distinct_exact=exact,
        probs=p,
        quantiles=quant,
        rank_error=rank_error_fraction(summary),
        hist_edges=edges,
        hist_counts=np.rint(counts).astype(np.int64),
        outliers=found._asdict(),
    )
