"""Parse one file of a file source into rows: CSV, JSON Lines, JSON, Parquet, Excel, text, PDF.

Text formats (CSV, JSON Lines, JSON, text) are decoded strictly in the catalog's ``encoding``
(default UTF-8; a leading byte-order mark is dropped): a byte that does not decode fails the
file with :class:`FileEncodingError` naming the line, the byte offset and the encoding
charset-normalizer finds likely. No byte is ever replaced. A CSV is split on the catalog's
``delimiter``, or, when none is declared, on the one of ``, ; <tab> |`` that splits the header
into the most fields and gives most lines the header's field count; a header that parses to one
column while it holds another of those characters fails with :class:`DelimiterError` naming it.
``decimal: ","`` reads ``12,5`` as 12.5 and ``quote`` sets the quoting character.

Tabular formats go through polars (Excel through fastexcel, polars' ``calamine`` engine);
text corpora become one row per non-empty line (``text``) or per page (``pdf``, via pypdf),
the text in the spec's ``text_column``. With ``tolerant=True`` a CSV or JSON Lines file with
some malformed rows still yields its good rows, and the bad ones come back as rejected rows
carrying ``_row`` (1-based line) and ``_reason`` for the quarantine; otherwise any malformed
row fails the whole file. Failures raise ``FileParseError`` with the cause; the connector
adds source, partition and file. A CSV is read by polars and its fields counted per record
over the bytes (``file_csv``); Python's ``csv`` module counts only files whose quoting or
line ends only it settles, so a million-row file costs no per-row Python.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass
from itertools import islice

import polars as pl

from synthcap_resources.sources.file_csv import (
    every_record_full,
    parsed_record,
    read_typed,
    record_fields,
)

ROW_COLUMN = "_row"
REASON_COLUMN = "_reason"
DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 64 * 1024
SNIFF_RECORDS = 50
TEXT_FORMATS = ("csv", "jsonl", "json", "text")
# Preferred among encodings that explain the bytes equally well (charset-normalizer's names).
COMMON_ENCODINGS = ("utf_8", "cp1252", "latin_1", "iso8859_15", "cp1250", "cp1251")


class FileParseError(ValueError):
    """A file could not be parsed in its declared format."""


class EmptyFileError(FileParseError):
    """The file holds no bytes, or a header and no rows."""


class FileEncodingError(FileParseError):
    """The file's bytes are not valid text in the declared encoding."""


class DelimiterError(FileParseError):
    """A CSV header parses to one column although it holds another common delimiter."""


@dataclass(frozen=True)
class TextOptions:
    """How a text file's bytes become rows: the catalog's ``encoding``, ``delimiter`` (None:
    sniffed), ``decimal`` and ``quote``."""

    encoding: str = "utf-8"
    delimiter: str | None = None
    decimal: str = "."
    quote: str = '"'


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


def _utf8(data: bytes, encoding: str) -> tuple[bytes, str | None]:
    """``data`` as UTF-8 bytes (what polars reads) and decoded (``decode_text``), the text
    ``None`` when the bytes are ASCII under a UTF-8 encoding: valid as they are, so neither
    checked nor copied. UTF-8 is passed on as read, less a byte-order mark."""
    utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    if utf8 and data.isascii():
        return data, None
    text = decode_text(data, encoding)
    return (data.removeprefix(codecs.BOM_UTF8) if utf8 else text.encode("utf-8")), text


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def likely_encodings(data: bytes, near: int = 0) -> list[str]:
    """The encodings charset-normalizer finds most likely for ``data`` (judged on the bytes
    around offset ``near``), best first; among equally likely ones the more common comes
    first (Windows-1252 over its regional siblings). Empty when it finds none."""
    from charset_normalizer import from_bytes

    start = max(0, near - SNIFF_BYTES // 2)
    matches = list(from_bytes(data[start : start + SNIFF_BYTES]))
    if not matches:
        return []
    best = min((m.chaos, -m.coherence) for m in matches)
    tied = [m.encoding for m in matches if (m.chaos, -m.coherence) == best]
    rest = [m.encoding for m in matches if m.encoding not in tied]
    common = [e for e in COMMON_ENCODINGS if e in tied]
    return common + [e for e in tied if e not in common] + rest


def decode_text(data: bytes, encoding: str) -> str:
    """``data`` decoded strictly as ``encoding``, without a leading byte-order mark.

    Raises :class:`FileEncodingError` naming the line, the byte offset, the bytes and the
    likely encoding when a byte does not decode.
    """
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        guesses = [g for g in likely_encodings(data, exc.start) if g != encoding]
        hint = "charset-normalizer finds no likely encoding"
        if guesses:
            hint = (
                f"the bytes look like {guesses[0]}: declare `encoding: {guesses[0]}` if the "
                "source sends that"
                + (f" (also plausible: {', '.join(guesses[1:4])})" if guesses[1:] else "")
            )
        raise FileEncodingError(
            f"not valid {encoding} at line {line}, column {column}, byte offset {exc.start} "
            f"(byte(s) {data[exc.start : exc.end].hex(' ')}: {exc.reason}); {hint}"
        ) from exc
    return text.removeprefix("\ufeff")


def _header_fields(head: str, delimiter: str, quote: str) -> list[int]:
    reader = csv.reader(io.StringIO(head), delimiter=delimiter, quotechar=quote)
    return [len(record) for record in islice(reader, SNIFF_RECORDS) if record]


def sniff_delimiter(text: str, quote: str = '"', exclude: str = "") -> str | None:
    """The one of ``, ; <tab> |`` that splits the head of ``text`` into the most columns with
    the header's field count the most common among the first lines; ``None`` when none splits
    the header."""
    head = text[:SNIFF_BYTES].rsplit("\n", 1)[0] if len(text) > SNIFF_BYTES else text
    best, best_key = None, None
    for candidate in DELIMITERS:
        if candidate in exclude:
            continue
        counts = _header_fields(head, candidate, quote)
        if not counts or counts[0] < 2:
            continue
        agree = counts.count(counts[0])
        consistent = agree >= max(counts.count(c) for c in set(counts))
        key = (consistent, agree / len(counts), counts[0])
        if best_key is None or key > best_key:
            best, best_key = candidate, key
    return best


def csv_delimiter(text: str, options: TextOptions) -> str:
    """The delimiter to split ``text`` on: declared, else sniffed, else ``,``.

    Raises :class:`DelimiterError` when the header parses to one column with it while another
    common delimiter splits the header and the lines alike, and :class:`FileParseError` when a
    decimal comma meets a comma delimiter.
    """
    exclude = "," if options.decimal == "," else ""
    delimiter = options.delimiter or sniff_delimiter(text, options.quote, exclude) or ","
    if delimiter == "," and options.decimal == ",":
        raise FileParseError(
            "decimal ',' needs a delimiter other than ','; declare `delimiter:` (e.g. ';')"
        )
    head = text[:SNIFF_BYTES]
    if _header_fields(head, delimiter, options.quote)[:1] != [1]:
        return delimiter
    for other in DELIMITERS:
        if other == delimiter:
            continue
        counts = _header_fields(head, other, options.quote)
        if counts and counts[0] > 1 and counts.count(counts[0]) * 2 > len(counts):
            raise DelimiterError(
                f"the header parses to one column with delimiter {delimiter!r}, but it and "
                f"its lines hold {other!r}, which splits the header into {counts[0]} columns: "
                f"declare `delimiter: {other!r}` in the catalog"
            )
    return delimiter


def _read_csv(data: bytes, delimiter: str, options: TextOptions, overrides: dict) -> pl.DataFrame:
    return read_typed(data, delimiter, options.quote, options.decimal == ",", overrides)


def _ragged(text: str, delimiter: str, quote: str) -> tuple[list[str], list[list[str]], list[dict]]:
    """Header, good records and rejected rows (field count unlike the header's) of ``text``.
    Broken quoting is not a bad row but a broken file: it raises."""
    try:
        records = list(
            csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote, strict=True)
        )
    except csv.Error as exc:
        raise FileParseError(f"broken CSV quoting: {exc}") from exc
    header, good, bad = records[0], [], []
    for number, record in enumerate(records[1:], start=2):
        if len(record) == len(header):
            good.append(record)
        elif record:
            bad.append(_rejected(delimiter.join(record), number, len(record), len(header)))
    return header, good, bad


def _rejected(raw: str, number: int, fields: int, header: int) -> dict:
    reason = f"line {number}: {fields} fields, header has {header}"
    return {"raw": raw, ROW_COLUMN: number, REASON_COLUMN: reason}


def _refuse(bad: list[dict]) -> FileParseError:
    return FileParseError(f"{bad[0][REASON_COLUMN]} ({len(bad)} row(s) with a wrong count)")


def _csv_by_rows(
    text: str,
    delimiter: str,
    options: TextOptions,
    overrides: dict,
    rows: pl.DataFrame | None,
    failure: Exception | None,
    tolerant: bool,
) -> Parsed:
    """Ragged rows found by Python's csv module, for files whose quoting or line ends only it
    settles (``file_csv.record_fields`` returns ``None``): slow, but the rule for them."""
    header, good, bad = _ragged(text, delimiter, options.quote)
    if rows is not None and not bad:
        return Parsed(rows)
    if not tolerant:
        if not bad:
            raise FileParseError(_first_line(failure)) from failure
        raise _refuse(bad)
    buffer = io.StringIO()
    dialect = {"delimiter": delimiter, "quotechar": options.quote}
    csv.writer(buffer, lineterminator="\n", **dialect).writerows([header, *good])
    rows = _read_csv(buffer.getvalue().encode("utf-8"), delimiter, options, overrides)
    return Parsed(rows, pl.DataFrame(bad) if bad else None)


def _csv(
    data: bytes, text: str | None, text_columns: list[str], tolerant: bool, options: TextOptions
) -> Parsed:
    """``data``: the file as UTF-8 bytes; ``text``: decoded, or ``None`` when it is ASCII."""
    if not data or (data.isspace() if text is None else text.isspace()):
        raise EmptyFileError("the file is empty")
    # The delimiter is sniffed from the head alone (one character more than it reads).
    head = data[: SNIFF_BYTES + 1].decode("ascii") if text is None else text[: SNIFF_BYTES + 1]
    delimiter = csv_delimiter(head, options)
    overrides = {c: pl.Utf8 for c in text_columns}
    rows, failure = None, None
    try:
        rows = _read_csv(data, delimiter, options, overrides)
    except pl.exceptions.NoDataError as exc:
        raise EmptyFileError("the file is empty") from exc
    except pl.exceptions.PolarsError as exc:  # e.g. a row with too many fields
        failure = exc
    # polars pads a row with too few fields with nulls; such a row leaves a null in the last
    # column, so only then (or when polars failed) are the fields of every row counted.
    if rows is not None and (rows.width < 2 or rows[:, -1].null_count() == 0):
        return Parsed(rows)
    if rows is not None and every_record_full(data, delimiter, options.quote, rows.width):
        return Parsed(rows)  # the nulls in the last column are empty fields, not short rows
    records = record_fields(data, delimiter, options.quote, None if rows is None else rows.width)
    bad = records.bad() if records is not None else None
    if bad is None or (rows is None and not bad.size):
        text = data.decode("utf-8") if text is None else text
        return _csv_by_rows(text, delimiter, options, overrides, rows, failure, tolerant)
    if not bad.size:
        return Parsed(rows)
    header = int(records.fields[0])
    rejected = [
        _rejected(
            delimiter.join(parsed_record(records.text(i), delimiter, options.quote)),
            int(i) + 1,
            int(records.fields[i]),
            header,
        )
        for i in bad
    ]
    if not tolerant:
        raise _refuse(rejected)
    keep = records.fields == header  # blank records go too, as the csv module skips them
    rows = _read_csv(records.keeping(keep), delimiter, options, overrides)
    return Parsed(rows, pl.DataFrame(rejected))


def _jsonl(text: str, tolerant: bool) -> Parsed:
    try:
        return Parsed(pl.read_ndjson(io.BytesIO(text.encode("utf-8")), infer_schema_length=10_000))
    except pl.exceptions.PolarsError as exc:
        if not tolerant:
            raise FileParseError(_first_line(exc)) from exc
    good, bad = [], []
    for number, line in enumerate(text.splitlines(), start=1):
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


def _text(text: str, text_column: str, name: str) -> Parsed:
    kept = [(i, line.strip()) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]
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


def _parse_text(
    text: str,
    fmt: str,
    name: str,
    text_column: str | None,
    tolerant: bool,
) -> Parsed:
    if fmt == "jsonl":
        return _jsonl(text, tolerant)
    if fmt == "json":
        return Parsed(pl.read_json(io.BytesIO(text.encode("utf-8")), infer_schema_length=10_000))
    return _text(text, text_column or "text", name)


def parse_file(
    content: Content,
    fmt: str,
    *,
    name: str,
    text_columns: list[str] | None = None,
    text_column: str | None = None,
    tolerant: bool = False,
    options: TextOptions | None = None,
) -> Parsed:
    """Rows (and rejected rows, when ``tolerant``) of one file; ``name`` labels text rows;
    ``options`` say how text formats are decoded and split (default: UTF-8, sniffed)."""
    text_columns = text_columns or []
    options = options or TextOptions()
    if isinstance(content, bytes) and not content and fmt != "pdf":
        raise EmptyFileError("the file is empty")
    try:
        if fmt == "csv":
            data, text = _utf8(_as_bytes(content), options.encoding)
            parsed = _csv(data, text, text_columns, tolerant, options)
        elif fmt in TEXT_FORMATS:
            text = decode_text(_as_bytes(content), options.encoding)
            parsed = _parse_text(text, fmt, name, text_column, tolerant)
        elif fmt == "parquet":
            parsed = Parsed(pl.read_parquet(_source(content)))
        elif fmt == "excel":
            parsed = _excel(content, text_columns)
        elif fmt == "pdf":
            parsed = _pdf(content, text_column or "text", name)
        else:
            raise FileParseError(f"unsupported format {fmt!r}")
    except pl.exceptions.NoDataError as exc:
        raise EmptyFileError("the file is empty") from exc
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise FileParseError(_first_line(exc)) from exc
    if parsed.rows.height == 0 and parsed.rejected is None:
        raise EmptyFileError("the file has no rows")
    return parsed
