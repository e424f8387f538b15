"""``infra/dagster.yaml`` on real services: a fresh PostgreSQL database migrated by Dagster, one
(source, date) partition materialized on it with step logs on S3 (moto), and what the
database then holds."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from synthcap_tests.conftest import copy_bundled
from synthcap_tests.infra.conftest import PG_HOST, PG_PORT, materialize_day

SOURCE, DAY = "market_prices", dt.date(2026, 11, 16)


def _db(name: str) -> psycopg.Connection:
    return psycopg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{name}", autocommit=True)


def test_infra_instance_migrates_fresh_postgres_and_materializes(
    prod_home: Path, tmp_path: Path
) -> None:
    db_name = os.environ["DAGSTER_PG_DB"]
    with dg.DagsterInstance.from_config(str(prod_home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.compute_log_manager).__name__ == "S3ComputeLogManager"
        instance.upgrade()
        with _db(db_name) as conn:
            tables = {r[0] for r in conn.execute("select tablename from pg_tables").fetchall()}
            assert {"runs", "event_logs", "alembic_version", "instigators"} <= tables
            (head,) = conn.execute("select version_num from alembic_version").fetchone()
            assert head
        sources = copy_bundled(tmp_path / "sources", SOURCE)
        result = materialize_day(instance, str(tmp_path / "lake"), sources, SOURCE, DAY)
        assert result.success
        run_id = result.run_id
    with _db(db_name) as conn:
        runs = conn.execute("select run_id, status from runs").fetchall()
        assert runs == [(run_id, "SUCCESS")]
        materialized = conn.execute(
            "select asset_key, partition from event_logs "
            "where dagster_event_type = 'ASSET_MATERIALIZATION' order by asset_key"
        ).fetchall()
        key = f"{DAY}|{SOURCE}"
        assert materialized == [
            ('["profile"]', key),
            ('["quality_report"]', key),
            ('["raw_capture"]', key),
        ]
        partitions = conn.execute(
            "select partition from dynamic_partitions where partitions_def_name = 'source'"
        ).fetchall()
        assert partitions == [(SOURCE,)]


def test_psycopg3_scheme_is_what_breaks_event_writes(prod_home: Path) -> None:
    """The reason for ``scheme: postgresql+psycopg2``: a bare ``postgresql://`` resolves to
    psycopg 3 under SQLAlchemy 2.1, whose server-side parameters break ``NOTIFY``."""
    text = (prod_home / "dagster.yaml").read_text()
    assert "scheme: postgresql+psycopg2" in text
    broken = prod_home.parent / "broken_home"
    broken.mkdir()
    (broken / "dagster.yaml").write_text(text.replace("postgresql+psycopg2", "postgresql"))
    with (
        dg.DagsterInstance.from_config(str(broken)) as instance,
        pytest.raises(Exception, match=r"NOTIFY run_events, \$1"),
    ):
        dg.materialize([_one], instance=instance)  # its first event write NOTIFYs


@dg.asset
def _one() -> int:
    return 1
