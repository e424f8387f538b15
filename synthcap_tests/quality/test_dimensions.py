"""Tests for the quality report: every dimension on crafted frames with hand-computed answers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import polars as pl
import pytest

from synthcap_assets.quality.dimensions import QualityResult, assess_quality
from synthcap_assets.quality.rules import RuleError

DAY = dt.date(2024, 5, 10)
NAN = float("nan")
INF = float("inf")
REPORT_SCHEMA = {
    "column": pl.String,
    "dtype": pl.String,
    "completeness": pl.Float64,
    "uniqueness": pl.Float64,
    "validity": pl.Float64,
    "consistency": pl.Float64,
    "timeliness": pl.Float64,
    "accuracy": pl.Float64,
    "volume": pl.Float64,
    "score": pl.Float64,
}


def crafted() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [1, 2, 2, 4, 5],
            "price": [1.0, NAN, INF, 2.0, None],
            "name": ["a", "  ", "b\x01", "a", None],
            "qty": ["1", "2", "x", "4", "5"],
            "day": [
                dt.date(2024, 5, 10),
                dt.date(2024, 5, 11),
                dt.date(2024, 5, 12),
                dt.date(1899, 12, 31),
                dt.date(2024, 4, 20),
            ],
            "flag": [True, False, True, True, None],
            "_source": ["src"] * 5,
            "_date": [DAY] * 5,
        }
    )


CRAFTED_ARGS = {
    "partition_date": DAY,
    "declared_schema": {"id": "int", "qty": "int", "day": "date", "flag": "bool"},
    "rules": ["qty between 1 and 4", "price <= 1.5"],
    "time_column": "day",
    "max_age_days": 30,
    "key_columns": ["id"],
}
# Hand-computed expectations for crafted() with CRAFTED_ARGS (see comments per column).
EXPECTED = {
    # column: completeness, uniqueness, validity, consistency, timeliness
    "id": (1.0, 4 / 5, 1.0, None, None),
    "price": (3 / 5, 1.0, 2 / 3, 3 / 5, None),  # NaN + None missing; inf invalid
    "name": (3 / 5, 2 / 3, 2 / 3, None, None),  # blank + None missing; control char invalid
    "qty": (1.0, 1.0, 4 / 5, 4 / 5, None),  # 'x' is not an int; 5 breaks the rule
    "day": (1.0, 1.0, 3 / 5, None, 2 / 5),  # 05-12 and 1899 invalid; 05-10, 04-20 timely
    "flag": (4 / 5, 2 / 4, 1.0, None, None),
}
TABLE = {
    "completeness": (1 + 0.6 + 0.6 + 1 + 1 + 0.8) / 6,
    "uniqueness": 4 / 5,  # id 2 repeats
    "validity": (1 + 2 / 3 + 2 / 3 + 0.8 + 0.6 + 1) / 6,
    "consistency": 2 / 5,  # rows 0 and 1 pass both rules
    "timeliness": 2 / 5,
}


def row(result: QualityResult, column: str) -> dict:
    return result.report.filter(pl.col("column") == column).row(0, named=True)


def test_crafted_frame_every_dimension() -> None:
    result = assess_quality(crafted(), **CRAFTED_ARGS)
    assert result.report.schema == pl.Schema(REPORT_SCHEMA)
    assert result.report["column"].to_list() == [*EXPECTED, "*"]
    dims = ("completeness", "uniqueness", "validity", "consistency", "timeliness")
    for column, expected in EXPECTED.items():
        got = row(result, column)
        for dim, value in zip(dims, expected, strict=True):
            assert got[dim] == pytest.approx(value) if value is not None else got[dim] is None
        applicable = [
            v for d, v in zip(dims, expected, strict=True) if d != "uniqueness" and v is not None
        ]
        assert got["score"] == pytest.approx(100 * np.mean(applicable))
    table = row(result, "*")
    assert table["dtype"] == "table"
    for dim, value in TABLE.items():
        assert table[dim] == pytest.approx(value)
    assert result.score == pytest.approx(100 * np.mean(list(TABLE.values())))
    assert table["score"] == pytest.approx(result.score)
    assert row(result, "qty")["dtype"] == "String"


def test_crafted_rule_results_and_failures() -> None:
    result = assess_quality(crafted(), **CRAFTED_ARGS)
    assert result.rule_results.schema == pl.Schema(
        {"rule": pl.String, "passed": pl.Int64, "failed": pl.Int64, "example": pl.String}
    )
    assert result.rule_results.rows() == [
        ("qty between 1 and 4", 4, 1, "qty='5'"),
        ("price <= 1.5", 3, 2, "price=inf"),
    ]
    text = "\n".join(result.failures)
    for expected in (
        "column 'price': completeness 0.60",
        "column 'name': completeness 0.60",
        "column 'flag': completeness 0.80",
        "column 'price': 1 of 3 values invalid, e.g. inf",
        "column 'name': 1 of 3 values invalid, e.g. 'b\\x01'",
        "column 'qty': 1 of 5 values not a valid int, e.g. 'x'",
        "column 'day': 2 of 5 values not a valid date",
        "rule 'qty between 1 and 4' failed for 1 of 5 rows, e.g. qty='5'",
        "rule 'price <= 1.5' failed for 2 of 5 rows, e.g. price=inf",
        "time column 'day': 3 of 5 timestamps",
    ):
        assert expected in text
    assert not any("'id'" in f for f in result.failures)  # id is complete and valid


def test_weights_override_and_validation() -> None:
    weights = {"timeliness": 0.0, "consistency": 3.0}
    result = assess_quality(crafted(), **CRAFTED_ARGS, weights=weights)
    t = TABLE
    expected = (t["completeness"] + t["uniqueness"] + t["validity"] + 3 * t["consistency"]) / 6
    assert result.score == pytest.approx(100 * expected)
    with pytest.raises(ValueError, match="freshness, speed"):
        assess_quality(crafted(), partition_date=DAY, weights={"speed": 1, "freshness": 1})
    with pytest.raises(ValueError, match="'validity'"):
        assess_quality(crafted(), partition_date=DAY, weights={"validity": -1.0})


def test_table_uniqueness_uses_all_columns_without_keys() -> None:
    frame = pl.DataFrame({"a": [1, 1, 1, 2], "b": ["x", "x", "y", "y"]})
    assert row(assess_quality(frame, partition_date=DAY), "*")["uniqueness"] == 3 / 4
    by_key = assess_quality(frame, partition_date=DAY, key_columns=["a"])
    assert row(by_key, "*")["uniqueness"] == 2 / 4
    missing_key = assess_quality(frame, partition_date=DAY, key_columns=["zz"])
    assert row(missing_key, "*")["uniqueness"] is None
    assert any("key column 'zz'" in f for f in missing_key.failures)


@pytest.mark.parametrize(
    ("values", "declared", "validity"),
    [
        (["1", "2", "three", " 4 "], "int", 3 / 4),
        ([1, 2, 3, 4], "float", 1.0),
        ([1.0, 2.5, 3.0, 4.0], "int", 3 / 4),
        (["1.5", "2e3", "abc", "inf"], "float", 2 / 4),  # inf parses but is not finite
        (["2024-01-01", "2024/01/02", "2024-13-01", "2024-05-11"], "date", 2 / 4),
        (["yes", "no", "maybe", "TRUE"], "bool", 3 / 4),
        ([0, 1, 2, 1], "bool", 3 / 4),
        (
            ["2024-01-01T10:00:00", "2024-01-01 10:00", "nope", "2024-05-10T23:59:59Z"],
            "datetime",
            3 / 4,
        ),
        ([dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 6), None, None], "date", 1 / 2),
        ([dt.date(2024, 1, 1), dt.date(2024, 5, 20), None, None], "datetime", 1 / 2),
        ([True, False, True, True], "int", 0.0),
        ([1, 2, 3, 4], "str", 1.0),
    ],
)
def test_declared_schema_mismatch(values: list, declared: str, validity: float) -> None:
    result = assess_quality(
        pl.DataFrame({"v": values}), partition_date=DAY, declared_schema={"v": declared}
    )
    assert row(result, "v")["validity"] == pytest.approx(validity)
    assert (validity < 1) == any(f"not a valid {declared}" in f for f in result.failures)


def test_missing_declared_column_lowers_table_validity() -> None:
    frame = pl.DataFrame({"a": [1, 2, 3]})
    result = assess_quality(
        frame, partition_date=DAY, declared_schema={"a": "int", "gone": "float"}, rules=["gone > 0"]
    )
    assert row(result, "*")["validity"] == pytest.approx(0.5)
    assert result.report["column"].to_list() == ["a", "*"]
    assert any("'gone'" in f and "missing" in f for f in result.failures)
    # The rule on the missing column cannot be checked: reported, not scored.
    assert result.rule_results.rows() == [("gone > 0", 0, 0, None)]
    assert row(result, "*")["consistency"] is None
    with pytest.raises(ValueError, match="unknown type"):
        assess_quality(frame, partition_date=DAY, declared_schema={"a": "integer"})


def test_undeclared_value_checks() -> None:
    frame = pl.DataFrame(
        {
            "t": [dt.datetime(2024, 5, 11, 23), dt.datetime(2024, 5, 12), dt.datetime(1890, 1, 1)],
            "s": ["ok", "tab\tand\nnewline", "bell\x07"],
            "f": [1.0, -INF, 0.0],
        }
    )
    result = assess_quality(frame, partition_date=DAY)
    assert [row(result, c)["validity"] for c in "tsf"] == pytest.approx([1 / 3, 2 / 3, 2 / 3])


@pytest.mark.parametrize(
    ("max_age_days", "expected"),
    [(None, 4 / 5), (10, 2 / 5), (0, 1 / 5)],
)
def test_timeliness_with_max_age(max_age_days: int | None, expected: float) -> None:
    stamps = [
        dt.datetime(2024, 5, 10, 23, 59),  # the partition day itself
        dt.datetime(2024, 5, 11, 0, 1),  # after it
        dt.datetime(2024, 5, 1),  # 9 days old
        dt.datetime(2024, 4, 20),  # 20 days old
        dt.datetime(2023, 1, 1),
        None,
    ]
    frame = pl.DataFrame({"ts": stamps, "x": list(range(6))})
    result = assess_quality(frame, partition_date=DAY, time_column="ts", max_age_days=max_age_days)
    assert row(result, "ts")["timeliness"] == pytest.approx(expected)
    assert row(result, "*")["timeliness"] == pytest.approx(expected)
    assert row(result, "x")["timeliness"] is None


def test_timeliness_from_iso_strings_and_bad_columns() -> None:
    frame = pl.DataFrame({"d": ["2024-05-09", "2024-05-10T08:00:00", "2024-06-01", "junk"]})
    result = assess_quality(frame, partition_date=DAY, time_column="d", max_age_days=5)
    assert row(result, "d")["timeliness"] == pytest.approx(2 / 3)
    ints = assess_quality(pl.DataFrame({"d": [1, 2]}), partition_date=DAY, time_column="d")
    assert row(ints, "*")["timeliness"] is None
    assert any("not dates" in f for f in ints.failures)
    gone = assess_quality(frame, partition_date=DAY, time_column="nope")
    assert any("time column 'nope'" in f for f in gone.failures)
    untimed = assess_quality(frame, partition_date=DAY)
    assert untimed.report["timeliness"].null_count() == untimed.report.height


def test_empty_frame() -> None:
    frame = crafted().head(0)
    result = assess_quality(frame, **CRAFTED_ARGS)
    assert result.report["column"].to_list() == [*EXPECTED, "*"]
    assert result.report.schema == pl.Schema(REPORT_SCHEMA)
    dims = ["completeness", "uniqueness", "validity", "consistency", "timeliness"]
    assert result.report.select(pl.all_horizontal(pl.col(dims).is_null())).to_series().all()
    assert result.report["score"].to_list() == [0.0] * 7
    assert result.score == 0.0
    assert "no rows" in result.failures
    assert result.rule_results["passed"].to_list() == [0, 0]
    assert result.rule_results["failed"].to_list() == [0, 0]
    with pytest.raises(RuleError, match="unknown column 'nope'"):
        assess_quality(frame, partition_date=DAY, rules=["nope > 1"])


def test_all_null_single_row_and_constant_columns() -> None:
    frame = pl.DataFrame(
        {
            "nothing": pl.Series([None, None, None]),
            "nostr": pl.Series([None, None, None], dtype=pl.String),
            "const": [7, 7, 7],
        }
    )
    result = assess_quality(frame, partition_date=DAY, rules=["nothing > 1", "const == 7"])
    for column in ("nothing", "nostr"):
        got = row(result, column)
        assert got["completeness"] == 0.0
        assert got["uniqueness"] is None and got["validity"] is None
    assert row(result, "nothing")["consistency"] == 1.0  # null values pass rules
    assert row(result, "nostr")["score"] == 0.0
    assert row(result, "const")["uniqueness"] == pytest.approx(1 / 3)
    assert row(result, "const")["score"] == 100.0  # repeating a value is not a defect
    assert row(result, "*")["completeness"] == pytest.approx(1 / 3)
    single = assess_quality(frame.head(1), partition_date=DAY, rules=["const == 7"])
    assert row(single, "*")["uniqueness"] == 1.0
    assert row(single, "*")["consistency"] == 1.0
    assert row(single, "const")["score"] == 100.0


def test_unusable_rule_raises_rule_error() -> None:
    frame = pl.DataFrame({"s": ["a", "b"]})
    with pytest.raises(RuleError, match="rule 's > 5' cannot be checked"):
        assess_quality(frame, partition_date=DAY, rules=["s > 5"])
    with pytest.raises(RuleError, match="expected an operator"):
        assess_quality(frame, partition_date=DAY, rules=["s is_in 5"])


def test_rules_compare_declared_types() -> None:
    # Captured as text, declared int: the rule compares numbers, so "10" > "9".
    frame = pl.DataFrame({"a": ["10", "9", "n/a"], "b": [9, 9, 1]})
    result = assess_quality(
        frame, partition_date=DAY, declared_schema={"a": "int"}, rules=["a > b"]
    )
    assert result.rule_results.rows() == [("a > b", 2, 1, "a='9', b=9")]
    assert row(result, "a")["consistency"] == pytest.approx(2 / 3)
    assert row(result, "b")["consistency"] == pytest.approx(2 / 3)


def test_random_completeness_and_uniqueness_match_pandas() -> None:
    rng = np.random.default_rng(42)
    n = 2000
    ints = rng.integers(0, 300, n).astype(float)
    ints_missing = rng.random(n) < 0.15
    floats = np.round(rng.normal(size=n), 2)
    floats_nan = rng.random(n) < 0.1
    floats_none = rng.random(n) < 0.05
    words = rng.choice(["alpha", "beta", "gamma", "delta", "", "   "], n)
    words_none = rng.random(n) < 0.2
    frame = pl.DataFrame(
        {
            "i": pl.Series(
                [None if m else int(v) for v, m in zip(ints, ints_missing, strict=True)]
            ),
            "f": [
                None if m2 else (NAN if m1 else float(v))
                for v, m1, m2 in zip(floats, floats_nan, floats_none, strict=True)
            ],
            "w": [None if m else str(v) for v, m in zip(words, words_none, strict=True)],
        }
    )
    result = assess_quality(frame, partition_date=DAY, key_columns=["i", "w"])

    blank = np.char.strip(words.astype(str)) == ""
    missing = {"i": ints_missing, "f": floats_nan | floats_none, "w": words_none | blank}
    values = {"i": ints, "f": floats, "w": words}
    for column in ("i", "f", "w"):
        got = row(result, column)
        assert got["completeness"] == pytest.approx(1 - missing[column].mean())
        kept = pd.Series(values[column][~missing[column]])
        assert got["uniqueness"] == pytest.approx(kept.nunique() / kept.size)
    completeness = np.mean([1 - m.mean() for m in missing.values()])
    assert row(result, "*")["completeness"] == pytest.approx(completeness)
    # Table uniqueness judges raw rows on the keys: null and blank are values of their own here.
    keys = pd.DataFrame(
        {
            "i": np.where(ints_missing, np.nan, ints),
            "w": np.where(words_none, None, words.astype(object)),
        }
    )
    assert row(result, "*")["uniqueness"] == pytest.approx(1 - keys.duplicated().mean())
    assert 0 < keys.duplicated().mean() < 1


def test_meta_columns_are_ignored() -> None:
    frame = crafted().with_columns(_captured_at=pl.lit(None, dtype=pl.Datetime("us")))
    result = assess_quality(frame, partition_date=DAY)
    assert "_source" not in result.report["column"].to_list()
    assert "_captured_at" not in result.report["column"].to_list()
    no_data = assess_quality(frame.select("_source", "_date"), partition_date=DAY)
    assert no_data.report["column"].to_list() == ["*"]
    assert no_data.score == 0.0
    assert "no data columns" in no_data.failures
