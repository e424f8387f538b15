"""Partitions: every asset is partitioned by source (dynamic, slug ids) × date (daily)."""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

SOURCE_DIMENSION = "source"
DATE_DIMENSION = "date"
# The first day any source may be captured. Sources declare their own later start_date; keeping
# this bounded keeps us under Dagster's advised 100k partitions (≈ 100 sources × 3 years).
LAKE_START_DATE = os.environ.get("SYNTHCAP_START_DATE", "2024-01-01")

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
