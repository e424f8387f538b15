"""Capture one batch of a stream source and SIGKILL the process between commit and ack.

``python -m synthcap_tests.resources.stream_kill LAKE SOURCES SOURCE DAY`` runs the steps of
``raw_capture`` in its order (``capture.commit``: the rows under their Delta transaction, then
the cursor, then ``on_committed``) without Dagster's start-up, and dies like a crashed worker
where the broker ack would be: no cleanup, no ack, the broker connection just drops.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path

from synthcap_assets.capture.commit import after_commit, commit_rows
from synthcap_assets.capture.conform import add_capture_columns, conform
from synthcap_resources.catalog import CatalogResource
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_resources.sources.base import DateWindow
from synthcap_resources.sources.state import latest_cursor
from synthcap_resources.sources.stream import StreamConnector


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main(lake: str, sources: str, source: str, day_text: str) -> int:
    day = dt.date.fromisoformat(day_text)
    lakehouse = LakehouseResource(root=str(Path(lake)))
    spec = CatalogResource(folder=sources).get(source)
    batch = StreamConnector().read(spec, DateWindow.of_day(day), latest_cursor(lakehouse, source))
    rows = add_capture_columns(
        conform(batch.rows, None, source), source, day, dt.datetime.now(dt.UTC)
    )
    if commit_rows(lakehouse, source, day, rows, batch) is None:
        return 4  # the batch was committed before: nothing to kill between
    batch.on_committed = _die
    after_commit(lakehouse, source, day, batch)
    return 3  # not reached


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
