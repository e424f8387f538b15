"""File sources: read one source's file for one day (CSV, JSON Lines, JSON, Parquet).

Every failure is a :class:`SourceReadError` naming the source, the day and the cause, raised
before anything is written, so a bad file never leaves a partial partition behind.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from synthcap_resources.catalog import SourceSpec


class SourceReadError(RuntimeError):
    """A source's data for a day could not be read: missing, empty or malformed."""


class SourceFileMissingError(SourceReadError):
    """No file exists for the source on that day."""


class EmptySourceError(SourceReadError):
    """The source's file for the day holds no rows."""


def _read(path: str, fmt: str, text_columns: list[str]) -> pl.DataFrame:
    if fmt == "csv":
        # Declared text stays text: type guessing would turn zip "01730" into 1730.
        return pl.read_csv(
            path,
            try_parse_dates=True,
            infer_schema_length=10_000,
            schema_overrides={c: pl.Utf8 for c in text_columns},
        )
    if fmt == "jsonl":
        return pl.read_ndjson(path, infer_schema_length=10_000)
    if fmt == "json":
        return pl.read_json(path, infer_schema_length=10_000)
    if fmt == "parquet":
        return pl.read_parquet(path)
    raise SourceReadError(f"unsupported format {fmt!r}")


def read_source_file(spec: SourceSpec, day: dt.date) -> pl.DataFrame:
    """The rows of ``spec``'s file for ``day``."""
    location = spec.resolve_location(day)
    where = f"source {spec.id!r}, partition {day.isoformat()}"
    if "://" not in location and not Path(location).is_file():
        raise SourceFileMissingError(f"{where}: no file at {location}")
    try:
        text = [c for c, t in (spec.declared_schema or {}).items() if t == "str"]
        df = _read(location, spec.format, text)
    except pl.exceptions.NoDataError as exc:
        raise EmptySourceError(f"{where}: the file {location} is empty") from exc
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceReadError(
            f"{where}: cannot parse {location} as {spec.format}: {first_line}"
        ) from exc
    if df.height == 0:
        raise EmptySourceError(f"{where}: the file {location} has a header but no rows")
    return df
