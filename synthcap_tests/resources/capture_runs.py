"""Test helper: materialize ``raw_capture`` of one (source, day) with the definitions'
resources over a temporary lake and catalog folder, on a given Dagster instance."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import yaml

from synthcap_assets.capture.assets import raw_capture
from synthcap_assets.definitions import build_resources
from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
from synthcap_resources.sources.registry import sources_from_env

LICENSE = {"license": "CC0-1.0", "terms_url": "https://example.org/terms"}


def write_spec(folder: Path, spec: dict) -> Path:
    """Write ``spec`` (with a permissive license filled in) as ``<id>.yaml`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec['id']}.yaml"
    path.write_text(yaml.safe_dump({**LICENSE, **spec}, sort_keys=False))
    return path


def capture(
    instance: dg.DagsterInstance,
    lake: Path,
    sources: Path,
    source: str,
    day: dt.date,
    allowed_uses: list[str] | None = None,
) -> dg.ExecuteInProcessResult:
    """One ``raw_capture`` run of (``source``, ``day``); errors are returned, not raised.
    ``allowed_uses`` configures the lake's uses (e.g. ``["analytics"]`` for internal data)."""
    if source not in instance.get_dynamic_partitions(SOURCE_DIMENSION):
        instance.add_dynamic_partitions(SOURCE_DIMENSION, [source])
    resources = build_resources(lake=str(lake), sources=str(sources))
    if allowed_uses is not None:
        resources["sources"] = sources_from_env(allowed_uses=allowed_uses)
    return dg.materialize(
        [raw_capture],
        partition_key=partition_key(source, day),
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    """Every step failure's message and its causes, joined (for assertions on the cause)."""
    messages = []
    for event in result.all_events:
        error = event.step_failure_data.error if event.is_step_failure else None
        while error is not None:
            messages.append(error.message.strip())
            error = error.cause
    return " | ".join(messages)
