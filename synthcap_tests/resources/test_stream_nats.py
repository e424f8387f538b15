"""NATS JetStream sources against the real server: exactly once through crashes, each message
under its own date, and the sensor requesting the partition that messages wait for."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import nats
import polars as pl
import pytest

from synthcap_assets.automation.stream_sensor import stream_sensor
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, raw_table
from synthcap_resources.sources.stream_nats import app_id
from synthcap_tests.resources.capture_runs import capture, failure_text, write_spec
from synthcap_tests.services import require_service

NATS_URL = "nats://127.0.0.1:4222"
DAY1, DAY2 = dt.date(2026, 11, 15), dt.date(2026, 11, 16)


class Stream:
    """A fresh JetStream stream, a catalog folder with a source reading it, and a lake."""

    def __init__(self, root: Path) -> None:
        self.tag = uuid.uuid4().hex[:10]
        self.name, self.source = f"SCTEST_{self.tag}", f"nats_{self.tag}"
        self.subject = f"sctest.{self.tag}"
        self.lake, self.sources = root / "lake", root / "sources"
        self.published: list[tuple[int, dt.date]] = []
        write_spec(
            self.sources,
            {
                "id": self.source,
                "title": "events over NATS",
                "kind": "stream",
                "start_date": "2026-11-01",
                "domain": "tabular",
                "time_column": "ts",
                "stream": {
                    "broker": "nats",
                    "url": NATS_URL,
                    "subject": f"{self.subject}.>",
                    "stream_name": self.name,
                    "durable": f"cap_{self.tag}",
                    "time_field": "ts",
                    "batch_size": 2000,
                    "max_wait_seconds": 0.3,
                },
            },
        )

    async def _run(self, coro_factory):
        nc = await nats.connect(NATS_URL)
        try:
            return await coro_factory(nc.jetstream())
        finally:
            await nc.close()

    def create(self) -> None:
        subjects = [f"{self.subject}.>"]
        asyncio.run(self._run(lambda js: js.add_stream(name=self.name, subjects=subjects)))

    def delete(self) -> None:
        asyncio.run(self._run(lambda js: js.delete_stream(self.name)))

    def publish_raw(self, payloads: list[bytes]) -> None:
        async def send(js):
            for payload in payloads:
                await js.publish(f"{self.subject}.raw", payload)

        asyncio.run(self._run(send))

    def publish(self, ids: range, day: dt.date) -> None:
        async def send(js):
            acks = [
                await js.publish_async(
                    f"{self.subject}.sensor{i % 3}",
                    json.dumps({"id": i, "ts": f"{day}T12:00:00Z", "value": i * 0.5}).encode(),
                )
                for i in ids
            ]
            await asyncio.gather(*acks)

        asyncio.run(self._run(send))
        self.published += [(i, day) for i in ids]

    def stored(self) -> pl.DataFrame:
        rows = LakehouseResource(root=str(self.lake)).read_table(raw_table(self.source))
        return pl.DataFrame() if rows is None else rows

    def kill_capture(self, day: dt.date) -> int:
        command = [sys.executable, "-m", "synthcap_tests.resources.stream_kill"]
        args = [str(self.lake), str(self.sources), self.source, day.isoformat()]
        return subprocess.run(command + args, capture_output=True, timeout=120).returncode


@pytest.fixture
def stream(tmp_path: Path) -> Iterator[Stream]:
    require_service("127.0.0.1", 4222, "NATS JetStream")
    made = Stream(tmp_path)
    made.create()
    yield made
    made.delete()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as inst:
        yield inst


def _drain(stream: Stream, instance: dg.DagsterInstance, day: dt.date) -> list[str]:
    """Capture ``day`` until its messages are gone; returns the failure that ended it."""
    for _ in range(20):
        result = capture(instance, stream.lake, stream.sources, stream.source, day)
        if not result.success:
            return [failure_text(result)]
    raise AssertionError("capture did not run out of messages")


@pytest.mark.parametrize("point", ["after_commit", "before_commit"])
def test_killed_capture_loses_and_duplicates_nothing(stream, instance, point, monkeypatch):
    stream.publish(range(0, 2500), DAY1)
    if point == "after_commit":  # SIGKILL in a subprocess: committed, never acked
        assert stream.kill_capture(DAY1) == -signal.SIGKILL
    else:  # the commit itself fails: read, never written, never acked
        with monkeypatch.context() as patch:
            patch.setattr(LakehouseResource, "append_transaction", _crash)
            failed = capture(instance, stream.lake, stream.sources, stream.source, DAY1)
        assert "crashed before the commit" in failure_text(failed)
    committed = LakehouseResource(root=str(stream.lake)).committed_transaction(
        raw_table(stream.source), app_id_of(stream)
    )
    assert committed == (2000 if point == "after_commit" else None)
    # Messages keep arriving while the capture is down; some belong to the next day.
    stream.publish(range(2500, 3000), DAY1)
    stream.publish(range(3000, 3400), DAY2)

    end = _drain(stream, instance, DAY1)
    assert f"is dated {DAY2}" in end[0]
    end = _drain(stream, instance, DAY2)
    assert "no pending messages" in end[0]

    stored = stream.stored()
    assert stored["id"].n_unique() == stored.height  # nothing twice
    got = set(zip(stored["id"].to_list(), stored["_date"].to_list(), strict=True))
    assert got == set(stream.published)  # nothing lost, each under its own date
    assert stored["_msg_seq"].max() == 3400


def _crash(*_args, **_kwargs):
    raise OSError("worker crashed before the commit")


def app_id_of(stream: Stream) -> str:
    from synthcap_resources.catalog import parse_spec

    return app_id(parse_spec(stream.sources / f"{stream.source}.yaml").stream)


def test_sensor_requests_the_partition_messages_wait_for(stream, instance):
    context = dg.build_sensor_context(
        instance=instance, resources={"catalog": CatalogResource(folder=str(stream.sources))}
    )
    instance.add_dynamic_partitions(SOURCE_DIMENSION, [stream.source])
    skipped = stream_sensor(context)
    assert "nothing pending" in str(skipped)
    stream.publish(range(0, 10), DAY2)
    result = stream_sensor(context)
    assert [r.partition_key for r in result.run_requests] == [partition_key(stream.source, DAY2)]
    assert capture(instance, stream.lake, stream.sources, stream.source, DAY2).success
    assert "nothing pending" in str(stream_sensor(context))
    assert sorted(stream.stored()["id"].to_list()) == list(range(10))


def test_bad_payloads_are_quarantined_with_their_reason(stream, instance):
    good = [json.dumps({"id": i, "ts": f"{DAY2}T08:00:00Z"}).encode() for i in (1, 2)]
    stream.publish_raw([good[0], b"not json at all", good[1], b"[3]"])
    result = capture(instance, stream.lake, stream.sources, stream.source, DAY2)
    assert result.success, failure_text(result)
    assert sorted(stream.stored()["id"].to_list()) == [1, 2]
    quarantine = LakehouseResource(root=str(stream.lake)).read_table("reports/quarantine")
    assert quarantine["row"].to_list() == [2, 4]
    assert quarantine["date"].to_list() == [DAY2, DAY2]
    assert "not JSON" in quarantine["reason"][0] and "not an object" in quarantine["reason"][1]
    assert "not json at all" in quarantine["record"][0]
