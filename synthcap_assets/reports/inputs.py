"""What the visual report of one (source, date) is drawn from: the report tables, the day's
captured rows and its synthetic sample, each optional (a missing one is named, not fatal).

Reads go straight through the lakehouse resource (not ``reads.report_rows``): the report is a
view written beside the tables, and its reads are no inputs of the run's lineage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl

from synthcap_assets.columns import DATE_COLUMN, without_meta
from synthcap_resources.lakehouse import (
    LakehouseResource,
    raw_table,
    report_table,
    synthetic_table,
)

CAPTURED = "captured"  # the key of the day's raw rows in ``read_inputs(known=...)``
REPORTS = (
    "profile",
    "drift_report",
    "quality_report",
    "privacy_report",
    "synthetic_outcome",
    "synthetic_utility",
    "readiness_score",
)


@dataclass
class ReportInputs:
    """Everything the report of (source, day) shows; ``None`` where that input is missing."""

    source: str
    day: dt.date
    tables: dict[str, pl.DataFrame | None] = field(default_factory=dict)
    previous_profile: pl.DataFrame | None = None
    captured: pl.DataFrame | None = None
    synthetic: pl.DataFrame | None = None
    descriptions: dict[str, str] = field(default_factory=dict)

    def table(self, name: str) -> pl.DataFrame | None:
        return self.tables.get(name)

    def missing(self, name: str) -> str:
        return f"{name} has no rows for {self.source} on {self.day} (not materialized, or failed)"


def read_inputs(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    descriptions: dict[str, str] | None = None,
    known: Mapping[str, pl.DataFrame | None] | None = None,
) -> ReportInputs:
    """The report's inputs for (source, day) from the lake.

    ``known``: tables of (source, day) the caller has just read or written (report names of
    :data:`REPORTS`, and :data:`CAPTURED` for the raw rows), as the lake holds them; they are
    not read again (the readiness run reads most of them itself).
    """
    known = dict(known or {})
    partition = {"source": source, "date": day}
    tables = {
        name: known[name]
        if name in known
        else lakehouse.read_partition(report_table(name), partition)
        for name in REPORTS
    }
    previous = lakehouse.read_partition(
        report_table("profile"), {"source": source, "date": day - dt.timedelta(days=1)}
    )
    captured = (
        known[CAPTURED]
        if CAPTURED in known
        else lakehouse.read_partition(raw_table(source), {DATE_COLUMN: day})
    )
    synthetic = lakehouse.read_partition(synthetic_table(source), {DATE_COLUMN: day})
    return ReportInputs(
        source=source,
        day=day,
        tables=tables,
        previous_profile=previous,
        captured=None if captured is None else without_meta(captured),
        synthetic=None if synthetic is None else without_meta(synthetic),
        descriptions=dict(descriptions or {}),
    )
