"""The alert sensor: failed asset checks (blocking or not) and failed runs, each alerted once.

The sensor walks two streams of the instance from its cursor: each check's executions (by
execution record id, which every storage numbers globally, including the default run-sharded
SQLite one) and run failures (by Dagster's run-status cursor). An execution still planned
by a run in progress holds that check's cursor until it completes. Every failed check
and every failed run becomes an :class:`Alert` with an idempotency key, delivered to the
``alerts`` resource's sinks; the cursor moves past an event only after its alert was
delivered (or found already delivered in the ``alerts`` table), so a daemon restart neither
resends nor loses one. A run that failed only because a blocking check failed is not alerted
again: the check's alert says it.

Check execution records and event-log cursors have no public Dagster API yet, so they are
imported from ``dagster._core`` (dagster is bounded below 1.14 in pyproject.toml for this).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import dagster as dg
from dagster._core.event_api import EventLogCursor
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
)

from synthcap_assets.partitions import DATE_DIMENSION, SOURCE_DIMENSION, source_date_partitions
from synthcap_resources.alerts import Alert, AlertDeliveryError, AlertsResource, run_url
from synthcap_resources.lakehouse import LakehouseResource

BATCH = 100
CHECK_FAILED_ERROR = "DagsterAssetCheckFailedError"


def _value(metadata: dict[str, Any], name: str) -> str | None:
    entry = metadata.get(name)
    if entry is None:
        return None
    value = getattr(entry, "value", entry)
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _partition(key: str | None) -> tuple[str | None, str | None]:
    if not key:
        return None, None
    try:
        dims = source_date_partitions.get_partition_key_from_str(key).keys_by_dimension
    except (ValueError, KeyError):
        return None, key
    return dims.get(SOURCE_DIMENSION), dims.get(DATE_DIMENSION)


def check_alert(record: AssetCheckExecutionRecord) -> Alert | None:
    """The alert of a failed check execution; ``None`` for a passed or unevaluated one."""
    if record.status != AssetCheckExecutionRecordStatus.FAILED or record.event is None:
        return None
    evaluation = record.event.dagster_event.asset_check_evaluation_data
    if evaluation.passed:
        return None
    source, day = _partition(evaluation.partition)
    check = f"{evaluation.asset_key.to_user_string()}.{evaluation.check_name}"
    metadata = dict(evaluation.metadata)
    severity = "WARN" if evaluation.severity == dg.AssetCheckSeverity.WARN else "ERROR"
    blocking = " (blocking)" if evaluation.blocking else ""
    run_id = record.run_id
    return Alert(
        key=f"check:{run_id}:{check}:{evaluation.partition or '-'}",
        kind="check_failed",
        severity=severity,
        message=f"check {check}{blocking} failed"
        + (f" for {source} on {day}" if source else "")
        + (f": {evaluation.description}" if evaluation.description else ""),
        occurred_at=dt.datetime.fromtimestamp(record.event.timestamp, dt.UTC),
        source=source,
        date=day,
        check=check,
        observed=_value(metadata, "observed") or evaluation.description or "check failed",
        expected=_value(metadata, "expected") or "check passes",
        run_id=run_id,
        run_url=run_url(run_id),
    )


def _own_error(error):
    """The step's own exception rather than Dagster's wrapper around it."""
    while error is not None and error.cls_name.startswith("Dagster") and error.cause is not None:
        if error.cls_name == CHECK_FAILED_ERROR:
            break
        error = error.cause
    return error


def run_alert(instance: dg.DagsterInstance, record: dg.EventLogRecord) -> Alert | None:
    """The alert of a run failure; ``None`` when only blocking checks failed it."""
    run_id = record.run_id
    failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    errors = [_own_error(f.dagster_event.step_failure_data.error) for f in failures]
    if errors and all(e is not None and e.cls_name == CHECK_FAILED_ERROR for e in errors):
        return None
    run = instance.get_run_by_id(run_id)
    tags = run.tags if run else {}
    source = tags.get(f"dagster/partition/{SOURCE_DIMENSION}")
    day = tags.get(f"dagster/partition/{DATE_DIMENSION}")
    detail = "; ".join(
        f"{f.step_key}: {e.cls_name}: {e.message.strip()[:300]}"
        for f, e in zip(failures, errors, strict=True)
        if e is not None
    )
    return Alert(
        key=f"run:{run_id}",
        kind="run_failed",
        severity="ERROR",
        message=f"run {run_id} of {record.event_log_entry.job_name} failed"
        + (f" for {source} on {day}" if source else ""),
        occurred_at=dt.datetime.fromtimestamp(record.timestamp, dt.UTC),
        source=source,
        date=day,
        observed=detail or record.event_log_entry.user_message,
        expected="run succeeds",
        run_id=run_id,
        run_url=run_url(run_id),
    )


def _cursor(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {"checks": {}, "runs": None}


def new_executions(
    instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, after_id: int
) -> list[AssetCheckExecutionRecord]:
    """The executions of ``check_key`` with an id above ``after_id``, oldest first."""
    found: list[AssetCheckExecutionRecord] = []
    page_cursor = None
    while True:
        page = instance.event_log_storage.get_asset_check_execution_history(
            check_key, limit=BATCH, cursor=page_cursor
        )
        newer = [r for r in page if r.id > after_id]
        found += newer
        if len(newer) < len(page) or len(page) < BATCH:
            return sorted(found, key=lambda r: r.id)
        page_cursor = page[-1].id


def _still_running(instance: dg.DagsterInstance, record: AssetCheckExecutionRecord) -> bool:
    if record.status != AssetCheckExecutionRecordStatus.PLANNED:
        return False
    run = instance.get_run_by_id(record.run_id)
    return run is not None and not run.is_finished


def _deliver_checks(
    context: dg.SensorEvaluationContext,
    alerts: AlertsResource,
    lakehouse: LakehouseResource,
    cursor: dict[str, int],
) -> int:
    """Alert every failed check execution past ``cursor``; moves ``cursor`` along."""
    if context.repository_def is None:
        raise dg.DagsterInvariantViolationError("alert_sensor needs its repository's checks")
    sent = 0
    for check_key in sorted(context.repository_def.asset_graph.asset_check_keys, key=str):
        name = check_key.to_user_string()
        for record in new_executions(context.instance, check_key, cursor.get(name, 0)):
            if _still_running(context.instance, record):
                break
            alert = check_alert(record)
            if alert is not None:
                sent += alerts.deliver(alert, lakehouse)
            cursor[name] = record.id
    return sent


@dg.sensor(
    minimum_interval_seconds=int(os.environ.get("SYNTHCAP_ALERT_INTERVAL_S", "30")),
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def alert_sensor(
    context: dg.SensorEvaluationContext, alerts: AlertsResource, lakehouse: LakehouseResource
) -> dg.SkipReason:
    """Delivers one alert per failed asset check and per failed run to the configured sinks,
    exactly once: a cursor over the event log plus an idempotency key in the alerts table."""
    cursor = _cursor(context.cursor)
    sent = 0
    try:
        sent += _deliver_checks(context, alerts, lakehouse, cursor["checks"])
        runs = context.instance.fetch_run_status_changes(
            dg.DagsterEventType.RUN_FAILURE, limit=BATCH, cursor=cursor["runs"], ascending=True
        )
        for record in runs.records:
            alert = run_alert(context.instance, record)
            if alert is not None:
                sent += alerts.deliver(alert, lakehouse)
            cursor["runs"] = EventLogCursor.from_storage_id(record.storage_id).to_string()
    except AlertDeliveryError as exc:
        context.log.error(f"{exc}; will retry from here on the next tick")
    finally:
        context.update_cursor(json.dumps(cursor))
    return dg.SkipReason(f"{sent} alert(s) delivered")
