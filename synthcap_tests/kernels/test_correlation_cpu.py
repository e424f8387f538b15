"""The numba CPU loops of ``correlation_cpu`` against the JAX path and numpy/scipy float64."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import polars as pl
import pytest
import scipy.stats as ss

from synthcap_assets.kernels import correlation_cpu as cc
from synthcap_assets.kernels.corr_cramer import _cramers_v as jax_cramers_v
from synthcap_assets.kernels.corr_sketch import (
    _column_ranks,
    _pearson_and_spearman_jax,
    pearson_and_spearman,
    pearson_and_spearman_of_columns,
)
from synthcap_assets.kernels.correlation import (
    PearsonState,
    _pearson_sums,
    _prepare,
    merge_states,
    pearson,
    pearson_state,
    pearson_state_of_columns,
)
from synthcap_assets.kernels.profile import profile_columns
from synthcap_assets.kernels.quantiles import KNOTS, QuantileSummary
from synthcap_resources.compute import FloatColumn, float_columns

_jax_ranks = jax.jit(_column_ranks, static_argnames="exact")


def _table(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Values (rows × 7) and validity: correlated, heavy tails, 1e12 + noise, ties, a constant
    column, an all-null column; 10% nulls, NaN and ±inf mixed in."""
    x = rng.standard_normal((n, 7)) @ rng.standard_normal((7, 7))
    x[:, 1] = rng.standard_t(1.5, n) + 0.3 * x[:, 0]
    x[:, 2] = 1e12 + x[:, 2]
    x[:, 3] = rng.integers(-3, 4, n) + (x[:, 0] > 0)
    x[:, 4] = 0.1
    x[:, 5] = np.nan
    m = rng.random(x.shape) > 0.1
    m[: n // 3, 6] = False  # mostly null in the first blocks: the "add" branch of the loop
    x[rng.random(x.shape) < 0.01] = np.nan
    x[rng.random(x.shape) < 0.005] = np.inf
    return x, m


def _jax_state(x: np.ndarray, m: np.ndarray | None = None) -> PearsonState:
    return PearsonState(*(np.asarray(a) for a in _pearson_sums(*_prepare(x, m))))


def _pair_numpy(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """np.corrcoef of each pair on its complete rows (NaN where numpy's r is undefined)."""
    k = x.shape[1]
    out = np.full((k, k), np.nan)
    for i in range(k):
        for j in range(k):
            both = m[:, i] & m[:, j]
            a, b = x[both, i], x[both, j]
            if both.sum() >= 2 and np.ptp(a) > 0 and np.ptp(b) > 0:
                out[i, j] = np.corrcoef(a - a.mean(), b - b.mean())[0, 1]
    return out


@pytest.mark.parametrize("rows", [1, 2, 5, 1023, 1025, 5000])
def test_cpu_pearson_matches_jax_and_pairwise_numpy(rows: int) -> None:
    rng = np.random.default_rng(rows)
    x, m = _table(rng, rows)
    got = pearson_state(x, m)  # the CPU loop (this suite runs on the CPU)
    want = _jax_state(x, m)
    valid = m & np.isfinite(x)
    np.testing.assert_array_equal(got.count, valid.T.astype(int) @ valid.astype(int))
    np.testing.assert_array_equal(got.count, want.count)
    r, r_jax = got.correlation().matrix, want.correlation().matrix
    np.testing.assert_array_equal(np.isnan(r), np.isnan(r_jax))
    np.testing.assert_allclose(r, r_jax, atol=1e-12, rtol=0)
    ref = _pair_numpy(np.where(valid, x, 0), valid)
    assert (np.isnan(ref) <= np.isnan(r)).all()  # NaN wherever numpy's r is undefined
    if rows >= 1023:
        np.testing.assert_array_equal(np.isnan(r), np.isnan(ref))
    both = ~np.isnan(ref) & ~np.isnan(r)
    np.testing.assert_allclose(r[both], ref[both], atol=1e-12)
    # The constant column (0.1: its mean is not exact) and the all-null column are NaN.
    if rows > 1:
        assert np.isnan(r[4]).all() and np.isnan(r[5]).all()
    if rows >= 1023:
        assert np.isfinite(r[[0, 1, 2, 3, 6]][:, [0, 1, 2, 3, 6]]).all()


def test_cpu_state_merges_with_jax_states_and_means_agree() -> None:
    rng = np.random.default_rng(7)
    x, m = _table(rng, 6000)
    cpu = pearson_state(x[:2500], m[:2500])
    both = cpu.merge(_jax_state(x[2500:], m[2500:]))
    whole = _jax_state(x, m)
    np.testing.assert_allclose(both.correlation().matrix, whole.correlation().matrix, atol=1e-12)
    finite = np.isfinite(whole.mean) & (whole.count > 0)
    np.testing.assert_allclose(both.mean[finite], whole.mean[finite], rtol=1e-15, atol=1e-9)
    seen = whole.count > 1
    np.testing.assert_allclose(both.m2[seen], whole.m2[seen], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(both.cross[seen], whole.cross[seen], rtol=1e-9, atol=1e-9)


def test_pearson_from_arrow_pieces_equals_the_array_path() -> None:
    rng = np.random.default_rng(8)
    x, m = _table(rng, 4100)
    x = np.where(np.isfinite(x), x, 0.5)  # polars nulls only: NaN stays a value there
    frames = [
        pl.DataFrame({f"c{j}": pl.Series(x[a:b, j]).set(pl.Series(~m[a:b, j]), None)
                      for j in range(7)})
        for a, b in [(0, 1500), (1500, 1501), (1501, 4100)]
    ]
    df = pl.concat(frames, rechunk=False)
    # Columns cut at other rows, and a slice (Arrow offset not a multiple of 8).
    cols = [df.get_column(c) for c in df.columns]
    cols[0] = pl.concat([cols[0].slice(0, 700), cols[0].slice(700)], rechunk=False)
    cols = [c.slice(3) for c in cols]
    pieces = [float_columns(c) for c in cols]
    assert max(len(p) for p in pieces) > 1 and pieces[1][0].offset % 8 == 3
    got = pearson_state_of_columns(pieces)
    want = pearson_state(x[3:], m[3:])
    np.testing.assert_array_equal(got.count, want.count)
    np.testing.assert_allclose(
        got.correlation().matrix, want.correlation().matrix, atol=1e-13, equal_nan=True
    )


def _summary(values: np.ndarray, chunk_rows: int) -> QuantileSummary:
    return profile_columns(list(values.T), chunk_rows=chunk_rows).quantiles


@pytest.mark.parametrize("rows", [3000, 40_000])
def test_ranks_equal_the_jax_ranks(rows: int) -> None:
    rng = np.random.default_rng(rows)
    a = rng.standard_cauchy(rows)  # heavy tails both sides
    b = np.round(rng.lognormal(0, 2, rows), 1)  # skewed, ties
    c = rng.integers(0, 5, rows).astype(float)  # all ties
    d = 1e12 + rng.standard_normal(rows)
    values = np.column_stack([a, b, c, d])
    values[rng.random(values.shape) < 0.05] = np.nan
    summary = _summary(values, rows // 2 + 1)
    exact = np.asarray((summary.count <= KNOTS) & (summary.error == 0))
    assert exact.all() == (rows <= KNOTS) and not (exact.any() and rows > KNOTS)
    tables = cc.rank_tables(*(np.asarray(f, np.float64) for f in summary))
    for j in range(values.shape[1]):
        knots = np.asarray(summary.values[j])
        # The column's values, the knots themselves, between and beyond them, non-finite.
        probe = np.concatenate([
            values[:, j], knots, (knots[1:] + knots[:-1]) / 2,
            [knots[0] - 1, knots[-1] + 1, -1e308, 1e308, np.nan, np.inf, -np.inf],
        ])
        got = cc.column_ranks(probe, tables, j)
        want = np.asarray(_jax_ranks(summary.values[j], summary.count[j], jnp.asarray(probe),
                                     bool(exact[j])))
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        ok = ~np.isnan(want)
        np.testing.assert_allclose(got[ok], want[ok], rtol=1e-12, atol=0)
        if exact[j]:
            np.testing.assert_array_equal(got, want)


def test_rank_grid_edge_cases() -> None:
    """A constant column (zero span), a span that overflows, an empty column."""
    knots = np.stack([
        np.full(KNOTS, 2.5),
        np.concatenate([[-1e308], np.linspace(-1, 1, KNOTS - 2), [1e308]]),
        np.full(KNOTS, np.inf),
    ])
    count = np.array([5e4, 5e4, 0.0])
    summary = QuantileSummary(jnp.asarray(knots), jnp.asarray(count), jnp.asarray([0.0, 3.0, 0]))
    tables = cc.rank_tables(knots, count, np.array([0.0, 3.0, 0.0]))
    assert tables.inv_w[0] == 0 and tables.inv_w[2] == 0
    for j in range(2):
        probe = np.array([2.5, 2.4, 2.6, -1e308, 1e308, 0.0, 0.3, -0.999, 1.7e308])
        got = cc.column_ranks(probe, tables, j)
        want = np.asarray(_jax_ranks(summary.values[j], summary.count[j], jnp.asarray(probe),
                                     False))
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("rows", [3000, 40_000])
def test_cpu_pearson_and_spearman_equal_the_jax_pass(rows: int) -> None:
    rng = np.random.default_rng(12 + rows)
    a = rng.standard_t(2, rows)
    b = a + rng.standard_normal(rows) * 2
    c = rng.integers(0, 7, rows).astype(float) + (a > 0)
    d = 1e12 + b
    values = np.column_stack([a, b, c, d, np.full(rows, np.nan)])
    values[rng.random(values.shape) < 0.05] = np.nan
    summary = _summary(values, rows // 3 + 1)
    pearson_cpu, rho_cpu = pearson_and_spearman(values, summary)
    pearson_jax, rho_jax = _pearson_and_spearman_jax(values, summary, rows // 4 + 1)
    np.testing.assert_array_equal(pearson_cpu.counts, pearson_jax.counts)
    np.testing.assert_array_equal(rho_cpu.counts, rho_jax.counts)
    np.testing.assert_allclose(pearson_cpu.matrix, pearson_jax.matrix, atol=1e-12)
    np.testing.assert_allclose(rho_cpu.matrix, rho_jax.matrix, atol=1e-12)
    assert np.isnan(rho_cpu.matrix[4]).all() and np.isfinite(rho_cpu.matrix[:4, :4]).all()
    # Exact summaries: exactly scipy's average ranks, so Spearman on rows valid in both.
    if rows <= KNOTS:
        for i, j in [(0, 1), (1, 2), (0, 3)]:
            both = ~np.isnan(values[:, i]) & ~np.isnan(values[:, j])
            ri = ss.rankdata(np.where(np.isnan(values[:, i]), np.inf, values[:, i]))
            rj = ss.rankdata(np.where(np.isnan(values[:, j]), np.inf, values[:, j]))
            ref = np.corrcoef(ri[both], rj[both])[0, 1]
            assert rho_cpu.matrix[i, j] == pytest.approx(ref, abs=1e-12)
    # The column pieces API gives the same as the array one.
    pieces = [[FloatColumn(np.ascontiguousarray(v))] for v in values.T]
    p2, r2 = pearson_and_spearman_of_columns(pieces, summary)
    np.testing.assert_array_equal(p2.matrix, pearson_cpu.matrix)
    np.testing.assert_array_equal(r2.matrix, rho_cpu.matrix)


def test_threads_split_rows_and_merge_to_the_single_thread_result() -> None:
    rng = np.random.default_rng(9)
    x, m = _table(rng, 9000)
    cols = cc.mask_columns(x, m)
    one, _ = cc.pearson_states(cols, workers=1)
    three, _ = cc.pearson_states(cols, workers=3)
    assert len(one) == 1 and len(three) == 3
    a = merge_states([PearsonState(*s) for s in one]).correlation().matrix
    b = merge_states([PearsonState(*s) for s in three]).correlation().matrix
    np.testing.assert_allclose(a, b, atol=1e-13, equal_nan=True)
    with pytest.raises(ValueError, match="different lengths"):
        cc.pearson_states([cols[0], [FloatColumn(np.zeros(3))]])


def test_pearson_of_one_and_empty_inputs() -> None:
    assert np.isnan(pearson(np.array([[1.0, 2.0]])).matrix).all()
    r = pearson(np.array([1.0, 2.0, 4.0]))
    assert r.matrix[0, 0] == 1.0 and r.counts[0, 0] == 3
    with pytest.raises(ValueError):
        pearson(np.zeros((0, 3)))


def test_pair_counts_equal_a_crosstab_and_v_equals_scipy() -> None:
    from scipy.stats.contingency import association

    from synthcap_assets.kernels.corr_cramer import cramers_v

    rng = np.random.default_rng(10)
    n = 20_000
    small = rng.integers(0, 20, n)
    large = (rng.integers(0, 300, n) + small * 7) % 300
    small = np.where(rng.random(n) < 0.03, -1, small).astype(np.int32)
    large = np.where(rng.random(n) < 0.05, -1, large)  # int64: both code types
    both = (small >= 0) & (large >= 0)
    expected = np.zeros((20, 300), np.int64)
    np.add.at(expected, (small[both], large[both]), 1)
    np.testing.assert_array_equal(cc.pair_counts(small, large, 20, 300), expected)
    with pytest.raises(ValueError, match="not below"):
        cc.pair_counts(small, large, 20, 299)
    v = cramers_v(np.column_stack([small, large]))  # the wide, pair-by-pair path
    crosstab = pd_crosstab(small[both], large[both])
    assert v.matrix[0, 1] == pytest.approx(association(crosstab, method="cramer"), abs=1e-12)
    assert v.counts[0, 1] == both.sum() and v.matrix[0, 0] == pytest.approx(1.0, abs=1e-12)
    for correction in (True, False):  # the numpy formula equals the jitted one
        got = cramers_v(np.column_stack([small, large]), bias_correction=correction)
        want = jax_cramers_v(jnp.asarray(expected[None, None], jnp.float64), correction, False)
        assert got.matrix[0, 1] == pytest.approx(float(np.asarray(want)[0, 0]), abs=1e-12)


def pd_crosstab(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import pandas as pd

    return pd.crosstab(a, b).to_numpy()


def test_bench_categorical_codes_and_cramers_v() -> None:
    from scipy.stats.contingency import association

    from synthcap_assets.bench.synthcap_profile import _cramers_v, categorical_codes

    rng = np.random.default_rng(11)
    n = 5000
    s = rng.integers(0, 6, n)
    lab = (rng.integers(0, 400, n) + 3 * s) % 400
    df = pl.DataFrame({
        "cat_small": pl.Series([f"s{v}" for v in s]).set(pl.Series(rng.random(n) < 0.05), None),
        "cat_large": [f"l{v}" for v in lab],
    })
    codes, labels = categorical_codes(df.get_column("cat_small"))
    col = df.get_column("cat_small").to_list()
    assert sorted(labels) == sorted({v for v in col if v is not None}) and codes.dtype == np.int32
    assert [labels[c] if c >= 0 else None for c in codes] == col
    table = pd_crosstab(np.array(col, dtype=object)[codes >= 0], lab[codes >= 0])
    assert _cramers_v(df) == pytest.approx(association(table, method="cramer"), abs=1e-12)
