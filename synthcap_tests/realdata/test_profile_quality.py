"""Profile and quality figures on real tables equal pandas on the same day's rows.

The reference is pandas reading the day's CSV file itself (float64): counts, nulls, distinct,
mean, std (ddof 1), min/max, and every stored percentile within the rank bound the profile
states (``rank_error``, a fraction of the count, plus one rank for interpolation). Dates
and timestamps are compared as days since 1970-01-01.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from synthcap_tests.realdata.conftest import RealLake
from synthcap_tests.realdata.tables import TABLES

REAL = [t.id for t in TABLES] + ["notes"]
REL = 1e-9
HLL_REL = 3 * 0.0081  # three standard errors of the HyperLogLog estimate


def day_frame(lake: RealLake, source: str, day: dt.date) -> pd.DataFrame:
    """The day's CSV as pandas reads it, date-like columns parsed (ISO strings only)."""
    path = lake.planted.specs[source]["location"].replace("{date}", day.isoformat())
    df = pd.read_csv(path)
    for column in df.columns:
        if df[column].dtype == object:
            parsed = pd.to_datetime(df[column], errors="coerce", format="ISO8601")
            if parsed.notna().sum() == df[column].notna().sum() and parsed.notna().any():
                df[column] = parsed
    return df


def as_numbers(series: pd.Series) -> np.ndarray:
    """Non-null values as float64; dates and timestamps in days since 1970-01-01 (the
    profile's unit for both)."""
    values = series.dropna()
    if not pd.api.types.is_datetime64_any_dtype(values):
        return values.to_numpy(dtype=np.float64)
    ns = values.astype("datetime64[ns]").astype("int64").to_numpy().astype(np.float64)
    return ns / 86_400e9


def within_rank_bound(values: np.ndarray, quantile: float, p: float, error: float) -> bool:
    """Whether ``quantile`` is a ``p``-quantile of ``values`` within ``error`` (a fraction of
    the count) plus one rank: its empirical CDF interval must reach p."""
    ordered = np.sort(values)
    n = len(ordered)
    rounding = 1e-12 * max(1.0, abs(quantile))  # interpolating between ties: 0.3 + 4e-17
    below = np.searchsorted(ordered, quantile - rounding, side="left") / n
    at_or_below = np.searchsorted(ordered, quantile + rounding, side="right") / n
    slack = error + 1.0 / n
    return below - slack <= p <= at_or_below + slack


def profiled_days(lake: RealLake, source: str) -> list[tuple[dt.date, pl.DataFrame]]:
    profile = lake.rows("reports/profile", source)
    assert not profile.is_empty(), f"{source}: no profile rows in the lake"
    return [(day, profile.filter(pl.col("date") == day)) for day in lake.planted.dates(source)]


@pytest.mark.parametrize("source", REAL)
def test_profile_counts_nulls_distinct_equal_pandas(realdata_lake: RealLake, source: str) -> None:
    for day, rows in profiled_days(realdata_lake, source):
        df = day_frame(realdata_lake, source, day)
        assert sorted(rows["column"]) == sorted(df.columns), (source, day)
        for row in rows.iter_rows(named=True):
            series = df[row["column"]]
            where = (source, day, row["column"])
            assert row["count"] == series.notna().sum(), where
            assert row["nulls"] == series.isna().sum(), where
            expected = series.nunique(dropna=True)
            if row["distinct_exact"]:
                assert row["distinct"] == expected, where
            else:
                assert abs(row["distinct"] - expected) <= HLL_REL * expected, where


@pytest.mark.parametrize("source", [t.id for t in TABLES])  # notes: text only
def test_profile_moments_and_percentiles_equal_pandas(realdata_lake: RealLake, source: str) -> None:
    from synthcap_assets.profile.stats import QUANTILE_PROBS

    checked = 0
    for day, rows in profiled_days(realdata_lake, source):
        df = day_frame(realdata_lake, source, day)
        for row in rows.filter(pl.col("value_kind") == "quantitative").iter_rows(named=True):
            where = (source, day, row["column"])
            values = as_numbers(df[row["column"]])
            assert row["mean"] == pytest.approx(values.mean(), rel=REL, abs=1e-9), where
            assert row["std"] == pytest.approx(values.std(ddof=1), rel=1e-7, abs=1e-9), where
            assert row["min"] == pytest.approx(values.min(), rel=REL), where
            assert row["max"] == pytest.approx(values.max(), rel=REL), where
            quantiles = row["quantiles"]
            assert len(quantiles) == len(QUANTILE_PROBS) == 101, where
            error = row["rank_error"] or 0.0
            for p, q in zip(QUANTILE_PROBS, quantiles, strict=True):
                assert within_rank_bound(values, q, float(p), error), (*where, p, q)
            checked += 1
    assert checked, f"{source}: no quantitative column profiled"


@pytest.mark.parametrize("source", REAL)
def test_quality_completeness_uniqueness_equal_pandas(realdata_lake: RealLake, source: str) -> None:
    quality = realdata_lake.rows("reports/quality_report", source)
    for day in realdata_lake.planted.dates(source):
        df = day_frame(realdata_lake, source, day)
        rows = {r["column"]: r for r in quality.filter(pl.col("date") == day).iter_rows(named=True)}
        assert set(rows) == {*df.columns, "*"}, (source, day)
        n = len(df)
        for column in df.columns:
            series = df[column]
            if series.dtype == object:
                series = series.where(series.str.strip() != "")
            row = rows[column]
            assert row["completeness"] == pytest.approx(series.notna().sum() / n), (day, column)
            if series.notna().any():
                expected = series.nunique() / series.notna().sum()
                assert row["uniqueness"] == pytest.approx(expected), (day, column)
        table = rows["*"]
        assert table["completeness"] == pytest.approx(df.notna().mean().mean()), day
        assert table["uniqueness"] == pytest.approx(len(df.drop_duplicates()) / n), day
