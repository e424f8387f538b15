"""Secrets only from the environment, never in run config, events or step logs: a database
source whose URL (in the variable its spec names) carries a planted password is captured on the
production instance (PostgreSQL storage, step logs on S3/moto), once successfully and once
against a database that does not exist (errors are where URLs leak); then the event log, the
run records and every compute-log object are searched for the password."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import boto3
import dagster as dg
import psycopg
import pytest

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.definitions import build_resources
from synthcap_assets.materialize import register_sources
from synthcap_assets.partitions import partition_key
from synthcap_tests.infra.conftest import LOG_BUCKET, PG_HOST, PG_PORT

DAY = dt.date(2026, 11, 16)
SPEC = """\
id: {id}
title: Orders with a password in their URL
kind: database
database:
  engine: postgresql
  url_env: {env}
  table: {table}
  mode: full
start_date: 2026-11-01
license: CC0-1.0
terms_url: https://example.org/terms
domain: tabular
"""


@pytest.fixture
def orders_table() -> str:
    table = f"secret_orders_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test", autocommit=True) as c:
        c.execute(f"create table {table} (id int, amount float8)")
        c.execute(f"insert into {table} select g, g * 1.5 from generate_series(1, 50) g")
    yield table
    with psycopg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/test", autocommit=True) as c:
        c.execute(f"drop table if exists {table}")


def _everything_recorded(db: str) -> str:
    """The instance database's events and runs, and every step-log object, as one text."""
    text = []
    with psycopg.connect(f"postgresql://postgres@{PG_HOST}:{PG_PORT}/{db}") as conn:
        text += [r[0] for r in conn.execute("select event from event_logs").fetchall()]
        text += [r[0] for r in conn.execute("select run_body from runs").fetchall()]
    s3 = boto3.client("s3")
    prefix = os.environ["SYNTHCAP_LOG_PREFIX"]
    objects = s3.list_objects_v2(Bucket=LOG_BUCKET, Prefix=prefix).get("Contents", [])
    assert objects, "no step logs were written: the search below would prove nothing"
    for item in objects:
        text.append(s3.get_object(Bucket=LOG_BUCKET, Key=item["Key"])["Body"].read().decode())
    return "\n".join(text)


@pytest.mark.usefixtures("prod_home")
def test_planted_secret_never_reaches_events_or_step_logs(
    tmp_path: Path, orders_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"planted-{uuid.uuid4().hex}"
    # Trust authentication on this machine accepts any password, so the capture succeeds.
    monkeypatch.setenv(
        "GOOD_ORDERS_URL", f"postgresql://postgres:{secret}@{PG_HOST}:{PG_PORT}/test"
    )
    monkeypatch.setenv("BAD_ORDERS_URL", f"postgresql://postgres:{secret}@{PG_HOST}:{PG_PORT}/nodb")
    sources = tmp_path / "sources"
    sources.mkdir()
    for sid, env in (("good_orders", "GOOD_ORDERS_URL"), ("bad_orders", "BAD_ORDERS_URL")):
        (sources / f"{sid}.yaml").write_text(SPEC.format(id=sid, env=env, table=orders_table))
    resources = build_resources(str(tmp_path / "lake"), str(sources))
    with dg.DagsterInstance.get() as instance:
        register_sources(instance, ["good_orders", "bad_orders"])
        results = {
            sid: dg.materialize(
                [raw_capture],
                partition_key=partition_key(sid, DAY),
                resources=resources,
                instance=instance,
                raise_on_error=False,
            )
            for sid in ("good_orders", "bad_orders")
        }
    assert results["good_orders"].success
    assert not results["bad_orders"].success
    failure = results["bad_orders"].get_step_failure_events()[0].step_failure_data.error
    assert "nodb" in str(failure.to_string())  # the error names the database ...
    recorded = _everything_recorded(os.environ["DAGSTER_PG_DB"])
    assert "nodb" in recorded and "good_orders" in recorded
    assert secret not in recorded  # ... but never the password
