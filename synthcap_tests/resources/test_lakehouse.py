"""The lakehouse resource against real Delta tables in a temporary folder."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from deltalake import DeltaTable

from synthcap_resources.lakehouse import LakehouseError, LakehouseResource

D1, D2 = dt.date(2026, 11, 16), dt.date(2026, 11, 17)


def _report(source: str, day: dt.date, values: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "source": source,
            "date": day,
            "column": [f"c{i}" for i in range(len(values))],
            "value": values,
        }
    )


def test_partition_overwrite_replaces_only_that_partition(lake: str) -> None:
    lakehouse = LakehouseResource(root=lake)
    for source in ("a", "b"):
        for day in (D1, D2):
            lakehouse.write_partition(
                "reports/t", _report(source, day, [1.0, 2.0]), {"source": source, "date": day}
            )
    before = (
        lakehouse.read_table("reports/t").filter(pl.col("source") == "b").sort("date", "column")
    )
    written = lakehouse.write_partition(
        "reports/t", _report("a", D1, [9.0]), {"source": "a", "date": D1}
    )
    after = lakehouse.read_table("reports/t")
    assert after.height == 7  # 4 partitions × 2 rows, one of them now 1 row
    assert lakehouse.read_partition("reports/t", {"source": "a", "date": D1})[
        "value"
    ].to_list() == [9.0]
    assert after.filter(pl.col("source") == "b").sort("date", "column").equals(before)
    assert written.version == DeltaTable(lakehouse.uri("reports/t")).version()
    assert written.rows == 1


def test_new_columns_merge_into_the_table(lake: str) -> None:
    lakehouse = LakehouseResource(root=lake)
    lakehouse.write_partition("raw/s", pl.DataFrame({"_date": [D1], "x": [1]}), {"_date": D1})
    lakehouse.write_partition(
        "raw/s", pl.DataFrame({"_date": [D2], "x": [2], "y": ["new"]}), {"_date": D2}
    )
    table = lakehouse.read_table("raw/s").sort("x")
    assert table["y"].to_list() == [None, "new"]


def test_rows_outside_the_partition_are_refused_and_nothing_written(lake: str) -> None:
    lakehouse = LakehouseResource(root=lake)
    with pytest.raises(LakehouseError, match="do not belong to partition"):
        lakehouse.write_partition(
            "raw/s", pl.DataFrame({"_date": [D1, D2], "x": [1, 2]}), {"_date": D1}
        )
    assert lakehouse.delta_table("raw/s") is None


def test_missing_table_and_partition_read_as_none(lake: str) -> None:
    lakehouse = LakehouseResource(root=lake)
    assert lakehouse.read_partition("raw/none", {"_date": D1}) is None
    lakehouse.write_partition("raw/s", pl.DataFrame({"_date": [D1], "x": [1]}), {"_date": D1})
    assert lakehouse.read_partition("raw/s", {"_date": D2}) is None


def test_tables_are_named_for_sql(lake: str) -> None:
    lakehouse = LakehouseResource(root=lake)
    lakehouse.write_partition("raw/fx", pl.DataFrame({"_date": [D1], "x": [1]}), {"_date": D1})
    lakehouse.write_partition(
        "reports/readiness_score", _report("fx", D1, [1.0]), {"source": "fx", "date": D1}
    )
    lakehouse.append("audit/compliance", pl.DataFrame({"source": ["fx"], "allowed": [True]}))
    assert set(lakehouse.tables()) == {"raw_capture__fx", "readiness_score", "audit__compliance"}


def test_quotes_in_partition_values_are_escaped(lake: str) -> None:
    lakehouse = LakehouseResource(root=lake)
    lakehouse.write_partition(
        "reports/t", _report("o'brien", D1, [1.0]), {"source": "o'brien", "date": D1}
    )
    lakehouse.write_partition(
        "reports/t", _report("o'brien", D1, [2.0]), {"source": "o'brien", "date": D1}
    )
    assert lakehouse.read_table("reports/t")["value"].to_list() == [2.0]
