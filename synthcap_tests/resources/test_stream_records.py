"""Messages to rows (pure): payload parsing, rejected payloads, message dates and the day cut."""

from __future__ import annotations

import datetime as dt

import polars as pl

from synthcap_assets.automation.stream_sensor import decide
from synthcap_resources.catalog import SourceSpec
from synthcap_resources.sources.stream import Pending
from synthcap_resources.sources.stream_records import (
    TIME_COLUMN,
    Message,
    batch_rows,
    digest,
    same_day_prefix,
    split_rejected,
)

BROKER = dt.datetime(2026, 11, 20, 9, 30, tzinfo=dt.UTC)


def _messages(*payloads: bytes) -> list[Message]:
    return [Message(10 + i, "s.a", BROKER, p) for i, p in enumerate(payloads)]


def test_rows_carry_payload_fields_and_message_columns():
    rows, reasons = batch_rows(_messages(b'{"id": 1, "v": 2.5}', b'{"id": 2}'), None)
    assert reasons == [None, None]
    assert rows["id"].to_list() == [1, 2] and rows["v"].to_list() == [2.5, None]
    assert rows["_msg_seq"].to_list() == [10, 11]
    assert rows[TIME_COLUMN].to_list() == [BROKER, BROKER]


def test_bad_payloads_are_rejected_with_their_reason_not_dropped():
    payloads = [b'{"id": 1}', b"not json", b"[1, 2]", b'{"id": 4}']
    rows, reasons = batch_rows(_messages(*payloads), None)
    good, rejected = split_rejected(rows, reasons, payloads)
    assert good["id"].to_list() == [1, 4]
    assert rejected["_row"].to_list() == [2, 3]
    assert rejected["payload"].to_list() == ["not json", "[1, 2]"]
    assert "not JSON" in rejected["_reason"][0] and "list, not an object" in rejected["_reason"][1]


def test_time_field_decides_the_date_and_the_cut():
    payloads = [
        b'{"id": 1, "ts": "2026-11-15T23:59:59Z"}',
        b'{"id": 2, "ts": 1794787200}',  # 2026-11-16T00:00:00Z as epoch seconds
        b'{"id": 3}',  # no time: its neighbour's
    ]
    rows, _ = batch_rows(_messages(*payloads), "ts")
    days = rows[TIME_COLUMN].dt.date().to_list()
    assert days == [dt.date(2026, 11, 15), dt.date(2026, 11, 16), dt.date(2026, 11, 16)]
    broken, _ = batch_rows(_messages(b"oops", b'{"ts": "2026-11-15T01:00:00Z"}'), "ts")
    assert broken[TIME_COLUMN].dt.date().to_list() == [dt.date(2026, 11, 15)] * 2
    untimed, _ = batch_rows(_messages(b'{"id": 1}'), "ts")
    assert untimed[TIME_COLUMN].to_list() == [BROKER]
    assert same_day_prefix(rows[TIME_COLUMN], dt.date(2026, 11, 15)) == 1
    assert same_day_prefix(rows[TIME_COLUMN], dt.date(2026, 11, 16)) == 0
    assert same_day_prefix(pl.Series([], dtype=pl.Datetime("us", "UTC")), BROKER.date()) == 0


def test_digest_depends_on_every_payload_and_its_order():
    assert digest([b"a", b"b"]) == digest([b"a", b"b"])
    assert digest([b"a", b"b"]) != digest([b"b", b"a"])
    assert digest([b"ab"]) != digest([b"a", b"b"])


def test_sensor_decision():
    spec = SourceSpec.model_validate(
        {
            "id": "s",
            "title": "s",
            "kind": "stream",
            "start_date": "2026-11-01",
            "license": "CC0-1.0",
            "terms_url": "https://example.org",
            "domain": "tabular",
            "stream": {"broker": "mqtt", "url": "mqtt://h:1883", "subject": "t", "durable": "c"},
        }
    )
    assert "MQTT cannot report" in decide(spec, Pending(None, None, None), busy=False)
    assert "nothing pending" in decide(spec, Pending(0, None, None), busy=False)
    assert "already queued" in decide(spec, Pending(5, dt.date(2026, 11, 15), 7), busy=True)
    waiting = decide(spec, Pending(5, dt.date(2026, 11, 16), 7), False, dt.date(2026, 11, 15))
    assert "opens when the day is complete" in waiting
    request = decide(spec, Pending(5, dt.date(2026, 11, 15), 7), False, dt.date(2026, 11, 15))
    assert request.partition_key.keys_by_dimension == {"source": "s", "date": "2026-11-15"}
