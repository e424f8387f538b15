"""``synthcap profile``: the profile of a source over a date range, merged from day profiles.

Reads the stored day profiles (``reports/profile``) of the source between two dates, merges
them (``profile.merge``) and prints the range's statistics; the raw rows are never read.
Statistics are float64 (the merge runs in float64 on the CPU); date and datetime columns show
their mean, min, max and median as dates and their standard deviation in days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

import polars as pl
from rich.console import Console
from rich.table import Table

from synthcap_assets.profile.merge import merge_profiles
from synthcap_resources.lakehouse import LakehouseResource, lake_root, report_table

SHOWN = ["column", "semantic_type", "count", "nulls", "distinct", "mean", "std", "min", "max"]
EPOCH = dt.date(1970, 1, 1)
_US_PER_DAY = 86_400_000_000


class RangeProfileError(RuntimeError):
    """No day profiles exist for the asked source and range."""


def range_profile(
    lakehouse: LakehouseResource, source: str, start: dt.date, end: dt.date
) -> tuple[pl.DataFrame, list[dt.date]]:
    """The merged profile of ``source`` over [start, end] and the days it was merged from."""
    table = lakehouse.read_table(report_table("profile"))
    if table is None:
        raise RangeProfileError(f"the lake at {lakehouse.root} has no profiles yet")
    rows = table.filter((pl.col("source") == source) & pl.col("date").is_between(start, end)).sort(
        "date"
    )
    days = rows["date"].unique().sort().to_list()
    if not days:
        raise RangeProfileError(
            f"source {source!r} has no profile between {start} and {end}; materialize "
            "profile for those partitions first"
        )
    per_day = [rows.filter(pl.col("date") == d).drop("source", "date") for d in days]
    return merge_profiles(per_day), days


def epoch_days_text(days: float, dtype: str) -> str:
    """A profile's number for a date or datetime column (days since 1970-01-01, see
    ``stats.numeric_values``) as ISO text: a date for a whole day of a date column, else a
    date and time to the second (to the microsecond when it has a fraction of a second)."""
    micros = round(days * _US_PER_DAY)
    if dtype == "Date" and micros % _US_PER_DAY == 0:
        return (EPOCH + dt.timedelta(days=micros // _US_PER_DAY)).isoformat()
    moment = dt.datetime.combine(EPOCH, dt.time()) + dt.timedelta(microseconds=micros)
    return moment.isoformat(sep=" ", timespec="microseconds" if micros % 1_000_000 else "seconds")


def shown_row(row: dict[str, object], dtype: str) -> dict[str, object]:
    """``row`` of the shown statistics with a date or datetime column's location statistics
    as dates and its spread as a number of days."""
    if not (dtype == "Date" or dtype.startswith("Datetime")):
        return row
    out = dict(row)
    for key in ("mean", "min", "max", "median"):
        if out[key] is not None:
            out[key] = epoch_days_text(float(out[key]), dtype)
    if out["std"] is not None:
        out["std"] = f"{out['std']:.6g} days"
    return out


def cmd_profile(args: argparse.Namespace, console: Console) -> int:
    lakehouse = LakehouseResource(root=args.lake or lake_root())
    try:
        merged, days = range_profile(lakehouse, args.source, args.start, args.end)
    except RangeProfileError as exc:
        Console(stderr=True).print(f"[red]{exc}[/red]", highlight=False)
        return 1
    shown = merged.select(
        *SHOWN,
        pl.col("quantiles").list.get(50, null_on_oob=True).alias("median"),
        pl.col("top_values").list.head(3).list.join(", ").alias("top_values"),
    )
    rows = [
        shown_row(row, dtype)
        for row, dtype in zip(shown.to_dicts(), merged["dtype"].to_list(), strict=True)
    ]
    if args.format == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    table = Table(*shown.columns, title=f"{args.source}: {len(days)} day profiles merged")
    for row in rows:
        table.add_row(
            *(
                "" if v is None else f"{v:.6g}" if isinstance(v, float) else str(v)
                for v in row.values()
            )
        )
    console.print(table)
    return 0


def add_profile_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("profile", help="profile of a source over a date range (merged)")
    parser.add_argument("--source", required=True)
    parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--to", dest="end", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.add_argument("--lake", help="lake root (default $SYNTHCAP_LAKE or ./lakehouse)")
    parser.set_defaults(func=cmd_profile)
