"""Correlation kernels against pandas/scipy/numpy in float64: Pearson (pairwise-complete),
Spearman (ranks, both null policies), Cramér's V, the rank helper, merges and shape buckets."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
import scipy.stats as ss
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.stats.contingency import association

from synthcap_assets.kernels import corr_ranks
from synthcap_assets.kernels.corr_cramer import (
    ONE_HOT_PAIR_WIDTH,
    contingency_tables,
    cramers_v,
    cramers_v_from_tables,
)
from synthcap_assets.kernels.correlation import (
    CorrelationInputError,
    _pearson_from_state,
    _pearson_sums,
    pearson,
    pearson_state,
    spearman,
)

_ranks = jax.jit(corr_ranks.average_ranks)
_sort = jax.jit(corr_ranks.sort_permutation, static_argnames="max_passes")


def _mixed(rng: np.random.Generator, n: int, k: int = 5) -> np.ndarray:
    x = rng.standard_normal((n, k)) @ rng.standard_normal((k, k))
    x[:, 1] = rng.standard_t(2, n) + 0.5 * x[:, 0]  # heavy tails
    x[:, 2] += 1e12  # far from zero
    return x


def _pair_reference(x: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-pair numpy Pearson on the rows valid in both columns, and the conditioning
    Σ(x - column mean)² / Σ(x - pair mean)² that bounds the kernel's relative error."""
    k = x.shape[1]
    out, cond = np.full((k, k), np.nan), np.ones((k, k))
    for i in range(k):
        for j in range(k):
            both = m[:, i] & m[:, j]
            a, b = x[both, i], x[both, j]
            if both.sum() >= 2:
                spread = ((a - a.mean()) ** 2).sum()
                with np.errstate(over="ignore"):  # inf: no spread at all
                    cond[i, j] = ((a - x[m[:, i], i].mean()) ** 2).sum() / max(spread, 1e-300)
                if np.ptp(a) > 0 and np.ptp(b) > 0:  # numpy's own r is then defined
                    with np.errstate(all="ignore"):
                        out[i, j] = np.corrcoef(a, b)[0, 1]
    return out, np.maximum(cond, cond.T)


def test_pearson_pairwise_complete_matches_pandas() -> None:
    rng = np.random.default_rng(1)
    x = _mixed(rng, 3000)
    m = rng.random(x.shape) > 0.1
    exact = np.where(m, x, np.nan)
    exact[:, 2] -= 1e12  # exact (Sterbenz): pandas loses digits at 1e12, the kernel must not
    result = pearson(x, m)
    np.testing.assert_allclose(result.matrix, pd.DataFrame(exact).corr().to_numpy(), atol=1e-12)
    np.testing.assert_array_equal(result.counts, m.T.astype(int) @ m.astype(int))


def test_pearson_no_nulls_matches_corrcoef_and_batch_equals_single_pairs() -> None:
    rng = np.random.default_rng(2)
    x = _mixed(rng, 2000, 4)
    full = pearson(x).matrix
    np.testing.assert_allclose(full, np.corrcoef(x - x.mean(axis=0), rowvar=False), atol=1e-12)
    for i, j in [(0, 1), (2, 3), (1, 3)]:
        assert pearson(x[:, [i, j]]).matrix[0, 1] == pytest.approx(full[i, j], abs=1e-14)


def test_pearson_degenerate_columns_are_nan() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((50, 3))
    x[:, 1] = 0.1  # constant (its mean is not exactly representable)
    x[:, 2] = np.nan
    r = pearson(x)
    assert np.isnan(r.matrix[0, 1]) and np.isnan(r.matrix[1, 1]) and np.isnan(r.matrix[0, 2])
    assert r.matrix[0, 0] == 1.0 and r.counts[0, 2] == 0
    assert np.isnan(pearson(x[:1]).matrix).all()


def test_pearson_float32_path_matches_numpy() -> None:
    rng = np.random.default_rng(12)
    x = (rng.standard_normal((3000, 3)) @ rng.standard_normal((3, 3)) + 100).astype(np.float32)
    m = rng.random(x.shape) > 0.1
    sums = _pearson_sums(jnp.asarray(x), jnp.asarray(m))
    assert sums[3].dtype == jnp.float32
    got = _pearson_from_state(*sums)
    exact = pd.DataFrame(np.where(m, x.astype(np.float64), np.nan)).corr().to_numpy()
    np.testing.assert_allclose(np.asarray(got), exact, atol=2e-5)


def test_pearson_float32_heavy_tails_are_not_called_constant() -> None:
    """A float32 state (the accelerator path) of a column whose farthest value lies 300
    standard deviations out still has a correlation; a constant float32 column still has none."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((20_000, 3))
    x[:, 1] += 0.5 * x[:, 0]
    x[7, 1] = 300.0  # heavy tail: ~270 standard deviations from the mean
    x[:, 2] = 0.1  # constant, not exactly representable in float32
    x = x.astype(np.float32)
    m = np.ones(x.shape, bool)
    got = np.asarray(_pearson_from_state(*_pearson_sums(jnp.asarray(x), jnp.asarray(m))))
    exact = np.corrcoef(x[:, :2].astype(np.float64), rowvar=False)
    np.testing.assert_allclose(got[:2, :2], exact, atol=1e-4)
    assert np.isnan(got[0, 2]) and np.isnan(got[2, 2])


def test_pearson_state_merge_equals_whole() -> None:
    rng = np.random.default_rng(4)
    x = _mixed(rng, 5000)
    m = rng.random(x.shape) > 0.2
    m[:1200, 3] = False  # a column entirely null in the first chunk
    parts = [pearson_state(x[a:b], m[a:b]) for a, b in [(0, 1200), (1200, 4000), (4000, 5000)]]
    merged = parts[0].merge(parts[1]).merge(parts[2])
    whole = pearson_state(x, m)
    np.testing.assert_allclose(merged.correlation().matrix, whole.correlation().matrix, atol=1e-13)
    np.testing.assert_allclose(merged.mean, whole.mean, rtol=1e-15, atol=1e-12)
    np.testing.assert_allclose(merged.m2, whole.m2, rtol=1e-10)
    with pytest.raises(CorrelationInputError, match="same columns"):
        parts[0].merge(pearson_state(x[:, :2]))


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 60), st.integers(1, 4)),
        elements=st.one_of(
            # Squared deviations must not underflow (|x| > 1e-154), in numpy as in XLA.
            st.floats(-1e6, 1e6, allow_nan=False).filter(lambda v: v == 0 or abs(v) > 1e-100),
            st.just(np.nan),
            st.sampled_from([0.0, 3.0]),
        ),
    )
)
def test_pearson_hypothesis_matches_pairwise_numpy(x: np.ndarray) -> None:
    m = np.isfinite(x)
    expected, cond = _pair_reference(np.where(m, x, 0), m)
    got = pearson(x).matrix
    both = np.isfinite(expected) & np.isfinite(got)
    bound = 1e-12 + 64 * np.finfo(float).eps * cond
    assert (np.abs(got - expected)[both] <= bound[both]).all()
    # NaN exactly where numpy says undefined, or where the stated error bound passes 1e-3.
    assert (np.isnan(expected) <= np.isnan(got)).all()
    assert (np.isnan(got) & ~np.isnan(expected) <= (cond > 1e9)).all()


def test_new_row_count_in_bucket_does_not_recompile() -> None:
    rng = np.random.default_rng(5)
    pearson(rng.standard_normal((1300, 3)))
    size = _pearson_sums._cache_size()
    pearson(rng.standard_normal((1500, 3)))
    spearman(rng.standard_normal((1400, 3)))
    assert _pearson_sums._cache_size() == size


def test_spearman_without_nulls_matches_scipy_with_ties() -> None:
    rng = np.random.default_rng(6)
    x = _mixed(rng, 4000)
    x[:, 3] = np.round(x[:, 3])  # many ties
    x[:, 4] = rng.integers(0, 5, 4000)
    np.testing.assert_allclose(spearman(x).matrix, ss.spearmanr(x).statistic, atol=1e-12)


def test_spearman_nulls_same_rows_equals_scipy_omit_and_bound_otherwise() -> None:
    rng = np.random.default_rng(7)
    x = _mixed(rng, 3000, 4)
    rows = rng.random(3000) > 0.1
    shared = np.repeat(rows[:, None], 4, axis=1)
    xn = np.where(shared, x, np.nan)
    omit = ss.spearmanr(xn, nan_policy="omit").statistic
    np.testing.assert_allclose(spearman(x, shared).matrix, omit, atol=1e-12)
    # Independent 10% nulls: ranks within each column vs within each pair differ slightly.
    m = rng.random(x.shape) > 0.1
    omit = ss.spearmanr(np.where(m, x, np.nan), nan_policy="omit").statistic
    assert np.abs(spearman(x, m).matrix - omit).max() < 2e-3
    complete = m.all(axis=1)
    listwise = spearman(x, m, policy="complete")
    np.testing.assert_allclose(listwise.matrix, ss.spearmanr(x[complete]).statistic, atol=1e-12)
    assert (listwise.counts == complete.sum()).all()
    with pytest.raises(CorrelationInputError, match="policy"):
        spearman(x, policy="listwise")  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(3, 80), st.just(3)),
        elements=st.integers(-4, 4).map(float) | st.floats(-1e9, 1e9, allow_nan=False),
        # subnormals included: ranks compare bits, so they stay distinct from zero
    )
)
def test_spearman_hypothesis_matches_scipy(x: np.ndarray) -> None:
    if (np.ptp(x, axis=0) == 0).any():
        assert np.isnan(spearman(x).matrix).any()
        return
    np.testing.assert_allclose(spearman(x).matrix, ss.spearmanr(x).statistic, atol=1e-10)


@pytest.mark.parametrize(
    "make",
    [
        lambda r: r.standard_normal((3, 5000)),
        lambda r: 1e12 + r.standard_normal((3, 5000)),
        lambda r: r.integers(0, 30, (3, 5000)).astype(float),
        lambda r: r.standard_normal((3, 5000)) * np.array([[1e-300], [1.0], [1e300]]),
    ],
)
def test_average_ranks_match_rankdata(make) -> None:  # noqa: ANN001
    rng = np.random.default_rng(8)
    x = make(rng)
    v = rng.random(x.shape) > 0.05
    x[0, :7] = np.inf  # non-finite values count as nulls
    ranks, valid = _ranks(jnp.asarray(x), jnp.asarray(v))
    ranks, valid = np.asarray(ranks), np.asarray(valid)
    for i in range(3):
        keep = v[i] & np.isfinite(x[i])
        np.testing.assert_array_equal(valid[i], keep)
        np.testing.assert_array_equal(ranks[i][keep], ss.rankdata(x[i][keep]))


def test_sort_permutation_exact_fallback_and_float32_path() -> None:
    rng = np.random.default_rng(9)
    # Values one ulp apart over a wide span share packed buckets in every order.
    base = np.nextafter(1.0, 2.0, dtype=np.float64) * np.ones(4096)
    x = np.concatenate([np.cumsum(np.full(4096, 1e-16)) + base, rng.standard_normal(4096) * 1e300])
    x = rng.permutation(x)[None, :]
    keys = corr_ranks.order_keys(jnp.asarray(x), jnp.ones(x.shape, bool))
    packed = np.asarray(jax.jit(corr_ranks._packed_permutation)(keys))[0]
    assert (np.diff(x[0][packed]) < 0).sum() > 100  # the packed sort alone is not enough
    for passes in (0, 16):
        perm, ordered = _sort(keys, max_passes=passes)
        assert (np.diff(x[0][np.asarray(perm)[0]]) >= 0).all()
        ordered = np.asarray(ordered)[0]
        assert (ordered[1:] >= ordered[:-1]).all()
    x32 = rng.standard_normal((2, 999)).astype(np.float32)
    ranks, _ = _ranks(jnp.asarray(x32), jnp.ones(x32.shape, bool))
    np.testing.assert_array_equal(np.asarray(ranks)[1], ss.rankdata(x32[1]))


def _table(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    t = pd.crosstab(a, b).to_numpy()
    return t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]


def test_cramers_v_matches_scipy_association() -> None:
    rng = np.random.default_rng(10)
    n = 4000
    codes = rng.integers(0, 6, (n, 4))
    codes[:, 1] = (codes[:, 0] + rng.integers(0, 3, n)) % 6
    codes[:, 2] = rng.integers(0, 2, n)
    codes[:, 3] = np.where(rng.random(n) < 0.1, -1, codes[:, 3])  # nulls
    v = cramers_v(codes)
    for i in range(4):
        for j in range(4):
            both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
            ref = association(_table(codes[both, i], codes[both, j]), method="cramer")
            assert v.matrix[i, j] == pytest.approx(ref, abs=1e-12)
            assert v.counts[i, j] == both.sum()
    crafted = np.array([[0, 0]] * 30 + [[0, 1]] * 10 + [[1, 0]] * 5 + [[1, 1]] * 25)
    for yates in (False, True):
        got = cramers_v(crafted, yates=yates).matrix[0, 1]
        ref = association(_table(crafted[:, 0], crafted[:, 1]), method="cramer", correction=yates)
        assert got == pytest.approx(ref, abs=1e-12)


def test_cramers_v_bias_correction_and_merge() -> None:
    rng = np.random.default_rng(11)
    codes = rng.integers(0, 4, (600, 2))
    codes[:, 1] = np.where(rng.random(600) < 0.3, codes[:, 0], codes[:, 1])
    t = _table(codes[:, 0], codes[:, 1]).astype(float)
    n, (r, c) = t.sum(), t.shape
    phi2 = ss.chi2_contingency(t, correction=False).statistic / n
    phi2c = max(0.0, phi2 - (r - 1) * (c - 1) / (n - 1))
    rc, cc = r - (r - 1) ** 2 / (n - 1), c - (c - 1) ** 2 / (n - 1)
    expected = np.sqrt(phi2c / min(rc - 1, cc - 1))
    got = cramers_v(codes, bias_correction=True).matrix[0, 1]
    assert got == pytest.approx(expected, abs=1e-12)
    assert got < cramers_v(codes).matrix[0, 1]
    halves = contingency_tables(codes[:250], n_categories=4) + contingency_tables(
        codes[250:], n_categories=4
    )
    np.testing.assert_array_equal(halves, contingency_tables(codes, n_categories=4))
    np.testing.assert_allclose(cramers_v_from_tables(halves).matrix, cramers_v(codes).matrix)


def test_cramers_v_input_errors() -> None:
    with pytest.raises(CorrelationInputError, match="integers"):
        cramers_v(np.zeros((5, 2)))
    with pytest.raises(CorrelationInputError, match="n_categories"):
        cramers_v(np.array([[0, 5], [1, 2]]), n_categories=3)
    wide = np.arange(20000).reshape(-1, 2) % 3000
    with pytest.raises(CorrelationInputError, match="lump rare categories"):
        contingency_tables(wide)  # the dense k × k × C × C array would not fit
    assert cramers_v(wide).counts[0, 1] == 10000  # V itself goes pair by pair


def test_wide_categoricals_count_pairs_by_scatter_add_and_match_scipy() -> None:
    rng = np.random.default_rng(11)
    n = 6000
    small = rng.integers(0, 20, n)
    large = (rng.integers(0, 300, n) + small * 7) % 300  # associated with small
    large = np.where(rng.random(n) < 0.05, -1, large)
    codes = np.column_stack([small, large])
    assert codes.shape[1] * 512 > ONE_HOT_PAIR_WIDTH  # takes the pair path
    tables = contingency_tables(codes)
    both = large >= 0
    expected = np.zeros((20, 300), np.int64)
    np.add.at(expected, (small[both], large[both]), 1)
    # One category axis for all columns: the 20-level column's table is padded with zeros.
    np.testing.assert_array_equal(tables[0, 1][:20], expected)
    assert tables[0, 1][20:].sum() == 0
    np.testing.assert_array_equal(tables[1, 0], tables[0, 1].T)
    v = cramers_v(codes)
    ref = association(_table(small[both], large[both]), method="cramer")
    assert v.matrix[0, 1] == pytest.approx(ref, abs=1e-12)
    assert v.counts[0, 1] == both.sum()


@pytest.mark.parametrize("rows", [3000, 40_000])
def test_pearson_and_spearman_from_summaries_match_numpy_and_scipy(rows: int) -> None:
    from synthcap_assets.kernels.corr_sketch import pearson_and_spearman
    from synthcap_assets.kernels.profile import profile_columns

    rng = np.random.default_rng(12)
    a = rng.standard_t(2, rows)
    b = a + rng.standard_normal(rows) * 2  # correlated, continuous
    c = rng.integers(0, 7, rows).astype(float) + (a > 0)  # heavy ties
    values = np.column_stack([a, b, c])
    values[rng.random(values.shape) < 0.05] = np.nan
    state = profile_columns(list(values.T), chunk_rows=rows // 3 + 1)
    pearson, spearman = pearson_and_spearman(values, state.quantiles, chunk_rows=rows // 4 + 1)
    got = spearman.matrix
    for i in range(3):
        for j in range(i + 1, 3):
            both = ~np.isnan(values[:, i]) & ~np.isnan(values[:, j])
            # Ranked among each column's own valid values, then correlated on shared rows.
            ri = ss.rankdata(np.where(np.isnan(values[:, i]), np.inf, values[:, i]))
            rj = ss.rankdata(np.where(np.isnan(values[:, j]), np.inf, values[:, j]))
            ref = np.corrcoef(ri[both], rj[both])[0, 1]
            assert got[i, j] == pytest.approx(ref, abs=2e-3)
            r = np.corrcoef(values[both, i], values[both, j])[0, 1]
            assert pearson.matrix[i, j] == pytest.approx(r, abs=1e-10)
            assert pearson.counts[i, j] == spearman.counts[i, j] == both.sum()
