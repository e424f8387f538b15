"""From broker messages to rows: pure functions, no sockets.

Each message's payload is a JSON object; its fields become columns, beside three message
columns: ``_msg_subject`` (NATS subject / MQTT topic), ``_msg_time`` (UTC: the payload's
``time_field`` when the catalog names one, else the broker's stored time for NATS or the
receive time for MQTT; a message whose time cannot be read takes its neighbour's) and
``_msg_seq`` (the JetStream stream sequence; for MQTT the batch version × 1,000,000 + the
message's place in the batch). A payload that is not a JSON object
becomes a rejected row with its reason (quarantined, never dropped).

**Dates.** A message belongs to the UTC date of ``_msg_time``. A capture of partition ``day``
takes the longest run of pending messages, in broker order, dated ``day`` and stops at the
first message of another date; that message stays pending for the capture of its own date
(the stream sensor requests it), so every message lands under its own date and a replayed
batch is cut at the same place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import polars as pl

SUBJECT_COLUMN = "_msg_subject"
TIME_COLUMN = "_msg_time"
SEQ_COLUMN = "_msg_seq"
MESSAGE_COLUMNS = (SUBJECT_COLUMN, TIME_COLUMN, SEQ_COLUMN)
MQTT_SEQ_FACTOR = 1_000_000


@dataclass(frozen=True)
class Message:
    """One message as the broker delivered it."""

    seq: int
    subject: str
    time: dt.datetime  # broker time (UTC)
    payload: bytes


def _objects(payloads: list[bytes]) -> tuple[list[dict | None], list[str | None]]:
    """Each payload parsed as a JSON object, or ``None`` with the reason."""
    parsed: list[dict | None] = []
    reasons: list[str | None] = []
    for payload in payloads:
        try:
            value = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            parsed.append(None)
            reasons.append(f"payload is not JSON: {exc}")
            continue
        if isinstance(value, dict):
            parsed.append(value)
            reasons.append(None)
        else:
            parsed.append(None)
            reasons.append(f"payload is JSON {type(value).__name__}, not an object")
    return parsed, reasons


def payload_frame(payloads: list[bytes]) -> tuple[pl.DataFrame, list[str | None]]:
    """The payloads as rows (one per payload, all-null for a rejected one) and the reasons.

    The fast path parses every payload at once as JSON Lines; a payload that breaks it (not
    JSON, not an object, a raw newline) sends the batch through the per-message parser.
    """
    if not payloads:
        return pl.DataFrame(), []
    if all(b"\n" not in p and p[:1] == b"{" for p in payloads):
        # A payload polars cannot read sends the whole batch to the per-message parser below.
        with contextlib.suppress(pl.exceptions.PolarsError):
            rows = pl.read_ndjson(b"\n".join(payloads), infer_schema_length=None)
            return rows, [None] * len(payloads)
    parsed, reasons = _objects(payloads)
    return pl.from_dicts([p or {} for p in parsed], infer_schema_length=None), reasons


def message_times(
    rows: pl.DataFrame, broker_times: list[dt.datetime], time_field: str | None
) -> pl.Series:
    """The UTC time of each message: ``time_field`` of the payload when it is set and readable
    (ISO 8601 text or epoch seconds), else that of its nearest neighbour, else the broker's."""
    broker = pl.Series(TIME_COLUMN, broker_times, dtype=pl.Datetime("us", "UTC"))
    if not time_field or time_field not in rows.columns:
        return broker
    raw = rows[time_field]
    if raw.dtype.is_numeric():
        own = _from_epoch(raw)
    elif raw.dtype == pl.Utf8:  # ISO 8601, or epoch seconds among mixed payloads
        own = raw.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
        own = own.fill_null(_from_epoch(raw.cast(pl.Float64, strict=False)))
    elif isinstance(raw.dtype, pl.Datetime):
        own = raw.dt.replace_time_zone("UTC") if raw.dtype.time_zone is None else raw
        own = own.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    else:
        return broker
    # A message without a readable time (a broken payload, a missing field) stays with its
    # neighbours: the time of the message before it, else after it, else the broker's.
    own = own.fill_null(strategy="forward").fill_null(strategy="backward")
    return own.fill_null(broker).alias(TIME_COLUMN)


def _from_epoch(seconds: pl.Series) -> pl.Series:
    return (seconds.cast(pl.Float64) * 1e6).cast(pl.Int64).cast(pl.Datetime("us", "UTC"))


def same_day_prefix(times: pl.Series, day: dt.date) -> int:
    """How many leading messages are dated ``day`` (UTC)."""
    if times.len() == 0:
        return 0
    other = (times.dt.date() != day).arg_true()
    return int(other[0]) if other.len() else times.len()


def batch_rows(
    messages: list[Message], time_field: str | None
) -> tuple[pl.DataFrame, list[str | None]]:
    """Rows of ``messages`` with the message columns, and each message's rejection reason."""
    rows, reasons = payload_frame([m.payload for m in messages])
    times = message_times(rows, [m.time for m in messages], time_field)
    rows = rows.drop([c for c in MESSAGE_COLUMNS if c in rows.columns]).with_columns(
        pl.Series(SUBJECT_COLUMN, [m.subject for m in messages], dtype=pl.Utf8),
        times,
        pl.Series(SEQ_COLUMN, [m.seq for m in messages], dtype=pl.Int64),
    )
    return rows, reasons


def split_rejected(
    rows: pl.DataFrame, reasons: list[str | None], payloads: list[bytes]
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """``(good rows, rejected rows with _reason and _row)``; rejected keep the raw payload."""
    bad = [i for i, r in enumerate(reasons) if r is not None]
    if not bad:
        return rows, None
    keep = pl.Series([r is None for r in reasons])
    rejected = pl.DataFrame(
        {
            "payload": [payloads[i].decode("utf-8", "replace") for i in bad],
            SUBJECT_COLUMN: rows[SUBJECT_COLUMN].gather(bad),
            SEQ_COLUMN: rows[SEQ_COLUMN].gather(bad),
            "_reason": [reasons[i] for i in bad],
            "_row": [i + 1 for i in bad],
        }
    )
    return rows.filter(keep), rejected


def digest(payloads: list[bytes]) -> str:
    """A fingerprint of a batch's payloads, in order (MQTT replay check)."""
    h = hashlib.sha256()
    for payload in payloads:
        h.update(len(payload).to_bytes(8, "big"))
        h.update(payload)
    return h.hexdigest()
