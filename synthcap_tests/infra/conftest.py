"""Fixtures for the production tests: a moto S3 server in its own process, a fresh PostgreSQL
database, and an instance home seeded with ``infra/dagster.yaml``.

moto runs as a separate process (``moto_server``), not in a thread: delta-rs holds the GIL in
some calls (``DeltaTable.history``) while it waits on HTTP, which deadlocks against a server
thread of the same interpreter.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from synthcap_tests.services import free_port, require_service, service_reachable

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
PG_HOST, PG_PORT = "127.0.0.1", 5432
LOG_BUCKET = "synthcap-logs"
LAKE_BUCKET = "synthcap-lake"


def _moto_binary() -> str:
    return str(Path(sys.executable).with_name("moto_server"))


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto S3 server in a child process, serving two empty buckets (logs, lake)."""
    import boto3

    port = free_port()
    proc = subprocess.Popen(
        [_moto_binary(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not service_reachable("127.0.0.1", port, timeout=0.2):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"moto_server did not start on port {port} (exit {proc.poll()})")
            time.sleep(0.1)
        endpoint = f"http://127.0.0.1:{port}"
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        for bucket in (LOG_BUCKET, LAKE_BUCKET):
            s3.create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def s3_environment(endpoint: str) -> dict[str, str]:
    """The ``AWS_*`` variables that point boto3, dagster-aws and delta-rs at ``endpoint``."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ALLOW_HTTP": "true",
    }


@pytest.fixture
def s3_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test's environment pointed at the module's moto server; returns the endpoint."""
    for key, value in s3_environment(moto_endpoint).items():
        monkeypatch.setenv(key, value)
    return moto_endpoint


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    require_service(PG_HOST, PG_PORT, "PostgreSQL")
    import psycopg

    name = f"synthcap_infra_{uuid.uuid4().hex[:12]}"
    admin = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_environment(db_name: str) -> dict[str, str]:
    """The ``DAGSTER_PG_*`` variables ``infra/dagster.yaml`` reads, for ``db_name``."""
    return {
        "DAGSTER_PG_HOST": PG_HOST,
        "DAGSTER_PG_PORT": str(PG_PORT),
        "DAGSTER_PG_DB": db_name,
        "DAGSTER_PG_USER": "postgres",
        "DAGSTER_PG_PASSWORD": os.environ.get("PGPASSWORD", ""),
        "SYNTHCAP_LOG_BUCKET": LOG_BUCKET,
        "SYNTHCAP_LOG_PREFIX": f"logs/{db_name}",
    }


@pytest.fixture
def prod_home(
    tmp_path: Path, pg_database: str, s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """``DAGSTER_HOME`` holding ``infra/dagster.yaml``, its variables set for this test."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(INFRA / "dagster.yaml", home / "dagster.yaml")
    for key, value in pg_environment(pg_database).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def materialize_day(
    instance: dg.DagsterInstance, lake: str, sources: Path, source: str, day: dt.date
) -> dg.ExecuteInProcessResult:
    """Capture, quality and profile of one (source, day) on ``instance`` over ``lake``: the
    partition's Delta writes, without the minute a DP synthesis costs (the slow tests run it)."""
    from synthcap_assets.capture.assets import raw_capture
    from synthcap_assets.definitions import build_resources
    from synthcap_assets.materialize import register_sources
    from synthcap_assets.partitions import partition_key
    from synthcap_assets.profile.assets import profile
    from synthcap_assets.quality.assets import quality_report

    register_sources(instance, [source])
    return dg.materialize(
        [raw_capture, quality_report, profile],
        partition_key=partition_key(source, day),
        resources=build_resources(lake, str(sources)),
        instance=instance,
    )


def sample_rows(source: str, day: dt.date) -> int:
    """Rows of the bundled sample file of ``source`` on ``day``."""
    path = REPO / "synthcap_assets" / "sample_sources" / "data" / source / f"{day}.csv"
    return len(path.read_text().splitlines()) - 1
