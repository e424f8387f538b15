"""File sources: one day's file(s) of a source, local or ``s3://``, in any supported format.

The spec's ``location`` has ``{date}`` and may glob (``landing/orders/{date}/*.csv``): every
matching file is read and the rows concatenated. Text formats are read with the spec's
``encoding``, ``delimiter``, ``decimal`` and ``quote`` (see ``file_formats``). Every failure is
a :class:`SourceReadError` naming the source, the day, the file and the cause (bytes that do
not decode: :class:`SourceEncodingError`, with line, byte offset and the likely encoding),
raised before anything is written, so a bad file never leaves a partial partition behind.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from synthcap_resources.catalog import SourceSpec
from synthcap_resources.sources.base import (
    CaptureBatch,
    DateWindow,
    EmptySourceError,
    FileEntry,
    SourceFileMissingError,
    SourceReadError,
    SourceUnreachableError,
)
from synthcap_resources.sources.file_formats import (
    EmptyFileError,
    FileEncodingError,
    FileParseError,
    TextOptions,
    parse_file,
)
from synthcap_resources.sources.filestore import (
    GLOB_CHARS,
    is_s3,
    list_files,
    read_bytes,
)
from synthcap_resources.sources.schema_types import catalog_types

__all__ = [
    "EmptySourceError",
    "FileConnector",
    "SourceEncodingError",
    "SourceFileMissingError",
    "SourceReadError",
    "read_source_file",
]


class SourceEncodingError(SourceReadError):
    """A file's bytes are not valid text in the source's declared ``encoding``."""


def text_options(spec: SourceSpec) -> TextOptions:
    """How ``spec``'s text files are decoded and split, from its catalog entry."""
    return TextOptions(
        encoding=spec.encoding, delimiter=spec.delimiter, decimal=spec.decimal, quote=spec.quote
    )


def _text_columns(spec: SourceSpec) -> list[str]:
    # Declared text stays text: type guessing would turn zip "01730" into 1730.
    return [c for c, t in (spec.declared_schema or {}).items() if t == "str"]


def _files_of(spec: SourceSpec, day: dt.date, where: str) -> tuple[str, list[FileEntry]]:
    location = spec.resolve_location(day)
    try:
        files = list_files(location)
    except Exception as exc:  # boto3/botocore raise many unrelated types; all mean "unreachable"
        if is_s3(location):
            raise SourceUnreachableError(f"{where}: cannot list {location}: {exc}") from exc
        raise
    if not files:
        what = "no file matches" if GLOB_CHARS.search(location) else "no file at"
        raise SourceFileMissingError(f"{where}: {what} {location}")
    return location, files


def _parse(spec: SourceSpec, entry: FileEntry, where: str, tolerant: bool):
    try:
        content = read_bytes(entry.path) if is_s3(entry.path) else entry.path
    except Exception as exc:  # botocore's error types are many; all mean "could not fetch"
        raise SourceUnreachableError(f"{where}: cannot fetch {entry.path}: {exc}") from exc
    try:
        return parse_file(
            content,
            spec.format,
            name=entry.path.rsplit("/", 1)[-1],
            text_columns=_text_columns(spec),
            text_column=spec.text_column,
            tolerant=tolerant,
            options=text_options(spec),
        )
    except EmptyFileError as exc:
        detail = "is empty" if "empty" in str(exc) else "has a header but no rows"
        raise EmptySourceError(f"{where}: the file {entry.path} {detail}") from exc
    except FileEncodingError as exc:
        raise SourceEncodingError(f"{where}: cannot decode {entry.path}: {exc}") from exc
    except FileParseError as exc:
        raise SourceReadError(
            f"{where}: cannot parse {entry.path} as {spec.format}: {exc}"
        ) from exc


def read_source_file(spec: SourceSpec, day: dt.date) -> pl.DataFrame:
    """The rows of ``spec``'s file(s) for ``day``; any malformed row fails the read."""
    where = f"source {spec.id!r}, partition {day.isoformat()}"
    _, files = _files_of(spec, day, where)
    frames = [_parse(spec, entry, where, tolerant=False).rows for entry in files]
    return frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")


class FileConnector:
    """The ``file`` kind: local folders and S3, one day per read, malformed rows quarantined."""

    def check(self, spec: SourceSpec) -> None:
        """The landing location can be listed: a bucket that cannot be listed, or a local
        folder above ``{date}`` that does not exist, raises :class:`SourceUnreachableError`."""
        template = spec.location_template()
        where = f"source {spec.id!r}"
        if is_s3(template):
            try:
                list_files(template.replace("{date}", "*"))
            except Exception as exc:  # botocore: NoSuchBucket, credentials, endpoint, ...
                raise SourceUnreachableError(f"{where}: cannot list {template}: {exc}") from exc
            return
        fixed = Path(template.split("{date}", 1)[0])
        folder = fixed if template.split("{date}", 1)[0].endswith("/") else fixed.parent
        if not folder.is_dir():
            raise SourceUnreachableError(f"{where}: landing folder {folder} does not exist")

    def discover(self, spec: SourceSpec) -> dict[str, str]:
        """Columns and catalog types of the first day's data."""
        return catalog_types(read_source_file(spec, spec.start_date))

    def read(
        self, spec: SourceSpec, window: DateWindow, cursor: dict[str, Any] | None = None
    ) -> CaptureBatch:
        """Every file of the window's day; rows concatenated, bad rows returned as rejected."""
        where = window.where(spec.id)
        _, files = _files_of(spec, window.day, where)
        frames, rejected = [], []
        for entry in files:
            parsed = _parse(spec, entry, where, tolerant=True)
            if parsed.rows.height:
                frames.append(parsed.rows)
            if parsed.rejected is not None:
                rejected.append(
                    parsed.rejected.with_columns(pl.lit(entry.path).alias("file"))
                    if len(files) > 1
                    else parsed.rejected
                )
        if not frames:
            raise EmptySourceError(f"{where}: no readable rows in {len(files)} file(s)")
        rows = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
        return CaptureBatch(
            rows=rows,
            origins=[e.path for e in files],
            rejected=pl.concat(rejected, how="diagonal_relaxed") if rejected else None,
            files=files,
        )
