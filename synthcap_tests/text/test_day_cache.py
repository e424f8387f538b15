"""``day_facts`` keeps its last results: ``text_profile`` and ``feature_set`` of one partition
run compute the day's facts once; another text or another history is computed afresh."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from synthcap_assets.columns import as_report_rows
from synthcap_assets.text import day as text_day
from synthcap_resources.catalog import parse_spec
from synthcap_resources.lakehouse import LakehouseResource

D1, D2 = dt.date(2026, 11, 16), dt.date(2026, 11, 17)


def _spec(tmp_path: Path):
    path = tmp_path / "notes.yaml"
    path.write_text(
        "id: notes\ntitle: notes\nkind: file\nlocation: /nowhere/{date}.csv\nformat: csv\n"
        f"start_date: {D1}\nlicense: CC0-1.0\nterms_url: https://example.org\n"
        "domain: text\ntext_column: body\n"
    )
    return parse_spec(path)


def test_the_second_call_is_served_and_a_new_history_is_not(tmp_path: Path) -> None:
    lake = LakehouseResource(root=str(tmp_path / "lake"))
    spec = _spec(tmp_path)
    rows = pl.DataFrame({"body": ["The parcel is late again, please call me.", "Refund it."]})
    first = text_day.day_facts(lake, spec, rows, D2)
    assert text_day.day_facts(lake, spec, rows, D2) is first
    other = text_day.day_facts(lake, spec, rows.reverse(), D2)
    assert other is not first
    assert other[0]["chars"].to_list() == first[0]["chars"].reverse().to_list()
    # Day 1's signatures land: day 2 is checked against them, so its facts are recomputed.
    _, signatures = text_day.day_facts(lake, spec, rows, D1)
    stored = as_report_rows(signatures, "notes", D1)
    lake.write_partition(text_day.SIGNATURES, stored, {"source": "notes", "date": D1})
    again = text_day.day_facts(lake, spec, rows, D2)
    assert again is not first
    assert again[0]["seen_before"].to_list() == [f"{D1}#0", f"{D1}#1"]
    assert first[0]["seen_before"].to_list() == [None, None]
