"""Accuracy, volume and weighted scores on crafted frames with known answers."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from synthcap_assets.quality.accuracy import accuracy, expected_rows_from_history, volume
from synthcap_assets.quality.dimensions import Reference, assess_quality

DAY = dt.date(2026, 11, 16)


def test_accuracy_against_a_reference() -> None:
    data = pl.DataFrame(
        {"id": [1, 2, 3, 4], "price": [10.0, 20.0, 30.0, None], "city": ["a", "b", "c", "d"]}
    )
    ref = pl.DataFrame(
        {"id": ["1", "2", "3", "9"], "price": [10.0, 21.0, 30.0 + 1e-12, 5.0], "city": ["a"] * 4}
    )
    found = accuracy(data, ref, ["id"])
    assert found.columns == {"price": pytest.approx(2 / 3), "city": pytest.approx(1 / 3)}
    assert found.table == pytest.approx(3 / 6)
    assert (
        "column 'price': 1 of 3 values differ from the reference, e.g. id='2': 20.0 vs "
        "reference 21.0" in found.failures
    )
    assert "accuracy: 1 of 4 rows have no reference row" in found.failures
    only_price = accuracy(data, ref, ["id"], columns=["price", "nope"])
    assert set(only_price.columns) == {"price"}
    assert any("['nope']" in f for f in only_price.failures)
    with pytest.raises(ValueError, match="key column"):
        accuracy(data, ref, ["missing"])


def test_volume_known_answers() -> None:
    assert volume(50, 100, 200) == (0.5, "volume: 50 rows, fewer than the expected minimum 100")
    assert volume(400, 100, 200) == (0.5, "volume: 400 rows, more than the expected maximum 200")
    assert volume(150, 100, 200) == (1.0, None)
    assert volume(150, None, None) == (None, None)
    assert expected_rows_from_history([100, 120, 80]) == (50.0, 200.0)
    assert expected_rows_from_history([100, 120]) == (None, None)


def test_report_carries_accuracy_volume_and_weights() -> None:
    data = pl.DataFrame({"id": [1, 2, 3, 4], "v": [1.0, 2.0, 3.0, None]})
    ref = Reference(pl.DataFrame({"id": [1, 2, 3, 4], "v": [1.0, 2.0, 0.0, 4.0]}), ("id",))
    result = assess_quality(data, partition_date=DAY, reference=ref, expected_rows=(8, None))
    table = result.report.filter(pl.col("column") == "*").row(0, named=True)
    assert table["accuracy"] == pytest.approx(2 / 3)
    assert table["volume"] == pytest.approx(0.5)
    assert table["completeness"] == pytest.approx(7 / 8)
    column_v = result.report.filter(pl.col("column") == "v").row(0, named=True)
    assert column_v["accuracy"] == pytest.approx(2 / 3)
    # Only volume weighs: the score is volume's share.
    weights = dict.fromkeys(
        ("completeness", "uniqueness", "validity", "consistency", "timeliness", "accuracy"), 0.0
    )
    only_volume = assess_quality(
        data, partition_date=DAY, reference=ref, expected_rows=(8, None), weights=weights
    )
    assert only_volume.score == pytest.approx(50.0)
    assert any(f.startswith("volume: 4 rows") for f in only_volume.failures)
    with pytest.raises(ValueError, match="unknown quality dimension"):
        assess_quality(data, partition_date=DAY, weights={"freshness": 1.0})


def test_membership_rule_names_column_and_example() -> None:
    data = pl.DataFrame({"status": ["open", "closed", "lost", None]})
    result = assess_quality(data, partition_date=DAY, rules=["status in ('open', 'closed')"])
    assert result.rule_results.row(0) == ("status in ('open', 'closed')", 3, 1, "status='lost'")
    assert any("status='lost'" in f for f in result.failures)
