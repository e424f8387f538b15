"""Time-series kernels against statsmodels/scipy and independent numpy code, float64: ACF,
volatility clustering, seasonal period, trend, variance ratio and the ADF test."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats as ss
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from statsmodels.tsa.adfvalues import mackinnoncrit, mackinnonp
from statsmodels.tsa.stattools import acf as sm_acf
from statsmodels.tsa.stattools import adfuller

from synthcap_assets.kernels.timeseries import (
    TimeSeriesInputError,
    acf,
    seasonal_period,
    trend,
    variance_ratio,
    volatility_clustering,
)
from synthcap_assets.kernels.ts_adf import _adf, adf, mackinnon_crit, mackinnon_pvalue


def _adfuller(x: np.ndarray, lag: int, regression: str = "c") -> tuple:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return adfuller(x, maxlag=lag, autolag=None, regression=regression)


def _walks(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    return np.cumsum(rng.standard_normal((k, n)), axis=1)


def test_acf_matches_statsmodels_fft_batch_and_conservative_nulls() -> None:
    rng = np.random.default_rng(1)
    x = _walks(rng, 4, 3000) * 0.1 + rng.standard_normal((4, 3000))
    lengths = [3000, 2500, 1800, 3000]
    mask = np.arange(3000)[None, :] < np.array(lengths)[:, None]
    got = acf(x, 40, mask)
    for i, n in enumerate(lengths):
        expected = sm_acf(x[i, :n], nlags=40, fft=True)
        np.testing.assert_allclose(got[i], expected, atol=1e-10)
        np.testing.assert_allclose(acf(x[i, :n], 40), expected, atol=1e-10)
    holes = x[0].copy()
    holes[rng.random(3000) < 0.1] = np.nan  # interior nulls
    expected = sm_acf(holes, nlags=40, fft=True, missing="conservative")
    np.testing.assert_allclose(acf(holes, 40), expected, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.integers(3, 300),
        elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False),
    ),
    st.integers(0, 20),
)
def test_acf_hypothesis_matches_statsmodels(x: np.ndarray, nlags: int) -> None:
    nlags = min(nlags, x.size - 1)
    assume(np.ptp(x) > 1e-3 * max(1.0, np.abs(x).max()))
    np.testing.assert_allclose(acf(x, nlags), sm_acf(x, nlags=nlags, fft=True), atol=1e-10)


def test_volatility_clustering_matches_acf_of_squared_returns() -> None:
    rng = np.random.default_rng(2)
    # GARCH(1, 1) returns: squared returns are autocorrelated.
    n, r, var = 5000, np.zeros(5000), np.ones(5000)
    for t in range(1, n):
        var[t] = 0.05 + 0.1 * r[t - 1] ** 2 + 0.85 * var[t - 1]
        r[t] = np.sqrt(var[t]) * rng.standard_normal()
    got = volatility_clustering(r, 10)
    np.testing.assert_allclose(got, sm_acf(r**2, nlags=10, fft=True)[1:], atol=1e-10)
    assert got[0] > 0.1
    calm = volatility_clustering(rng.standard_normal(5000), 10)
    assert np.abs(calm).max() < 0.06


@pytest.mark.parametrize("period", [7, 12, 24])
def test_seasonal_period_of_noisy_sine(period: int) -> None:
    rng = np.random.default_rng(period)
    t = np.arange(2000)
    phases = rng.random((8, 1)) * 6
    x = np.sin(2 * np.pi * t / period + phases) + rng.standard_normal((8, 2000)) + 0.002 * t
    found = seasonal_period(x, 3 * period)
    np.testing.assert_array_equal(found.period, period)
    assert (found.strength > 0.25).all()


def test_seasonal_period_long_period_and_none_in_noise() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(168 * 20)
    x = np.sin(2 * np.pi * t / 168) + 0.5 * rng.standard_normal((4, t.size))
    assert (np.abs(seasonal_period(x, 500).period - 168) <= 0.03 * 168).all()
    ar = np.zeros((6, 2000))
    noise = rng.standard_normal((6, 2000))
    for i in range(1, 2000):
        ar[:, i] = 0.7 * ar[:, i - 1] + noise[:, i]
    assert (seasonal_period(ar, 200).period == 0).all()
    assert (seasonal_period(noise, 200).period == 0).all()
    with pytest.raises(TimeSeriesInputError, match="max_period"):
        seasonal_period(noise[0, :50], 100)


def test_trend_matches_linregress_with_nulls() -> None:
    rng = np.random.default_rng(4)
    t = np.arange(1500)
    x = 1e6 + 0.3 * t + 20 * rng.standard_normal((3, 1500))
    x[rng.random(x.shape) < 0.1] = np.nan
    got = trend(x)
    for i in range(3):
        ok = np.isfinite(x[i])
        ref = ss.linregress(t[ok], x[i, ok])
        assert got.slope[i] == pytest.approx(ref.slope, rel=1e-12)
        assert got.intercept[i] == pytest.approx(ref.intercept, rel=1e-12)
        assert got.r_squared[i] == pytest.approx(ref.rvalue**2, rel=1e-10)
        assert got.stderr[i] == pytest.approx(ref.stderr, rel=1e-10)
        assert trend(x[i]).slope == pytest.approx(got.slope[i], rel=1e-14)


def _vr_reference(x: np.ndarray, q: int) -> tuple[float, float, float]:
    """Lo & MacKinlay (1988), written from the paper's formulas with plain loops."""
    n = len(x) - 1
    mu = (x[-1] - x[0]) / n
    r = [x[t] - x[t - 1] - mu for t in range(1, n + 1)]
    var_a = sum(v * v for v in r) / (n - 1)
    m = q * (n - q + 1) * (1 - q / n)
    var_c = sum((x[t] - x[t - q] - q * mu) ** 2 for t in range(q, n + 1)) / m
    vr = var_c / var_a
    z = (vr - 1) / np.sqrt(2 * (2 * q - 1) * (q - 1) / (3 * q * n))
    total = sum(v * v for v in r)
    theta = 0.0
    for j in range(1, q):
        delta = n * sum(r[t] ** 2 * r[t - j] ** 2 for t in range(j, n)) / total**2
        theta += (2 * (q - j) / q) ** 2 * delta
    return vr, z, (vr - 1) / np.sqrt(theta)


def test_variance_ratio_matches_reference_and_batch() -> None:
    rng = np.random.default_rng(5)
    walk = _walks(rng, 1, 1200)[0]
    reverting = np.cumsum(np.diff(rng.standard_normal(1201)))  # increments with lag-1 corr -1/2
    x = np.stack([walk, reverting])
    mask = np.ones_like(x, dtype=bool)
    mask[1, 1000:] = False
    for q in (2, 5):
        got = variance_ratio(x, q, mask)
        for i, series in enumerate([walk, reverting[:1000]]):
            expected = _vr_reference(series, q)
            np.testing.assert_allclose(
                [got.ratio[i], got.z[i], got.z_robust[i]], expected, rtol=1e-10
            )
    assert variance_ratio(reverting, 4).ratio < 0.5 < variance_ratio(walk, 4).ratio
    holes = walk.copy()
    holes[10] = np.nan
    with pytest.raises(TimeSeriesInputError, match="contiguous"):
        variance_ratio(holes, 2)


@pytest.mark.parametrize(("regression", "lags"), [("c", (0, 3, 12)), ("n", (4,)), ("ct", (4,))])
def test_adf_matches_adfuller(regression: str, lags: tuple[int, ...]) -> None:
    rng = np.random.default_rng(6)
    x = _walks(rng, 4, 600)
    x[1] = rng.standard_normal(600)  # stationary
    x[2] = 0.5 * np.arange(600) + _walks(rng, 1, 600)[0]  # drifting walk
    lengths = np.array([600, 600, 450, 300])
    mask = np.arange(600)[None, :] < lengths[:, None]
    for lag in lags:
        got = adf(x, lag, mask, regression=regression)  # type: ignore[arg-type]
        for i, n in enumerate(lengths):
            stat, p, used, nobs, crit = _adfuller(x[i, :n], lag, regression)
            assert got.statistic[i] == pytest.approx(stat, abs=1e-9)
            assert got.pvalue[i] == pytest.approx(p, abs=1e-9)
            assert (used, got.nobs[i]) == (lag, nobs)
            np.testing.assert_allclose(got.critical_values[i], list(crit.values()), atol=1e-12)
    assert got.pvalue[1] < 0.01 < got.pvalue[0]


def test_adf_far_from_zero_and_p_value_port() -> None:
    rng = np.random.default_rng(7)
    walk = _walks(rng, 1, 800)[0]
    # statsmodels loses digits at 1e9 (its design is near-singular); the statistic is
    # shift-invariant, so compare with adfuller on the exactly de-offset series.
    got = adf(walk + 1e9, 6).statistic
    assert got == pytest.approx(_adfuller((walk + 1e9) - 1e9, 6)[0], abs=1e-9)
    stats = np.linspace(-25, 5, 301)
    for regression in ("c", "n", "ct"):
        ported = np.asarray(mackinnon_pvalue(stats, regression))  # type: ignore[arg-type]
        expected = [mackinnonp(s, regression=regression) for s in stats]
        np.testing.assert_allclose(ported, expected, atol=1e-14)
        for nobs in (20, 500, 10**6):
            np.testing.assert_allclose(
                mackinnon_crit(nobs, regression),  # type: ignore[arg-type]
                mackinnoncrit(N=1, regression=regression, nobs=nobs),
                atol=1e-12,
            )


def test_adf_input_errors_constant_series_and_no_recompile() -> None:
    rng = np.random.default_rng(8)
    with pytest.raises(TimeSeriesInputError, match="maxlag"):
        adf(rng.standard_normal(20), 9)
    with pytest.raises(TimeSeriesInputError, match="regression"):
        adf(rng.standard_normal(200), 2, regression="ctt")  # type: ignore[arg-type]
    assert np.isnan(adf(np.full(200, 3.0), 2).statistic)
    adf(_walks(rng, 2, 1100), 5)
    size = _adf._cache_size()
    adf(_walks(rng, 2, 1200), 5)
    assert _adf._cache_size() == size
