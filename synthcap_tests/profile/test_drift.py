"""Tests for drift between two days' rows: verdicts, hand sums, schema changes, edge cases.
(scipy on real tables: ``test_drift_scipy.py``; false alarms: ``test_drift_false_alarms.py``.)"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from synthcap_assets.kernels.drift import DriftThresholds
from synthcap_assets.profile.drift import (
    DRIFT_SCHEMA,
    DriftInputError,
    drift_between,
    drift_summary,
)

N = 2000


def _normal(seed: int, loc: float = 0.0, scale: float = 1.0, n: int = N) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, scale, n)


def _drift(reference: np.ndarray, current: np.ndarray, **kwargs) -> dict:
    report = drift_between(pl.DataFrame({"x": current}), pl.DataFrame({"x": reference}), **kwargs)
    assert report.schema == DRIFT_SCHEMA
    return report.row(0, named=True)


def _numpy_psi(reference: np.ndarray, current: np.ndarray) -> float:
    """PSI from the reference deciles with np.histogram, expected 0.1 per bin."""
    edges = np.quantile(reference, np.arange(1, 10) / 10)
    counts, _ = np.histogram(current, bins=np.concatenate([[-np.inf], edges, [np.inf]]))
    actual = np.clip(counts / current.size, 1e-4, None)
    return float(np.sum((actual - 0.1) * np.log(actual / 0.1)))


def test_same_distribution_is_stable_and_large_references_use_wasserstein() -> None:
    row = _drift(_normal(1), _normal(2))
    assert row["kind"] == "numeric" and row["method"] == "wasserstein"
    assert row["statistic"] == row["wasserstein"] and row["threshold"] == 0.1
    assert (row["reference_rows"], row["current_rows"]) == (N, N)
    assert row["psi"] < 0.05 and row["ks_pvalue"] > 0.05
    assert row["drifted"] is False
    assert "stable" in row["detail"]


def test_small_references_use_ks() -> None:
    row = _drift(_normal(1, n=500), _normal(2, n=500))
    assert row["method"] == "ks" and row["statistic"] == row["ks_statistic"]
    assert row["drifted"] is False
    moved = _drift(_normal(1, n=500), _normal(2, 0.5, n=500))
    assert moved["method"] == "ks" and moved["ks_pvalue"] < 0.01 and moved["drifted"] is True


@pytest.mark.parametrize(("loc", "scale"), [(0.4, 1.0), (0.0, 1.6)])
def test_shifted_or_widened_distribution_drifts(loc: float, scale: float) -> None:
    row = _drift(_normal(1), _normal(2, loc, scale))
    assert row["drifted"] is True
    assert "drifted" in row["detail"]


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize(("loc", "scale"), [(0.0, 1.0), (0.3, 1.2)])
def test_statistics_match_scipy_on_the_raw_samples(seed: int, loc: float, scale: float) -> None:
    reference, current = _normal(seed), _normal(seed + 10, loc, scale)
    row = _drift(reference, current)
    ks = sps.ks_2samp(reference, current, method="asymp")
    assert row["ks_statistic"] == pytest.approx(ks.statistic, abs=1e-12)
    assert row["ks_pvalue"] == pytest.approx(ks.pvalue, rel=1e-9, abs=1e-300)
    w1 = sps.wasserstein_distance(reference, current) / np.std(reference)
    assert row["wasserstein"] == pytest.approx(w1, rel=1e-9)
    assert row["psi"] == pytest.approx(_numpy_psi(reference, current), abs=1e-12)


def test_thresholds_and_method_come_from_the_caller() -> None:
    # Wasserstein/std about 0.07 and a KS p far below 0.05: the distance threshold decides.
    reference, current = _normal(1, n=20_000), _normal(2, 0.07, n=20_000)
    default = _drift(reference, current)
    strict = _drift(reference, current, thresholds=DriftThresholds(wasserstein=0.05))
    assert default["ks_pvalue"] < 1e-4 and 0.05 < default["wasserstein"] < 0.1
    assert default["drifted"] is False and strict["drifted"] is True
    by_psi = _drift(reference, current, method="psi")
    assert by_psi["method"] == "psi" and by_psi["statistic"] == by_psi["psi"]


def test_categorical_psi_and_chi_square_by_hand() -> None:
    reference = pl.DataFrame({"count": ["a"] * 50 + ["b"] * 30 + ["c"] * 20})
    # Named "count" on purpose: it must not clash with value_counts' own column.
    current = pl.DataFrame(
        {"count": ["a"] * 25 + ["b"] * 25 + ["c"] * 25 + ["d"] * 25 + [None] * 7}
    )
    row = drift_between(current, reference).row(0, named=True)
    eps = 1e-4  # "d" is new: its own bucket (25 pooled rows), empty in the reference
    expected = (
        (0.25 - 0.5) * math.log(0.25 / 0.5)
        + (0.25 - 0.3) * math.log(0.25 / 0.3)
        + (0.25 - 0.2) * math.log(0.25 / 0.2)
        + (0.25 - eps) * math.log(0.25 / eps)
    )
    assert row["kind"] == "categorical" and row["method"] == "chisquare"
    assert (row["reference_rows"], row["current_rows"]) == (100, 100)
    assert row["psi"] == pytest.approx(expected, rel=1e-9)
    assert row["ks_statistic"] is None and row["ks_pvalue"] is None
    reference_test = sps.chi2_contingency([[50, 30, 20, 0], [25, 25, 25, 25]], correction=False)
    assert row["chi2_statistic"] == pytest.approx(reference_test.statistic, rel=1e-9)
    assert row["chi2_pvalue"] == pytest.approx(reference_test.pvalue, rel=1e-6)
    assert row["jensenshannon"] == pytest.approx(
        jensenshannon([25, 25, 25, 25], [50, 30, 20, 0], base=2), abs=1e-12
    )
    assert row["drifted"] is True
    assert "25.0% of rows hold values unseen" in row["detail"]


def test_rare_values_share_one_bucket_on_both_days() -> None:
    """A value is its own bucket only when both days expect 5 rows of it; the rest (seen or
    unseen) share "other values" on both days, so rare new values are no drift."""
    rng = np.random.default_rng(3)
    common = rng.choice(["x", "y", "z"], size=(2, 300), p=[0.5, 0.3, 0.2])
    rare = [f"r{i}" for i in range(60)]  # 60 values seen once each, 30 per day, all different
    reference = pl.DataFrame({"k": [*common[0], *rare[:30]]})
    current = pl.DataFrame({"k": [*common[1], *rare[30:]]})
    row = drift_between(current, reference).row(0, named=True)
    assert row["method"] == "top_values_chisquare" and row["drifted"] is False
    counts = [[(common[d] == v).sum() for v in "xyz"] + [30] for d in (0, 1)]
    independent = sps.chi2_contingency(counts, correction=False)
    assert row["chi2_pvalue"] == pytest.approx(independent.pvalue, rel=1e-9)
    assert "3 values + other values (60 merged)" in row["detail"]
    assert f"{30 / 330:.1%} of rows hold values unseen" in row["detail"]


def test_identifier_like_columns_get_no_distribution_test() -> None:
    rng = np.random.default_rng(4)
    tickets = [f"T{n}" for n in rng.choice(10_000, size=800, replace=False)]
    repeated = tickets[:100] * 2 + tickets[100:]  # 700 distinct in 900 rows
    reference = pl.DataFrame({"ticket": repeated[:450]})
    current = pl.DataFrame({"ticket": repeated[450:]})
    row = drift_between(current, reference).row(0, named=True)
    unseen = len(set(repeated[450:]) - set(repeated[:450]))
    today = pl.Series(repeated[450:])
    share = float(today.is_in(list(set(repeated[:450]))).not_().mean())
    assert unseen > 0 and row["method"] == "identifier" and row["drifted"] is False
    assert row["statistic"] == pytest.approx(share, abs=1e-12)
    assert row["psi"] is None and row["threshold"] is None


def test_categorical_shift_below_psi_threshold_is_caught_by_chi_square() -> None:
    rng = np.random.default_rng(7)
    intents = ["a", "b", "c", "d", "e", "f", "g", "h"]
    before = rng.choice(intents, size=400, p=[0.1] + [0.9 / 7] * 7)
    after = rng.choice(intents, size=400, p=[0.2] + [0.8 / 7] * 7)
    reference = pl.DataFrame({"intent": before})
    row = drift_between(pl.DataFrame({"intent": after}), reference).row(0, named=True)
    counts_before = [int((before == v).sum()) for v in intents]
    counts_after = [int((after == v).sum()) for v in intents]
    independent = sps.chi2_contingency([counts_before, counts_after], correction=False)
    assert row["chi2_pvalue"] == pytest.approx(independent.pvalue, rel=1e-6)
    assert row["psi"] < 0.2 and row["chi2_pvalue"] < 0.01 and row["drifted"] is True
    same = rng.choice(intents, size=400, p=[0.1] + [0.9 / 7] * 7)
    stable = drift_between(pl.DataFrame({"intent": same}), reference).row(0, named=True)
    assert stable["chi2_pvalue"] > 0.01 and stable["drifted"] is False


def test_categorical_missing_value_is_clipped_at_epsilon() -> None:
    reference = pl.DataFrame({"b": [True] * 60 + [False] * 40})
    current = pl.DataFrame({"b": [True] * 30})
    row = drift_between(current, reference).row(0, named=True)
    eps = 1e-4
    expected = (1 - 0.6) * math.log(1 / 0.6) + (eps - 0.4) * math.log(eps / 0.4)
    assert row["psi"] == pytest.approx(expected, rel=1e-12)
    assert row["method"] == "chisquare" and row["drifted"] is True


def test_schema_changes_are_reported_as_drift() -> None:
    reference = pl.DataFrame(
        {"kept": _normal(1), "gone": _normal(2), "kind": ["a", "b"] * (N // 2)}
    )
    current = pl.DataFrame(
        {"kept": _normal(3), "kind": list(range(N)), "new": _normal(4), "_source": ["s"] * N}
    )
    report = drift_between(current, reference)
    rows = {r["column"]: r for r in report.iter_rows(named=True)}
    assert set(rows) == {"kept", "gone", "kind", "new"}
    for column, word in [("gone", "removed"), ("new", "added"), ("kind", "type changed")]:
        assert rows[column]["kind"] == "schema" and rows[column]["drifted"] is True
        assert word in rows[column]["detail"]
        assert rows[column]["psi"] is None and rows[column]["ks_statistic"] is None
    assert (rows["gone"]["reference_rows"], rows["gone"]["current_rows"]) == (N, None)
    assert (rows["new"]["reference_rows"], rows["new"]["current_rows"]) == (None, N)
    assert rows["kept"]["kind"] == "numeric"


def test_a_column_empty_on_one_day_is_a_schema_change() -> None:
    """Both days live in one Delta table, so a column added today is all-null yesterday."""
    reference = pl.DataFrame({"x": _normal(1), "added": pl.Series([None] * N, dtype=pl.Float64)})
    current = pl.DataFrame({"x": _normal(2), "added": _normal(3)})
    rows = {r["column"]: r for r in drift_between(current, reference).iter_rows(named=True)}
    assert rows["added"]["kind"] == "schema" and rows["added"]["drifted"] is True
    assert "no values on the reference day" in rows["added"]["detail"]
    assert (rows["added"]["reference_rows"], rows["added"]["current_rows"]) == (0, N)
    back = {r["column"]: r for r in drift_between(reference, current).iter_rows(named=True)}
    assert back["added"]["kind"] == "schema" and "no values today" in back["added"]["detail"]


def test_integer_reference_compares_with_float_today_and_ignores_nan() -> None:
    rng = np.random.default_rng(12)
    reference = pl.DataFrame({"n": rng.integers(0, 100, N)})
    today = rng.integers(0, 100, N).astype(np.float64)
    today[:100] = np.nan
    row = drift_between(pl.DataFrame({"n": today}), reference).row(0, named=True)
    assert row["kind"] == "numeric" and row["current_rows"] == N - 100
    expected = sps.ks_2samp(reference["n"].to_numpy(), today[100:], method="asymp")
    assert row["ks_statistic"] == pytest.approx(expected.statistic, abs=1e-12)
    assert row["drifted"] is False


def test_columns_without_a_comparable_distribution_are_skipped() -> None:
    frame = pl.DataFrame(
        {
            "day": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(30)],
            "note": [f"customer {i} asked about the refund" for i in range(30)],
            "blank": pl.Series([None] * 30, dtype=pl.Float64),
        }
    )
    # Dates and empty columns are skipped; free text gets its text row (vocabulary, language,
    # lengths), not drifted against itself.
    drift = drift_between(frame, frame)
    assert drift["column"].to_list() == ["note"] and drift["kind"].to_list() == ["text"]
    assert drift["drifted"].to_list() == [False]


def test_constant_columns() -> None:
    assert _drift(np.full(50, 3.0), np.full(20, 3.0))["psi"] == pytest.approx(0.0, abs=1e-12)
    same = _drift(np.full(50, 3.0), np.full(20, 3.0))
    assert same["ks_statistic"] == pytest.approx(0.0, abs=1e-12)
    assert (same["ks_pvalue"], same["drifted"]) == (1.0, False)
    moved = _drift(np.full(50, 3.0), np.full(20, 4.0))
    assert moved["ks_statistic"] == 1.0 and moved["drifted"] is True


def test_single_row_and_empty_current_frames() -> None:
    reference = pl.DataFrame({"x": _normal(1), "k": ["a", "b"] * (N // 2)})
    single = drift_between(pl.DataFrame({"x": [0.0], "k": ["a"]}), reference)
    assert single["current_rows"].to_list() == [1, 1]
    assert single["psi"].is_not_null().all() and not single["drifted"].any()
    empty = drift_between(pl.DataFrame({"x": [1.0], "k": ["a"]}).clear(), reference)
    assert empty["current_rows"].to_list() == [0, 0]
    assert empty["psi"].is_null().all() and not empty["drifted"].any()
    assert drift_between(pl.DataFrame(), pl.DataFrame()).height == 0


def test_drift_summary_counts() -> None:
    reference = pl.DataFrame({"x": _normal(1), "y": _normal(2), "gone": _normal(3)})
    current = pl.DataFrame({"x": _normal(4), "y": _normal(5, 1.0)})
    report = drift_between(current, reference)
    summary = drift_summary(report)
    assert summary["columns_compared"] == 2
    assert summary["columns_drifted"] == 2  # y moved and gone was removed
    assert summary["schema_changes"] == 1
    assert summary["max_psi"] == pytest.approx(report["psi"].max())
    assert summary["drifted_share"] == pytest.approx(2 / 3)
    empty = drift_summary(drift_between(pl.DataFrame(), pl.DataFrame()))
    assert empty == {
        "columns_compared": 0,
        "columns_drifted": 0,
        "schema_changes": 0,
        "max_psi": 0.0,
        "drifted_share": 0.0,
    }


def test_bad_inputs_raise_actionable_errors() -> None:
    frame = pl.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(DriftInputError, match="psi threshold"):
        drift_between(frame, frame, thresholds=DriftThresholds(psi=0.0))
    with pytest.raises(DriftInputError, match="ks_pvalue"):
        drift_between(frame, frame, thresholds=DriftThresholds(ks_pvalue=1.5))
    with pytest.raises(DriftInputError, match="drift_between"):
        drift_summary(pl.DataFrame({"column": ["x"]}))


def test_tied_values_never_straddle_a_bin() -> None:
    """70% zeros: the lower deciles all equal 0, and every zero shares one bin on both days,
    so two days holding the same values in another order read exactly zero everywhere."""
    values = np.repeat([0.0, 1.0, 2.0, 5.0], [700, 150, 100, 50])
    shuffled = np.random.default_rng(5).permutation(values)
    row = _drift(values, shuffled)
    for statistic in ("psi", "jensenshannon", "ks_statistic", "wasserstein"):
        assert row[statistic] == pytest.approx(0.0, abs=1e-12), statistic
    fewer_zeros = shuffled.copy()
    fewer_zeros[np.flatnonzero(fewer_zeros == 0)[:100]] = 1.0  # 60% zeros, 25% ones today
    moved = _drift(values, fewer_zeros)
    # Bins by value here: (-inf, 0], (0, 1], (1, 2], (2, inf) hold the shares exactly.
    expected, actual = np.array([0.7, 0.15, 0.1, 0.05]), np.array([0.6, 0.25, 0.1, 0.05])
    assert moved["jensenshannon"] == pytest.approx(
        jensenshannon(actual, expected, base=2), abs=1e-12
    )
