"""Catalog block of a ``stream`` source: a NATS JetStream subject or an MQTT topic.

Only the shape lives here (pydantic, no I/O); ``stream.py`` does the consuming.

- NATS: ``stream_name`` (the JetStream stream holding ``subject``) and ``durable`` (the name of
  the durable pull consumer synthcap creates and owns) are required.
- MQTT: ``durable`` is the fixed client id of the persistent session (QoS 1, MQTT 5 with
  ``clean_start=False``) that keeps unacknowledged messages for synthcap between runs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME = r"^[A-Za-z0-9_-]+$"


class StreamSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    broker: Literal["nats", "mqtt"]
    # nats://host:4222 or mqtt://host:1883; credentials, if any, through url_env instead.
    url: str = Field(pattern=r"^(nats|tls|mqtt|mqtts)://")
    # Environment variable holding the URL with credentials (overrides ``url`` when set).
    url_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    subject: Annotated[str, Field(min_length=1)]  # NATS subject or MQTT topic filter
    stream_name: Annotated[str, Field(pattern=NAME)] | None = None  # JetStream stream
    durable: Annotated[str, Field(pattern=NAME)] | None = None  # consumer name / MQTT client id
    # Payload field holding the message's time (ISO 8601 or epoch seconds); default: the
    # broker's stored time (NATS) or the receive time (MQTT).
    time_field: str | None = None
    # Messages per capture run (one Delta commit): size it to the stream's rate times the
    # stream sensor's interval, or the backlog grows faster than runs drain it.
    batch_size: Annotated[int, Field(gt=0, le=1_000_000)] = 100_000
    # How long a read waits for more messages once none arrive.
    max_wait_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    # NATS: how long delivered messages stay unacknowledged before the broker may redeliver.
    ack_wait_seconds: Annotated[float, Field(gt=0)] = 600.0
    # MQTT: how long the broker keeps the session (and its queued messages) while offline.
    session_expiry_seconds: Annotated[int, Field(gt=0)] = 7 * 24 * 3600

    @model_validator(mode="after")
    def _broker_fields(self) -> StreamSpec:
        if self.broker == "nats" and (not self.stream_name or not self.durable):
            raise ValueError("a NATS stream source needs 'stream_name' and 'durable'")
        if self.broker == "mqtt" and not self.durable:
            raise ValueError("an MQTT stream source needs 'durable' (its fixed client id)")
        return self
