"""What each tool does in the capture benchmark: the same data into a Delta table.

- ``synthcap``: the source's connector (``FileConnector``, ``DatabaseConnector``,
  ``StreamConnector``), the capture columns, then ``LakehouseResource`` (a partition write; for
  NATS an exactly-once append per micro-batch under its Delta transaction, then the ack): the
  path ``raw_capture`` takes, without Dagster's run bookkeeping.
- ``dlt``: a pipeline to the ``filesystem`` destination with ``table_format="delta"``; the CSV
  is handed over as an Arrow table read by pyarrow, the PostgreSQL table through
  ``sql_table(backend="pyarrow")``: dlt's fastest documented paths.

Every function takes a :class:`Case` and returns the number of rows it landed.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from synthcap_resources.catalog import SourceSpec

BENCH_DAY = dt.date(2026, 11, 15)


@dataclass(frozen=True)
class Case:
    name: str  # csv | postgres | nats
    rows: int
    workdir: Path
    csv_path: Path | None = None
    pg_url: str | None = None
    pg_table: str | None = None
    nats_url: str | None = None
    nats_stream: str | None = None


def _spec(case: Case) -> SourceSpec:
    common = {
        "id": f"bench_{case.name}",
        "title": f"capture benchmark ({case.name})",
        "start_date": "2026-11-01",
        "license": "CC0-1.0",
        "terms_url": "https://example.org/terms",
        "domain": "tabular",
    }
    if case.name == "csv":
        location = str(case.csv_path).replace(BENCH_DAY.isoformat(), "{date}")
        return SourceSpec.model_validate(
            {**common, "kind": "file", "location": location, "format": "csv"}
        )
    if case.name == "postgres":
        os.environ["SYNTHCAP_BENCH_PG_URL"] = case.pg_url or ""
        return SourceSpec.model_validate(
            {
                **common,
                "kind": "database",
                "database": {
                    "engine": "postgresql",
                    "url_env": "SYNTHCAP_BENCH_PG_URL",
                    "table": case.pg_table,
                },
            }
        )
    return SourceSpec.model_validate(
        {
            **common,
            "kind": "stream",
            "stream": {
                "broker": "nats",
                "url": case.nats_url,
                "subject": f"{case.nats_stream.lower()}.>",
                "stream_name": case.nats_stream,
                "durable": "synthcap_bench",
                "batch_size": 50_000,
                "max_wait_seconds": 0.2,
            },
        }
    )


def synthcap_capture(case: Case) -> int:
    from synthcap_assets.capture.conform import add_capture_columns, conform
    from synthcap_assets.columns import DATE_COLUMN
    from synthcap_resources.lakehouse import LakehouseResource, raw_table
    from synthcap_resources.sources.base import DateWindow, EmptySourceError
    from synthcap_resources.sources.registry import load_connector_class

    spec = _spec(case)
    lake = LakehouseResource(root=str(case.workdir / "synthcap_lake"))
    connector = load_connector_class(spec.kind)()
    # Messages are dated by the broker when they were published (today); files and tables
    # are captured into the benchmark's day.
    day = dt.datetime.now(dt.UTC).date() if spec.kind == "stream" else BENCH_DAY
    window = DateWindow.of_day(day)
    landed = 0
    while True:
        try:
            batch = connector.read(spec, window, None)
        except EmptySourceError:
            if spec.kind == "stream":
                return landed  # drained
            raise
        rows = add_capture_columns(
            conform(batch.rows, None, spec.id), spec.id, day, dt.datetime.now(dt.UTC)
        )
        if batch.transaction is None:
            lake.write_partition(raw_table(spec.id), rows, {DATE_COLUMN: day})
            return rows.height
        app_id, version = batch.transaction
        lake.append_transaction(raw_table(spec.id), rows, app_id, version, [DATE_COLUMN])
        batch.on_committed()
        landed += rows.height


def dlt_capture(case: Case) -> int:
    import dlt

    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{case.name}",
        destination=dlt.destinations.filesystem(bucket_url=str(case.workdir / "dlt_lake")),
        dataset_name="bench",
        pipelines_dir=str(case.workdir / "dlt_pipelines"),
        progress=None,
    )
    if case.name == "csv":
        import pyarrow.csv as pacsv

        data = dlt.resource(
            [pacsv.read_csv(case.csv_path)], name="events", write_disposition="replace"
        )
    elif case.name == "postgres":
        from dlt.sources.sql_database import sql_table

        url = (case.pg_url or "").replace("postgresql://", "postgresql+psycopg://", 1)
        data = sql_table(credentials=url, table=case.pg_table, backend="pyarrow")
    else:
        raise ValueError(f"dlt has no {case.name} case in this benchmark")
    info = pipeline.run(data, table_format="delta", loader_file_format="parquet")
    if info.has_failed_jobs:
        raise RuntimeError(f"dlt failed to load the {case.name} case: {info}")
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return int(sum(n for table, n in counts.items() if not table.startswith("_dlt")))


TOOLS = {"synthcap": synthcap_capture, "dlt": dlt_capture}
