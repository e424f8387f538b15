"""Spearman's rank correlation from quantile summaries, for tables too large to sort.

Exact Spearman ranks every column (a sort per column, ``correlation.spearman``), and XLA's sort
is slow on the CPU. The profile already holds each column's mergeable quantile summary
(``quantiles.QuantileSummary``), whose ``cdf`` reading gives the number of values below and at any
point within ``cdf_bound`` (exact when the summary is, i.e. up to 8193 values or as many
distinct ones). The average rank of a value x is then (count(< x) + count(<= x) + 1) / 2, the
same tie convention as ``scipy.stats.rankdata``; the ranks are correlated pairwise-complete
by ``correlation``'s mergeable Pearson state, chunk by chunk, so memory stays bounded.

Bound: every rank is within b = ``cdf_bound`` of its exact value; ranks have standard deviation
about n / sqrt(12), so rho moves by at most about 2 sqrt(12) b / n (0.7% of the summary's rank
bound, e.g. 0.004 at the 0.055% bound of a merged summary) and in practice far less, because
the rank errors are smooth in x. With nulls, each column is ranked among its own valid values
(``correlation``'s "pairwise" policy).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_assets.kernels.correlation import Correlation, PearsonState, pearson_state
from synthcap_assets.kernels.quantiles import (
    KNOTS,
    QuantileSummary,
    _count_le,
    _count_lt,
    knot_ranks,
)
from synthcap_resources.compute import DEFAULT_CHUNK_ROWS, chunk_ranges


@partial(jax.jit, static_argnames="exact")
def _column_ranks(knots: jax.Array, count: jax.Array, x: jax.Array, exact: bool) -> jax.Array:
    """Average ranks of one column's values (NaN where missing) from its summary. One column
    per call: gathers from a batched (vmapped) knot array ran 5x slower on XLA:CPU."""
    if exact:
        below = jnp.minimum(jnp.searchsorted(knots, x, side="left"), count)
        at_most = jnp.minimum(jnp.searchsorted(knots, x, side="right"), count)
    else:
        ranks = knot_ranks(count[None])[0]
        below = _count_lt(knots, ranks, count, x)
        at_most = _count_le(knots, ranks, count, x)
    return jnp.where(jnp.isfinite(x), (below + at_most + 1) / 2, jnp.nan)


def spearman_from_summaries(
    values: np.ndarray, summary: QuantileSummary, chunk_rows: int = DEFAULT_CHUNK_ROWS // 4
) -> Correlation:
    """Spearman matrix of the columns of ``values`` (rows × columns, NaN = null), ranked by
    ``summary`` (the columns' quantile summaries over exactly these rows)."""
    exact = np.asarray((summary.count <= KNOTS) & (summary.error == 0))
    state: PearsonState | None = None
    for start, stop in chunk_ranges(values.shape[0], chunk_rows):
        ranks = np.empty((stop - start, values.shape[1]))
        for j in range(values.shape[1]):
            column = jnp.asarray(np.ascontiguousarray(values[start:stop, j]))
            ranks[:, j] = _column_ranks(
                summary.values[j], summary.count[j], column, bool(exact[j])
            )
        part = pearson_state(ranks, ~np.isnan(ranks))
        state = part if state is None else state.merge(part)
    if state is None:
        raise ValueError("spearman_from_summaries needs at least one row")
    return state.correlation()
