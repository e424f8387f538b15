"""Tests for drift against a profile: KS against scipy, PSI against numpy or a hand sum."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps

from synthcap_assets.kernels.drift import DriftThresholds
from synthcap_assets.profile.drift import (
    DRIFT_SCHEMA,
    DriftInputError,
    drift_against_profile,
    drift_summary,
)
from synthcap_assets.profile.stats import QUANTILE_PROBS, ProfileError, profile_frame

N = 2000
PROBS = np.asarray(QUANTILE_PROBS)


def _normal(seed: int, loc: float = 0.0, scale: float = 1.0, n: int = N) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, scale, n)


def _drift(reference: np.ndarray, current: np.ndarray, **kwargs) -> dict:
    profile = profile_frame(pl.DataFrame({"x": reference}))
    report = drift_against_profile(pl.DataFrame({"x": current}), profile, **kwargs)
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
    # The reference is known only by 101 quantiles: agreement within the model's error.
    ks = sps.ks_2samp(reference, current)
    assert row["ks_statistic"] == pytest.approx(ks.statistic, abs=0.02)
    w1 = sps.wasserstein_distance(reference, current) / np.std(reference, ddof=1)
    assert row["wasserstein"] == pytest.approx(w1, abs=0.02)
    assert row["psi"] == pytest.approx(_numpy_psi(reference, current), abs=0.01, rel=0.1)


def test_thresholds_and_method_come_from_the_caller() -> None:
    reference, current = _normal(1), _normal(2, 0.1)  # Wasserstein/std about 0.066
    default = _drift(reference, current)
    strict = _drift(reference, current, thresholds=DriftThresholds(wasserstein=0.05))
    assert default["drifted"] is False and strict["drifted"] is True
    by_psi = _drift(reference, current, method="psi")
    assert by_psi["method"] == "psi" and by_psi["statistic"] == by_psi["psi"]


def test_categorical_psi_and_chi_square_by_hand() -> None:
    reference = pl.DataFrame({"count": ["a"] * 50 + ["b"] * 30 + ["c"] * 20})
    # Named "count" on purpose: it must not clash with value_counts' own column.
    profile = profile_frame(reference)
    current = pl.DataFrame(
        {"count": ["a"] * 25 + ["b"] * 25 + ["c"] * 25 + ["d"] * 25 + [None] * 7}
    )
    row = drift_against_profile(current, profile).row(0, named=True)
    eps = 1e-4  # "d" is new: it lands in "other", empty in the reference, clipped at eps
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
    assert row["drifted"] is True
    assert "'other'" in row["detail"] or "'d'" in row["detail"] or "'a'" in row["detail"]


def test_categorical_shift_below_psi_threshold_is_caught_by_chi_square() -> None:
    rng = np.random.default_rng(7)
    intents = ["a", "b", "c", "d", "e", "f", "g", "h"]
    before = rng.choice(intents, size=400, p=[0.1] + [0.9 / 7] * 7)
    after = rng.choice(intents, size=400, p=[0.2] + [0.8 / 7] * 7)
    profile = profile_frame(pl.DataFrame({"intent": before}))
    row = drift_against_profile(pl.DataFrame({"intent": after}), profile).row(0, named=True)
    counts_before = [int((before == v).sum()) for v in intents]
    counts_after = [int((after == v).sum()) for v in intents]
    independent = sps.chi2_contingency([counts_before, counts_after], correction=False)
    assert row["chi2_pvalue"] == pytest.approx(independent.pvalue, rel=1e-6)
    assert row["psi"] < 0.2 and row["chi2_pvalue"] < 0.01 and row["drifted"] is True
    same = rng.choice(intents, size=400, p=[0.1] + [0.9 / 7] * 7)
    stable = drift_against_profile(pl.DataFrame({"intent": same}), profile).row(0, named=True)
    assert stable["chi2_pvalue"] > 0.01 and stable["drifted"] is False


def test_categorical_missing_value_is_clipped_at_epsilon() -> None:
    profile = profile_frame(pl.DataFrame({"b": [True] * 60 + [False] * 40}))
    row = drift_against_profile(pl.DataFrame({"b": [True] * 10}), profile).row(0, named=True)
    eps = 1e-4
    expected = (1 - 0.6) * math.log(1 / 0.6) + (eps - 0.4) * math.log(eps / 0.4)
    assert row["psi"] == pytest.approx(expected, rel=1e-12)
    assert row["drifted"] is True


def test_schema_changes_are_reported_as_drift() -> None:
    profile = profile_frame(
        pl.DataFrame({"kept": _normal(1), "gone": _normal(2), "kind": ["a", "b"] * (N // 2)})
    )
    current = pl.DataFrame(
        {"kept": _normal(3), "kind": list(range(N)), "new": _normal(4), "_source": ["s"] * N}
    )
    report = drift_against_profile(current, profile)
    rows = {r["column"]: r for r in report.iter_rows(named=True)}
    assert set(rows) == {"kept", "gone", "kind", "new"}
    for column, word in [("gone", "removed"), ("new", "added"), ("kind", "type changed")]:
        assert rows[column]["kind"] == "schema" and rows[column]["drifted"] is True
        assert word in rows[column]["detail"]
        assert rows[column]["psi"] is None and rows[column]["ks_statistic"] is None
    assert (rows["gone"]["reference_rows"], rows["gone"]["current_rows"]) == (N, None)
    assert (rows["new"]["reference_rows"], rows["new"]["current_rows"]) == (None, N)
    assert rows["kept"]["kind"] == "numeric"


def test_integer_reference_compares_with_float_today_and_ignores_nan() -> None:
    rng = np.random.default_rng(12)
    profile = profile_frame(pl.DataFrame({"n": rng.integers(0, 100, N)}))
    today = rng.integers(0, 100, N).astype(np.float64)
    today[:100] = np.nan
    row = drift_against_profile(pl.DataFrame({"n": today}), profile).row(0, named=True)
    assert row["kind"] == "numeric" and row["current_rows"] == N - 100
    assert row["drifted"] is False


def test_columns_without_a_comparable_distribution_are_skipped() -> None:
    frame = pl.DataFrame(
        {
            "day": [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(30)],
            "id": [f"id-{i}" for i in range(30)],
            "note": [f"customer {i} asked about the refund" for i in range(30)],
            "blank": pl.Series([None] * 30, dtype=pl.Float64),
        }
    )
    assert drift_against_profile(frame, profile_frame(frame)).height == 0


def test_constant_columns() -> None:
    assert _drift(np.full(50, 3.0), np.full(20, 3.0))["psi"] == pytest.approx(0.0, abs=1e-12)
    same = _drift(np.full(50, 3.0), np.full(20, 3.0))
    assert same["ks_statistic"] == pytest.approx(0.0, abs=1e-12)
    assert (same["ks_pvalue"], same["drifted"]) == (1.0, False)
    moved = _drift(np.full(50, 3.0), np.full(20, 4.0))
    assert moved["ks_statistic"] == 1.0 and moved["drifted"] is True


def test_single_row_and_empty_current_frames() -> None:
    profile = profile_frame(pl.DataFrame({"x": _normal(1), "k": ["a", "b"] * (N // 2)}))
    single = drift_against_profile(pl.DataFrame({"x": [0.0], "k": ["a"]}), profile)
    assert single["current_rows"].to_list() == [1, 1]
    assert single["psi"].is_not_null().all()
    empty = drift_against_profile(pl.DataFrame({"x": [1.0], "k": ["a"]}).clear(), profile)
    assert empty["current_rows"].to_list() == [0, 0]
    assert empty["psi"].is_null().all() and not empty["drifted"].any()
    assert drift_against_profile(pl.DataFrame(), profile_frame(pl.DataFrame())).height == 0


def test_drift_summary_counts() -> None:
    profile = profile_frame(pl.DataFrame({"x": _normal(1), "y": _normal(2), "gone": _normal(3)}))
    current = pl.DataFrame({"x": _normal(4), "y": _normal(5, 1.0)})
    report = drift_against_profile(current, profile)
    summary = drift_summary(report)
    assert summary["columns_compared"] == 2
    assert summary["columns_drifted"] == 2  # y moved and gone was removed
    assert summary["schema_changes"] == 1
    assert summary["max_psi"] == pytest.approx(report["psi"].max())
    assert summary["drifted_share"] == pytest.approx(2 / 3)
    empty = drift_summary(drift_against_profile(pl.DataFrame(), profile_frame(pl.DataFrame())))
    assert empty == {
        "columns_compared": 0,
        "columns_drifted": 0,
        "schema_changes": 0,
        "max_psi": 0.0,
        "drifted_share": 0.0,
    }


def test_bad_inputs_raise_actionable_errors() -> None:
    frame = pl.DataFrame({"x": [1.0, 2.0]})
    profile = profile_frame(frame)
    with pytest.raises(DriftInputError, match="psi threshold"):
        drift_against_profile(frame, profile, thresholds=DriftThresholds(psi=0.0))
    with pytest.raises(DriftInputError, match="ks_pvalue"):
        drift_against_profile(frame, profile, thresholds=DriftThresholds(ks_pvalue=1.5))
    with pytest.raises(ProfileError, match="profile_frame"):
        drift_against_profile(frame, profile.drop("quantiles"))
    truncated = profile.with_columns(pl.col("quantiles").list.head(11))
    with pytest.raises(DriftInputError, match="quantiles"):
        drift_against_profile(frame, truncated)
    with pytest.raises(DriftInputError, match="drift_against_profile"):
        drift_summary(pl.DataFrame({"column": ["x"]}))
