"""Time-series profile rows against statsmodels and scipy on random series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from scipy import stats
from statsmodels.tsa.stattools import acf, adfuller

from synthcap_assets.profile.timeseries import MIN_POINTS, TIMESERIES_SCHEMA, timeseries_profile


def _frame() -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    rng = np.random.default_rng(21)
    series = {}
    frames = []
    for entity, n, phi in [("A", 240, 0.6), ("B", 180, 0.97), ("C", MIN_POINTS - 1, 0.5)]:
        x = np.zeros(n)
        for t in range(1, n):
            x[t] = phi * x[t - 1] + rng.standard_normal()
        x = 100 + x + 0.05 * np.arange(n)
        series[entity] = x
        days = [dt.date(2020, 1, 1) + dt.timedelta(days=t) for t in range(n)]
        order = rng.permutation(n)  # delivered out of order: the profile sorts by time
        frames.append(
            pl.DataFrame(
                {"day": [days[i] for i in order], "ticker": [entity] * n, "price": x[order]}
            )
        )
    return pl.concat(frames), series


@pytest.mark.filterwarnings("ignore:adfuller currently returns:FutureWarning")
def test_series_statistics_match_statsmodels_and_scipy() -> None:
    frame, series = _frame()
    out = timeseries_profile(frame, "day", "ticker", ["price"])
    assert out.schema == TIMESERIES_SCHEMA
    rows = {r["entity"]: r for r in out.iter_rows(named=True)}
    assert set(rows) == {"A", "B"}  # C is shorter than MIN_POINTS
    for entity, row in rows.items():
        x = series[entity]
        assert row["points"] == x.size
        ref = adfuller(x, maxlag=row["adf_lags"], autolag=None, regression="c")
        assert row["adf_statistic"] == pytest.approx(ref[0], rel=1e-6)
        assert row["adf_pvalue"] == pytest.approx(ref[1], rel=1e-4, abs=1e-6)
        assert row["acf_1"] == pytest.approx(acf(x, nlags=1, fft=True)[1], rel=1e-9)
        line = stats.linregress(np.arange(x.size), x)
        assert row["trend_slope"] == pytest.approx(line.slope, rel=1e-9)
        assert row["trend_r2"] == pytest.approx(line.rvalue**2, rel=1e-9)
        returns = np.diff(np.log(x))
        squared = returns**2
        assert row["volatility_clustering"] == pytest.approx(
            acf(squared, nlags=1, fft=True)[1], rel=1e-9
        )


def test_without_an_entity_the_table_is_one_series() -> None:
    frame, _ = _frame()
    a = frame.filter(pl.col("ticker") == "A").drop("ticker")
    out = timeseries_profile(a, "day", None, ["price"])
    assert out["entity"].to_list() == ["*"] and out["points"].to_list() == [240]
    assert timeseries_profile(a.head(5), "day", None, ["price"]).height == 0
