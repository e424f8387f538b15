"""``synthcap doctor`` against the production instance on real services: PostgreSQL storage,
an S3 lake on moto (conditional puts honoured), the local RabbitMQ; a stale migration, a dead
broker, no daemon and no running sensor are each reported with their fix, and no credential
is printed."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from alembic.script import ScriptDirectory
from dagster._core.storage.sql import get_alembic_config

from synthcap_assets.cli import main
from synthcap_assets.doctor import FAILED, OK, SKIPPED, run_checks
from synthcap_tests.infra.conftest import LAKE_BUCKET, PG_HOST, PG_PORT
from synthcap_tests.services import require_service

BROKER = "amqp://guest:guest@127.0.0.1:5672//"


@pytest.mark.usefixtures("prod_home")
def test_doctor_reports_each_check_and_its_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    require_service("127.0.0.1", 5672, "RabbitMQ")
    monkeypatch.setenv("SYNTHCAP_CELERY_BROKER", BROKER)
    monkeypatch.delenv("SYNTHCAP_DASK_ADDRESS", raising=False)
    lake = f"s3://{LAKE_BUCKET}/doctor"
    with dg.DagsterInstance.get() as instance:
        instance.upgrade()
        checks = {c.name: c for c in run_checks(instance, lake)}
    assert checks["instance storage"].status == OK
    assert "PostgresRunStorage" in checks["instance storage"].detail
    assert checks["migrations"].status == OK
    assert checks["lake"].status == OK and "conditional puts honoured" in checks["lake"].detail
    assert checks["celery broker"].status == OK
    assert "guest:guest" not in checks["celery broker"].detail
    assert checks["dask"].status == SKIPPED
    assert checks["daemon"].status == FAILED and "dagster-daemon run" in checks["daemon"].fix
    assert checks["sensors"].status == FAILED

    # A database one migration behind, and a broker that does not answer.
    head_module = __import__("dagster_postgres.run_storage.run_storage", fromlist=["x"])
    script = ScriptDirectory.from_config(
        get_alembic_config(head_module.__file__, "../alembic/alembic.ini")
    )
    previous = script.get_revision("head").down_revision
    db = os.environ["DAGSTER_PG_DB"]
    with psycopg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{db}", autocommit=True) as c:
        c.execute("update alembic_version set version_num = %s", (previous,))
    monkeypatch.setenv("SYNTHCAP_CELERY_BROKER", "amqp://guest:hunter2@127.0.0.1:9//")
    capsys.readouterr()
    code = main(["doctor", "--lake", lake])
    out = capsys.readouterr().out
    assert code == 1
    assert "dagster instance migrate" in out and str(previous) in out
    assert "127.0.0.1:9" in out and "hunter2" not in out


def test_doctor_on_a_local_lake(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        checks = {c.name: c for c in run_checks(instance, str(tmp_path / "lake"))}
    assert checks["lake"].status == OK and checks["migrations"].status == OK
    assert not (tmp_path / "lake" / "_doctor").exists()  # the probe cleans up after itself
