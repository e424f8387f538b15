"""What each tool does in the capture benchmark: the same data into a Delta table.

- ``synthcap``: the body of ``raw_capture`` without Dagster (no run bookkeeping, compliance
  checks, lineage events or materialization metadata): the source's connector
  (``FileConnector``, ``DatabaseConnector``, ``StreamConnector``) from the stored cursor, the
  schema contract (inferred and stored on this first capture), recorded erasures, the capture
  columns, then ``commit_capture``: one Delta write of the rows (a partition replace; for NATS
  an exactly-once append per micro-batch under its Delta transaction), the contract, schema
  changes, quarantine and state rows, then the broker ack.
- ``dlt``: a pipeline to the ``filesystem`` destination with ``table_format="delta"``, one row
  per backend (``DLT_BACKENDS``). PostgreSQL through ``sql_table`` with
  ``backend="connectorx"`` (dlt's documentation names it typically the fastest; synthcap reads
  with ConnectorX too) and with ``backend="pyarrow"``; the CSV file through dlt's filesystem
  source and its DuckDB reader (``filesystem() | read_csv_duckdb(use_pyarrow=True)``, Arrow
  batches of ``CSV_CHUNK_ROWS``), and handed over as one Arrow table read by ``pyarrow.csv``.

Every function takes a :class:`Case` and returns the number of rows it landed.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from synthcap_resources.catalog import SourceSpec

BENCH_DAY = dt.date(2026, 11, 15)
DLT_BACKENDS = {"csv": ("read_csv_duckdb", "pyarrow.csv"), "postgres": ("connectorx", "pyarrow")}
SYNTHCAP_BACKENDS = {"csv": "polars", "postgres": "connectorx", "nats": "nats-py"}
CSV_CHUNK_ROWS = 100_000


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
    from synthcap_assets.capture.commit import commit_capture
    from synthcap_assets.capture.conform import add_capture_columns, conform
    from synthcap_assets.capture.contract_store import plan_contract
    from synthcap_assets.privacy.erasure import without_erased
    from synthcap_resources.lakehouse import LakehouseResource
    from synthcap_resources.sources.base import DateWindow, EmptySourceError
    from synthcap_resources.sources.registry import load_connector_class
    from synthcap_resources.sources.state import latest_cursor

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
            batch = connector.read(spec, window, latest_cursor(lake, spec.id))
        except EmptySourceError:
            if spec.kind == "stream":
                return landed  # drained
            raise
        # The steps of raw_capture, in its order (synthcap_assets/capture/assets.py).
        plan = plan_contract(lake, spec, conform(batch.rows, None, spec.id), day)
        kept, _ = without_erased(lake, spec.id, plan.outcome.rows)
        rows = add_capture_columns(kept, spec.id, day, dt.datetime.now(dt.UTC))
        rejected = [r for r in (batch.rejected, plan.outcome.rejected) if r is not None]
        commit_capture(lake, spec.id, day, rows, batch, plan, rejected)
        if batch.transaction is None:
            return rows.height
        landed += rows.height


def dlt_capture(case: Case, backend: str) -> int:
    import dlt

    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{case.name}",
        destination=dlt.destinations.filesystem(bucket_url=str(case.workdir / "dlt_lake")),
        dataset_name="bench",
        pipelines_dir=str(case.workdir / "dlt_pipelines"),
        progress=None,
    )
    if case.name not in DLT_BACKENDS or backend not in DLT_BACKENDS[case.name]:
        raise ValueError(f"dlt has no {case.name} case with backend {backend!r} in this benchmark")
    if backend == "pyarrow.csv":
        import pyarrow.csv as pacsv

        data = dlt.resource(
            [pacsv.read_csv(case.csv_path)], name="events", write_disposition="replace"
        )
    elif backend == "read_csv_duckdb":
        from dlt.sources.filesystem import filesystem, read_csv_duckdb

        files = filesystem(bucket_url=str(case.csv_path.parent), file_glob=case.csv_path.name)
        data = (files | read_csv_duckdb(chunk_size=CSV_CHUNK_ROWS, use_pyarrow=True)).with_name(
            "events"
        )
        data.apply_hints(write_disposition="replace")
    else:
        from dlt.sources.sql_database import sql_table

        url = case.pg_url or ""
        if backend == "pyarrow":
            url = url.replace("postgresql://", "postgresql+psycopg://", 1)
        data = sql_table(credentials=url, table=case.pg_table, backend=backend)
    info = pipeline.run(data, table_format="delta", loader_file_format="parquet")
    if info.has_failed_jobs:
        raise RuntimeError(f"dlt failed to load the {case.name} case: {info}")
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return int(sum(n for table, n in counts.items() if not table.startswith("_dlt")))


TOOLS = {"synthcap": synthcap_capture, "dlt": dlt_capture}
