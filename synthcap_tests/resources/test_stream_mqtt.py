"""MQTT sources against the real Mosquitto: a persistent QoS 1 session captured exactly once,
including a capture killed between its Delta commit and its acks."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import paho.mqtt.client as mqtt
import polars as pl
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from synthcap_resources.catalog import parse_spec
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources.stream import StreamConnector
from synthcap_resources.sources.stream_mqtt import app_id
from synthcap_tests.resources.capture_runs import capture, failure_text, write_spec
from synthcap_tests.services import require_service

DAY = dt.date(2026, 11, 15)


class Topic:
    def __init__(self, root: Path) -> None:
        tag = uuid.uuid4().hex[:10]
        self.topic, self.source = f"sctest/{tag}", f"mqtt_{tag}"
        self.lake, self.sources = root / "lake", root / "sources"
        self.path = write_spec(
            self.sources,
            {
                "id": self.source,
                "title": "readings over MQTT",
                "kind": "stream",
                "start_date": "2026-11-01",
                "domain": "tabular",
                "stream": {
                    "broker": "mqtt",
                    "url": "mqtt://127.0.0.1:1883",
                    "subject": f"{self.topic}/#",
                    "durable": f"synthcap-test-{tag}",
                    "time_field": "ts",
                    "batch_size": 200,
                    "max_wait_seconds": 0.5,
                    "session_expiry_seconds": 600,
                },
            },
        )
        self.spec = parse_spec(self.path)

    def publish(self, ids: range) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.connect("127.0.0.1", 1883)
        client.loop_start()
        infos = [
            client.publish(
                f"{self.topic}/dev{i % 4}",
                json.dumps({"id": i, "ts": f"{DAY}T08:00:00Z", "reading": i / 7}),
                qos=1,
            )
            for i in ids
        ]
        for info in infos:
            info.wait_for_publish(5)
        client.disconnect()
        client.loop_stop()

    def stored(self) -> pl.DataFrame:
        rows = LakehouseResource(root=str(self.lake)).read_table(raw_table(self.source))
        return pl.DataFrame() if rows is None else rows


@pytest.fixture
def topic(tmp_path: Path) -> Topic:
    require_service("127.0.0.1", 1883, "Mosquitto MQTT")
    made = Topic(tmp_path)
    StreamConnector().check(made.spec)  # opens the persistent session before anything is sent
    return made


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


def test_mqtt_capture_killed_between_commit_and_ack_is_exactly_once(topic, instance):
    topic.publish(range(0, 300))
    command = [sys.executable, "-m", "synthcap_tests.resources.stream_kill"]
    args = [str(topic.lake), str(topic.sources), topic.source, DAY.isoformat()]
    assert subprocess.run(command + args, timeout=120).returncode == -signal.SIGKILL
    lake = LakehouseResource(root=str(topic.lake))
    assert lake.committed_transaction(raw_table(topic.source), app_id(topic.spec.stream)) == 1
    assert topic.stored().height == 200  # committed, never acked

    topic.publish(range(300, 350))
    outcomes = []
    for _ in range(5):
        result = capture(instance, topic.lake, topic.sources, topic.source, DAY)
        outcomes.append(result.success or failure_text(result))
        if result.success is not True:
            break
    # The replayed batch 1 (skipped by its Delta transaction, then acked), then batch 2.
    assert outcomes[:2] == [True, True] and "no pending messages" in outcomes[2]
    stored = topic.stored()
    assert stored["id"].n_unique() == stored.height == 350
    assert set(stored["id"].to_list()) == set(range(350))
    assert lake.committed_transaction(raw_table(topic.source), app_id(topic.spec.stream)) == 2
