"""Drift kernels against scipy in float64 on random samples: KS, Wasserstein-1, PSI,
Jensen–Shannon, chi-square, the Evidently-style choice and the test-guarded distance verdict.
(Real tables: ``synthcap_tests/profile/test_drift_scipy.py``.)"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon as scipy_js

from synthcap_assets.kernels import drift_stats as ds
from synthcap_assets.kernels.drift import (
    DriftThresholds,
    choose_method,
    drift_categorical,
    drift_numeric,
)


def _right_closed_counts(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    bins = np.concatenate([[-np.inf], edges, [np.inf]])
    return np.array(
        [np.sum((x > lo) & (x <= hi)) for lo, hi in zip(bins[:-1], bins[1:], strict=True)]
    )


def _samples(ref: np.ndarray, cur: np.ndarray, *masks: np.ndarray | None) -> dict:
    return ds.numeric_drift_samples(ref, cur, *masks)


def test_ks_wasserstein_batch_matches_scipy_per_column() -> None:
    rng = np.random.default_rng(1)
    ref = rng.standard_normal((3000, 4))
    cur = 1.1 * rng.standard_normal((2000, 4)) + 0.05
    ref[:, 1], cur[:, 1] = np.round(ref[:, 1] * 3), np.round(cur[:, 1] * 3)  # ties across samples
    ref[:, 2], cur[:, 2] = ref[:, 2] + 1e12, cur[:, 2] + 1e12
    ref[:, 3], cur[:, 3] = rng.standard_t(2, 3000), rng.standard_t(2, 2000)
    ref_mask, cur_mask = rng.random(ref.shape) > 0.1, rng.random(cur.shape) > 0.05
    found = _samples(ref, cur, ref_mask, cur_mask)
    for i in range(4):
        a, b = ref[ref_mask[:, i], i], cur[cur_mask[:, i], i]
        expected = ss.ks_2samp(a, b, method="asymp")
        assert found["ks"][i] == pytest.approx(expected.statistic, abs=1e-12)
        assert found["ks_pvalue"][i] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
        assert found["wasserstein"][i] == pytest.approx(ss.wasserstein_distance(a, b), rel=1e-9)
        assert found["std"][i] == pytest.approx(np.std(a), rel=1e-9)
        assert (found["n"][i], found["m"][i]) == (a.size, b.size)
        single = _samples(a, b)
        assert single["ks"][0] == pytest.approx(found["ks"][i], abs=1e-12)
        assert single["wasserstein"][0] == pytest.approx(found["wasserstein"][i], rel=1e-12)


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
    found = _samples(x, y)
    d, p = found["ks"][0], found["ks_pvalue"][0]
    expected = ss.ks_2samp(x, y, method="asymp")
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    if round(x.size * y.size / (x.size + y.size)) == 0:
        assert p == ss.kstwo.sf(d, 1)  # scipy: n_eff 0 and a NaN p-value
    else:
        assert p == pytest.approx(expected.pvalue, abs=1e-12)
    w1 = found["wasserstein"][0]
    assert w1 == pytest.approx(ss.wasserstein_distance(x, y), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("name", ["lognormal", "poisson"])
def test_psi_and_jensenshannon_on_reference_quantile_bins(name: str) -> None:
    rng = np.random.default_rng(2)
    if name == "lognormal":
        ref, cur = rng.lognormal(0, 1, (3000, 2)), rng.lognormal(0.2, 1, (2000, 2))
    else:  # heavy ties: repeated quantiles, tied values on the edges
        ref, cur = rng.poisson(2, (3000, 2)) * 1.0, rng.poisson(2.3, (2000, 2)) * 1.0
    found = _samples(ref, cur)
    for i in range(2):
        cuts = np.quantile(ref[:, i], ds.JS_PROBS)
        np.testing.assert_allclose(found["edges"][i], cuts, rtol=1e-15)
        ce, ca = _right_closed_counts(ref[:, i], cuts), _right_closed_counts(cur[:, i], cuts)
        np.testing.assert_allclose(found["expected"][i], ce / ce.sum(), atol=1e-15)
        np.testing.assert_allclose(found["actual"][i], ca / ca.sum(), atol=1e-15)
        for base in (2.0, np.e):
            got = float(ds.jensenshannon(found["actual"][i], found["expected"][i], base))
            assert got == pytest.approx(scipy_js(ca, ce, base=base), abs=1e-12)
        deciles = np.quantile(ref[:, i], ds.DECILES)
        de, da = _right_closed_counts(ref[:, i], deciles), _right_closed_counts(cur[:, i], deciles)
        a, e = np.clip(da / da.sum(), 1e-4, None), np.clip(de / de.sum(), 1e-4, None)
        got_psi = ds.psi(
            ds.decile_shares(found["actual"][i]), ds.decile_shares(found["expected"][i])
        )
        assert float(got_psi) == pytest.approx(np.sum((a - e) * np.log(a / e)), abs=1e-12)


def test_chi2_homogeneity_matches_chi2_contingency() -> None:
    ref, cur = np.array([40.0, 25, 0, 60, 3]), np.array([35.0, 40, 0, 50, 9])
    stat, p = ds.chi2_homogeneity(ref, cur)
    table = np.vstack([ref, cur])[:, [0, 1, 3, 4]]  # the category empty on both sides dropped
    expected = ss.chi2_contingency(table, correction=False)
    assert (float(stat), float(p)) == pytest.approx(
        (expected.statistic, expected.pvalue), rel=1e-10
    )
    assert ds.chi2_homogeneity(np.array([5.0, 0]), np.array([7.0, 0]))[1] == 1.0


def test_choose_method_and_numeric_verdicts() -> None:
    assert choose_method(1000, "numeric") == "ks"
    assert choose_method(1001, "numeric") == "wasserstein"
    assert choose_method(1000, "categorical") == "chisquare"
    assert choose_method(1001, "categorical") == "jensenshannon"
    rng = np.random.default_rng(7)
    small, big, moved = rng.normal(0, 2, 800), rng.normal(0, 2, 3000), rng.normal(0.5, 2, 2000)
    (verdict,) = drift_numeric(small, moved)
    expected = ss.ks_2samp(small, moved, method="asymp")
    assert (verdict.method, verdict.drifted) == ("ks", True)
    assert verdict.p_value == pytest.approx(expected.pvalue, rel=1e-9)
    (verdict,) = drift_numeric(big, moved)
    normed = ss.wasserstein_distance(big, moved) / big.std()
    assert verdict.method == "wasserstein" and verdict.drifted
    assert verdict.statistic == pytest.approx(normed, rel=1e-9)
    assert verdict.p_value == pytest.approx(ss.ks_2samp(big, moved, method="asymp").pvalue)
    (relaxed,) = drift_numeric(big, moved, thresholds=DriftThresholds(wasserstein=0.5))
    assert not relaxed.drifted and relaxed.threshold == 0.5
    (by_psi,) = drift_numeric(big, moved, method="psi")
    assert by_psi.statistic == by_psi.statistics["psi"] > 0.02
    with pytest.raises(ds.DriftInputError, match="drift methods"):
        drift_numeric(big, moved, method="chisquare")


def test_a_distance_flags_only_when_the_test_rejects() -> None:
    """One far outlier today moves Wasserstein-1 past its threshold on its own; the KS test
    sees one row of 2,000 and does not reject, so the column is not drifted."""
    rng = np.random.default_rng(11)
    reference, today = rng.normal(0, 1, 5000), rng.normal(0, 1, 2000)
    today[0] = 1e4
    (verdict,) = drift_numeric(reference, today)
    normed = ss.wasserstein_distance(reference, today) / reference.std()
    assert verdict.statistic == pytest.approx(normed, rel=1e-9) and normed > 4
    assert verdict.p_value > 0.05 and not verdict.drifted
    today[:400] += 1.0  # a real shift in a fifth of the rows: both agree
    (moved,) = drift_numeric(reference, today)
    assert moved.p_value < 1e-6 and moved.drifted


def test_categorical_drift_counts_and_codes() -> None:
    rng = np.random.default_rng(8)
    ref_codes = rng.choice(4, 900, p=[0.4, 0.3, 0.2, 0.1])
    cur_codes = rng.choice(4, 700, p=[0.3, 0.3, 0.2, 0.2])
    by_codes = drift_categorical(ref_codes, cur_codes, codes=True)
    ref_counts, cur_counts = np.bincount(ref_codes), np.bincount(cur_codes)
    expected = ss.chi2_contingency(np.vstack([ref_counts, cur_counts]), correction=False)
    assert by_codes.method == "chisquare" and by_codes.drifted
    assert by_codes.statistic == pytest.approx(expected.statistic, rel=1e-10)
    assert by_codes.p_value == pytest.approx(expected.pvalue, rel=1e-8)
    large = drift_categorical(ref_counts * 10, cur_counts)
    assert large.method == "jensenshannon"
    assert large.statistic == pytest.approx(scipy_js(cur_counts, ref_counts, base=2), abs=1e-12)
    assert large.drifted == (large.statistic > 0.1 and large.p_value < 0.05)
    with pytest.raises(ds.DriftInputError, match="equal-length"):
        drift_categorical(ref_counts, cur_counts[:2])


def test_many_columns_in_one_dispatch_and_no_recompile() -> None:
    rng = np.random.default_rng(9)
    ref, cur = rng.standard_normal((3000, 2)), rng.standard_normal((2000, 2))
    mask = np.ones_like(ref, dtype=bool)
    mask[800:, 1] = False  # column 1 has a small reference
    results = drift_numeric(ref, cur, reference_mask=mask)
    assert [r.method for r in results] == ["wasserstein", "ks"]
    assert not any(r.drifted for r in results)
    _samples(ref[:1100], cur[:1100])
    size = ds._numeric_all._cache_size()
    _samples(ref[:1200], cur[:1250])
    assert ds._numeric_all._cache_size() == size
