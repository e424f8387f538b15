"""Delivery: the JSON Lines file, HTTP to a real loopback receiver, and the on-disk outbox that
keeps events in order, exactly once, while a receiver is down."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import time
import uuid
from pathlib import Path

import pytest

from synthcap_assets.lineage import events
from synthcap_resources.lineage import (
    LineageConfigError,
    LineageResource,
    event_key,
    lake_namespace,
    lineage_from_env,
)
from synthcap_tests.lineage.receiver import LineageReceiver


def _events(count: int, job: str = "profile") -> list[dict]:
    """START and COMPLETE of ``count`` runs, in emission order."""
    out = []
    for i in range(count):
        ctx = events.RunContext(
            namespace="synthcap",
            job_name=f"{job}{i}",
            job_type=events.ASSET_JOB,
            dagster_job="daily_partition_job",
            dagster_run_id=str(uuid.uuid4()),
            day=dt.date(2026, 11, 16),
        )
        out += [events.run_event("START", ctx), events.run_event("COMPLETE", ctx)]
    return out


def _resource(tmp_path: Path, transports: list[str], url: str | None = None, **kw):
    return LineageResource(
        lake=str(tmp_path / "lake"), transports=transports, url=url, retries=0, **kw
    )


def _file_events(resource: LineageResource) -> list[dict]:
    return [json.loads(line) for line in resource.events_path().read_text().splitlines()]


@pytest.fixture
def receiver():
    server = LineageReceiver().start()
    yield server
    server.stop()


def test_file_transport_writes_json_lines_under_the_lake_once_per_event(tmp_path: Path) -> None:
    resource = _resource(tmp_path, ["file"])
    sent = _events(3)
    for event in sent + sent[:2]:  # the first two emitted twice
        resource.emit(event)
    assert resource.events_path() == (tmp_path / "lake" / "_lineage" / "events.jsonl").resolve()
    assert _file_events(resource) == sent
    assert resource.pending() == {}


def test_http_receiver_gets_every_event_in_order_with_the_api_key(
    tmp_path: Path, receiver: LineageReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE_API_KEY", "s3cret")
    resource = _resource(tmp_path, ["file", "http"], receiver.url)
    sent = _events(4)
    reports = [resource.emit(event) for event in sent]
    assert all(r.delivered == 2 and not r.queued for r in reports)
    assert receiver.events == sent == _file_events(resource)
    assert set(receiver.auth) == {"Bearer s3cret"}


def test_events_queue_while_the_receiver_is_down_and_arrive_once_in_order(
    tmp_path: Path,
) -> None:
    receiver = LineageReceiver()  # not started: the port refuses connections
    resource = _resource(tmp_path, ["file", "http"], receiver.url, cooldown_s=0)
    sent = _events(3)
    for queued, event in enumerate(sent, start=1):
        report = resource.emit(event)
        assert report.queued == {"http": queued}
        assert "ConnectionError" in report.errors["http"]
    assert resource.pending() == {"http": 6}
    assert _file_events(resource) == sent  # the file transport did not wait for HTTP
    receiver.start()
    try:
        assert resource.flush().delivered == 6
        assert receiver.events == sent
        assert resource.flush().delivered == 0
        for event in sent:  # re-emitting delivered events sends nothing
            resource.emit(event)
        later = _events(1, job="drift")
        for event in later:
            resource.emit(event)
        assert receiver.events == sent + later
        assert _file_events(resource) == sent + later
    finally:
        receiver.stop()


def test_a_failed_transport_rests_instead_of_timing_out_on_every_event(tmp_path: Path) -> None:
    receiver = LineageReceiver()
    resource = _resource(tmp_path, ["http"], receiver.url, cooldown_s=600)
    first, *rest = _events(3)
    assert "ConnectionError" in resource.emit(first).errors["http"]
    for event in rest:
        assert resource.emit(event).errors["http"] == "resting after a failed send"
    receiver.start()
    try:
        assert resource.flush().delivered == 0  # still resting
        assert resource.flush(force=True).delivered == 6
        assert receiver.events == [first, *rest]
    finally:
        receiver.stop()


def test_an_event_the_receiver_rejects_does_not_block_the_ones_after_it(
    tmp_path: Path, receiver: LineageReceiver
) -> None:
    resource = _resource(tmp_path, ["http"], receiver.url)
    bad, *good = _events(2)
    receiver.status = 400
    resource.emit(bad)
    receiver.status = 201
    for event in good:
        resource.emit(event)
    assert receiver.events == good
    assert resource.pending() == {}
    resource.emit(bad)  # rejected for good: not retried either
    assert receiver.events == good


def test_an_unauthorized_event_stays_queued_until_the_key_is_fixed(
    tmp_path: Path, receiver: LineageReceiver
) -> None:
    resource = _resource(tmp_path, ["http"], receiver.url, cooldown_s=0)
    sent = _events(1)
    receiver.status = 401
    for event in sent:
        assert "401" in resource.emit(event).errors["http"]
    assert resource.pending() == {"http": 2}
    receiver.status = 201
    assert resource.flush().delivered == 2
    assert receiver.events == sent


def _emit_many(state_dir: str, job: str, ready, go) -> None:
    resource = LineageResource(lake=state_dir, state_dir=state_dir, transports=["file"])
    batch = _events(20, job=job)
    ready.release()
    go.wait(timeout=60)  # both processes emit at the same time
    for event in batch:
        resource.emit(event)


def test_concurrent_processes_append_every_event_once_in_their_order(tmp_path: Path) -> None:
    # spawn, not fork: the test process may already run JAX's threads.
    spawn = multiprocessing.get_context("spawn")
    ready, go = spawn.Semaphore(0), spawn.Event()
    workers = [
        spawn.Process(target=_emit_many, args=(str(tmp_path), job, ready, go)) for job in "ab"
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        assert ready.acquire(timeout=60)
    go.set()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    received = [json.loads(line) for line in lines]
    assert len(received) == 80 and len({event_key(e) for e in received}) == 80
    for job in ("a", "b"):
        names = [e["job"]["name"] for e in received if e["job"]["name"].startswith(job)]
        assert names == [f"{job}{i}" for i in range(20) for _ in range(2)]


def test_console_transport_prints_each_event(tmp_path: Path, capsys) -> None:
    (event,) = _events(1)[:1]
    _resource(tmp_path, ["console"]).emit(event)
    assert json.loads(capsys.readouterr().out) == event


def test_configuration_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SYNTHCAP_LINEAGE_URL", "OPENLINEAGE_URL", "SYNTHCAP_LINEAGE_TRANSPORTS"):
        monkeypatch.delenv(name, raising=False)
    assert lineage_from_env("lake").transports == ["file"]
    monkeypatch.setenv("OPENLINEAGE_URL", "http://marquez:5000")
    configured = lineage_from_env("lake")
    assert configured.transports == ["file", "http"] and configured.url == "http://marquez:5000"
    monkeypatch.setenv("SYNTHCAP_LINEAGE_TRANSPORTS", "console,smoke")
    with pytest.raises(LineageConfigError, match="smoke"):
        lineage_from_env("lake")
    monkeypatch.delenv("OPENLINEAGE_URL")
    monkeypatch.setenv("SYNTHCAP_LINEAGE_TRANSPORTS", "http")
    with pytest.raises(LineageConfigError, match="SYNTHCAP_LINEAGE_URL"):
        lineage_from_env("lake")
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    assert lineage_from_env("lake").transports == []


def test_lake_namespaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert lake_namespace("lakehouse") == f"file://{tmp_path.resolve()}/lakehouse"
    assert lake_namespace("s3://bucket/prefix/") == "s3://bucket/prefix"
    assert lake_namespace("file:///data/lake") == "file:///data/lake"


def test_a_delivery_takes_little_time(tmp_path: Path, receiver: LineageReceiver) -> None:
    resource = _resource(tmp_path, ["file", "http"], receiver.url)
    sent = _events(25)
    started = time.perf_counter()
    for event in sent:
        resource.emit(event)
    per_event = (time.perf_counter() - started) / len(sent)
    assert receiver.events == sent
    assert per_event < 0.25, f"{per_event * 1000:.0f} ms per event"
