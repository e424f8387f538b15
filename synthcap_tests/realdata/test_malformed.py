"""The malformed files of issue 11 items 1-3 through ``synthcap materialize``: each gives its
documented outcome (``malformed_sources.MALFORMED``) and nothing partial is left behind.

"Nothing lands" is read off every table a capture writes: the raw table, the contract, the
schema changes, the quarantine and the captured-file records hold no row of the failed
(source, date), and no report was made for it.
"""

from __future__ import annotations

import datetime as dt
import json

import polars as pl

from synthcap_tests.capture import malformed
from synthcap_tests.realdata.conftest import RealLake
from synthcap_tests.realdata.malformed_sources import DAY2
from synthcap_tests.realdata.tables import START

BOOKKEEPING = (
    "state/contracts",
    "state/captured_files",
    "reports/schema_changes",
    "reports/quarantine",
)
REPORTS = ("reports/quality_report", "reports/profile", "reports/readiness_score")


def data_rows(lake: RealLake, source: str, day: dt.date) -> pl.DataFrame:
    raw = lake.raw(source)
    if raw.is_empty():
        return raw
    return raw.filter(pl.col("_date") == day)


def failure_text(lake: RealLake, source: str, day: dt.date) -> str:
    """The CLI's failure message for (source, day), whitespace normalized."""
    text = " ".join(lake.output.split())
    marker = f"failed: {source} {day.isoformat()}:"
    assert marker in text, f"no failure reported for {source} {day}"
    return text.split(marker, 1)[1].split(" failed: ", 1)[0]


def rows_of(lake: RealLake, path: str, source: str, day: dt.date) -> pl.DataFrame:
    df = lake.table(path)
    if df.is_empty() or "source" not in df.columns:
        return pl.DataFrame()
    df = df.filter(pl.col("source") == source)
    for column in ("date", "_date", "partition_date"):
        if column in df.columns:
            return df.filter(pl.col(column) == day)
    return df


def assert_nothing_landed(lake: RealLake, source: str, day: dt.date) -> None:
    assert data_rows(lake, source, day).is_empty(), (source, day)
    for path in BOOKKEEPING + REPORTS:
        left = rows_of(lake, path, source, day)
        assert left.is_empty(), (source, day, path, left.to_dicts())


def test_latin1_under_utf8_fails_with_line_and_offset(realdata_lake: RealLake) -> None:
    message = failure_text(realdata_lake, "latin1_default", START)
    assert "SourceEncodingError" in message, message
    assert "line 2" in message and f"byte offset {malformed.LATIN1_FIRST_BAD_OFFSET}" in message
    assert "encoding" in message, message  # a suggestion of the likely encoding
    assert_nothing_landed(realdata_lake, "latin1_default", START)
    assert data_rows(realdata_lake, "latin1_default", START).is_empty()


def test_latin1_declared_lands_intact(realdata_lake: RealLake) -> None:
    rows = data_rows(realdata_lake, "latin1_declared", START)
    assert rows["name"].to_list() == malformed.LATIN1_NAMES


def test_bom_semicolon_decimal_comma_lands_as_four_columns(realdata_lake: RealLake) -> None:
    rows = data_rows(realdata_lake, "semicolon_sniffed", START)
    data = [c for c in rows.columns if not c.startswith("_")]
    assert data == ["id", "name", "amount", "city"], rows.columns
    assert rows["amount"].to_list() == malformed.SEMICOLON_AMOUNTS


def test_declared_comma_delimiter_names_the_real_one(realdata_lake: RealLake) -> None:
    message = failure_text(realdata_lake, "semicolon_declared_comma", START)
    assert "';'" in message, message
    assert_nothing_landed(realdata_lake, "semicolon_declared_comma", START)


def test_retyped_column_fails_naming_column_row_value(realdata_lake: RealLake) -> None:
    first = data_rows(realdata_lake, "retyped", START)
    assert first["id"].to_list() == [1, 2, 3]
    message = failure_text(realdata_lake, "retyped", DAY2)
    assert "amount" in message and malformed.RETYPED_BAD_VALUE in message, message
    assert f"row {malformed.RETYPED_BAD_ROW}" in message, message
    assert_nothing_landed(realdata_lake, "retyped", DAY2)
    # The contract still says what day 1 landed: one version, amount numeric.
    contracts = realdata_lake.table("state/contracts").filter(pl.col("source") == "retyped")
    assert contracts["date"].to_list() == [START], contracts.to_dicts()
    (contract,) = contracts["contract"].to_list()
    assert json.loads(contract)["columns"]["amount"] in ("float", "int"), contract


def test_ragged_rows_are_quarantined_and_the_rest_lands(realdata_lake: RealLake) -> None:
    rows = data_rows(realdata_lake, "ragged", START)
    assert sorted(rows["id"].to_list()) == malformed.RAGGED_GOOD_IDS
    quarantine = rows_of(realdata_lake, "reports/quarantine", "ragged", START)
    reasons = " | ".join(quarantine["reason"].to_list()) if not quarantine.is_empty() else ""
    assert quarantine.height == len(malformed.RAGGED_BAD_LINES), reasons
    for line in malformed.RAGGED_BAD_LINES:
        assert f"line {line}:" in reasons and "header has 3" in reasons, reasons


def test_missing_day_file_fails_and_leaves_nothing(realdata_lake: RealLake) -> None:
    """The one-day malformed sources have no file on day 2: that capture fails, cleanly."""
    for source in ("ragged", "latin1_declared"):
        assert failure_text(realdata_lake, source, DAY2)
        assert_nothing_landed(realdata_lake, source, DAY2)
