"""Spearman's rank correlation from quantile summaries, for tables too large to sort.

Exact Spearman ranks every column (a sort per column, ``correlation.spearman``), and XLA's sort
is slow on the CPU. The profile already holds each column's mergeable quantile summary
(``quantiles.QuantileSummary``), whose ``cdf`` reading gives the number of values below and at any
point within ``cdf_bound`` (exact when the summary is, i.e. up to 8193 values or as many
distinct ones). The average rank of a value x is then (count(< x) + count(<= x) + 1) / 2, the
same tie convention as ``scipy.stats.rankdata``; the ranks are correlated pairwise-complete
by ``correlation``'s mergeable Pearson state, chunk by chunk, so memory stays bounded, in the
same pass as the Pearson state of the values themselves (one read of the rows for both). On the
CPU that pass is the numba loop of ``correlation_cpu`` (a lookup table over the knots instead
of a binary search per value: the same ranks to rounding); on an accelerator, JAX below.

Bound: every rank is within b = ``cdf_bound`` of its exact value; ranks have standard deviation
about n / sqrt(12), so rho moves by at most about 2 sqrt(12) b / n (0.7% of the summary's rank
bound, e.g. 0.004 at the 0.055% bound of a merged summary) and in practice far less, because
the rank errors are smooth in x. With nulls, each column is ranked among its own valid values
(``correlation``'s "pairwise" policy).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_assets.kernels.correlation import (
    Correlation,
    PearsonState,
    _pearson_sums,
    as_columns,
    merge_states,
)
from synthcap_assets.kernels.quantiles import (
    KNOTS,
    QuantileSummary,
    _ramp,
    _ramp_below,
    knot_ranks,
)
from synthcap_resources.compute import (
    DEFAULT_CHUNK_ROWS,
    FloatColumn,
    aligned_empty,
    bucket_size,
    chunk_ranges,
    runtime,
)


def _column_ranks(knots: jax.Array, count: jax.Array, x: jax.Array, exact: bool) -> jax.Array:
    """Average ranks of one column's values (NaN where missing) from its summary.

    One binary search per value: the index of the first knot equal to the last knot at or
    below x (a table over the knots) turns the "right" search into the "left" one. One column
    at a time: gathers from a batched (vmapped) knot array ran 5x slower on XLA:CPU."""
    right = jnp.searchsorted(knots, x, side="right")
    last = jnp.clip(right - 1, 0, KNOTS - 1)
    first_equal = jnp.searchsorted(knots, knots, side="left")
    left = jnp.where((right > 0) & (knots[last] == x), first_equal[last], right)
    if exact:
        below, at_most = jnp.minimum(left, count), jnp.minimum(right, count)
    else:
        ranks = knot_ranks(count[None])[0]
        below = _ramp_below(knots, ranks, count, x, left - 1)
        at_most = _ramp(knots, ranks, count, x, right - 1)
    return jnp.where(jnp.isfinite(x), (below + at_most + 1) / 2, jnp.nan)


@partial(jax.jit, static_argnames="exact")
def _value_and_rank_sums(
    knots: jax.Array, count: jax.Array, x: jax.Array, exact: tuple[bool, ...]
) -> tuple[tuple[jax.Array, ...], tuple[jax.Array, ...]]:
    """Pearson sums of ``x`` (columns × rows, NaN = null) and of its ranks, in one pass."""
    ranks = jnp.stack(
        [_column_ranks(knots[j], count[j], x[j], exact[j]) for j in range(len(exact))], axis=1
    )
    return _pearson_sums(x.T, jnp.isfinite(x.T)), _pearson_sums(ranks, jnp.isfinite(ranks))


def pearson_and_spearman_of_columns(
    columns: Sequence[Sequence[FloatColumn]], summary: QuantileSummary
) -> tuple[Correlation, Correlation]:
    """``pearson_and_spearman`` of columns given as ``FloatColumn`` pieces (a polars table's
    Arrow buffers, ``compute.float_columns``: no rows × columns copy), by the CPU loop of
    ``correlation_cpu`` on ``cpu_workers()`` threads: ranks read from ``summary`` through a
    lookup table, both states in one read of the rows."""
    from synthcap_assets.kernels import correlation_cpu  # numba: only when a kernel runs

    if not columns or not any(len(p.values) for p in columns[0]):
        raise ValueError("pearson_and_spearman needs at least one row")
    fields = (np.asarray(a, np.float64) for a in summary)
    tables = correlation_cpu.rank_tables(*fields)
    if tables.count.shape[0] != len(columns):
        raise ValueError(f"{len(columns)} columns but a summary of {tables.count.shape[0]}")
    values, ranks = correlation_cpu.pearson_states(columns, tables)
    pearson = merge_states([PearsonState(*v) for v in values]).correlation()
    return pearson, merge_states([PearsonState(*r) for r in ranks]).correlation()


def pearson_and_spearman(
    values: np.ndarray, summary: QuantileSummary, chunk_rows: int = DEFAULT_CHUNK_ROWS // 4
) -> tuple[Correlation, Correlation]:
    """Pairwise-complete Pearson and Spearman matrices of the columns of ``values`` (rows ×
    columns, NaN = null) in one pass over the rows, the ranks read from ``summary`` (the
    columns' quantile summaries over exactly these rows). Non-finite values are nulls.

    One way per device: on the CPU the numba loop (``pearson_and_spearman_of_columns``;
    ``chunk_rows`` unused); on an accelerator the jitted JAX pass below, ``chunk_rows`` rows
    at a time."""
    values = as_columns(values, "values")
    if runtime().platform == "cpu":
        from synthcap_assets.kernels.correlation_cpu import mask_columns

        return pearson_and_spearman_of_columns(mask_columns(values), summary)
    return _pearson_and_spearman_jax(values, summary, chunk_rows)


def _pearson_and_spearman_jax(
    values: np.ndarray, summary: QuantileSummary, chunk_rows: int
) -> tuple[Correlation, Correlation]:
    """The accelerator path of ``pearson_and_spearman`` (rows × columns ``values``)."""
    exact = tuple(bool(e) for e in np.asarray((summary.count <= KNOTS) & (summary.error == 0)))
    dtype = runtime().dtype
    states: list[PearsonState] = []
    for start, stop in chunk_ranges(values.shape[0], chunk_rows):
        # Columns × rows, padded with NaN to the row bucket so a new size does not recompile.
        x = aligned_empty((values.shape[1], bucket_size(stop - start)), dtype)
        x[:, : stop - start] = values[start:stop].T
        x[:, stop - start :] = np.nan
        sums = _value_and_rank_sums(summary.values, summary.count, jnp.asarray(x), exact)
        parts = [PearsonState(*(np.asarray(a) for a in part)) for part in sums]
        states = parts if not states else [a.merge(b) for a, b in zip(states, parts, strict=True)]
    if not states:
        raise ValueError("pearson_and_spearman needs at least one row")
    pearson, spearman = (state.correlation() for state in states)
    return pearson, spearman
