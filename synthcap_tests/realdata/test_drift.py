"""Drift on real tables: day 2 against day 1, compared with scipy on the raw rows.

Every table's days are random parts of it, so nothing should drift, except in
``seattle_weather`` whose last day carries a planted shift (``temp_max`` + one std of the
table, half the ``sun`` days relabelled ``rain``). Tolerances are issue 11's: KS statistic
within 0.01 of ``scipy.stats.ks_2samp``; Wasserstein ÷ the reference std (ddof 0) within 0.01
of ``scipy.stats.wasserstein_distance``; Jensen-Shannon (base 2, the README's bins: every 5%
reference quantile, right-closed) within 0.01 of ``scipy.spatial.distance.jensenshannon``;
and the same decision as scipy except where scipy's p lies within [α/2, 2α] or its distance
within 0.01 of the threshold (a distance flags only when KS rejects too, as the README says).
Identifier-like columns (airport names, car models) must never be flagged between random
halves.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats
from scipy.spatial import distance

from synthcap_tests.realdata.conftest import RealLake
from synthcap_tests.realdata.tables import TABLES
from synthcap_tests.realdata.test_profile_quality import day_frame

TOL = 0.01
SHIFTED = {t.id: t for t in TABLES if t.shift_numeric or t.reweight}
SOURCES = [t.id for t in TABLES] + ["notes"]


def _days(lake: RealLake, source: str, last: bool) -> tuple[dt.date, dt.date]:
    """The first two days (random parts of the table), or the last two (the planted shift)."""
    dates = lake.planted.dates(source)
    first, second = dates[-2:] if last else dates[:2]
    return first, second


def drift_rows(
    lake: RealLake, source: str, last: bool = False
) -> tuple[pl.DataFrame, pd.DataFrame, pd.DataFrame]:
    first, second = _days(lake, source, last)
    rows = lake.rows("reports/drift_report", source, second)
    assert not rows.is_empty(), f"{source}: no drift rows for {second}"
    return rows, day_frame(lake, source, first), day_frame(lake, source, second)


def numeric(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").dropna().to_numpy(dtype=np.float64)


def js_distance(ref: np.ndarray, cur: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2) over the README's bins: cut at every 5% quantile of the
    reference (numpy's linear quantiles), right-closed, open at both ends."""
    edges = np.quantile(ref, np.arange(1, 20) / 20)
    shares = [
        np.bincount(np.searchsorted(edges, x, side="left"), minlength=20) / len(x)
        for x in (ref, cur)
    ]
    return float(distance.jensenshannon(shares[0], shares[1], base=2))


def chi2_pvalue(reference: pd.Series, current: pd.Series) -> float:
    """scipy's chi-square test of homogeneity over every value seen on either day."""
    counts = pd.concat(
        [reference.astype(str).value_counts(), current.astype(str).value_counts()], axis=1
    ).fillna(0)
    return float(stats.chi2_contingency(counts.to_numpy().T).pvalue)


def identifier_like(reference: pd.Series) -> bool:
    """Most values distinct: a name or code column, not a category."""
    values = reference.dropna()
    return values.nunique() > 0.5 * len(values) and values.nunique() > 20


@pytest.mark.parametrize("source", SOURCES)
def test_numeric_drift_statistics_equal_scipy(realdata_lake: RealLake, source: str) -> None:
    rows, ref_df, cur_df = drift_rows(realdata_lake, source)
    checked = 0
    for row in rows.filter(pl.col("kind") == "numeric").iter_rows(named=True):
        where = (source, row["column"], row["method"])
        ref, cur = numeric(ref_df[row["column"]]), numeric(cur_df[row["column"]])
        ks = stats.ks_2samp(ref, cur)
        assert row["ks_statistic"] == pytest.approx(ks.statistic, abs=TOL), where
        # normed as Evidently does: by the reference std with ddof 0 (np.std)
        wasserstein = stats.wasserstein_distance(ref, cur) / ref.std(ddof=0)
        assert row["wasserstein"] == pytest.approx(wasserstein, abs=TOL), where
        assert row["jensenshannon"] == pytest.approx(js_distance(ref, cur), abs=TOL), where
        alpha = row["threshold"]
        if row["method"] == "ks" and not alpha / 2 <= ks.pvalue <= 2 * alpha:
            assert row["drifted"] == (ks.pvalue < alpha), (*where, ks.pvalue)
        if row["method"] == "wasserstein" and abs(wasserstein - alpha) > TOL:
            # A distance flags only when its test rejects too (README, drift_report).
            level = realdata_lake.planted.specs[source].get("drift", {}).get("ks_pvalue", 0.01)
            if not level / 2 <= ks.pvalue <= 2 * level:
                expected = wasserstein >= alpha and ks.pvalue < level
                assert row["drifted"] == expected, (*where, wasserstein, ks.pvalue)
        checked += 1
    if any(c in ref_df and pd.api.types.is_float_dtype(ref_df[c]) for c in ref_df.columns):
        assert checked, f"{source}: float columns but no numeric drift rows"


@pytest.mark.parametrize("source", SOURCES)
def test_categorical_drift_decision_equals_scipy(realdata_lake: RealLake, source: str) -> None:
    rows, ref_df, cur_df = drift_rows(realdata_lake, source)
    for row in rows.filter(pl.col("kind") == "categorical").iter_rows(named=True):
        where = (source, row["column"], row["method"])
        ref, cur = ref_df[row["column"]].dropna(), cur_df[row["column"]].dropna()
        if identifier_like(ref):
            continue  # covered by test_identifier_like_columns_never_drift_between_halves
        pvalue = chi2_pvalue(ref, cur)
        alpha = row["threshold"]
        if row["method"] == "chisquare" and not alpha / 2 <= pvalue <= 2 * alpha:
            assert row["drifted"] == (pvalue < alpha), (*where, pvalue)


@pytest.mark.parametrize("source", [s for s in SOURCES if s not in SHIFTED])
def test_no_drift_between_random_halves(realdata_lake: RealLake, source: str) -> None:
    rows, ref_df, cur_df = drift_rows(realdata_lake, source)
    flagged = rows.filter(pl.col("drifted").fill_null(False))
    for row in flagged.iter_rows(named=True):
        ref, cur = ref_df[row["column"]].dropna(), cur_df[row["column"]].dropna()
        if row["kind"] == "numeric":
            pvalue = stats.ks_2samp(numeric(ref), numeric(cur)).pvalue
        else:
            pvalue = 1.0 if identifier_like(ref) else chi2_pvalue(ref, cur)
        # A flag is only allowed where scipy on the raw rows sees drift too.
        assert pvalue < row["threshold"] / 2, (source, row["column"], row["detail"], pvalue)


def test_identifier_like_columns_never_drift_between_halves(realdata_lake: RealLake) -> None:
    checked = []
    for source in ("airports", "cars"):
        rows, ref_df, _ = drift_rows(realdata_lake, source)
        for column in ref_df.columns:
            if ref_df[column].dtype == object and identifier_like(ref_df[column]):
                row = rows.filter(pl.col("column") == column)
                if not row.is_empty():
                    assert not row["drifted"].fill_null(False).any(), (source, row.to_dicts())
                checked.append((source, column))
    # airports: iata, name, city; cars: Name (car models)
    assert {("airports", "name"), ("cars", "Name")} <= set(checked)


@pytest.mark.parametrize("source", sorted(SHIFTED))
def test_planted_shift_is_flagged(realdata_lake: RealLake, source: str) -> None:
    rows, ref_df, cur_df = drift_rows(realdata_lake, source, last=True)
    table = SHIFTED[source]
    by_column = {r["column"]: r for r in rows.iter_rows(named=True)}
    for column in table.shift_numeric:
        # The plant is real: scipy on the raw rows sees it.
        assert stats.ks_2samp(numeric(ref_df[column]), numeric(cur_df[column])).pvalue < 1e-6
        assert by_column[column]["drifted"] is True, by_column[column]
    for column in table.reweight:
        assert chi2_pvalue(ref_df[column], cur_df[column]) < 1e-6
        assert by_column[column]["drifted"] is True, by_column[column]
    untouched = set(by_column) - set(table.shift_numeric) - set(table.reweight)
    assert untouched, source
    for column in untouched:
        row = by_column[column]
        if row["kind"] == "numeric" and row["drifted"]:
            pvalue = stats.ks_2samp(numeric(ref_df[column]), numeric(cur_df[column])).pvalue
            assert pvalue < row["threshold"] / 2, row
