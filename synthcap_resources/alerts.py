"""Alert sinks: a structured log line, a webhook (JSON, optionally Slack-formatted) and the
``alerts`` table in the lake.

Each alert has an idempotency key. The ``alerts`` table (``state/alerts``) is the record of
what was delivered: an alert whose key is already there is not sent again, and a row is
appended only after every configured sink took the alert, so a crash between the two can
only lead to a retry, which the webhook receiver can recognise by the ``Idempotency-Key``
header. The webhook URL (it often carries a token) is read from the environment variable the
resource names, never stored in configuration.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Literal

import dagster as dg
import polars as pl

from synthcap_resources.lakehouse import LakehouseResource

ALERTS_TABLE = "state/alerts"
WEBHOOK_URL_ENV = "SYNTHCAP_ALERT_WEBHOOK_URL"
WEBHOOK_FORMAT_ENV = "SYNTHCAP_ALERT_WEBHOOK_FORMAT"
UI_URL_ENV = "SYNTHCAP_UI_URL"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
ALERT_SCHEMA = {
    "key": pl.Utf8,
    "kind": pl.Utf8,
    "source": pl.Utf8,
    "date": pl.Utf8,
    "check": pl.Utf8,
    "severity": pl.Utf8,
    "observed": pl.Utf8,
    "expected": pl.Utf8,
    "message": pl.Utf8,
    "run_id": pl.Utf8,
    "run_url": pl.Utf8,
    "occurred_at": pl.Datetime("us", "UTC"),
    "delivered_at": pl.Datetime("us", "UTC"),
    "sinks": pl.Utf8,
}
_LOG = logging.getLogger("synthcap.alerts")


class AlertDeliveryError(RuntimeError):
    """A sink did not take an alert; the message names the alert key, the sink and the cause."""


@dataclass(frozen=True)
class Alert:
    """One thing a person should hear about, with what was observed and what was expected."""

    key: str
    kind: Literal["check_failed", "run_failed", "stale_source", "catalog_invalid"]
    severity: Literal["ERROR", "WARN"]
    message: str
    occurred_at: dt.datetime
    source: str | None = None
    date: str | None = None
    check: str | None = None
    observed: str | None = None
    expected: str | None = None
    run_id: str | None = None
    run_url: str | None = None

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["occurred_at"] = self.occurred_at.isoformat()
        return data


def run_url(run_id: str) -> str:
    """The Dagster UI page of a run (``SYNTHCAP_UI_URL``, default the local ``dagster dev``)."""
    return f"{os.environ.get(UI_URL_ENV, DEFAULT_UI_URL).rstrip('/')}/runs/{run_id}"


def slack_payload(alert: Alert) -> dict[str, Any]:
    """``alert`` as a Slack incoming-webhook message (``text`` plus a section block)."""
    icon = ":red_circle:" if alert.severity == "ERROR" else ":warning:"
    title = f"{icon} synthcap {alert.kind.replace('_', ' ')}: {alert.check or alert.source}"
    fields = [
        ("source", alert.source),
        ("date", alert.date),
        ("severity", alert.severity),
        ("observed", alert.observed),
        ("expected", alert.expected),
    ]
    lines = [f"*{name}*: {value}" for name, value in fields if value]
    if alert.run_url:
        lines.append(f"<{alert.run_url}|open the run>")
    body = "\n".join([alert.message, *lines])
    return {
        "text": f"{title}\n{body}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": body[:3000]}},
        ],
    }


class AlertsResource(dg.ConfigurableResource):
    """Where alerts go: ``log`` (structured JSON on the ``synthcap.alerts`` logger), a webhook
    when ``webhook_url_env`` is set in the environment, and the ``alerts`` table when
    ``table`` is true. ``webhook_format``: ``json`` (the alert itself) or ``slack``."""

    log: bool = True
    table: bool = True
    webhook_url_env: str = WEBHOOK_URL_ENV
    webhook_format: Literal["json", "slack"] = "json"
    webhook_timeout_s: float = 10.0

    @classmethod
    def from_env(cls) -> AlertsResource:
        """The sinks with ``SYNTHCAP_ALERT_WEBHOOK_FORMAT`` (``json`` or ``slack``) applied."""
        fmt = os.environ.get(WEBHOOK_FORMAT_ENV, "json")
        if fmt not in ("json", "slack"):
            raise ValueError(f"{WEBHOOK_FORMAT_ENV}={fmt!r}: use 'json' or 'slack'")
        return cls(webhook_format=fmt)

    def webhook_url(self) -> str | None:
        return os.environ.get(self.webhook_url_env) or None

    def delivered(self, lakehouse: LakehouseResource, keys: list[str]) -> set[str]:
        """The ``keys`` already delivered (present in the alerts table)."""
        table = lakehouse.read_table(ALERTS_TABLE) if self.table else None
        if table is None or not keys:
            return set()
        return set(table.filter(pl.col("key").is_in(keys))["key"].to_list())

    def post(self, alert: Alert, url: str) -> None:
        payload = slack_payload(alert) if self.webhook_format == "slack" else alert.as_json()
        request = urllib.request.Request(
            url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Idempotency-Key": alert.key},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.webhook_timeout_s) as response:
                status = response.status
        except (urllib.error.URLError, OSError) as exc:
            raise AlertDeliveryError(f"alert {alert.key}: webhook failed: {exc}") from exc
        if not 200 <= status < 300:
            raise AlertDeliveryError(f"alert {alert.key}: webhook answered HTTP {status}")

    def deliver(self, alert: Alert, lakehouse: LakehouseResource) -> bool:
        """Send ``alert`` to every sink unless its key was delivered before; ``True`` if sent.

        Raises :class:`AlertDeliveryError` when the webhook does not take it (nothing is
        recorded then, so the alert is retried).
        """
        if alert.key in self.delivered(lakehouse, [alert.key]):
            return False
        sinks = []
        url = self.webhook_url()
        if url:
            self.post(alert, url)
            sinks.append("webhook")
        if self.log:
            _LOG.warning(json.dumps({"alert": alert.as_json()}, default=str))
            sinks.append("log")
        if self.table:
            now = dt.datetime.now(dt.UTC)
            row = {**alert.as_json(), "occurred_at": alert.occurred_at, "delivered_at": now}
            row["sinks"] = ",".join([*sinks, "table"])
            lakehouse.append(ALERTS_TABLE, pl.DataFrame([row], schema=ALERT_SCHEMA))
        return True
