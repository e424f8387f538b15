"""Parse one file of a file source into rows: CSV, JSON Lines, JSON, Parquet, Excel, text, PDF.

Tabular formats go through polars (Excel through fastexcel, polars' ``calamine`` engine);
text corpora become one row per non-empty line (``text``) or per page (``pdf``, via pypdf),
the text in the spec's ``text_column``. With ``tolerant=True`` a CSV or JSON Lines file with
some malformed rows still yields its good rows, and the bad ones come back as rejected rows
carrying ``_row`` (1-based line) and ``_reason`` for the quarantine; otherwise any malformed
row fails the whole file. Failures raise ``FileParseError`` with the cause; the connector
adds source and partition.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

import polars as pl

ROW_COLUMN = "_row"
REASON_COLUMN = "_reason"


class FileParseError(ValueError):
    """A file could not be parsed in its declared format."""


class EmptyFileError(FileParseError):
    """The file holds no bytes, or a header and no rows."""


@dataclass
class Parsed:
    rows: pl.DataFrame
    rejected: pl.DataFrame | None = None


Content = str | bytes  # a local path, or the file's bytes (remote files)


def _source(content: Content) -> str | io.BytesIO:
    return io.BytesIO(content) if isinstance(content, bytes) else content


def _as_bytes(content: Content) -> bytes:
    if isinstance(content, bytes):
        return content
    with open(content, "rb") as handle:
        return handle.read()


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _csv(content: Content, text_columns: list[str], tolerant: bool) -> Parsed:
    overrides = {c: pl.Utf8 for c in text_columns}
    try:
        return Parsed(
            pl.read_csv(
                _source(content),
                try_parse_dates=True,
                infer_schema_length=10_000,
                schema_overrides=overrides,
            )
        )
    except pl.exceptions.NoDataError as exc:
        raise EmptyFileError("the file is empty") from exc
    except pl.exceptions.PolarsError as exc:
        if not tolerant:
            raise FileParseError(_first_line(exc)) from exc
    # Fallback: the stdlib reader finds the rows whose field count differs from the header's.
    # Broken quoting is not a bad row but a broken file: strict mode fails it whole.
    text = _as_bytes(content).decode("utf-8", "replace")
    try:
        records = list(csv.reader(io.StringIO(text), strict=True))
    except csv.Error as exc:
        raise FileParseError(f"broken CSV quoting: {exc}") from exc
    if not records:
        raise EmptyFileError("the file is empty")
    header, good, bad = records[0], [], []
    for number, record in enumerate(records[1:], start=2):
        if len(record) == len(header):
            good.append(record)
        elif record:
            reason = f"line {number}: {len(record)} fields, header has {len(header)}"
            bad.append({"raw": ",".join(record), ROW_COLUMN: number, REASON_COLUMN: reason})
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *good])
    rows = pl.read_csv(
        io.BytesIO(buffer.getvalue().encode()),
        try_parse_dates=True,
        infer_schema_length=10_000,
        schema_overrides=overrides,
    )
    return Parsed(rows, pl.DataFrame(bad) if bad else None)


def _jsonl(content: Content, tolerant: bool) -> Parsed:
    try:
        return Parsed(pl.read_ndjson(_source(content), infer_schema_length=10_000))
    except pl.exceptions.PolarsError as exc:
        if not tolerant:
            raise FileParseError(_first_line(exc)) from exc
    good, bad = [], []
    lines = _as_bytes(content).decode("utf-8", "replace").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            bad.append({"raw": line, ROW_COLUMN: number, REASON_COLUMN: f"not JSON: {exc.msg}"})
            continue
        if not isinstance(value, dict):
            reason = f"a {type(value).__name__}, not an object"
            bad.append({"raw": line, ROW_COLUMN: number, REASON_COLUMN: reason})
            continue
        good.append(value)
    rows = pl.DataFrame(good, infer_schema_length=10_000) if good else pl.DataFrame()
    return Parsed(rows, pl.DataFrame(bad) if bad else None)


def _excel(content: Content, text_columns: list[str]) -> Parsed:
    from fastexcel import FastExcelError

    overrides = {c: pl.Utf8 for c in text_columns} or None
    try:
        return Parsed(
            pl.read_excel(_source(content), engine="calamine", schema_overrides=overrides)
        )
    except FastExcelError as exc:
        raise FileParseError(f"not a readable workbook: {_first_line(exc)}") from exc


def _text(content: Content, text_column: str, name: str) -> Parsed:
    lines = _as_bytes(content).decode("utf-8", "replace").splitlines()
    kept = [(i, line.strip()) for i, line in enumerate(lines, start=1) if line.strip()]
    return Parsed(
        pl.DataFrame(
            {
                text_column: [t for _, t in kept],
                "line": [i for i, _ in kept],
                "file": [name] * len(kept),
            },
            schema={text_column: pl.Utf8, "line": pl.Int64, "file": pl.Utf8},
        )
    )


def _pdf(content: Content, text_column: str, name: str) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(_as_bytes(content)))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
    except (PyPdfError, ValueError, KeyError) as exc:
        raise FileParseError(f"not a readable PDF: {_first_line(exc)}") from exc
    kept = [(i, text) for i, text in enumerate(pages, start=1) if text]
    return Parsed(
        pl.DataFrame(
            {
                text_column: [t for _, t in kept],
                "page": [i for i, _ in kept],
                "file": [name] * len(kept),
            },
            schema={text_column: pl.Utf8, "page": pl.Int64, "file": pl.Utf8},
        )
    )


def parse_file(
    content: Content,
    fmt: str,
    *,
    name: str,
    text_columns: list[str] | None = None,
    text_column: str | None = None,
    tolerant: bool = False,
) -> Parsed:
    """Rows (and rejected rows, when ``tolerant``) of one file; ``name`` labels text rows."""
    text_columns = text_columns or []
    if isinstance(content, bytes) and not content and fmt != "pdf":
        raise EmptyFileError("the file is empty")
    try:
        if fmt == "csv":
            parsed = _csv(content, text_columns, tolerant)
        elif fmt == "jsonl":
            parsed = _jsonl(content, tolerant)
        elif fmt == "json":
            parsed = Parsed(pl.read_json(_source(content), infer_schema_length=10_000))
        elif fmt == "parquet":
            parsed = Parsed(pl.read_parquet(_source(content)))
        elif fmt == "excel":
            parsed = _excel(content, text_columns)
        elif fmt == "text":
            parsed = _text(content, text_column or "text", name)
        elif fmt == "pdf":
            parsed = _pdf(content, text_column or "text", name)
        else:
            raise FileParseError(f"unsupported format {fmt!r}")
    except pl.exceptions.NoDataError as exc:
        raise EmptyFileError("the file is empty") from exc
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError) as exc:
        raise FileParseError(_first_line(exc)) from exc
    if parsed.rows.height == 0 and parsed.rejected is None:
        raise EmptyFileError("the file has no rows")
    return parsed
