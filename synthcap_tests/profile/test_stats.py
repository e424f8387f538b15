"""Tests for the column profile: every statistic against numpy float64 or a hand count."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter

import numpy as np
import polars as pl
import pytest

from synthcap_assets.profile.stats import (
    PROFILE_SCHEMA,
    QUANTILE_PROBS,
    ProfileError,
    check_profile,
    infer_semantic_type,
    profile_frame,
    profile_summary,
)

N = 1500


def _with_gaps(values: np.ndarray, rng: np.random.Generator) -> list[float | None]:
    """``values`` as a list with ~10% None and ~3% NaN, both of which must count as nulls."""
    out: list[float | None] = values.tolist()
    for i in rng.choice(values.size, size=values.size // 10, replace=False):
        out[i] = None
    for i in rng.choice(values.size, size=values.size // 30, replace=False):
        out[i] = float("nan")
    return out


def _row(profile: pl.DataFrame, column: str) -> dict:
    return profile.filter(pl.col("column") == column).row(0, named=True)


def _top(values: list, k: int = 10) -> tuple[list, list[int]]:
    ranked = sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return [v for v, _ in ranked], [c for _, c in ranked]


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: rng.normal(3.0, 2.0, N),
        lambda rng: rng.standard_t(2, N) * 50.0,
        lambda rng: 1e12 + rng.normal(0.0, 1.0, N),
    ],
    ids=["normal", "student_t_df2", "offset_1e12"],
)
def test_float_column_matches_numpy(make) -> None:
    rng = np.random.default_rng(7)
    raw = _with_gaps(make(rng), rng)
    expected = np.array([v for v in raw if v is not None and not math.isnan(v)], np.float64)
    row = _row(profile_frame(pl.DataFrame({"x": raw})), "x")

    assert row["dtype"] == "Float64" and row["semantic_type"] == "numeric"
    assert row["count"] == expected.size
    assert row["nulls"] == N - expected.size
    assert row["distinct"] == np.unique(expected).size
    assert row["mean"] == pytest.approx(np.mean(expected), rel=1e-13)
    # Shifted one-pass moments at a 1e12 offset agree to ~5e-9.
    assert row["std"] == pytest.approx(np.std(expected, ddof=1), rel=1e-8)
    assert (row["min"], row["max"]) == (expected.min(), expected.max())
    np.testing.assert_allclose(row["quantiles"], np.quantile(expected, QUANTILE_PROBS), rtol=1e-13)
    counts, edges = np.histogram(expected, bins=20)
    assert row["hist_counts"] == counts.tolist()
    assert sum(row["hist_counts"]) == row["count"]
    np.testing.assert_allclose(row["hist_edges"], edges, rtol=1e-12)
    # At 1e12 the float spacing (1.2e-4) makes some draws coincide, so counts are not all 1.
    top, counts = _top(expected.tolist())
    assert [float(v) for v in row["top_values"]] == top
    assert row["top_counts"] == counts


def test_integer_column_matches_numpy_and_counter() -> None:
    rng = np.random.default_rng(11)
    raw = rng.integers(-40, 60, N).tolist()
    for i in rng.choice(N, size=200, replace=False):
        raw[i] = None
    values = [v for v in raw if v is not None]
    expected = np.array(values, np.float64)
    row = _row(profile_frame(pl.DataFrame({"n": raw}), bins=7, top_k=5), "n")

    assert row["semantic_type"] == "numeric"  # 100 distinct integers are a quantity
    assert (row["count"], row["nulls"], row["distinct"]) == (len(values), 200, len(set(values)))
    assert row["mean"] == pytest.approx(expected.mean(), rel=1e-13)
    assert row["std"] == pytest.approx(expected.std(ddof=1), rel=1e-12)
    np.testing.assert_allclose(row["quantiles"], np.quantile(expected, QUANTILE_PROBS), rtol=1e-13)
    assert row["hist_counts"] == np.histogram(expected, bins=7)[0].tolist()
    top, counts = _top(values, 5)
    assert row["top_values"] == [str(v) for v in top]
    assert row["top_counts"] == counts


def test_dates_and_datetimes_are_days_since_epoch() -> None:
    rng = np.random.default_rng(3)
    days = rng.integers(15_000, 20_000, 300)
    micros = rng.integers(0, 2_000_000_000_000_000, 300)
    frame = pl.DataFrame(
        {
            "d": pl.Series(days.astype("datetime64[D]")),
            "ts": pl.Series(micros.astype("datetime64[us]")),
        }
    )
    profile = profile_frame(frame)
    for column, expected in [("d", days.astype(np.float64)), ("ts", micros / 86_400_000_000)]:
        row = _row(profile, column)
        assert row["semantic_type"] == "datetime"
        assert row["mean"] == pytest.approx(expected.mean(), rel=1e-12)
        assert row["std"] == pytest.approx(expected.std(ddof=1), rel=1e-9)
        assert (row["min"], row["max"]) == pytest.approx((expected.min(), expected.max()))
        np.testing.assert_allclose(row["quantiles"], np.quantile(expected, QUANTILE_PROBS))
        assert row["hist_counts"] == np.histogram(expected, bins=20)[0].tolist()
    top, _ = _top(days.astype("datetime64[D]").astype(str).tolist())
    assert _row(profile, "d")["top_values"] == top


def test_booleans_get_moments_and_top_values_but_no_quantiles() -> None:
    raw = [True, False, True, None, True, False, True]
    row = _row(profile_frame(pl.DataFrame({"b": raw})), "b")
    ones = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0])
    assert row["semantic_type"] == "boolean"
    assert (row["count"], row["nulls"], row["distinct"]) == (6, 1, 2)
    assert row["mean"] == pytest.approx(4 / 6)
    assert row["std"] == pytest.approx(ones.std(ddof=1))
    assert (row["min"], row["max"]) == (0.0, 1.0)
    assert row["quantiles"] is None and row["hist_edges"] is None and row["hist_counts"] is None
    assert (row["top_values"], row["top_counts"]) == (["true", "false"], [4, 2])


def test_strings_break_count_ties_by_value_and_respect_top_k() -> None:
    frame = pl.DataFrame({"s": ["b", "a", "b", "a", "c", None, "d"]})
    row = _row(profile_frame(frame, top_k=3), "s")
    assert (row["count"], row["nulls"], row["distinct"]) == (6, 1, 4)
    assert (row["top_values"], row["top_counts"]) == (["a", "b", "c"], [2, 2, 1])
    for stat in ("mean", "std", "min", "max", "quantiles", "hist_edges", "hist_counts"):
        assert row[stat] is None


def test_constant_and_single_row_columns() -> None:
    frame = pl.DataFrame({"c": [2.5] * 40, "i": [7] * 40})
    row = _row(profile_frame(frame), "c")
    assert (row["mean"], row["std"], row["min"], row["max"]) == (2.5, 0.0, 2.5, 2.5)
    assert row["quantiles"] == [2.5] * 101
    assert (row["hist_edges"], row["hist_counts"]) == ([2.5, 2.5], [40])
    assert _row(profile_frame(frame), "i")["semantic_type"] == "categorical"

    single = _row(profile_frame(pl.DataFrame({"x": [-3.0]})), "x")
    assert (single["count"], single["mean"], single["std"]) == (1, -3.0, None)
    assert (single["hist_edges"], single["hist_counts"]) == ([-3.0, -3.0], [1])
    assert single["quantiles"] == [-3.0] * 101


def test_all_null_columns_and_non_finite_floats() -> None:
    frame = pl.DataFrame(
        {
            "none": pl.Series([None, None, None], dtype=pl.Float64),
            "null_type": [None, None, None],
            "nan": [float("nan"), float("inf"), None],
        }
    )
    for row in profile_frame(frame).iter_rows(named=True):
        assert (row["count"], row["nulls"], row["distinct"]) == (0, 3, 0), row["column"]
        assert row["semantic_type"] == "empty"
        assert row["mean"] is None and row["quantiles"] is None and row["hist_counts"] is None
        assert (row["top_values"], row["top_counts"]) == ([], [])


def test_empty_frames_keep_the_schema() -> None:
    no_columns = profile_frame(pl.DataFrame())
    assert no_columns.height == 0 and no_columns.schema == PROFILE_SCHEMA
    no_rows = profile_frame(pl.DataFrame({"a": [1.0], "b": ["x"]}).clear())
    assert no_rows.schema == PROFILE_SCHEMA
    assert no_rows["column"].to_list() == ["a", "b"]
    assert no_rows["count"].to_list() == [0, 0] and no_rows["mean"].to_list() == [None, None]


def test_schema_is_exact_and_meta_columns_are_ignored() -> None:
    frame = pl.DataFrame(
        {
            "_source": ["s"] * 3,
            "_date": [dt.date(2024, 1, 1)] * 3,
            "_captured_at": [dt.datetime(2024, 1, 1)] * 3,
            "v": [1.0, 2.0, 4.0],
        }
    )
    profile = profile_frame(frame)
    assert profile.schema == PROFILE_SCHEMA
    assert profile["column"].to_list() == ["v"]


def test_histogram_of_a_nearly_constant_huge_column_still_counts_everything() -> None:
    # The values sit a few float spacings (1.2e-4) apart at 1e12, so many edges coincide.
    values = 1e12 + np.random.default_rng(5).normal(0.0, 3e-4, 500)
    assert 3 < np.unique(values).size < 50
    row = _row(profile_frame(pl.DataFrame({"x": values}), bins=50), "x")
    assert sum(row["hist_counts"]) == 500
    assert np.all(np.diff(row["hist_edges"]) >= 0)
    # np.histogram refuses these bins; count by the definition: last edge <= x, last bin closed.
    edges = row["hist_edges"]
    assert edges == np.linspace(values.min(), values.max(), 51).tolist()
    expected = [0] * 50
    for x in values.tolist():
        expected[min(max(i for i, e in enumerate(edges) if e <= x), 49)] += 1
    assert row["hist_counts"] == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (pl.Series([0.5, 1.5, 0.5]), "numeric"),
        (pl.Series(list(range(21))), "numeric"),
        (pl.Series([i % 20 for i in range(100)]), "categorical"),
        (pl.Series([True, None, False]), "boolean"),
        (pl.Series([dt.date(2024, 1, d) for d in range(1, 4)]), "datetime"),
        (pl.Series([dt.datetime(2024, 1, 1, h) for h in range(3)]), "datetime"),
        (pl.Series([f"cust-{i:05d}" for i in range(25)]), "identifier"),
        (pl.Series([f"cust-{i:05d}" for i in range(19)]), "categorical"),
        (pl.Series([f"{'x' * 45}{i}" for i in range(25)]), "categorical"),
        (pl.Series([f"the parcel {i} arrived late again" for i in range(5)]), "text"),
        (pl.Series(["red", "green", "red", None]), "categorical"),
        (pl.Series(["red", "green"], dtype=pl.Categorical), "categorical"),
        (pl.Series([None, None], dtype=pl.Int64), "empty"),
        (pl.Series([float("nan")]), "empty"),
        (pl.Series([], dtype=pl.String), "empty"),
    ],
)
def test_infer_semantic_type(values: pl.Series, expected: str) -> None:
    assert infer_semantic_type(values) == expected


def test_profile_summary_by_hand() -> None:
    frame = pl.DataFrame(
        {
            "x": [1.0, 2.0, None, 4.0],
            "k": ["a", "a", "a", "a"],
            "e": pl.Series([None] * 4, dtype=pl.Int64),
            "b": [True, False, True, None],
        }
    )
    summary = profile_summary(profile_frame(frame))
    assert summary["columns"] == 4 and summary["rows"] == 4
    assert summary["total_nulls"] == 1 + 0 + 4 + 1
    assert summary["mean_null_share"] == pytest.approx((0.25 + 0 + 1 + 0.25) / 4)
    assert summary["max_null_share"] == 1.0
    assert summary["constant_columns"] == 1
    assert summary["numeric_columns"] == 1 and summary["categorical_columns"] == 1
    assert summary["empty_columns"] == 1 and summary["boolean_columns"] == 1
    empty = profile_summary(profile_frame(pl.DataFrame()))
    assert (empty["columns"], empty["rows"], empty["mean_null_share"]) == (0, 0, 0.0)


def test_bad_parameters_and_frames_raise_actionable_errors() -> None:
    with pytest.raises(ProfileError, match="bins"):
        profile_frame(pl.DataFrame({"a": [1]}), bins=0)
    with pytest.raises(ProfileError, match="top_k"):
        profile_frame(pl.DataFrame({"a": [1]}), top_k=-1)
    with pytest.raises(ProfileError, match="quantiles"):
        check_profile(pl.DataFrame({"column": ["a"], "count": [1]}))
