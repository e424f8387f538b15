"""The quarantine table: a re-capture replaces its partition, stream batches add to it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl

from synthcap_assets.capture.quarantine import (
    QUARANTINE_TABLE,
    append_quarantine,
    write_quarantine,
)
from synthcap_resources.lakehouse import LakehouseResource

DAY = dt.date(2026, 11, 16)


def _rejected(reason: str, value: int) -> pl.DataFrame:
    return pl.DataFrame({"v": [value], "_reason": [reason], "_row": [value]})


def test_recapture_replaces_only_its_partition(tmp_path: Path) -> None:
    lake = LakehouseResource(root=str(tmp_path))
    write_quarantine(lake, "a", DAY, [_rejected("first", 1), _rejected("second", 2)])
    write_quarantine(lake, "b", DAY, [_rejected("other source", 3)])
    write_quarantine(lake, "a", DAY, [])  # a fixed delivery clears its old rejects
    rows = lake.read_table(QUARANTINE_TABLE)
    assert rows["source"].to_list() == ["b"] and rows["reason"].to_list() == ["other source"]
    assert json.loads(rows["record"][0]) == {"v": 3} and rows["row"][0] == 3


def test_stream_batches_accumulate_in_the_day(tmp_path: Path) -> None:
    lake = LakehouseResource(root=str(tmp_path))
    append_quarantine(lake, "s", DAY, [_rejected("batch 1", 1)])
    assert append_quarantine(lake, "s", DAY, []) is None
    append_quarantine(lake, "s", DAY, [_rejected("batch 2", 2)])
    rows = lake.read_partition(QUARANTINE_TABLE, {"source": "s", "date": DAY})
    assert sorted(rows["reason"].to_list()) == ["batch 1", "batch 2"]
