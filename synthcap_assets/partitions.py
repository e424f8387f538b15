"""Partitions: every asset is partitioned by source (dynamic, slug ids) × date (daily)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from synthcap_resources.catalog import scan_catalog, sources_dir

SOURCE_DIMENSION = "source"
DATE_DIMENSION = "date"
START_DATE_ENV = "SYNTHCAP_START_DATE"
# The lake's first day when the catalog folder holds no valid spec (and nothing overrides it).
FALLBACK_START_DATE = "2024-01-01"


def lake_start_date(folder: Path | None = None, override: str | None = None) -> str:
    """The first day of the ``date`` dimension: ``override`` (``SYNTHCAP_START_DATE``) when
    set, else the earliest ``start_date`` of the catalog's valid specs (invalid ones are the
    catalog sensor's to report), else ``FALLBACK_START_DATE``. Starting at the catalog's first
    day makes partition health show real gaps instead of years before any source existed, and
    keeps us under Dagster's advised 100k partitions (≈ 100 sources × 3 years). A spec added
    later with an earlier start_date extends the dimension when the code location reloads."""
    if override:
        return dt.date.fromisoformat(override).isoformat()
    specs, _ = scan_catalog(folder or sources_dir())
    starts = [spec.start_date for spec in specs.values()]
    return min(starts).isoformat() if starts else FALLBACK_START_DATE


LAKE_START_DATE = lake_start_date(override=os.environ.get(START_DATE_ENV))

source_partitions = dg.DynamicPartitionsDefinition(name=SOURCE_DIMENSION)
date_partitions = dg.DailyPartitionsDefinition(start_date=LAKE_START_DATE)
source_date_partitions = dg.MultiPartitionsDefinition(
    {SOURCE_DIMENSION: source_partitions, DATE_DIMENSION: date_partitions}
)

# The same source on the previous day: how drift_report reaches back to yesterday's profile.
previous_day_mapping = dg.MultiPartitionMapping(
    {
        SOURCE_DIMENSION: dg.DimensionPartitionMapping(
            dimension_name=SOURCE_DIMENSION, partition_mapping=dg.IdentityPartitionMapping()
        ),
        DATE_DIMENSION: dg.DimensionPartitionMapping(
            dimension_name=DATE_DIMENSION,
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
            ),
        ),
    }
)


def partition_key(source: str, day: dt.date) -> dg.MultiPartitionKey:
    """The multi-partition key of ``source`` on ``day``."""
    return dg.MultiPartitionKey({SOURCE_DIMENSION: source, DATE_DIMENSION: day.isoformat()})


def source_and_day(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> tuple[str, dt.date]:
    """The (source, day) of the partition a run is materializing or checking."""
    key = context.partition_key
    if not isinstance(key, dg.MultiPartitionKey):
        key = source_date_partitions.get_partition_key_from_str(key)
    dims = key.keys_by_dimension
    return dims[SOURCE_DIMENSION], dt.date.fromisoformat(dims[DATE_DIMENSION])
