"""Reference data for the accuracy dimension: a trusted file per source (and optionally day).

The catalog's ``quality.reference`` names the file (``{date}`` optional; relative to the spec
file, absolute, or ``bundled://``), its format and the key columns it joins on.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from synthcap_resources.catalog import BUNDLED_SCHEME, BUNDLED_SOURCES_DIR, SourceSpec


class ReferenceReadError(RuntimeError):
    """The reference file of a source cannot be found or read."""


def reference_path(spec: SourceSpec, day: dt.date) -> Path:
    """Where ``spec``'s reference file for ``day`` is."""
    if spec.quality.reference is None:
        raise ReferenceReadError(f"source {spec.id!r} declares no quality.reference")
    location = spec.quality.reference.location.replace("{date}", day.isoformat())
    if location.startswith(BUNDLED_SCHEME):
        return BUNDLED_SOURCES_DIR / location.removeprefix(BUNDLED_SCHEME)
    path = Path(location)
    if path.is_absolute() or spec.spec_path is None:
        return path
    return (spec.spec_path.parent / path).resolve()


def read_reference(spec: SourceSpec, day: dt.date) -> pl.DataFrame | None:
    """The reference rows of ``spec`` for ``day``; ``None`` when the source declares none."""
    ref = spec.quality.reference
    if ref is None:
        return None
    path = reference_path(spec, day)
    where = f"source {spec.id!r}, partition {day.isoformat()}"
    if not path.is_file():
        raise ReferenceReadError(f"{where}: reference file {path} does not exist")
    try:
        if ref.format == "csv":
            return pl.read_csv(path, infer_schema_length=10_000)
        if ref.format == "jsonl":
            return pl.read_ndjson(path)
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise ReferenceReadError(f"{where}: cannot read reference {path}: {exc}") from exc
