"""Quantile summaries and histograms against numpy in float64: exact on small data, within the
stated (and carried) rank bound on large, heavy-tailed, tied, offset and float32 data, and
through merges (pairs, flat groups, trees)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synthcap_assets.kernels import histogram
from synthcap_assets.kernels.quantiles import (
    KNOTS,
    cdf,
    cdf_bound,
    equal_width_bins,
    merge_many,
    merge_summaries,
    quantile_bins,
    quantiles,
    rank_bound,
)
from synthcap_assets.kernels.refine import SORT_ROWS, summarize
from synthcap_resources.compute import column_block, runtime

runtime()
PROBS = np.linspace(0.0, 1.0, 201)


def _summary(x: np.ndarray, dtype: type = np.float64):
    block, rows = column_block(x, dtype=dtype)
    xb = jax.device_put(block)
    finite = np.isfinite(block)
    count = jnp.asarray(finite.sum(1), jnp.float64)
    low = np.where(finite, block, np.inf).min(1)
    high = np.where(finite, block, -np.inf).max(1)
    summary, _, _ = summarize(xb, count, jnp.asarray(low), jnp.asarray(high))
    return summary


def _large(seed: int, n: int) -> np.ndarray:
    """Normal, Student t (df=2), 1e12 offset, 1% far outliers, integer ties, prices."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    x = np.stack(
        [
            z,
            rng.standard_t(2, n),
            z * 0.5 + 1e12,
            np.where(rng.random(n) < 0.01, 1e13, z),
            rng.integers(0, 10, n).astype(float),
            np.round(rng.lognormal(3, 1, n), 2),
        ],
        axis=1,
    )
    x[rng.random(x.shape) < 0.05] = np.nan
    return x


def _assert_within_rank(x: np.ndarray, got: np.ndarray, bound: np.ndarray) -> None:
    """Each reported value lies between the order statistics at position -/+ bound."""
    for j in range(x.shape[1]):
        v = np.sort(x[:, j][np.isfinite(x[:, j])])
        pos = PROBS * (v.size - 1)
        lo = v[np.clip(np.floor(pos - bound[j]).astype(int), 0, v.size - 1)]
        hi = v[np.clip(np.ceil(pos + bound[j]).astype(int), 0, v.size - 1)]
        slack = 1e-12 * (np.abs(v).max() + 1.0)
        assert np.all(got[j] >= lo - slack) and np.all(got[j] <= hi + slack), j


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 1000), nulls=st.floats(0, 0.9))
def test_small_data_is_exact(seed: int, n: int, nulls: float) -> None:
    rng = np.random.default_rng(seed)
    x = np.stack([rng.standard_t(2, n), np.round(rng.standard_normal(n), 1) + 1e12], 1)
    x[rng.random(x.shape) < nulls] = np.nan
    summary = _summary(x)
    got = np.asarray(quantiles(summary, jnp.asarray(PROBS)))
    for j in range(2):
        v = x[:, j][np.isfinite(x[:, j])]
        if v.size == 0:
            assert np.all(np.isnan(got[j]))
            continue
        # Exact up to the rounding of the interpolation (numpy lerps from the nearer end).
        scale = 1e-13 * np.abs(v).max()
        np.testing.assert_allclose(got[j], np.quantile(v, PROBS), rtol=1e-13, atol=scale)
    assert np.all(np.asarray(rank_bound(summary)) == 0)


def test_refinement_meets_the_stated_bound() -> None:
    x = _large(1, 60_000)
    assert column_block(x)[0].shape[1] > SORT_ROWS  # the histogram path, not the sort
    summary = _summary(x)
    bound = np.asarray(rank_bound(summary))
    count = np.asarray(summary.count)
    assert np.all(bound <= 1e-3 * count)
    _assert_within_rank(x, np.asarray(quantiles(summary, jnp.asarray(PROBS))), bound)


def test_float32_path_meets_the_bound() -> None:
    x = _large(2, 40_000)[:, :2].astype(np.float32)
    summary = _summary(x, np.float32)
    bound = np.asarray(rank_bound(summary))
    assert np.all(bound <= 1e-3 * np.asarray(summary.count))
    got = np.asarray(quantiles(summary, jnp.asarray(PROBS)))
    _assert_within_rank(x.astype(np.float64), got, bound)


def test_merge_of_parts_is_within_the_merged_bound() -> None:
    x = _large(3, 90_000)
    parts = [_summary(p) for p in np.array_split(x, [20_000, 70_000])]
    merged = merge_many(parts)
    bound = np.asarray(rank_bound(merged))
    assert np.all(bound <= 1e-3 * np.asarray(merged.count))
    np.testing.assert_array_equal(np.asarray(merged.count), np.isfinite(x).sum(0))
    _assert_within_rank(x, np.asarray(quantiles(merged, jnp.asarray(PROBS))), bound)
    # Pairwise merge of the same pieces (a merge of merges) stays within its own bound too.
    pair = merge_summaries(merge_summaries(parts[0], parts[1]), parts[2])
    _assert_within_rank(x, np.asarray(quantiles(pair, jnp.asarray(PROBS))), rank_bound(pair))


def test_merge_of_small_exact_parts_is_exact() -> None:
    rng = np.random.default_rng(4)
    x = np.round(rng.standard_normal((KNOTS, 2)), 3)
    merged = merge_many([_summary(p) for p in np.array_split(x, 5)])
    got = np.asarray(quantiles(merged, jnp.asarray(PROBS)))
    np.testing.assert_allclose(got, np.quantile(x, PROBS, axis=0).T, rtol=1e-13, atol=1e-13)
    assert np.all(np.asarray(rank_bound(merged)) == 0)


def test_tree_merge_of_many_days() -> None:
    x = _large(5, 80_000)[:, [1, 4]]
    merged = merge_many([_summary(p) for p in np.array_split(x, 40)])
    bound = np.asarray(rank_bound(merged))
    assert np.all(bound <= 1e-3 * np.asarray(merged.count))
    _assert_within_rank(x, np.asarray(quantiles(merged, jnp.asarray(PROBS))), bound)


def test_cdf_is_within_its_bound() -> None:
    x = _large(6, 60_000)
    summary = _summary(x)
    points = np.nanquantile(x, np.linspace(0, 1, 57), axis=0).T
    points[:, ::7] += 1e-3  # between knots too
    le = np.asarray(cdf(summary, jnp.asarray(points)))
    lt = np.asarray(cdf(summary, jnp.asarray(points), strict=True))
    bound = np.asarray(cdf_bound(summary))
    for j in range(x.shape[1]):
        v = np.sort(x[:, j][np.isfinite(x[:, j])])
        assert np.all(np.abs(le[j] - np.searchsorted(v, points[j], "right")) <= bound[j] + 1e-6)
        assert np.all(np.abs(lt[j] - np.searchsorted(v, points[j], "left")) <= bound[j] + 1e-6)


def test_exact_histogram_counts_with_given_edges() -> None:
    x = _large(7, 30_000)
    block, _ = column_block(x)
    edges = np.stack([np.linspace(np.nanmin(c), np.nanmax(c), 13) for c in x.T])
    edges[:, 5] = edges[:, 4]  # an empty bin
    got = np.asarray(histogram.histogram_counts(jax.device_put(block), jnp.asarray(edges)))
    for j in range(x.shape[1]):
        ref, _ = np.histogram(x[:, j][np.isfinite(x[:, j])], edges[j])
        np.testing.assert_array_equal(got[j], ref)


@pytest.mark.parametrize("kind", ["equal_width", "quantile"])
def test_histograms_from_a_summary(kind: str) -> None:
    x = _large(8, 60_000)
    merged = merge_many([_summary(p) for p in np.array_split(x, 2)])
    make = equal_width_bins if kind == "equal_width" else quantile_bins
    edges, counts = (np.asarray(a) for a in make(merged, 10))
    bound = 2 * np.asarray(cdf_bound(merged))
    for j in range(x.shape[1]):
        v = x[:, j][np.isfinite(x[:, j])]
        if kind == "equal_width":
            assert edges[j, 0] == v.min() and edges[j, -1] == v.max()
        ref, _ = np.histogram(v, edges[j])
        assert np.all(np.abs(counts[j] - ref) <= bound[j] + 1e-6), j
        assert counts[j].sum() == pytest.approx(v.size, abs=bound[j])


def test_same_bucket_does_not_recompile() -> None:
    from synthcap_assets.kernels import refine

    x = _large(9, 30_000)
    _summary(x[:29_000])
    # The bucket pass (JAX on accelerators, numba on the CPU) and the queries, which run on
    # every device.
    jitted = (histogram.bucket_pass, refine.first_queries, refine.choose_slots)
    before = [f._cache_size() for f in jitted]
    assert before[1] > 0
    _summary(x)
    assert [f._cache_size() for f in jitted] == before
