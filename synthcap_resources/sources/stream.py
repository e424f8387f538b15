"""Stream sources: NATS JetStream and MQTT, micro-batched into ``raw/<source>`` exactly once.

``StreamConnector()`` (no arguments) implements the connector contract of ``base.py``. Its
``read`` returns one micro-batch of pending messages dated the partition's day (see
``stream_records`` for the rows and the date rule) with ``transaction=(app_id, version)``
(a version that grows with every batch and is the same when a batch is rebuilt after a
crash: the JetStream stream sequence of the batch's last message, or the MQTT checkpoint
version) and ``on_committed``, the broker ack. ``raw_capture`` appends the rows under that
Delta transaction, stores the cursor and only then calls ``on_committed``, so a crash at any
point neither loses nor duplicates a message (``stream_nats`` and ``stream_mqtt`` say how
each broker's batch is rebuilt).

A batch that is not acknowledged (the capture failed before ``on_committed``) stays with the
broker and is rebuilt by the next read. When the first pending message belongs to another
day, ``read`` raises :class:`EmptySourceError` naming that day, and ``pending`` (used by the
stream sensor) reports it, so the sensor requests the partition each message belongs to.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import weakref
from typing import Any, NamedTuple

import polars as pl

from synthcap_resources.catalog import SourceSpec
from synthcap_resources.sources import stream_mqtt, stream_nats
from synthcap_resources.sources.base import (
    CaptureBatch,
    DateWindow,
    EmptySourceError,
    SourceReadError,
    SourceUnreachableError,
)
from synthcap_resources.sources.stream_records import (
    MQTT_SEQ_FACTOR,
    TIME_COLUMN,
    Message,
    batch_rows,
    digest,
    payload_frame,
    same_day_prefix,
    split_rejected,
)
from synthcap_resources.sources.stream_spec import StreamSpec


class Pending(NamedTuple):
    """Messages waiting for ``source``: how many, the date of the first (``None``: unknown)
    and the broker's sequence of the first."""

    count: int | None
    first_date: dt.date | None
    first_seq: int | None


_CATALOG_TYPES = {pl.Boolean: "bool", pl.Date: "date", pl.Utf8: "str"}


class StreamConnector:
    """NATS JetStream and MQTT sources. Stateless: construct with ``StreamConnector()``."""

    def check(self, spec: SourceSpec) -> None:
        stream, url, where = _block(spec), _url(spec), f"source {spec.id!r}"
        if stream.broker == "nats":
            asyncio.run(stream_nats.last_payload(stream, url, where))
        else:  # opens the persistent session: from now on the broker keeps messages for it
            stream_mqtt.Session(stream, url, where).close()

    def discover(self, spec: SourceSpec) -> dict[str, str]:
        """Columns of the newest message on the subject (NATS), else of the declared schema:
        an MQTT broker cannot show a message without delivering it."""
        stream, url, where = _block(spec), _url(spec), f"source {spec.id!r}"
        payload = None
        if stream.broker == "nats":
            payload = asyncio.run(stream_nats.last_payload(stream, url, where))
        if payload is None:
            return dict(spec.declared_schema or {})
        rows, _ = payload_frame([payload])
        return {name: _catalog_type(dtype) for name, dtype in rows.schema.items()}

    def read(
        self, spec: SourceSpec, window: DateWindow, cursor: dict[str, Any] | None = None
    ) -> CaptureBatch:
        stream, url, where = _block(spec), _url(spec), window.where(spec.id)
        if stream.broker == "nats":
            return _read_nats(spec, stream, url, window, where)
        return _read_mqtt(spec, stream, url, window, where)

    def pending(self, spec: SourceSpec) -> Pending:
        """What waits for capture, for the stream sensor. MQTT cannot tell without consuming
        the messages: ``Pending(None, None, None)``."""
        stream, url = _block(spec), _url(spec)
        if stream.broker != "nats":
            return Pending(None, None, None)
        count, head = asyncio.run(stream_nats.pending(stream, url, f"source {spec.id!r}"))
        if head is None:
            return Pending(count, None, None)
        rows, _ = batch_rows([head], stream.time_field)
        day = rows[TIME_COLUMN][0].date()
        return Pending(count, day, head.seq)


def _read_nats(
    spec: SourceSpec, stream: StreamSpec, url: str, window: DateWindow, where: str
) -> CaptureBatch:
    messages, replies = asyncio.run(stream_nats.fetch(stream, url, window.day, where))
    rows, reasons = batch_rows(messages, stream.time_field)
    count = _cut(rows, window, where, f"subject {stream.subject!r}")
    messages = messages[:count]
    good, rejected = split_rejected(
        rows.head(count), reasons[:count], [m.payload for m in messages]
    )
    version = messages[-1].seq
    return CaptureBatch(
        rows=good,
        origins=[f"{stream_nats.public_url(url)}/{stream.stream_name}/{stream.subject}"],
        cursor={"broker": "nats", "consumer": stream.durable, "stream_seq": version},
        rejected=rejected,
        transaction=(stream_nats.app_id(stream), version),
        on_committed=stream_nats.acker(url, replies[count - 1], where),
    )


def _read_mqtt(
    spec: SourceSpec, stream: StreamSpec, url: str, window: DateWindow, where: str
) -> CaptureBatch:
    checkpoint = stream_mqtt.read_checkpoint(url, stream.durable, where)
    session = stream_mqtt.Session(stream, url, where)
    try:
        received = session.collect(stream.batch_size)
        batch, version = _replayed(received, checkpoint)
        replay = batch is not None
        if batch is None:
            version = (checkpoint or {}).get("version", 0) + 1
            batch = received[: stream.batch_size]
        messages = [
            Message(version * MQTT_SEQ_FACTOR + i, m.topic, m.time, m.payload)
            for i, m in enumerate(batch)
        ]
        rows, reasons = batch_rows(messages, stream.time_field)
        count = _cut(rows, window, where, f"topic {stream.subject!r}")
        if count < len(batch):
            if replay:
                raise SourceReadError(
                    f"{where}: the unfinished MQTT batch {version} spans several days; "
                    "it cannot be rebuilt exactly"
                )
            batch, messages = batch[:count], messages[:count]
        new = {
            "version": version,
            "count": len(batch),
            "digest": digest([m.payload for m in batch]),
        }
        stream_mqtt.write_checkpoint(session, {**new, "done": False})
    except BaseException:
        session.close()  # nothing acked: the broker resends all of it next time
        raise
    good, rejected = split_rejected(rows.head(count), reasons[:count], [m.payload for m in batch])
    on_committed = stream_mqtt.committer(session, batch, new)
    weakref.finalize(on_committed, session.close)
    return CaptureBatch(
        rows=good,
        origins=[f"{stream_mqtt.public_url(url)}/{stream.subject}"],
        cursor={"broker": "mqtt", "client_id": stream.durable, "version": version},
        rejected=rejected,
        transaction=(stream_mqtt.app_id(stream), version),
        on_committed=on_committed,
    )


def _replayed(received, checkpoint) -> tuple[list | None, int | None]:
    """The unfinished checkpoint's batch, when the broker resent exactly its messages first."""
    if not checkpoint or checkpoint.get("done"):
        return None, None
    head = received[: checkpoint["count"]]
    if (
        len(head) == checkpoint["count"]
        and all(m.dup for m in head)
        and digest([m.payload for m in head]) == checkpoint["digest"]
    ):
        return head, checkpoint["version"]
    return None, None


def _cut(rows: pl.DataFrame, window: DateWindow, where: str, what: str) -> int:
    """How many leading messages belong to the window's day; raises when none do."""
    if rows.height == 0:
        raise EmptySourceError(f"{where}: no pending messages on {what}")
    count = same_day_prefix(rows[TIME_COLUMN], window.day)
    if count == 0:
        first = rows[TIME_COLUMN][0].date().isoformat()
        raise EmptySourceError(
            f"{where}: the next pending message on {what} is dated {first}; it is captured by "
            f"the partition of {first} (the stream sensor requests it)"
        )
    return count


def _block(spec: SourceSpec) -> StreamSpec:
    if spec.stream is None:
        raise SourceReadError(f"source {spec.id!r}: not a stream source (kind {spec.kind})")
    return spec.stream


def _url(spec: SourceSpec) -> str:
    stream = _block(spec)
    if stream.url_env:
        url = os.environ.get(stream.url_env, "")
        if not url:
            raise SourceUnreachableError(
                f"source {spec.id!r}: environment variable {stream.url_env!r} (the broker URL) "
                "is not set"
            )
        return url
    return stream.url


def _catalog_type(dtype: pl.DataType) -> str:
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    if isinstance(dtype, pl.Datetime):
        return "datetime"
    return _CATALOG_TYPES.get(dtype, "str")
