"""Two-sample drift statistics per column: a raw reference sample against a current sample.

Inputs are rows × columns arrays with validity masks (reference and current may have different
row counts); each statistic is computed for every column at once.

- KS: sup |F_ref - F_cur| over the sorted union of both samples (one exact sort per column,
  ``corr_ranks.sort_permutation``), evaluated at the end of each run of tied values, as
  ``scipy.stats.ks_2samp``. The p-value is ``ks_2samp``'s ``method="asymp"``: the Kolmogorov
  distribution ``scipy.stats.kstwo.sf(D, round(n·m / (n + m)))``, evaluated on the host with
  scipy (its exact series has no JAX port; it is a scalar per column).
- Wasserstein-1: ∫ |F_ref - F_cur| dx = Σ |F_ref - F_cur| · gap over the same sorted union, as
  ``scipy.stats.wasserstein_distance``.
- PSI and Jensen–Shannon work on shares of common bins, cut at the reference's quantiles
  every 5% (numpy's default linear interpolation) and right-closed: (-inf, e1], (e1, e2],
  ..., (e19, inf), so every copy of a tied value falls in the same bin on both days; reference
  quantile bins stay informative under heavy tails, where equal-width bins put nearly
  everything in one bin. Repeated edges make empty bins on both sides, which add nothing.
  PSI uses the decile bins, which are pairs of those bins (every decile is one of the 5%
  quantiles): PSI = Σ (a - e) ln(a / e) with shares clipped at 1e-4. JS distance =
  sqrt((KL(p‖m) + KL(q‖m)) / 2) in the given ``base``, as
  ``scipy.spatial.distance.jensenshannon``.
- Chi-square of homogeneity on the 2 × k table of reference and current category counts,
  categories empty on both sides dropped, as ``scipy.stats.chi2_contingency(correction=False)``;
  the p-value from the regularized upper incomplete gamma function in JAX.

``numeric_drift_samples`` computes all numeric statistics of many columns in one jitted
dispatch. Non-finite values count as nulls. Rows are padded to shape buckets, so new sample
sizes within a bucket do not recompile.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from scipy import stats as sps

from synthcap_assets.kernels.corr_ranks import order_keys, sort_permutation
from synthcap_resources.compute import pad_rows, runtime

PSI_EPSILON = 1e-4
DECILES = tuple(i / 10 for i in range(1, 10))
JS_PROBS = tuple(i / 20 for i in range(1, 20))


class DriftInputError(ValueError):
    """A sample, mask, reference or threshold passed to a drift kernel is unusable."""


def prepare_sample(
    values: np.ndarray, mask: np.ndarray | None, name: str
) -> tuple[jax.Array, jax.Array, np.ndarray]:
    """(values, valid) as rows × columns device arrays padded to the row bucket, and the
    valid count per column. A 1-D sample is one column."""
    x = np.asarray(values, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    if x.ndim != 2 or x.shape[1] == 0:
        raise DriftInputError(f"{name} must be a sample or rows × columns, got {np.shape(values)}")
    valid = np.isfinite(x)
    if mask is not None:
        if np.size(mask) != x.size:
            raise DriftInputError(f"{name} mask shape {np.shape(mask)} != {x.shape}")
        valid &= np.asarray(mask, dtype=bool).reshape(x.shape)
    counts = valid.sum(axis=0)
    if (counts == 0).any():
        raise DriftInputError(
            f"{name} has a column without valid values (column {int(np.argmin(counts))}); "
            "leave such columns out of the comparison"
        )
    x, valid = pad_rows(np.where(valid, x, 0.0), valid)
    return jnp.asarray(x, dtype=runtime().dtype), jnp.asarray(valid), counts


@jax.jit
def _union(
    ref: jax.Array, ref_valid: jax.Array, cur: jax.Array, cur_valid: jax.Array
) -> tuple[jax.Array, ...]:
    """Per column, over the sorted union: values, F_ref and F_cur after each position, and
    whether the position ends a run of equal values (where the CDFs are their true values)."""
    values = jnp.concatenate([ref, cur]).T  # columns × rows
    valid = jnp.concatenate([ref_valid, cur_valid]).T
    keys = order_keys(values, valid)
    perm, ordered = sort_permutation(keys)
    from_ref = (perm < ref.shape[0]) & jnp.take_along_axis(valid, perm, axis=-1)
    from_cur = (perm >= ref.shape[0]) & jnp.take_along_axis(valid, perm, axis=-1)
    n_ref = ref_valid.sum(0)[:, None].astype(values.dtype)
    n_cur = cur_valid.sum(0)[:, None].astype(values.dtype)
    f_ref = jnp.cumsum(from_ref, axis=-1) / n_ref
    f_cur = jnp.cumsum(from_cur, axis=-1) / n_cur
    ends = jnp.concatenate(
        [ordered[:, 1:] != ordered[:, :-1], jnp.ones((ordered.shape[0], 1), bool)], axis=-1
    )
    return jnp.take_along_axis(values, perm, axis=-1), f_ref, f_cur, ends, from_ref | from_cur


@jax.jit
def _ks_wasserstein(
    ref: jax.Array, ref_valid: jax.Array, cur: jax.Array, cur_valid: jax.Array
) -> tuple[jax.Array, jax.Array]:
    values, f_ref, f_cur, ends, used = _union(ref, ref_valid, cur, cur_valid)
    gap = jnp.abs(f_ref - f_cur)
    ks = jnp.max(jnp.where(ends & used, gap, 0), axis=-1)
    # Between consecutive valid points both CDFs are flat; ties have zero width.
    width = jnp.where(used[:, 1:], values[:, 1:] - values[:, :-1], 0)
    return ks, jnp.sum(gap[:, :-1] * width, axis=-1)


def ks_pvalue(statistic: np.ndarray, n: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``ks_2samp(method="asymp")``'s two-sided p-value, per column (host, scipy); the
    effective size is at least 1, where scipy gives NaN for one value against one."""
    n_eff = np.round(np.asarray(n, float) * m / (np.asarray(n, float) + m))
    return np.clip(sps.kstwo.sf(np.asarray(statistic), np.maximum(n_eff, 1)), 0.0, 1.0)


@jax.jit
def _sorted_columns(x: jax.Array, valid: jax.Array) -> jax.Array:
    """Each column's values ascending (columns × rows), invalid ones last as +inf: a
    single-operand integer sort of the order keys, mapped back to floats exactly."""
    keys = jnp.sort(order_keys(x.T, valid.T), axis=-1)
    flip = jnp.iinfo(keys.dtype).max
    bits = jnp.where(keys < 0, keys ^ flip, keys)
    out = lax.bitcast_convert_type(bits, x.dtype)
    return jnp.where(keys == flip, jnp.inf, out)


@partial(jax.jit, static_argnames="probs")
def _sample_quantiles(x: jax.Array, valid: jax.Array, probs: tuple[float, ...]) -> jax.Array:
    """Quantiles (columns × probs) with numpy's default linear interpolation."""
    s = _sorted_columns(x, valid)
    n = valid.sum(0).astype(x.dtype)
    pos = jnp.asarray(probs, x.dtype)[None, :] * (n[:, None] - 1)
    lo = jnp.floor(pos).astype(jnp.int32)
    hi = jnp.minimum(lo + 1, n[:, None].astype(jnp.int32) - 1)
    a, b = jnp.take_along_axis(s, lo, axis=-1), jnp.take_along_axis(s, hi, axis=-1)
    return a + (b - a) * (pos - lo)


@jax.jit
def bin_shares(x: jax.Array, valid: jax.Array, edges: jax.Array) -> jax.Array:
    """Shares (columns × len(edges) + 1) of each column's valid values in the right-closed bins
    cut at ``edges`` (columns × edges, ascending)."""

    def one(column: jax.Array, ok: jax.Array, cuts: jax.Array) -> jax.Array:
        # (e[j-1], e[j]] holds the values with j edges strictly below them.
        index = jnp.searchsorted(cuts, column, side="left", method="scan")
        counts = jnp.zeros(cuts.shape[0] + 1, column.dtype).at[index].add(ok.astype(column.dtype))
        return counts / ok.sum()

    return jax.vmap(one)(x.T, valid.T, edges)


@jax.jit
def psi(actual: jax.Array, expected: jax.Array) -> jax.Array:
    """Population stability index of share vectors (last axis), shares clipped at 1e-4."""
    a, e = jnp.maximum(actual, PSI_EPSILON), jnp.maximum(expected, PSI_EPSILON)
    return jnp.sum((a - e) * jnp.log(a / e), axis=-1)


@jax.jit
def jensenshannon(p: jax.Array, q: jax.Array, base: float = np.e) -> jax.Array:
    """Jensen–Shannon distance of share or count vectors (last axis), like scipy's."""
    p = p / p.sum(-1, keepdims=True)
    q = q / q.sum(-1, keepdims=True)
    m = (p + q) / 2

    def kl(a: jax.Array) -> jax.Array:
        return jnp.sum(jnp.where(a > 0, a * jnp.log(a / jnp.where(a > 0, m, 1)), 0), axis=-1)

    return jnp.sqrt(jnp.maximum(kl(p) + kl(q), 0) / 2 / jnp.log(base))


@jax.jit
def _numeric_all(
    ref: jax.Array, ref_valid: jax.Array, cur: jax.Array, cur_valid: jax.Array
) -> tuple[jax.Array, ...]:
    """KS, Wasserstein-1, the reference std (ddof 0) and the reference and current shares in
    the bins cut at the reference's ``JS_PROBS`` quantiles, per column, in one dispatch."""
    ks, w1 = _ks_wasserstein(ref, ref_valid, cur, cur_valid)
    n = ref_valid.sum(0)
    mean = jnp.where(ref_valid, ref, 0).sum(0) / n
    std = jnp.sqrt(jnp.where(ref_valid, (ref - mean) ** 2, 0).sum(0) / n)
    edges = _sample_quantiles(ref, ref_valid, JS_PROBS)
    expected, actual = bin_shares(ref, ref_valid, edges), bin_shares(cur, cur_valid, edges)
    return ks, w1, std, edges, expected, actual


def numeric_drift_samples(
    reference: np.ndarray,
    current: np.ndarray,
    reference_mask: np.ndarray | None = None,
    current_mask: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Per column of two raw samples: ``ks``, ``ks_pvalue``, ``wasserstein`` (not normed),
    ``std`` (the reference's, ddof 0), the reference and current counts ``n`` and ``m``, the
    reference's ``JS_PROBS`` quantiles ``edges`` (columns × 19) and the shares ``expected`` /
    ``actual`` (columns × 20) in the right-closed bins they cut; the decile bins of PSI are
    pairs of these bins (``decile_shares``), since every decile is one of those quantiles."""
    ref, ref_valid, n = prepare_sample(reference, reference_mask, "reference")
    cur, cur_valid, m = prepare_sample(current, current_mask, "current")
    if ref.shape[1] != cur.shape[1]:
        raise DriftInputError(f"reference has {ref.shape[1]} columns, current {cur.shape[1]}")
    ks, w1, std, edges, expected, actual = (
        np.asarray(a) for a in _numeric_all(ref, ref_valid, cur, cur_valid)
    )
    return {
        "ks": ks,
        "ks_pvalue": ks_pvalue(ks, n, m),
        "wasserstein": w1,
        "std": std,
        "n": n,
        "m": m,
        "edges": edges,
        "expected": expected,
        "actual": actual,
    }


def decile_shares(shares: np.ndarray) -> np.ndarray:
    """Shares in the decile bins from shares in the ``JS_PROBS`` bins (pairs summed)."""
    return shares.reshape(*shares.shape[:-1], -1, 2).sum(-1)


@jax.jit
def chi2_homogeneity(reference: jax.Array, current: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(statistic, p-value) of the 2 × k table [reference; current] of category counts (last
    axis), categories empty on both sides left out; p-value 1 with fewer than 2 categories."""
    table = jnp.stack([reference, current], axis=-2).astype(runtime().dtype)
    total = table.sum((-2, -1), keepdims=True)
    expected = table.sum(-1, keepdims=True) * table.sum(-2, keepdims=True) / total
    seen = expected > 0
    chi2 = jnp.sum(
        jnp.where(seen, (table - expected) ** 2 / jnp.where(seen, expected, 1), 0), (-2, -1)
    )
    dof = jnp.sum(table.sum(-2) > 0, axis=-1) - 1
    p = jax.scipy.special.gammaincc(jnp.maximum(dof, 1) / 2, chi2 / 2)
    return jnp.where(dof > 0, chi2, 0.0), jnp.where(dof > 0, p, 1.0)
