"""Outlier counts per column: robust z (median/MAD) and Tukey's IQR fences.

- Robust z: |x - median| / (1.4826 * MAD) > 3.5 (Iglewicz & Hoaglin), MAD = median |x - median|.
  Undefined (NaN) when MAD = 0, i.e. when more than half the values equal the median.
- IQR fences: x < Q1 - 1.5 IQR or x > Q3 + 1.5 IQR.

From a (possibly merged) quantile summary, without the rows: the median and quartiles carry
the summary's count bound B = error + gap (``quantiles.cdf_bound``). MAD is found by bisection on
G(m) = #{|x - median| <= m} ~ cdf(median + m) - cdf(median - m, strict), whose estimate is
within 2B of the truth, so MAD is the median of |x - median| to within 2B ranks, and each
count is within 2B of the count at the same thresholds (``count_bound``). With the rows at hand,
``exact_outliers`` recounts exactly at the thresholds (one pass).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from synthcap_assets.kernels.histogram import count_outside
from synthcap_assets.kernels.quantiles import QuantileSummary, cdf, cdf_bound, quantiles

ROBUST_Z = 3.5
MAD_TO_SIGMA = 1.4826
IQR_FENCE = 1.5
_BISECTIONS = 80


class Outliers(NamedTuple):
    """Per column: thresholds and counts of both rules, and the counts' absolute bound."""

    median: jax.Array
    mad: jax.Array
    robust_low: jax.Array
    robust_high: jax.Array
    robust_count: jax.Array
    q1: jax.Array
    q3: jax.Array
    iqr_low: jax.Array
    iqr_high: jax.Array
    iqr_count: jax.Array
    count_bound: jax.Array


@jax.jit
def outliers(summary: QuantileSummary) -> Outliers:
    """Both rules' thresholds and (estimated) counts from a quantile summary."""
    q1, median, q3 = quantiles(summary, jnp.array([0.25, 0.5, 0.75])).T
    n = summary.count
    lowest, highest = summary.values[:, 0], summary.values[:, -1]

    def within(m: jax.Array) -> jax.Array:
        upper = cdf(summary, (median + m)[:, None])[:, 0]
        lower = cdf(summary, (median - m)[:, None], strict=True)[:, 0]
        return upper - lower

    half = n / 2.0
    hi = jnp.maximum(highest - median, median - lowest)
    hi = jnp.where(jnp.isfinite(hi), hi, 0.0)

    def step(_: int, bounds: tuple) -> tuple:
        a, b = bounds
        mid = 0.5 * (a + b)
        enough = within(mid) >= half
        return jnp.where(enough, a, mid), jnp.where(enough, mid, b)

    _, mad = jax.lax.fori_loop(0, _BISECTIONS, step, (jnp.zeros_like(hi), hi))
    mad = jnp.where(within(jnp.zeros_like(hi)) >= half, 0.0, mad)  # half the values tie
    mad = jnp.where(n > 0, mad, jnp.nan)
    reach = ROBUST_Z * MAD_TO_SIGMA * mad
    robust_low, robust_high = median - reach, median + reach
    robust = n - within(reach)
    robust = jnp.where(mad > 0, jnp.clip(robust, 0.0, n), jnp.nan)
    iqr = q3 - q1
    iqr_low, iqr_high = q1 - IQR_FENCE * iqr, q3 + IQR_FENCE * iqr
    below = cdf(summary, iqr_low[:, None], strict=True)[:, 0]
    above = n - cdf(summary, iqr_high[:, None])[:, 0]
    return Outliers(
        median=median,
        mad=mad,
        robust_low=robust_low,
        robust_high=robust_high,
        robust_count=robust,
        q1=q1,
        q3=q3,
        iqr_low=iqr_low,
        iqr_high=iqr_high,
        iqr_count=jnp.where(n > 0, jnp.clip(below + above, 0.0, n), jnp.nan),
        count_bound=2.0 * cdf_bound(summary),
    )


def exact_outliers(x: jax.Array, found: Outliers) -> Outliers:
    """``found`` with both counts recounted exactly on the column block ``x`` (bound 0)."""
    robust = count_outside(x, found.robust_low, found.robust_high).astype(found.median.dtype)
    iqr = count_outside(x, found.iqr_low, found.iqr_high).astype(found.median.dtype)
    return found._replace(
        robust_count=jnp.where(found.mad > 0, robust, jnp.nan),
        iqr_count=jnp.where(jnp.isnan(found.iqr_count), jnp.nan, iqr),
        count_bound=jnp.zeros_like(found.count_bound),
    )
