"""The landing-zone sensor: a new file for a file source requests a run for (source, date).

For every enabled, registered ``file`` source, the sensor lists its landing location with
``{date}`` as a wildcard, groups the files by the date in their path and compares them with
the lake's ``state/captured_files`` (path, size, mtime). A date with a file not yet captured
(or one that changed) gets one run request; its run key names the new files, so a tick that
sees the same files again asks for nothing, and each file is captured once.

The capture sensors (this one and the stream sensor) start **stopped** on a new instance, as
Dagster's sensors do by default: on their first tick they would request a capture of every
landed day since each source's start date (every bundled day on a fresh instance: 15 runs
queued in the first two minutes, measured), and a run launched from the UI would wait behind
them. Turn them on in the UI (Automation), with ``dagster sensor start``, or for a
deployment with ``SYNTHCAP_CAPTURE_SENSORS=running``; the UI remembers the choice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable

import dagster as dg

from synthcap_assets.automation.schedules import daily_partition_job
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.catalog import CatalogResource, SourceSpec
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_resources.sources.base import FileEntry
from synthcap_resources.sources.filestore import date_pattern, list_files
from synthcap_resources.sources.state import FileKey, captured_files, file_key

CAPTURE_SENSORS_ENV = "SYNTHCAP_CAPTURE_SENSORS"


class CaptureSensorsSettingError(ValueError):
    """``SYNTHCAP_CAPTURE_SENSORS`` is neither ``stopped`` nor ``running``."""


def capture_sensor_status() -> dg.DefaultSensorStatus:
    """The capture sensors' status on a new instance: ``SYNTHCAP_CAPTURE_SENSORS`` (default
    ``stopped``)."""
    value = os.environ.get(CAPTURE_SENSORS_ENV, "stopped").strip().lower() or "stopped"
    if value not in ("stopped", "running"):
        raise CaptureSensorsSettingError(
            f"{CAPTURE_SENSORS_ENV}={value!r}: use 'stopped' (the default) or 'running'"
        )
    return dg.DefaultSensorStatus.RUNNING if value == "running" else dg.DefaultSensorStatus.STOPPED


def new_files_by_day(
    template: str, landed: Iterable[FileEntry], captured: set[FileKey], since: dt.date
) -> dict[dt.date, list[FileEntry]]:
    """Files of ``landed`` not in ``captured``, by the date their path carries (from
    ``since`` on); paths that do not fit ``template`` are ignored."""
    pattern = date_pattern(template)
    found: dict[dt.date, list[FileEntry]] = defaultdict(list)
    for entry in landed:
        match = pattern.match(entry.path)
        if match is None or file_key(entry) in captured:
            continue
        try:
            day = dt.date.fromisoformat(match.group("date"))
        except ValueError:
            continue
        if day >= since:
            found[day].append(entry)
    return dict(sorted(found.items()))


def run_key(source: str, day: dt.date, entries: list[FileEntry]) -> str:
    """One key per (source, date, set of new files)."""
    digest = hashlib.sha256(
        "\n".join(sorted(f"{e.path}|{e.size}|{e.mtime}" for e in entries)).encode()
    ).hexdigest()
    return f"landing|{source}|{day.isoformat()}|{digest[:16]}"


def landing_requests(spec: SourceSpec, lakehouse: LakehouseResource) -> list[dg.RunRequest]:
    """The run requests of one file source's new files."""
    template = spec.location_template()
    landed = list_files(template.replace("{date}", "*"))
    new = new_files_by_day(template, landed, captured_files(lakehouse, spec.id), spec.start_date)
    return [
        dg.RunRequest(
            run_key=run_key(spec.id, day, entries),
            partition_key=partition_key(spec.id, day),
            tags={"synthcap/trigger": "landing", "synthcap/new_files": str(len(entries))},
        )
        for day, entries in new.items()
    ]


@dg.sensor(
    job=daily_partition_job,
    minimum_interval_seconds=60,
    default_status=capture_sensor_status(),
)
def landing_sensor(
    context: dg.SensorEvaluationContext, catalog: CatalogResource, lakehouse: LakehouseResource
) -> dg.SensorResult:
    """Requests a run for each (file source, date) with a newly landed or changed file."""
    specs, _ = catalog.scan()
    registered = set(context.instance.get_dynamic_partitions(SOURCE_DIMENSION))
    requests: list[dg.RunRequest] = []
    for spec in specs.values():
        if spec.kind != "file" or not spec.enabled or spec.id not in registered:
            continue
        try:
            requests.extend(landing_requests(spec, lakehouse))
        except Exception as exc:  # one unreadable landing zone must not hide the others
            context.log.error(f"landing zone of source {spec.id!r}: {exc}")
    if not requests:
        return dg.SensorResult(skip_reason=dg.SkipReason("no new files landed"))
    return dg.SensorResult(run_requests=requests)
