"""Conforming captured rows to the declared schema, and the capture metadata columns."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from synthcap_assets.capture.conform import SchemaConformError, add_capture_columns, conform

WHERE = "source 's', partition 2026-11-16"


def test_declared_types_are_applied_and_extra_columns_kept() -> None:
    df = pl.DataFrame(
        {
            "n": ["1", "2", None],
            "x": [1, 2, 3],
            "d": ["2026-01-01", "2026-01-02", None],
            "b": ["yes", "no", "true"],
            "extra": ["a", "b", "c"],
        }
    )
    out = conform(df, {"n": "int", "x": "float", "d": "date", "b": "bool"}, WHERE)
    assert out.schema == pl.Schema(
        {"n": pl.Int64, "x": pl.Float64, "d": pl.Date, "b": pl.Boolean, "extra": pl.Utf8}
    )
    assert out["n"].to_list() == [1, 2, None]
    assert out["d"].to_list() == [dt.date(2026, 1, 1), dt.date(2026, 1, 2), None]
    assert out["b"].to_list() == [True, False, True]


@pytest.mark.parametrize(
    ("values", "declared", "row", "shown"),
    [
        (["1", "x2", "3"], "int", 2, "'x2'"),
        ([1.0, 2.5, None], "int", 2, "2.5"),
        (["2026-01-01", "2026-13-01"], "date", 2, "'2026-13-01'"),
        (["true", "maybe"], "bool", 2, "'maybe'"),
    ],
)
def test_a_value_of_the_wrong_type_names_column_row_and_value(
    values: list, declared: str, row: int, shown: str
) -> None:
    with pytest.raises(SchemaConformError) as error:
        conform(pl.DataFrame({"c": values}), {"c": declared}, WHERE)
    message = str(error.value)
    assert WHERE in message and "'c'" in message and f"row {row}: {shown}" in message


def test_missing_declared_column_is_schema_drift() -> None:
    with pytest.raises(SchemaConformError, match=r"schema drift.*\['close'\]"):
        conform(pl.DataFrame({"open": [1.0]}), {"open": "float", "close": "float"}, WHERE)


def test_reserved_metadata_columns_are_refused() -> None:
    with pytest.raises(SchemaConformError, match="reserved"):
        conform(pl.DataFrame({"_date": [1]}), None, WHERE)


def test_capture_columns_are_added() -> None:
    at = dt.datetime(2026, 11, 17, 6, 0, tzinfo=dt.UTC)
    out = add_capture_columns(pl.DataFrame({"a": [1, 2]}), "s", dt.date(2026, 11, 16), at)
    assert out["_source"].to_list() == ["s", "s"]
    assert out["_date"].to_list() == [dt.date(2026, 11, 16)] * 2
    assert out["_captured_at"].to_list() == [at, at]
