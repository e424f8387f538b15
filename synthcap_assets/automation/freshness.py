"""Freshness per source: a ``dg.FreshnessPolicy`` from each source's schedule, and a sensor
that raises a stale-source alert.

Dagster evaluates a freshness policy per asset, but every source shares the one
``raw_capture`` asset, so the sensor applies each source's own policy to that source's
partitions: a cron policy whose deadline is the source's schedule and whose lower bound is
one schedule period. A source is stale when its latest capture (any date partition) is older
than the latest deadline tick minus that period: it missed a whole cycle. Each stale
(source, deadline tick) is alerted once. The cron helpers and the cron policy's class are not
public in Dagster yet (imported from ``dagster._utils`` / ``dagster._core``).
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
from dagster._core.definitions.freshness import CronFreshnessPolicy
from dagster._utils.schedules import get_latest_completed_cron_tick, get_smallest_cron_interval

from synthcap_assets.automation.alerting import BATCH
from synthcap_assets.partitions import SOURCE_DIMENSION, source_date_partitions
from synthcap_resources.alerts import Alert, AlertDeliveryError, AlertsResource
from synthcap_resources.catalog import CatalogResource, SourceSpec
from synthcap_resources.lakehouse import LakehouseResource

CAPTURE_KEY = dg.AssetKey("raw_capture")


def freshness_policy_for(spec: SourceSpec) -> CronFreshnessPolicy:
    """The source's policy: captured once per schedule period, by each schedule tick."""
    period = get_smallest_cron_interval(spec.schedule)
    return dg.FreshnessPolicy.cron(deadline_cron=spec.schedule, lower_bound_delta=period)


def stale_since(
    policy: CronFreshnessPolicy, last_capture: dt.datetime | None, now: dt.datetime
) -> dt.datetime | None:
    """The deadline tick the source missed, or ``None`` when it is fresh."""
    tick = get_latest_completed_cron_tick(policy.deadline_cron, now, policy.timezone)
    lower_bound = tick - policy.lower_bound_delta
    if last_capture is not None and last_capture >= lower_bound:
        return None
    return tick


def latest_captures(instance: dg.DagsterInstance, since: dt.datetime) -> dict[str, dt.datetime]:
    """The latest ``raw_capture`` materialization time per source since ``since``."""
    latest: dict[str, dt.datetime] = {}
    cursor = None
    while True:
        found = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=CAPTURE_KEY, after_timestamp=since.timestamp()),
            limit=BATCH,
            cursor=cursor,
        )
        for record in found.records:
            key = record.partition_key
            if not key:
                continue
            source = source_date_partitions.get_partition_key_from_str(key).keys_by_dimension[
                SOURCE_DIMENSION
            ]
            when = dt.datetime.fromtimestamp(record.timestamp, dt.UTC)
            latest[source] = max(when, latest.get(source, when))
        if not found.has_more:
            return latest
        cursor = found.cursor


def stale_alert(spec: SourceSpec, tick: dt.datetime, last: dt.datetime | None) -> Alert:
    """The alert that ``spec``'s source missed the deadline ``tick``."""
    bound = tick - freshness_policy_for(spec).lower_bound_delta
    seen = f"last capture {last.isoformat()}" if last else f"no capture since {bound.isoformat()}"
    return Alert(
        key=f"stale:{spec.id}:{tick.isoformat()}",
        kind="stale_source",
        severity="ERROR",
        message=f"source {spec.id!r} is stale: no capture for the deadline {tick.isoformat()} "
        f"(schedule {spec.schedule!r})",
        occurred_at=dt.datetime.now(dt.UTC),
        source=spec.id,
        date=(tick.date() - dt.timedelta(days=1)).isoformat(),
        check="raw_capture.freshness",
        observed=seen,
        expected=f"a capture after {bound.isoformat()}",
    )


@dg.sensor(minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.RUNNING)
def stale_source_sensor(
    context: dg.SensorEvaluationContext,
    catalog: CatalogResource,
    alerts: AlertsResource,
    lakehouse: LakehouseResource,
) -> dg.SkipReason:
    """Alerts once per missed deadline for every enabled, registered source whose latest
    capture is older than its freshness policy (from its schedule) allows."""
    now = dt.datetime.now(dt.UTC)
    specs, _ = catalog.scan()
    registered = set(context.instance.get_dynamic_partitions(SOURCE_DIMENSION))
    due = [s for sid, s in sorted(specs.items()) if s.enabled and sid in registered]
    if not due:
        return dg.SkipReason("no enabled, registered source")
    policies = {s.id: freshness_policy_for(s) for s in due}
    earliest = min(
        get_latest_completed_cron_tick(p.deadline_cron, now, p.timezone) - p.lower_bound_delta
        for p in policies.values()
    )
    captured = latest_captures(context.instance, earliest)
    stale = []
    for spec in due:
        tick = stale_since(policies[spec.id], captured.get(spec.id), now)
        if tick is None or tick.date() <= spec.start_date:
            continue
        stale.append(spec.id)
        try:
            alerts.deliver(stale_alert(spec, tick, captured.get(spec.id)), lakehouse)
        except AlertDeliveryError as exc:
            context.log.error(f"{exc}; will retry on the next tick")
    return dg.SkipReason(f"stale: {', '.join(stale)}" if stale else "every source is fresh")
