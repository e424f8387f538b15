"""The stream sensor: requests a capture run while a stream source has messages waiting.

Every 30 seconds, for each enabled, registered ``stream`` source:

- **NATS JetStream**: the durable consumer's ``num_pending + num_ack_pending`` says how many
  messages wait; the first of them names the day whose partition is requested (a capture
  takes the messages of one day, so a backlog that spans days is drained day by day, in
  order). No request while any run of that source is queued or running (the sensor's, the
  schedule's or a manual one), so one consumer never has two readers. Dagster's daily
  partitions end at the last complete day, so the messages of the current day are captured
  once it is over (``date_partitions`` with ``end_offset=1`` would open today's partition
  and let streams land during the day).
- **MQTT** cannot be asked: the broker counts a session's queued messages only for itself,
  and looking at them would deliver them. MQTT sources are captured by the daily schedule
  (yesterday's partition) or by manual runs; the sensor says so in its skip reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import dagster as dg

from synthcap_assets.automation.landing import capture_sensor_status
from synthcap_assets.automation.schedules import daily_capture_job
from synthcap_assets.partitions import SOURCE_DIMENSION, date_partitions, partition_key
from synthcap_resources.catalog import CatalogResource, SourceSpec
from synthcap_resources.sources.base import SourceReadError
from synthcap_resources.sources.stream import Pending, StreamConnector

STREAM_TAG = "synthcap/stream_source"
# Dagster tags every run of a multi-partition with each dimension's key: any run of this
# source (the sensor's, the schedule's, a manual one) counts as a reader of its consumer.
SOURCE_RUN_TAG = f"dagster/partition/{SOURCE_DIMENSION}"
ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def stream_sources(specs: dict[str, SourceSpec], registered: Iterable[str]) -> list[SourceSpec]:
    """Enabled stream sources that have a registered ``source`` partition."""
    known = set(registered)
    return [
        spec
        for sid, spec in sorted(specs.items())
        if spec.kind == "stream" and spec.enabled and sid in known
    ]


def decide(
    spec: SourceSpec, pending: Pending, busy: bool, last_day: dt.date | None = None
) -> dg.RunRequest | str:
    """A run request for ``spec``, or why there is none. ``last_day``: the newest date that
    has a partition (Dagster's daily partitions end at the last complete day)."""
    if pending.count is None:
        return f"{spec.id}: MQTT cannot report waiting messages (captured by schedule/manual)"
    if not pending.count:
        return f"{spec.id}: nothing pending"
    if busy:
        return f"{spec.id}: {pending.count} pending, a capture is already queued or running"
    if pending.first_date is None:
        return f"{spec.id}: {pending.count} pending but the first message's date is unknown"
    if last_day is not None and pending.first_date > last_day:
        return (
            f"{spec.id}: {pending.count} pending from {pending.first_date}, whose partition "
            "opens when the day is complete"
        )
    return dg.RunRequest(
        partition_key=partition_key(spec.id, pending.first_date),
        tags={STREAM_TAG: spec.id, "synthcap/first_seq": str(pending.first_seq)},
    )


@dg.sensor(
    job=daily_capture_job,
    minimum_interval_seconds=30,
    # Stopped on a new instance unless SYNTHCAP_CAPTURE_SENSORS=running (landing.py says why).
    default_status=capture_sensor_status(),
)
def stream_sensor(context: dg.SensorEvaluationContext, catalog: CatalogResource):
    """Requests ``raw_capture`` of a stream source's partition while messages wait for it."""
    specs, _ = catalog.scan()
    registered = context.instance.get_dynamic_partitions(SOURCE_DIMENSION)
    connector = StreamConnector()
    last_key = date_partitions.get_last_partition_key()
    last_day = dt.date.fromisoformat(last_key) if last_key else None
    requests: list[dg.RunRequest] = []
    reasons: list[str] = []
    for spec in stream_sources(specs, registered):
        busy = bool(
            context.instance.get_run_ids(
                filters=dg.RunsFilter(tags={SOURCE_RUN_TAG: spec.id}, statuses=ACTIVE), limit=1
            )
        )
        try:
            outcome = decide(spec, connector.pending(spec), busy, last_day)
        except SourceReadError as exc:
            context.log.warning(str(exc))
            reasons.append(f"{spec.id}: {exc}")
            continue
        if isinstance(outcome, dg.RunRequest):
            requests.append(outcome)
        else:
            reasons.append(outcome)
    if requests:
        return dg.SensorResult(run_requests=requests)
    return dg.SkipReason("; ".join(reasons) or "no stream sources")
