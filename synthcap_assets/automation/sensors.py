"""Sensors: register a dynamic ``source`` partition for every new source in the catalog.

A broken catalog file must be seen, not buried in the daemon log: the valid files are
registered first, then one alert per broken file (and per distinct error, by idempotency key)
goes to the alert sinks, and the tick fails with every bad file, field and cause, so the
sensor's page in the UI shows it until the file is fixed.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import dagster as dg

from synthcap_assets.partitions import SOURCE_DIMENSION, source_partitions
from synthcap_resources.alerts import Alert, AlertsResource
from synthcap_resources.catalog import CatalogError, CatalogResource
from synthcap_resources.lakehouse import LakehouseResource


class CatalogSensorError(CatalogError):
    """One or more catalog files are invalid; the message names each file, field and cause."""


def catalog_alert(error: CatalogError, now: dt.datetime | None = None) -> Alert:
    """The alert of one invalid catalog file: keyed by its message (file, field and cause),
    so the same broken file alerts once, and a new error in it alerts again."""
    text = str(error)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return Alert(
        key=f"catalog:{digest}",
        kind="catalog_invalid",
        severity="ERROR",
        message=f"invalid source spec, not registered: {text}",
        occurred_at=now or dt.datetime.now(dt.UTC),
        check="catalog_sensor",
        observed=text,
        expected="a valid source spec (see `synthcap sources`)",
    )


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def catalog_sensor(
    context: dg.SensorEvaluationContext,
    catalog: CatalogResource,
    lakehouse: LakehouseResource,
    alerts: AlertsResource,
) -> dg.SensorResult:
    """Adds a ``source`` partition for each valid catalog file not yet registered; with any
    invalid file it registers the valid ones first, alerts once per invalid file, then fails
    the tick naming each file, field and cause."""
    specs, errors = catalog.scan()
    known = set(context.instance.get_dynamic_partitions(SOURCE_DIMENSION))
    new = sorted(set(specs) - known)
    if not errors:
        if not new:
            return dg.SensorResult(skip_reason=dg.SkipReason("no new sources"))
        context.log.info(f"registering sources: {', '.join(new)}")
        return dg.SensorResult(
            dynamic_partitions_requests=[source_partitions.build_add_request(new)]
        )
    if new:
        # A failed tick applies no SensorResult, so the valid files are registered here.
        context.instance.add_dynamic_partitions(SOURCE_DIMENSION, new)
        context.log.info(f"registered sources: {', '.join(new)}")
    sent = sum(alerts.deliver(catalog_alert(error), lakehouse) for error in errors)
    registered = f"registered {', '.join(new)}; " if new else ""
    raise CatalogSensorError(
        f"{registered}{len(errors)} invalid source spec(s) ({sent} alerted now): "
        + " | ".join(str(e) for e in errors)
    )
