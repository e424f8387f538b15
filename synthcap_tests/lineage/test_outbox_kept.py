"""The lineage outbox's connection is kept open between emits (one per file, process and
thread), and a lake removed and made again at the same path gets a connection to its new
outbox: no event goes to a file that is gone."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
import uuid
from pathlib import Path

from synthcap_resources import lineage
from synthcap_resources.lineage import LineageResource


def _event() -> dict:
    return {
        "eventType": "COMPLETE",
        "eventTime": dt.datetime.now(dt.UTC).isoformat(),
        "run": {"runId": str(uuid.uuid4())},
        "job": {"namespace": "synthcap", "name": "a_job"},
        "inputs": [],
        "outputs": [],
        "producer": "urn:synthcap:test",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
    }


def _delivered(resource: LineageResource) -> int:
    with sqlite3.connect(resource.state_path() / "outbox.sqlite") as conn:
        return conn.execute("SELECT COUNT(*) FROM delivered").fetchone()[0]


def test_outbox_connection_is_kept_and_follows_a_new_file(tmp_path: Path) -> None:
    resource = LineageResource(lake=str(tmp_path / "lake"), transports=["file"])
    sent = [_event() for _ in range(3)]
    for event in sent:
        assert resource.emit(event).delivered == 1
    kept = [conn for conn, _ in lineage._OUTBOXES.values()]
    assert len({id(c) for c in kept}) == len(kept) and len(kept) <= lineage._OUTBOXES_KEPT
    assert _delivered(resource) == 3
    lines = resource.events_path().read_text().splitlines()
    assert [json.loads(line)["run"]["runId"] for line in lines] == [e["run"]["runId"] for e in sent]
    # The lake is removed and made again: the next emit opens the new outbox.
    shutil.rmtree(tmp_path / "lake")
    again = _event()
    assert resource.emit(again).delivered == 1
    assert _delivered(resource) == 1
    lines = resource.events_path().read_text().splitlines()
    assert [json.loads(line)["run"]["runId"] for line in lines] == [again["run"]["runId"]]
