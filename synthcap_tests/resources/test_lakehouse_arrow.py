"""How the lakehouse hands frames to delta-rs (``to_arrow()``: string views become
large_string, so every data file of a table stores one Arrow type per column and Arrow readers,
DuckDB's scan in ``synthcap sql`` among them, read the table whole), and the partition check
without formatting every row. Checked on random frames against what was written (read back
through Delta and through a pyarrow dataset) and counts made in Python."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest
from deltalake import DeltaTable

from synthcap_resources.lakehouse import LakehouseError, LakehouseResource

DAY = dt.date(2026, 11, 15)


def _frame(rng: random.Random, rows: int) -> pl.DataFrame:
    words = ["a", "bb", "twelve bytes", "thirteen byte", "a much longer string than twelve", "é"]
    pick = lambda: rng.choice(words) if rng.random() > 0.2 else None  # noqa: E731
    return pl.DataFrame(
        {
            "_date": [DAY] * rows,
            "text": [pick() for _ in range(rows)],
            "blob": [(pick() or "").encode() or None for _ in range(rows)],
            "items": [[pick() for _ in range(rng.randrange(3))] for _ in range(rows)],
            "pair": [{"k": pick(), "n": rng.randrange(9)} for _ in range(rows)],
            "number": [rng.random() for _ in range(rows)],
        },
        schema_overrides={"blob": pl.Binary},
    )


def test_frames_land_as_written_whichever_way_they_are_handed_over(lake: str) -> None:
    lakehouse = LakehouseResource(root=lake)
    rng = random.Random(3)
    appended: list[pl.DataFrame] = []
    for trial in range(6):
        df = _frame(rng, rng.choice([1, 17, 3000]))
        if trial % 2:  # a dictionary column: handed over as a pyarrow table
            levels = ["x", "y", "zzzzzzzzzzzzzzzz"]
            codes = [rng.choice(levels) if rng.random() > 0.1 else None for _ in range(df.height)]
            df = df.with_columns(
                pl.Series("level", codes, dtype=pl.Enum(levels)),
                pl.Series("label", codes, dtype=pl.Categorical),
            )
        if trial == 4:  # all-null columns, alone and nested
            df = df.with_columns(pl.lit(None).alias("nothing"), pl.lit([None]).alias("nothings"))
        lakehouse.write_partition("raw/t", df, {"_date": DAY})
        back = lakehouse.read_partition("raw/t", {"_date": DAY}).select(df.columns)
        expected = df.with_columns(pl.selectors.by_dtype(pl.Categorical, pl.Enum).cast(pl.String))
        assert back.sort("number").to_dicts() == expected.sort("number").to_dicts()
        kept = [c for c in ("text", "blob", "number", "level") if c in df.columns]
        lakehouse.append("state/t", df.select(kept))
        appended.append(expected.select(kept))
    back = lakehouse.read_table("state/t")
    assert back.height == sum(a.height for a in appended)
    # Every file of both tables reads as one Arrow schema: no string_view beside string.
    for table in ("raw/t", "state/t"):
        dataset = DeltaTable(f"{lake}/{table}").to_pyarrow_dataset()
        assert dataset.to_table().num_rows > 0
        for fragment in dataset.get_fragments():
            types = {str(f.type) for f in fragment.physical_schema}
            assert not any("view" in t for t in types), (table, types)
    assert back.sort("number").equals(
        pl.concat(appended, how="diagonal").select(back.columns).sort("number")
    )


def test_rows_outside_the_partition_are_counted_as_text_compares_them(lake: str) -> None:
    lakehouse = LakehouseResource(root=lake)
    rng = random.Random(8)
    other = [dt.date(2026, 11, 14), dt.date(2025, 11, 15), None]
    for _ in range(20):
        days = [DAY if rng.random() < 0.7 else rng.choice(other) for _ in range(50)]
        sources = [rng.choice(["s", "s", "t", None]) for _ in range(50)]
        df = pl.DataFrame({"_date": days, "source": sources, "x": range(50)})
        wrong_days = sum(d is not None and d.isoformat() != DAY.isoformat() for d in days)
        wrong_sources = sum(s is not None and s != "s" for s in sources)
        partition = {"_date": DAY, "source": "s"}
        if wrong_days or wrong_sources:
            first = wrong_days or wrong_sources
            with pytest.raises(LakehouseError, match=f"{first} rows do not belong"):
                lakehouse.write_partition("reports/p", df, partition)
        else:
            assert lakehouse.write_partition("reports/p", df, partition).rows == 50
    text_days = pl.DataFrame({"_date": ["2026-11-15", "2026-11-16"], "x": [1, 2]})
    with pytest.raises(LakehouseError, match="1 rows do not belong"):
        lakehouse.write_partition("reports/q", text_days, {"_date": DAY})
