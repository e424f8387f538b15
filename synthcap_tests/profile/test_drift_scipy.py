"""Every drift statistic against scipy on the raw rows of real tables (issue 11, item 4).

Two days are random halves of a bundled real table, as they are, or with day 2 moved (numeric
columns scaled by 1.25, so decisions of both kinds occur). Tolerances as stated in the README:
KS statistic within 0.01 of ``scipy.stats.ks_2samp``, the same decision at the level except
where scipy's p lies in [α/2, 2α]; Wasserstein-1 ÷ reference std within 0.01 of
``scipy.stats.wasserstein_distance`` ÷ ``numpy.std``; Jensen–Shannon within 0.01 of
``scipy.spatial.distance.jensenshannon`` (base 2) over the same bins, cut here with numpy;
chi-square against ``scipy.stats.chi2_contingency`` over buckets built here with pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from synthcap_assets.kernels.drift_stats import DECILES, JS_PROBS
from synthcap_assets.profile.drift import drift_between, drift_thresholds
from synthcap_resources.catalog import DriftSpec
from synthcap_tests.profile.real_tables import random_halves, real_table

TOL = 0.01
THRESHOLDS = drift_thresholds(DriftSpec())
CASES = [
    (name, seed, moved)
    for name in ("randhie", "fair", "engel", "cars", "airports")
    for seed, moved in ((1, False), (2, True))
]


def _right_closed_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts in (-inf, e1], (e1, e2], ..., (ek, inf): a tied value never straddles a bin."""
    return np.bincount(np.searchsorted(edges, values, side="left"), minlength=edges.size + 1)


def _days(name: str, seed: int, moved: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    reference, current = random_halves(real_table(name), seed)
    if moved:
        floats = [c for c, t in current.schema.items() if t.is_float()]
        current = current.with_columns(pl.col(c) * 1.25 for c in floats)
    return reference, current


def _buckets(reference: pd.Series, current: pd.Series) -> tuple[np.ndarray, bool]:
    """pandas' own 2 × k table: values both days expect 5 rows of, the rest merged; and
    whether any value was merged."""
    counts = pd.concat([reference.value_counts(), current.value_counts()], axis=1).fillna(0)
    n, m = len(reference), len(current)
    keep = counts.sum(axis=1) >= 5 * (n + m) / min(n, m)
    table = counts[keep]
    if (~keep).any():
        table = pd.concat([table, counts[~keep].sum().to_frame().T])
    return table.to_numpy().T, bool((~keep).any())


@pytest.mark.parametrize(("name", "seed", "moved"), CASES)
def test_numeric_statistics_equal_scipy_on_the_rows(name: str, seed: int, moved: bool) -> None:
    reference, current = _days(name, seed, moved)
    report = drift_between(current, reference, thresholds=THRESHOLDS)
    rows = report.filter(pl.col("kind") == "numeric").iter_rows(named=True)
    checked, decisions = 0, set()
    alpha = THRESHOLDS.ks_pvalue
    for row in rows:
        a = reference[row["column"]].drop_nulls().to_numpy().astype(np.float64)
        b = current[row["column"]].drop_nulls().to_numpy().astype(np.float64)
        where = (name, row["column"])
        ks = stats.ks_2samp(a, b)  # scipy's default: exact p for small samples
        assert abs(row["ks_statistic"] - ks.statistic) <= TOL, where
        if not alpha / 2 <= ks.pvalue <= 2 * alpha:
            assert (row["ks_pvalue"] < alpha) == (ks.pvalue < alpha), (*where, ks.pvalue)
        if row["method"] == "ks":
            assert row["drifted"] == (row["ks_pvalue"] < alpha), where
        w1 = stats.wasserstein_distance(a, b) / np.std(a)
        assert abs(row["wasserstein"] - w1) <= TOL, where
        edges = np.quantile(a, JS_PROBS)
        js = jensenshannon(_right_closed_counts(b, edges), _right_closed_counts(a, edges), base=2)
        assert abs(row["jensenshannon"] - js) <= TOL, where
        cuts = np.quantile(a, DECILES)
        e, c = (np.clip(_right_closed_counts(x, cuts) / x.size, 1e-4, None) for x in (a, b))
        assert row["psi"] == pytest.approx(np.sum((c - e) * np.log(c / e)), abs=1e-9), where
        decisions.add(row["drifted"])
        checked += 1
    assert checked >= 2, name
    if moved:  # every float column scaled: some column must be caught
        assert True in decisions, name


@pytest.mark.parametrize(("name", "seed", "moved"), CASES)
def test_categorical_statistics_equal_scipy_on_the_rows(name: str, seed: int, moved: bool) -> None:
    reference, current = _days(name, seed, moved)
    report = drift_between(current, reference, thresholds=THRESHOLDS)
    tested = report.filter(pl.col("kind") == "categorical", pl.col("method") != "identifier")
    for row in tested.iter_rows(named=True):
        a = reference[row["column"]].drop_nulls().cast(pl.String).to_pandas()
        b = current[row["column"]].drop_nulls().cast(pl.String).to_pandas()
        table, merged = _buckets(a, b)
        if table.shape[1] < 2:
            assert row["chi2_pvalue"] == 1.0
            continue
        expected = stats.chi2_contingency(table, correction=False)
        assert row["chi2_pvalue"] == pytest.approx(expected.pvalue, rel=1e-6, abs=1e-12)
        assert row["chi2_statistic"] == pytest.approx(expected.statistic, rel=1e-9)
        assert abs(row["jensenshannon"] - jensenshannon(table[1], table[0], base=2)) <= TOL
        assert row["method"].startswith("top_values_") == merged, row["method"]
