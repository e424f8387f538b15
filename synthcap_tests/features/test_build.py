"""Tests for feature construction, checked against numpy/pandas and hand-computed values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from synthcap_assets.features.build import build_features, feature_lineage
from synthcap_assets.features.generic import slug

SERIES_SUFFIXES = ("ret", "lag1", "lag2", "roll_mean5", "roll_std5")


def _assert_close(actual: pl.Series, expected: np.ndarray | pd.Series) -> None:
    """Equal as float64, with null on our side standing for NaN on the reference side."""
    got = actual.cast(pl.Float64).fill_null(np.nan).to_numpy()
    np.testing.assert_allclose(got, np.asarray(expected, dtype=np.float64), rtol=1e-9, atol=1e-12)


@pytest.fixture(scope="module")
def panel() -> pl.DataFrame:
    """Three entities, 40 days each, rows shuffled, with nulls and a zero to divide by."""
    rng = np.random.default_rng(42)
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(40)]
    rows = []
    for entity in ("AAA", "BBB", "CCC"):
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, len(days))))
        for i, day in enumerate(days):
            rows.append(
                {
                    "ticker": entity,
                    "day": day,
                    "close": float(close[i]),
                    "high": float(close[i] * (1 + rng.uniform(0, 0.03))),
                    "low": float(close[i] * (1 - rng.uniform(0, 0.03))),
                    "volume": int(rng.integers(1_000, 50_000)),
                    "signal": float(rng.normal()),
                }
            )
    df = pl.DataFrame(rows).sample(fraction=1.0, shuffle=True, seed=3)
    signal = df["signal"].to_list()
    for i in (5, 17, 18, 60):
        signal[i] = None
    signal[30] = 0.0
    return df.with_columns(
        pl.Series("signal", signal),
        pl.lit("s").alias("_source"),
        pl.Series("email", [f"user{i}@example.com" for i in range(df.height)]),
    )


def _pandas_sorted(panel: pl.DataFrame) -> pd.DataFrame:
    return panel.to_pandas().sort_values(["ticker", "day"], kind="stable").reset_index(drop=True)


def test_unknown_domain_and_bad_arguments() -> None:
    df = pl.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(ValueError, match="unknown domain"):
        build_features(df, domain="images")
    with pytest.raises(ValueError, match="entity_column 'who'"):
        build_features(df, domain="timeseries", entity_column="who")
    with pytest.raises(ValueError, match="needs a text_column"):
        build_features(df, domain="text")
    with pytest.raises(ValueError, match="max_categories"):
        build_features(df, domain="tabular", max_categories=0)
    with pytest.raises(ValueError, match="time_column '_date'"):
        build_features(df, domain="timeseries", time_column="_date")


def test_zscores_against_numpy() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(5, 3, 300)
    x[[4, 99]] = np.nan
    ints = rng.integers(-50, 50, 300)
    df = pl.DataFrame({"x": x, "n": ints}, nan_to_null=True).with_columns(
        pl.lit(7.5).alias("const"), pl.lit(None, dtype=pl.Float64).alias("void")
    )
    out = build_features(df, domain="tabular")
    _assert_close(out["x__z"], (x - np.nanmean(x)) / np.nanstd(x))
    _assert_close(out["n__z"], (ints - ints.mean()) / ints.std())
    assert out["const__z"].to_list() == [0.0] * 300
    assert out["void__z"].null_count() == 300
    assert out["x__z"].null_count() == 2


def test_one_hot_and_high_cardinality() -> None:
    df = pl.DataFrame(
        {
            "color": ["Red", "blue", None, "Red", "Light Blue"],
            "flag": [True, False, True, None, True],
            "id_text": [f"id-{i}" for i in range(5)],
            "clash": ["a b", "a-b", "a b", "x", "x"],
        }
    )
    out = build_features(df, domain="tabular", max_categories=3)
    assert out["color__is_red"].to_list() == [1, 0, 0, 1, 0]
    assert out["color__is_blue"].to_list() == [0, 1, 0, 0, 0]
    assert out["color__is_light_blue"].to_list() == [0, 0, 0, 0, 1]
    assert out["color__is_red"].dtype == pl.Int8
    assert out["flag__is_true"].to_list() == [1, 0, 1, 0, 1]
    assert out["flag__is_false"].to_list() == [0, 1, 0, 0, 0]
    assert not any(c.startswith("id_text") for c in out.columns)  # 5 values > 3
    # "a b" and "a-b" slug to the same name: the second gets a suffix, nothing is lost.
    assert out["clash__is_a_b"].to_list() == [1, 0, 1, 0, 0]
    assert out["clash__is_a_b_2"].to_list() == [0, 1, 0, 0, 0]
    assert slug("  New York! ") == "new_york" and slug("***") == "empty"


def test_calendar_parts_against_pandas() -> None:
    rng = np.random.default_rng(5)
    stamps = pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 2000, 50), unit="D")
    df = pl.DataFrame({"when": list(stamps.to_pydatetime()), "d": [t.date() for t in stamps]})
    out = build_features(df, domain="tabular")
    for column in ("when", "d"):
        assert out[f"{column}__year"].to_list() == list(stamps.year)
        assert out[f"{column}__month"].to_list() == list(stamps.month)
        assert out[f"{column}__dayofweek"].to_list() == list(stamps.dayofweek)


def test_series_features_against_pandas(panel: pl.DataFrame) -> None:
    out = build_features(
        panel, domain="timeseries", time_column="day", entity_column="ticker", exclude=["email"]
    )
    ref = _pandas_sorted(panel)
    assert out["ticker"].to_list() == ref["ticker"].tolist()
    assert out["day"].to_list() == [t.date() for t in ref["day"]]
    group = ref.groupby("ticker", sort=False)
    for column in ("close", "volume", "signal"):
        value = ref[column].astype(float)
        previous = group[column].shift(1).astype(float)
        _assert_close(out[f"{column}__ret"], np.where(previous != 0, value / previous - 1, np.nan))
        _assert_close(out[f"{column}__lag1"], previous)
        _assert_close(out[f"{column}__lag2"], group[column].shift(2))
        rolling = value.groupby(ref["ticker"]).rolling(5, min_periods=2)
        _assert_close(
            out[f"{column}__roll_mean5"],
            rolling.mean().reset_index(level=0, drop=True).sort_index(),
        )
        _assert_close(
            out[f"{column}__roll_std5"], rolling.std().reset_index(level=0, drop=True).sort_index()
        )
    # The zero in `signal` makes the next return undefined rather than infinite.
    assert out["signal__ret"].is_finite().fill_null(True).all()


def test_financial_indicators_against_pandas(panel: pl.DataFrame) -> None:
    out = build_features(
        panel, domain="financial", time_column="day", entity_column="ticker", exclude=["email"]
    )
    ref = _pandas_sorted(panel)
    group = ref.groupby("ticker", sort=False)
    log_return = np.log(ref["close"] / group["close"].shift(1))
    _assert_close(out["log_return"], log_return)
    _assert_close(out["range_pct"], (ref["high"] - ref["low"]) / ref["close"])
    volatility = log_return.groupby(ref["ticker"]).rolling(5, min_periods=2).std()
    _assert_close(out["volatility5"], volatility.reset_index(level=0, drop=True).sort_index())
    volume = ref["volume"].astype(float)
    by = volume.groupby(ref["ticker"])
    _assert_close(out["volume__z"], (volume - by.transform("mean")) / by.transform("std", ddof=0))
    assert out.columns.count("volume__z") == 1


def test_pii_and_meta_never_in_output(panel: pl.DataFrame) -> None:
    pii = panel.with_columns(
        pl.Series("ssn_num", np.arange(panel.height, dtype=np.int64) * 7),
        pl.lit("F").alias("gender_hidden"),
        pl.lit(dt.date(1990, 1, 1)).alias("dob"),
    )
    banned = ["email", "ssn_num", "gender_hidden", "dob"]
    for domain in ("tabular", "timeseries", "financial"):
        out = build_features(
            pii, domain=domain, exclude=banned, time_column="day", entity_column="ticker"
        )
        lineage = feature_lineage(pii.columns, out)
        sources = {s for parents in lineage.values() for s in parents}
        assert not sources & {*banned, "_source"}, domain
        assert not any(c.startswith(tuple(banned)) or c.startswith("_") for c in out.columns)
        assert out.height == pii.height


def test_excluded_entity_still_groups_but_is_not_output() -> None:
    df = pl.DataFrame(
        {"person": ["p", "q", "p", "q"], "t": [1, 1, 2, 2], "x": [1.0, 10.0, 2.0, 20.0]}
    )
    out = build_features(
        df, domain="timeseries", entity_column="person", time_column="t", exclude=["person"]
    )
    assert "person" not in out.columns and "t" in out.columns
    assert out["x__lag1"].to_list() == [None, 1.0, None, 10.0]
    assert out["x__ret"].to_list() == [None, 1.0, None, 1.0]


def test_text_features_by_hand() -> None:
    df = pl.DataFrame(
        {
            "body": ["Is it 42?", "  two   words ", "", None, "no digits here"],
            "stars": [5, 4, 3, 2, 1],
        }
    )
    out = build_features(df, domain="text", text_column="body")
    assert "body" not in out.columns
    assert out["body__chars"].to_list() == [9, 14, 0, None, 14]
    assert out["body__words"].to_list() == [3, 2, 0, None, 3]
    assert out["body__has_question"].to_list() == [1, 0, 0, None, 0]
    assert out["body__digits"].to_list() == [2, 0, 0, None, 0]
    assert not any(c.startswith("body__is_") for c in out.columns)  # the text is not one-hot
    excluded = build_features(df, domain="text", text_column="body", exclude=["body"])
    assert not any(c.startswith("body") for c in excluded.columns)


def test_lineage() -> None:
    df = pl.DataFrame(
        {
            "sym": ["a", "a", "a"],
            "Close": [1.0, 2.0, 3.0],
            "High": [2.0, 3.0, 4.0],
            "Low": [0.5, 1.0, 2.0],
            "close_adj": [1.0, 1.0, 1.0],
        }
    )
    out = build_features(df, domain="financial", entity_column="sym")
    lineage = feature_lineage(df.columns, out)
    assert set(lineage) == set(out.columns)
    assert lineage["sym"] == ["sym"]
    assert lineage["range_pct"] == ["High", "Low", "Close"]
    assert lineage["log_return"] == ["Close"] and lineage["volatility5"] == ["Close"]
    assert lineage["close_adj__lag1"] == ["close_adj"]  # longest matching input, not "Close"
    with pytest.raises(ValueError, match="derives from none"):
        feature_lineage(["other"], out)


def test_edge_frames() -> None:
    schema = {
        "s": pl.String,
        "i": pl.Int64,
        "f": pl.Float64,
        "b": pl.Boolean,
        "d": pl.Date,
        "ts": pl.Datetime("us"),
    }
    empty = pl.DataFrame(schema=schema)
    for domain in ("tabular", "timeseries"):
        out = build_features(empty, domain=domain, time_column="ts", entity_column="s")
        assert out.height == 0 and "i__z" in out.columns
    single = pl.DataFrame(
        {"s": ["x"], "i": [3], "f": [None], "b": [True], "d": [dt.date(2024, 2, 29)]},
        schema_overrides={"f": pl.Float64},
    )
    out = build_features(single, domain="timeseries", time_column="d", entity_column="s")
    assert out["i__z"].to_list() == [0.0] and out["f__z"].to_list() == [None]
    assert out["i__lag1"].to_list() == [None] and out["i__roll_std5"].to_list() == [None]
    assert out["d__dayofweek"].to_list() == [3]  # 2024-02-29 was a Thursday
    nothing = build_features(pl.DataFrame({"_source": ["a", "b"]}), domain="tabular")
    assert nothing.shape == (2, 0)
