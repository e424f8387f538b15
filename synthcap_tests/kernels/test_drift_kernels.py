"""Drift kernels against scipy in float64: KS, Wasserstein-1, PSI, Jensen–Shannon, chi-square
on raw samples and against quantile references (profiles), and the Evidently-style choice."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon as scipy_js

from synthcap_assets.kernels import drift_stats as ds
from synthcap_assets.kernels.drift import (
    CategoryCounts,
    DriftThresholds,
    choose_method,
    drift_column,
    drift_numeric,
)
from synthcap_assets.kernels.drift_quantiles import (
    PROFILE_PROBS,
    ReferenceQuantiles,
    binned_shares_quantiles,
    ks_quantiles,
    reference_std,
    wasserstein_quantiles,
)

GENERATORS = {
    "normal": lambda r, n: r.standard_normal(n),
    "lognormal": lambda r, n: r.lognormal(0, 1, n),
    "t2": lambda r, n: r.standard_t(2, n),
    "poisson": lambda r, n: r.poisson(3, n).astype(float),
}


def _right_closed_counts(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    bins = np.concatenate([[-np.inf], edges, [np.inf]])
    return np.array(
        [np.sum((x > lo) & (x <= hi)) for lo, hi in zip(bins[:-1], bins[1:], strict=True)]
    )


def test_ks_wasserstein_batch_matches_scipy_per_column() -> None:
    rng = np.random.default_rng(1)
    ref = rng.standard_normal((3000, 4))
    cur = 1.1 * rng.standard_normal((2000, 4)) + 0.05
    ref[:, 1], cur[:, 1] = np.round(ref[:, 1] * 3), np.round(cur[:, 1] * 3)  # ties across samples
    ref[:, 2], cur[:, 2] = ref[:, 2] + 1e12, cur[:, 2] + 1e12
    ref[:, 3], cur[:, 3] = rng.standard_t(2, 3000), rng.standard_t(2, 2000)
    ref_mask, cur_mask = rng.random(ref.shape) > 0.1, rng.random(cur.shape) > 0.05
    d, p, w1 = ds.ks_wasserstein_samples(ref, cur, ref_mask, cur_mask)
    for i in range(4):
        a, b = ref[ref_mask[:, i], i], cur[cur_mask[:, i], i]
        expected = ss.ks_2samp(a, b, method="asymp")
        assert d[i] == pytest.approx(expected.statistic, abs=1e-12)
        assert p[i] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
        assert w1[i] == pytest.approx(ss.wasserstein_distance(a, b), rel=1e-9)
        single = ds.ks_wasserstein_samples(a, b)
        assert (single[0][0], single[2][0]) == pytest.approx((d[i], w1[i]), rel=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # scipy's own, for n_eff = 0
@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.integers(-5, 5) | st.floats(-1e3, 1e3, allow_subnormal=False), min_size=1, max_size=60
    ),
    st.lists(
        st.integers(-5, 5) | st.floats(-1e3, 1e3, allow_subnormal=False), min_size=1, max_size=60
    ),
)
def test_ks_wasserstein_hypothesis_matches_scipy(a: list[float], b: list[float]) -> None:
    x, y = np.asarray(a, float), np.asarray(b, float)
    assume(np.isfinite(x).all() and np.isfinite(y).all())
    d, p, w1 = ds.ks_wasserstein_samples(x, y)
    expected = ss.ks_2samp(x, y, method="asymp")
    assert d[0] == pytest.approx(expected.statistic, abs=1e-12)
    if round(x.size * y.size / (x.size + y.size)) == 0:
        assert p[0] == ss.kstwo.sf(d[0], 1)  # scipy: n_eff 0 and a NaN p-value
    else:
        assert p[0] == pytest.approx(expected.pvalue, abs=1e-12)
    assert w1[0] == pytest.approx(ss.wasserstein_distance(x, y), rel=1e-9, abs=1e-9)


def test_psi_and_jensenshannon_on_reference_quantile_bins() -> None:
    rng = np.random.default_rng(2)
    ref, cur = rng.lognormal(0, 1, (3000, 2)), rng.lognormal(0.2, 1, (2000, 2))
    for probs in (ds.DECILES, ds.JS_PROBS):
        expected, actual, edges = ds.binned_shares_samples(ref, cur, probs)
        for i in range(2):
            cuts = np.quantile(ref[:, i], probs)
            np.testing.assert_allclose(edges[i], cuts, rtol=1e-15)
            ce, ca = _right_closed_counts(ref[:, i], cuts), _right_closed_counts(cur[:, i], cuts)
            np.testing.assert_allclose(expected[i], ce / ce.sum(), atol=1e-15)
            np.testing.assert_allclose(actual[i], ca / ca.sum(), atol=1e-15)
            for base in (2.0, np.e):
                got = float(ds.jensenshannon(actual[i], expected[i], base))
                assert got == pytest.approx(scipy_js(ca, ce, base=base), abs=1e-12)
            a, e = np.clip(ca / ca.sum(), 1e-4, None), np.clip(ce / ce.sum(), 1e-4, None)
            assert float(ds.psi(actual[i], expected[i])) == pytest.approx(
                np.sum((a - e) * np.log(a / e)), abs=1e-12
            )


def test_chi2_homogeneity_matches_chi2_contingency() -> None:
    ref, cur = np.array([40.0, 25, 0, 60, 3]), np.array([35.0, 40, 0, 50, 9])
    stat, p = ds.chi2_homogeneity(ref, cur)
    table = np.vstack([ref, cur])[:, [0, 1, 3, 4]]  # the category empty on both sides dropped
    expected = ss.chi2_contingency(table, correction=False)
    assert (float(stat), float(p)) == pytest.approx(
        (expected.statistic, expected.pvalue), rel=1e-10
    )
    assert ds.chi2_homogeneity(np.array([5.0, 0]), np.array([7.0, 0]))[1] == 1.0


@pytest.mark.parametrize("name", list(GENERATORS))
def test_quantile_reference_agrees_with_raw_reference(name: str) -> None:
    rng = np.random.default_rng(3)
    ref = GENERATORS[name](rng, 20000)
    reference = ReferenceQuantiles.of(np.quantile(ref, PROFILE_PROBS), ref.size)
    for shift in (0.0, 0.2):
        cur = GENERATORS[name](rng, 2000) + shift
        d, p = ks_quantiles(reference, cur)
        raw = ss.ks_2samp(ref, cur, method="asymp")
        assert abs(d[0] - raw.statistic) < 0.02
        w1 = wasserstein_quantiles(reference, cur)[0]
        assert abs(w1 - ss.wasserstein_distance(ref, cur)) < 0.02 * ref.std()
        for probs, measure in ((ds.DECILES, ds.psi), (ds.JS_PROBS, ds.jensenshannon)):
            model = binned_shares_quantiles(reference, cur, probs)
            raw = ds.binned_shares_samples(ref, cur, probs)
            from_model = float(measure(model[1][0], model[0][0]))
            expected = float(measure(raw[1][0], raw[0][0]))
            assert from_model == pytest.approx(expected, rel=0.1, abs=0.01)
    assert reference_std(reference)[0] == pytest.approx(ref.std(), rel=0.15)


def test_quantile_wasserstein_is_the_exact_integral_of_the_model() -> None:
    rng = np.random.default_rng(4)
    ref, cur = rng.gamma(2.0, size=3000), rng.gamma(2.2, size=700)
    reference = ReferenceQuantiles.of(np.quantile(ref, PROFILE_PROBS), ref.size, tails="linear")
    p = (np.arange(2_000_000) + 0.5) / 2_000_000  # midpoint rule on the quantile functions
    q_ref = np.interp(p, reference.probs, reference.quantiles[0])
    q_cur = np.sort(cur)[np.ceil(p * cur.size).astype(int) - 1]
    numeric = np.mean(np.abs(q_ref - q_cur))
    assert wasserstein_quantiles(reference, cur)[0] == pytest.approx(numeric, rel=1e-5)


def test_ks_against_a_quantile_model_with_jumps_matches_scipy_on_the_model() -> None:
    rng = np.random.default_rng(5)
    ref, cur = rng.poisson(4, 5000).astype(float), rng.poisson(4.3, 2000).astype(float)
    quantiles = np.quantile(ref, PROFILE_PROBS)  # repeated quantiles: jumps in the CDF
    reference = ReferenceQuantiles.of(quantiles, ref.size, tails="linear")
    d, p = ks_quantiles(reference, cur)
    # The model as a dense sample: its quantile function on a fine midpoint grid.
    grid = (np.arange(2_000_000) + 0.5) / 2_000_000
    model = np.interp(grid, reference.probs, reference.quantiles[0])
    assert d[0] == pytest.approx(ss.ks_2samp(model, cur).statistic, abs=1e-5)
    n_eff = round(ref.size * cur.size / (ref.size + cur.size))
    assert p[0] == pytest.approx(ss.kstwo.sf(d[0], n_eff), rel=1e-9)


def test_quantile_reference_batch_and_validation() -> None:
    rng = np.random.default_rng(6)
    ref, cur = rng.standard_normal((8000, 3)), rng.standard_normal((2000, 3)) + [0, 0.3, 0]
    q = np.quantile(ref, PROFILE_PROBS, axis=0).T
    reference = ReferenceQuantiles.of(q, 8000)
    d, _ = ks_quantiles(reference, cur)
    for i in range(3):
        single = ReferenceQuantiles.of(q[i], 8000)
        assert ks_quantiles(single, cur[:, i])[0][0] == pytest.approx(d[i], abs=1e-15)
    assert d[1] > 0.08 > d[0]
    with pytest.raises(ds.DriftInputError, match="non-decreasing"):
        ReferenceQuantiles.of(q[0][::-1], 10)
    with pytest.raises(ds.DriftInputError, match="quantiles per column"):
        ReferenceQuantiles.of(q[0][:50], 10)
    with pytest.raises(ds.DriftInputError, match="columns"):
        ks_quantiles(reference, cur[:, :2])


def test_choose_method_and_drift_column_verdicts() -> None:
    assert choose_method(1000, "numeric") == "ks"
    assert choose_method(1001, "numeric") == "wasserstein"
    assert choose_method(1000, "categorical") == "chisquare"
    assert choose_method(1001, "categorical") == "jensenshannon"
    rng = np.random.default_rng(7)
    small, big, moved = rng.normal(0, 2, 800), rng.normal(0, 2, 3000), rng.normal(0.5, 2, 2000)
    verdict = drift_column(small, moved, "numeric")
    expected = ss.ks_2samp(small, moved, method="asymp")
    assert (verdict.method, verdict.drifted) == ("ks", True)
    assert verdict.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    verdict = drift_column(big, moved, "numeric")
    normed = ss.wasserstein_distance(big, moved) / big.std()
    assert verdict.method == "wasserstein" and verdict.p_value is None
    assert verdict.statistic == pytest.approx(normed, rel=1e-9) and verdict.drifted
    relaxed = drift_column(big, moved, "numeric", thresholds=DriftThresholds(wasserstein=0.5))
    assert not relaxed.drifted and relaxed.threshold == 0.5
    profile = ReferenceQuantiles.of(np.quantile(big, PROFILE_PROBS), big.size, std=big.std())
    from_profile = drift_column(profile, moved, "numeric")
    assert from_profile.statistic == pytest.approx(normed, abs=0.02) and from_profile.drifted
    assert drift_column(big, moved, "numeric", method="psi").statistic > 0.02
    with pytest.raises(ds.DriftInputError, match="drift methods"):
        drift_column(big, moved, "numeric", method="chisquare")


def test_categorical_drift_counts_and_codes() -> None:
    rng = np.random.default_rng(8)
    ref_codes = rng.choice(4, 900, p=[0.4, 0.3, 0.2, 0.1])
    cur_codes = rng.choice(4, 700, p=[0.3, 0.3, 0.2, 0.2])
    by_codes = drift_column(ref_codes, cur_codes, "categorical")
    ref_counts, cur_counts = np.bincount(ref_codes), np.bincount(cur_codes)
    expected = ss.chi2_contingency(np.vstack([ref_counts, cur_counts]), correction=False)
    assert by_codes.method == "chisquare" and by_codes.drifted
    assert by_codes.statistic == pytest.approx(expected.statistic, rel=1e-10)
    assert by_codes.p_value == pytest.approx(expected.pvalue, rel=1e-8)
    large = drift_column(CategoryCounts(ref_counts * 10), CategoryCounts(cur_counts), "categorical")
    assert large.method == "jensenshannon"
    assert large.statistic == pytest.approx(scipy_js(cur_counts, ref_counts), abs=1e-12)
    assert large.drifted == (large.statistic > 0.1)
    with pytest.raises(ds.DriftInputError, match="both sides"):
        drift_column(CategoryCounts(ref_counts), cur_codes, "categorical")


def test_drift_numeric_chooses_per_column_and_no_recompile() -> None:
    rng = np.random.default_rng(9)
    ref, cur = rng.standard_normal((3000, 2)), rng.standard_normal((2000, 2))
    mask = np.ones_like(ref, dtype=bool)
    mask[800:, 1] = False  # column 1 has a small reference
    results = drift_numeric(ref, cur, reference_mask=mask)
    assert [r.method for r in results] == ["wasserstein", "ks"]
    assert not any(r.drifted for r in results)
    ds.ks_wasserstein_samples(ref[:1100], cur[:1100])
    size = ds._ks_wasserstein._cache_size()
    ds.ks_wasserstein_samples(ref[:1200], cur[:1250])
    assert ds._ks_wasserstein._cache_size() == size
