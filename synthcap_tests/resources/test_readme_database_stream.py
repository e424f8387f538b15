"""The README's catalog examples for the database and stream kinds materialize against the
real servers of this machine. Only what points at a place is redirected to the test's own
table, stream or topic (URL variable, table, stream, subject, client id); modes, columns,
cursor and time fields are the README's."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import nats
import paho.mqtt.client as mqtt
import psycopg
import pymysql
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from synthcap_resources.catalog import parse_spec
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources.stream import StreamConnector
from synthcap_tests.resources.capture_runs import capture, failure_text
from synthcap_tests.services import require_service

README = Path(__file__).resolve().parents[2] / "README.md"
DAY = dt.date(2026, 11, 15)
ROWS = 20


def _examples(kind: str) -> dict[str, dict]:
    section = README.read_text().split(f"\n### {kind}\n", 1)[1].split("\n### ", 1)[0]
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", section, flags=re.S)]
    return {block["id"]: block for block in blocks}


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


def _run(instance, tmp_path: Path, spec: dict, uses: list[str] | None = None) -> int:
    folder = tmp_path / "sources"
    folder.mkdir(exist_ok=True)
    (folder / f"{spec['id']}.yaml").write_text(yaml.safe_dump(spec))
    parse_spec(folder / f"{spec['id']}.yaml")  # still a valid spec after the redirection
    result = capture(instance, tmp_path / "lake", folder, spec["id"], DAY, allowed_uses=uses)
    assert result.success, failure_text(result)
    rows = LakehouseResource(root=str(tmp_path / "lake")).read_table(raw_table(spec["id"]))
    return rows.height


def test_readme_postgres_example(instance, tmp_path, monkeypatch):
    require_service("127.0.0.1", 5432, "PostgreSQL")
    url = "postgresql://postgres@127.0.0.1:5432/test"
    spec = _examples("database")["orders_pg"]
    table = "synthcap_readme_orders"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"CREATE TABLE {table} (id int, amount float8, updated_at timestamptz)")
        conn.execute(
            f"INSERT INTO {table} SELECT g, g * 1.5, %s + g * interval '1 hour' "
            "FROM generate_series(0, 29) g",
            (dt.datetime.combine(DAY, dt.time(), tzinfo=dt.UTC),),
        )  # 24 rows on the day, 6 on the next
    monkeypatch.setenv("SC_TEST_README_PG", url)
    spec["database"].update(url_env="SC_TEST_README_PG", table=table)
    # Internal data under a proprietary license: the lake runs for analytics only (README).
    assert _run(instance, tmp_path, spec, uses=["analytics"]) == 24


def test_readme_mariadb_example(instance, tmp_path, monkeypatch):
    require_service("127.0.0.1", 3306, "MariaDB")
    spec = _examples("database")["customers_maria"]
    table = "synthcap_readme_customers"
    conn = pymysql.connect(host="127.0.0.1", user="root", password="", database="test")
    with conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(
            f"CREATE TABLE {table} (id int, name text, country char(2), segment text, "
            "created_at datetime)"
        )
        cur.executemany(
            f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s)",
            [(i, f"n{i}", "FR", "smb", dt.datetime(2026, 1, 1)) for i in range(ROWS)],
        )
        conn.commit()
    monkeypatch.setenv("SC_TEST_README_MY", "mysql://root:@127.0.0.1:3306/test")
    spec["database"].update(url_env="SC_TEST_README_MY", table=table)
    assert _run(instance, tmp_path, spec, uses=["analytics"]) == ROWS


def test_readme_nats_example(instance, tmp_path):
    require_service("127.0.0.1", 4222, "NATS JetStream")
    spec = _examples("stream")["trades_nats"]
    tag = uuid.uuid4().hex[:8]
    name, subject = f"SCREADME_{tag}", f"screadme{tag}"
    spec["stream"].update(
        url="nats://127.0.0.1:4222", stream_name=name, subject=f"{subject}.>", durable=tag
    )

    async def publish() -> None:
        nc = await nats.connect("nats://127.0.0.1:4222")
        js = nc.jetstream()
        await js.add_stream(name=name, subjects=[f"{subject}.>"])
        for i in range(ROWS):
            stamp = f"{DAY}T09:{i:02d}:00Z"
            body = {"trade_id": i, "price": 100 + i, "executed_at": stamp}
            await js.publish(f"{subject}.eq", json.dumps(body).encode())
        await nc.close()

    async def drop() -> None:
        nc = await nats.connect("nats://127.0.0.1:4222")
        await nc.jetstream().delete_stream(name)
        await nc.close()

    asyncio.run(publish())
    try:
        assert _run(instance, tmp_path, spec, uses=["analytics"]) == ROWS
    finally:
        asyncio.run(drop())


def test_readme_mqtt_example(instance, tmp_path):
    require_service("127.0.0.1", 1883, "Mosquitto MQTT")
    spec = _examples("stream")["plant_sensors"]
    tag = uuid.uuid4().hex[:8]
    spec["stream"].update(
        url="mqtt://127.0.0.1:1883",
        subject=f"screadme/{tag}/+/readings",
        durable=f"screadme-{tag}",
        session_expiry_seconds=600,
    )
    folder = tmp_path / "opening"
    folder.mkdir()
    (folder / f"{spec['id']}.yaml").write_text(yaml.safe_dump(spec))
    StreamConnector().check(parse_spec(folder / f"{spec['id']}.yaml"))  # the session exists
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    sent = [
        client.publish(
            f"screadme/{tag}/line{i % 2}/readings",
            json.dumps({"sensor": i, "celsius": 20 + i / 10, "ts": f"{DAY}T10:00:{i:02d}Z"}),
            qos=1,
        )
        for i in range(ROWS)
    ]
    for info in sent:
        info.wait_for_publish(5)
    client.disconnect()
    client.loop_stop()
    assert _run(instance, tmp_path, spec) == ROWS
