"""MQTT (QoS 1): a persistent session with a fixed client id, read exactly once.

The session (MQTT 5, ``clean_start=False``, a session expiry, manual acks) makes the broker
keep every message synthcap has not acknowledged, and resend the unacknowledged ones first,
in order and flagged ``dup``, when the client id connects again.

**Version scheme.** MQTT has no sequence numbers that survive a reconnect, so synthcap keeps
a write-ahead *checkpoint* on the broker itself: a retained QoS 1 message on
``synthcap/checkpoints/<client id>`` holding ``{version, count, digest, done}``. Before a new
batch is handed to ``raw_capture`` its checkpoint (version = previous + 1, the number of
messages and a SHA-256 of their payloads, ``done: false``) is published; ``on_committed`` acks
the batch's messages and then marks the checkpoint ``done``. A read that finds an unfinished
checkpoint whose first ``count`` redelivered messages match its digest rebuilds that batch
under the same version, so a batch committed before a crash is skipped by the Delta
transaction and only acked, and one that was not committed is committed now. Broker limits
to know: the session must outlive the gap between captures (``session_expiry_seconds``), and
Mosquitto keeps at most ``max_queued_messages`` (default 1000) for an offline session: raise
it (``max_queued_messages 0`` means no limit) for sources that burst between captures.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from synthcap_resources.sources.base import SourceUnreachableError
from synthcap_resources.sources.stream_spec import StreamSpec

CONNECT_TIMEOUT_S = 5.0
RECEIVE_MAXIMUM = 65_535  # unacked messages the broker may have in flight to us
CHECKPOINT_TOPIC = "synthcap/checkpoints/{client_id}"


@dataclass(frozen=True)
class Received:
    mid: int
    dup: bool
    topic: str
    payload: bytes
    time: dt.datetime


def app_id(spec: StreamSpec) -> str:
    return f"mqtt:{spec.durable}"


def public_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 1883}"


def _client(url: str, client_id: str, manual_ack: bool) -> mqtt.Client:
    parts = urlsplit(url)
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if parts.username:
        client.username_pw_set(unquote(parts.username), unquote(parts.password or ""))
    if parts.scheme == "mqtts":
        client.tls_set()
    return client


def _connect(client: mqtt.Client, url: str, where: str, props: Properties | None, fresh: bool):
    parts = urlsplit(url)
    connected = threading.Event()
    outcome: dict = {}

    def on_connect(_c, _u, flags, reason_code, _p):
        outcome["rc"] = reason_code
        connected.set()

    client.on_connect = on_connect
    try:
        client.connect(
            parts.hostname or "localhost",
            parts.port or 1883,
            keepalive=30,
            clean_start=fresh,
            properties=props,
        )
    except OSError as exc:
        raise SourceUnreachableError(
            f"{where}: cannot connect to MQTT broker at {public_url(url)}: {exc}"
        ) from exc
    client.loop_start()
    if not connected.wait(CONNECT_TIMEOUT_S) or outcome["rc"].is_failure:
        client.loop_stop()
        raise SourceUnreachableError(
            f"{where}: MQTT broker at {public_url(url)} refused or did not answer the "
            f"connection: {outcome.get('rc', 'timeout')}"
        )


class Session:
    """The persistent session of ``spec.durable``: collects messages, acks them, closes."""

    def __init__(self, spec: StreamSpec, url: str, where: str) -> None:
        self.spec, self.url, self.where = spec, url, where
        self.received: list[Received] = []
        self._arrived = threading.Condition()
        self.client = _client(url, spec.durable, manual_ack=True)
        self.client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = spec.session_expiry_seconds
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        _connect(self.client, url, where, props, fresh=False)
        self.client.subscribe(spec.subject, qos=1)
        if not subscribed.wait(CONNECT_TIMEOUT_S):
            self.close()
            raise SourceUnreachableError(
                f"{where}: MQTT broker at {public_url(url)} did not confirm the subscription "
                f"to {spec.subject!r}"
            )

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        item = Received(
            message.mid,
            bool(message.dup),
            message.topic,
            bytes(message.payload),
            dt.datetime.now(dt.UTC),
        )
        with self._arrived:
            self.received.append(item)
            self._arrived.notify_all()

    def collect(self, limit: int) -> list[Received]:
        """Messages until ``limit`` arrived or none arrived for ``max_wait_seconds``."""
        with self._arrived:
            while len(self.received) < limit:
                seen = len(self.received)
                self._arrived.wait(self.spec.max_wait_seconds)
                if len(self.received) == seen:
                    break
            return list(self.received)

    def ack(self, messages: list[Received]) -> None:
        for message in messages:
            self.client.ack(message.mid, 1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def read_checkpoint(url: str, client_id: str, where: str) -> dict | None:
    """The retained checkpoint of ``client_id``, or ``None`` when there is none yet."""
    got: list[bytes] = []
    subscribed = threading.Event()
    client = _client(url, f"synthcap-cp-{uuid.uuid4().hex[:12]}", manual_ack=False)
    client.on_message = lambda _c, _u, m: got.append(bytes(m.payload))
    client.on_subscribe = lambda *_: subscribed.set()
    _connect(client, url, where, None, fresh=True)
    try:
        client.subscribe(CHECKPOINT_TOPIC.format(client_id=client_id), qos=1)
        subscribed.wait(CONNECT_TIMEOUT_S)
        deadline = time.monotonic() + 0.5  # retained messages follow the SUBACK at once
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        client.disconnect()
        client.loop_stop()
    return json.loads(got[-1]) if got and got[-1] else None


def write_checkpoint(session: Session, checkpoint: dict) -> None:
    """Publish ``checkpoint`` retained at QoS 1 and wait for the broker to have it."""
    info = session.client.publish(
        CHECKPOINT_TOPIC.format(client_id=session.spec.durable),
        json.dumps(checkpoint),
        qos=1,
        retain=True,
    )
    info.wait_for_publish(CONNECT_TIMEOUT_S)
    if not info.is_published():
        raise SourceUnreachableError(
            f"{session.where}: MQTT broker did not confirm the capture checkpoint"
        )


def committer(session: Session, batch: list[Received], checkpoint: dict) -> Callable[[], None]:
    """``on_committed``: ack the batch's messages, mark its checkpoint done, close."""

    def on_committed() -> None:
        try:
            session.ack(batch)
            write_checkpoint(session, {**checkpoint, "done": True})
        finally:
            session.close()

    return on_committed
