"""Building a chunk's quantile summary from its rows: exact sort when small, otherwise
histogram refinement (XLA's sort is ~0.3 µs per value on CPU; a 10M-row column would take
seconds, the bucket passes take a fraction of that).

Refinement: the ranks needed by the summary's knots (floor and ceil of each knot rank) are
located in level 1's buckets (``histogram``). A rank in a bucket of count h, min a, max b, at
position p inside it, gets a + (b - a) p / (h - 1): exact when a == b or p is 0 or h - 1, else
off by at most max(p, h - 1 - p) ranks. Buckets whose ranks are off by more than
``TAU`` * n are refined by the next level (the worst ``SLOTS``, each into about 16 h / (TAU n)
bins for a bucket of h values, sharing the level's 16384 buckets), up to
``MAX_DEPTH`` levels; the bound reached is returned, never assumed. Light-tailed data
(10M normal values) needs level 1 only; heavy tails (Student t, df=2) or a far outlier need 2-3.
Levels have 2**14 buckets, not more, because their count/min/max tables must stay in the L2 cache
for the scatters to be fast (2**16 buckets made the pass 2.4x slower).

One way per device for the passes over the rows: on the CPU the bucket passes are
``histogram_cpu``'s numba loops (float64 blocks, or whole columns read in place from their
Arrow buffers by ``summarize_columns``: no column block, no chunk summaries to merge), on
accelerators ``histogram.bucket_pass``. Both give the same buckets, so the same summary. The
queries and level choices work on the small per-bucket tables and stay in JAX on every device:
a handful of jitted calls per summary, ~0.04 CPU-s for 10 columns (measured; as numpy they
would save no more than that).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_assets.kernels.histogram import (
    LEVEL_BUCKETS,
    SLOTS,
    Buckets,
    Level,
    bucket_pass,
    level_one,
    make_level,
)
from synthcap_assets.kernels.quantiles import (
    KNOTS,
    QuantileSummary,
    knot_ranks,
    summary_from_sorted,
)
from synthcap_resources.compute import FloatColumn, bucket_size, cpu_workers, runtime

SORT_ROWS = 1 << 14
TAU = 3e-4
MAX_DEPTH = 4


class Queries(NamedTuple):
    """Per column and queried rank: the bucket (deepest level reached), its first rank, the
    value read, its rank error and whether the bucket belongs to the latest level."""

    rank: jax.Array
    bucket: jax.Array
    start: jax.Array
    value: jax.Array
    error: jax.Array
    active: jax.Array


@jax.jit
def sorted_summary(x: jax.Array, count: jax.Array) -> tuple[QuantileSummary, jax.Array]:
    """(exact summary, sorted columns with missing values last as +inf) of a small block."""
    ordered = jnp.sort(jnp.where(jnp.isfinite(x), x, jnp.inf), axis=1)
    values = summary_from_sorted(ordered, count.astype(ordered.dtype))
    values = jnp.where(count[:, None] > 0, values, jnp.inf)
    summary = QuantileSummary(values, count, jnp.zeros_like(count))
    return summary, ordered


def _locate(count: jax.Array, low: jax.Array, high: jax.Array, pos: jax.Array) -> tuple:
    h = count.astype(low.dtype)
    pos = pos.astype(low.dtype)
    spread = (high > low) & (h > 1)
    value = jnp.where(spread, low + (high - low) * pos / jnp.where(h > 1, h - 1, 1.0), low)
    exact = ~spread | (pos == 0) | (pos == h - 1)
    return jnp.clip(value, low, high), jnp.where(exact, 0.0, jnp.maximum(pos, h - 1 - pos))


def _query_ranks(count: jax.Array) -> jax.Array:
    t = knot_ranks(count)
    lo = jnp.floor(t)
    hi = jnp.minimum(lo + 1, jnp.maximum(count[:, None] - 1, 0))
    return jnp.concatenate([lo, hi], axis=1).astype(jnp.int32)


def _find(buckets: Buckets, rank: jax.Array, base: jax.Array) -> tuple:
    """Bucket holding each ``base + rank`` (ranks counted over the flattened buckets)."""
    inclusive = jnp.cumsum(buckets.count, axis=1)
    bucket = jax.vmap(lambda c, r: jnp.searchsorted(c, r, side="right"))(inclusive, base + rank)
    bucket = jnp.minimum(bucket, buckets.count.shape[1] - 1).astype(jnp.int32)
    take = lambda a: jnp.take_along_axis(a, bucket, axis=1)  # noqa: E731
    before = take(inclusive) - take(buckets.count)
    return bucket, before, take(buckets.count), take(buckets.low), take(buckets.high)


@jax.jit
def first_queries(buckets: Buckets, count: jax.Array) -> Queries:
    """Locate every knot rank in level 1's buckets."""
    rank = _query_ranks(count)
    bucket, before, h, low, high = _find(buckets, rank, jnp.zeros_like(rank))
    value, error = _locate(h, low, high, rank - before)
    return Queries(rank, bucket, before, value, error, jnp.ones(rank.shape, bool))


def _scores(queries: Queries, width: int, tau: jax.Array) -> jax.Array:
    """Per bucket of the latest level, the worst rank error above ``tau`` of a query in it."""
    bad = jnp.where(queries.active & (queries.error > tau[:, None]), queries.error, 0.0)
    return jax.vmap(lambda b, e: jnp.zeros(width, e.dtype).at[b].max(e))(queries.bucket, bad)


@jax.jit
def choose_slots(queries: Queries, buckets: Buckets, tau: jax.Array) -> Level:
    """The next level: the ``SLOTS`` buckets of the latest level with the worst rank errors
    above ``tau`` (per column), each split over its own [min, max] into about 16 h / tau bins
    (h its count), scaled down to share ``LEVEL_BUCKETS``."""
    width = buckets.count.shape[1]
    worst, ids = jax.lax.top_k(_scores(queries, width, tau), min(SLOTS, width))
    chosen = worst > 0
    slot = jnp.where(chosen, jnp.arange(ids.shape[1], dtype=jnp.int32), -1)
    table = jax.vmap(lambda i, s: jnp.full(width, -1, jnp.int32).at[i].set(s))(ids, slot)
    take = lambda a: jnp.where(chosen, jnp.take_along_axis(a, ids, axis=1), 0)  # noqa: E731
    h = take(buckets.count).astype(tau.dtype)
    want = jnp.where(
        chosen, jnp.clip(jnp.ceil(16.0 * h / jnp.maximum(tau, 1.0)[:, None]), 2, LEVEL_BUCKETS), 0
    )
    room = LEVEL_BUCKETS - chosen.sum(axis=1, keepdims=True)
    share = jnp.minimum(1.0, room / jnp.maximum(want.sum(axis=1, keepdims=True), 1.0))
    size = jnp.where(chosen, jnp.maximum(1.0, jnp.floor(want * share)), 0.0).astype(jnp.int32)
    return make_level(table, take(buckets.low), take(buckets.high), size)


@jax.jit
def refine_queries(queries: Queries, level: Level, buckets: Buckets) -> Queries:
    """Re-locate the queries whose bucket the latest level split."""
    slot = jnp.take_along_axis(level.table, queries.bucket, axis=1)
    moved = queries.active & (slot >= 0)
    # Ranks inside a slot, counted over the flattened buckets of this level.
    slot_start = jnp.cumsum(buckets.count, axis=1) - buckets.count
    first_bin = jnp.take_along_axis(level.offset, jnp.maximum(slot, 0), axis=1)
    base = jnp.take_along_axis(slot_start, first_bin, axis=1)
    local = queries.rank - queries.start
    bucket, before, h, low, high = _find(buckets, local, base)
    value, error = _locate(h, low, high, base + local - before)
    pick = lambda new, old: jnp.where(moved, new, old)  # noqa: E731
    return Queries(
        rank=queries.rank,
        bucket=pick(bucket, queries.bucket),
        start=pick(queries.start + before - base, queries.start),
        value=pick(value, queries.value),
        error=pick(error, queries.error),
        active=moved,
    )


@jax.jit
def knots_from_queries(queries: Queries, count: jax.Array) -> QuantileSummary:
    t = knot_ranks(count)
    lo, hi = jnp.split(queries.value, 2, axis=1)
    values = lo + (t - jnp.floor(t)) * (hi - lo)
    values = jnp.where(count[:, None] > 0, jax.lax.cummax(values, axis=1), jnp.inf)
    error = jnp.where(count > 0, queries.error.max(axis=1), 0.0)
    return QuantileSummary(values.astype(count.dtype), count, error.astype(count.dtype))


@jax.jit
def _needs_refinement(queries: Queries, tau: jax.Array) -> jax.Array:
    return jnp.any(queries.active & (queries.error > tau[:, None]))


def _passes(x: jax.Array | np.ndarray, rows: int | None) -> Callable[[tuple], Buckets]:
    """The bucket pass for ``x``'s device: numba on the CPU (float64), JAX elsewhere."""
    if x.dtype == np.float64 and runtime().platform == "cpu":
        from synthcap_assets.kernels import histogram_cpu  # numba: imported where it runs

        host = np.asarray(x)
        return lambda levels: histogram_cpu.bucket_pass(host, levels, rows)
    device = jax.device_put(x)
    return lambda levels: bucket_pass(device, levels)


def refined_summary(
    x: jax.Array | np.ndarray,
    count: jax.Array,
    minimum: jax.Array,
    maximum: jax.Array,
    rows: int | None = None,
) -> tuple[QuantileSummary, Buckets]:
    """(summary, level-1 buckets) of a large column block by histogram refinement; only the
    first ``rows`` rows are read where given (the rest must be missing)."""
    return _refine(_passes(x, rows), count, minimum, maximum)


def _refine(
    passes: Callable[[tuple], Buckets], count: jax.Array, minimum: jax.Array, maximum: jax.Array
) -> tuple[QuantileSummary, Buckets]:
    levels: tuple[Level, ...] = (level_one(minimum, maximum),)
    first = passes(levels)
    queries = first_queries(first, count)
    tau = jnp.floor(TAU * count)
    buckets = first
    while len(levels) < MAX_DEPTH:
        if not bool(_needs_refinement(queries, tau)):
            break
        level = choose_slots(queries, buckets, tau)
        levels = (*levels, level)
        buckets = passes(levels)
        queries = refine_queries(queries, level, buckets)
    return knots_from_queries(queries, count), first


def summarize(
    x: jax.Array | np.ndarray,
    count: jax.Array,
    minimum: jax.Array,
    maximum: jax.Array,
    rows: int | None = None,
) -> tuple:
    """(summary, sorted block or None, level-1 buckets or None) of a column block: exact by
    sorting up to ``SORT_ROWS`` padded rows, by refinement beyond. ``rows``: how many leading
    rows are real (optional; the padding is missing anyway, the CPU pass skips it)."""
    if x.shape[1] <= SORT_ROWS:
        summary, ordered = sorted_summary(x, count)
        return summary, ordered, None
    summary, first = refined_summary(x, count, minimum, maximum, rows)
    return summary, None, first


def summarize_columns(
    columns: Sequence[Sequence[FloatColumn]],
    count: np.ndarray,
    minimum: np.ndarray,
    maximum: np.ndarray,
    workers: int | None = None,
) -> tuple:
    """``summarize`` of whole float64 columns on the CPU, given as pieces
    (``synthcap_resources.compute.float_columns``: Arrow buffers, no column block): the bucket
    passes read the pieces in place, row ranges as tasks on ``workers`` threads (default
    ``cpu_workers()``). Up to ``SORT_ROWS`` rows the exact sort path runs on a block built
    from them. Same result as ``summarize`` on the column block of the same rows."""
    from synthcap_assets.kernels import histogram_cpu  # numba: imported where it runs

    length = sum(piece.values.size for piece in columns[0]) if columns else 0
    if length <= SORT_ROWS:
        block = np.full((len(columns), bucket_size(length)), np.nan)
        for row, pieces in zip(block, columns, strict=True):
            at = 0
            for piece in pieces:
                size = piece.values.size
                row[at : at + size] = np.where(piece.not_null(0, size), piece.values, np.nan)
                at += size
        return summarize(block, count, minimum, maximum, length)
    workers = workers or cpu_workers()
    passes = lambda levels: histogram_cpu.bucket_pass_columns(columns, levels, workers)  # noqa: E731
    summary, first = _refine(passes, count, minimum, maximum)
    return summary, None, first


__all__ = ["KNOTS", "SORT_ROWS", "TAU", "summarize", "summarize_columns"]
