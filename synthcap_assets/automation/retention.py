"""Retention: a daily job that deletes each source's partitions older than its
``retention_days`` from every table that holds its data, then vacuums those tables and drops
their old commit files (``LakehouseResource.purge_history``), so that old Delta versions keep
neither the rows nor their values in column statistics. Each deletion is a row in
``audit/compliance``.

Tables cleaned: ``raw/``, ``features/`` and ``synthetic/<source>`` (by ``_date``) and every
``reports/*`` table (by ``source`` and ``date``; the quarantine holds raw rows), and
``state/text_signatures`` (a text source's band keys and shingle hashes per day: once a day
expires, later days are no longer checked against it). Other bookkeeping without source rows
(``state/*``, ``audit/*``) is kept.
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from synthcap_assets.columns import DATE_COLUMN
from synthcap_assets.text.day import SIGNATURES
from synthcap_resources.catalog import CatalogResource, SourceSpec
from synthcap_resources.compliance import Decision, record_decisions
from synthcap_resources.lakehouse import (
    PER_SOURCE_TABLES,
    REPORTS_FOLDER,
    LakehouseResource,
)


def cutoff_for(spec: SourceSpec, today: dt.date) -> dt.date | None:
    """Partitions dated before this day have expired (``None``: the source keeps all)."""
    return None if spec.retention_days is None else today - dt.timedelta(days=spec.retention_days)


def tables_of(lakehouse: LakehouseResource, source: str) -> list[tuple[str, str]]:
    """(table, SQL predicate template) for every table that may hold ``source``'s rows;
    the template takes the cutoff date as ``{cutoff}``."""
    esc = source.replace("'", "''")
    tables = [
        (f"{folder}/{source}", f"{DATE_COLUMN} < '{{cutoff}}'") for folder in PER_SOURCE_TABLES
    ]
    if lakehouse.is_local:
        reports = sorted(p.parent.name for p in lakehouse_reports(lakehouse))
    else:
        reports = ["quarantine"]
    by_source = f"source = '{esc}' AND date < '{{cutoff}}'"
    tables += [(f"{REPORTS_FOLDER}/{name}", by_source) for name in reports]
    return [*tables, (SIGNATURES, by_source)]


def lakehouse_reports(lakehouse: LakehouseResource) -> Iterator[Path]:
    """The ``_delta_log`` folders of the report tables of a local lake."""
    return Path(lakehouse.uri(REPORTS_FOLDER)).glob("*/_delta_log")


def enforce_retention(
    lakehouse: LakehouseResource, spec: SourceSpec, today: dt.date
) -> list[Decision]:
    """Delete and vacuum ``spec``'s expired partitions; one decision per table touched."""
    cutoff = cutoff_for(spec, today)
    if cutoff is None:
        return []
    decisions = []
    for table, template in tables_of(lakehouse, spec.id):
        delta = lakehouse.delta_table(table)
        if delta is None:
            continue
        columns = {f.name for f in delta.schema().fields}
        needed = {DATE_COLUMN} if template.startswith(DATE_COLUMN) else {"source", "date"}
        if not needed <= columns:
            continue
        deleted = lakehouse.delete_where(table, template.format(cutoff=cutoff.isoformat()))
        if deleted:
            # Vacuum, and drop old commit files too: their column statistics hold values.
            removed = lakehouse.purge_history(table)
            decisions.append(
                Decision(
                    "retention",
                    True,
                    f"deleted {deleted} row(s) dated before {cutoff} from {table} "
                    f"({spec.retention_days} days retention); vacuumed {len(removed)} file(s)",
                    outcome="deleted",
                )
            )
    if decisions:
        record_decisions(lakehouse, spec, today, decisions, [])
    return decisions


@dg.op
def retention_op(
    context: dg.OpExecutionContext,
    catalog: CatalogResource,
    lakehouse: LakehouseResource,
) -> int:
    """Deletes every source's expired partitions; returns the number of tables cleaned."""
    today = dt.datetime.now(dt.UTC).date()
    specs, _ = catalog.scan()
    cleaned = 0
    for spec in specs.values():
        for decision in enforce_retention(lakehouse, spec, today):
            context.log.info(f"source {spec.id!r}: {decision.reason}")
            cleaned += 1
    return cleaned


@dg.job(description="Delete partitions older than each source's retention_days, then vacuum.")
def retention_job() -> None:
    retention_op()


retention_schedule = dg.ScheduleDefinition(
    job=retention_job, cron_schedule="30 5 * * *", default_status=dg.DefaultScheduleStatus.RUNNING
)
