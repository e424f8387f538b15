"""The fast half of CSV parsing: typed reading and per-record field counts, without Python
loops over rows (``file_formats._csv`` decides which rows land and which are quarantined).

- :func:`read_typed` reads UTF-8 CSV bytes with polars exactly as ``pl.read_csv(...,
  try_parse_dates=True, infer_schema_length=10_000)`` would, but about five times faster on
  date columns: polars' CSV reader tries every date pattern on every value, so the types are
  inferred the same way (the same 10,000 rows; date patterns tried only on text columns whose
  first value could be a date, :func:`date_schema`), the dates read as text and converted
  with the one pattern ``str.to_datetime``/``to_date``/``to_time`` finds, or from the bytes
  when every value has one ISO layout (``csv_dates``). A value that conversion does not read
  is where the two could part, so the file is then read the reference way instead.
- :func:`every_record_full` tells from two byte counts that every record of a quote-free
  file has the header's field count (the common case; polars pads short rows with nulls).
- :func:`record_fields` counts the fields of every record (header included) with NumPy over
  the bytes, quotes respected, for the cases where it is exactly what Python's ``csv`` module
  counts: ASCII delimiter and quote, no bare ``\\r`` line end, every quote opening at a field's
  start and closing at its end (``""`` escapes inside). Otherwise it returns ``None`` and the
  caller counts with the ``csv`` module.
"""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import polars as pl

from synthcap_resources.sources.csv_dates import iso_converted

INFER_ROWS = 10_000
ISO_SAMPLE = 32  # values of a one-layout ISO column whose inferred type stands for all
SPLIT_ROWS = 200_000  # a temporal column this long is converted in two halves at once
NEWLINE, CARRIAGE_RETURN = 10, 13
COUNT_BLOCK = 1 << 18


@dataclass(frozen=True)
class Records:
    """Byte spans (``starts``/``ends``, the end before the ``\\n``) and field counts of every
    record of a CSV file, header first; a blank record counts 0 fields."""

    data: bytes
    starts: np.ndarray
    ends: np.ndarray
    fields: np.ndarray

    def bad(self) -> np.ndarray:
        """Indexes of the non-blank records whose field count differs from the header's."""
        return np.flatnonzero((self.fields != self.fields[0]) & (self.fields > 0))

    def text(self, index: int) -> str:
        """Record ``index`` as text (UTF-8), without its line end."""
        raw = self.data[self.starts[index] : self.ends[index]]
        return raw.decode("utf-8").removesuffix("\r")

    def keeping(self, keep: np.ndarray) -> bytes:
        """The bytes of the records where ``keep`` is true, in order, one per line: the records
        are copied in runs of consecutive kept records, not one by one."""
        edges = np.flatnonzero(np.diff(np.concatenate(([0], keep.astype(np.int8), [0]))))
        parts = []
        for first, stop in zip(edges[0::2], edges[1::2], strict=True):
            parts.append(self.data[self.starts[first] : self.ends[stop - 1]])
        return b"\n".join(parts) + b"\n"


def _quotes_well_formed(arr: np.ndarray, quotes: np.ndarray, delimiter: int) -> bool:
    """Every quote pairs up as an opening at a field's start and a closing at its end, an
    escaped ``""`` being a closing followed at once by an opening."""
    if quotes.size % 2:
        return False
    opens, closes = quotes[0::2], quotes[1::2]
    before = arr[np.maximum(opens - 1, 0)]
    escape_open = np.zeros(opens.size, dtype=bool)
    escape_open[1:] = opens[1:] - 1 == closes[:-1]
    opened = (opens == 0) | (before == delimiter) | (before == NEWLINE) | escape_open
    after = arr[np.minimum(closes + 1, arr.size - 1)]
    escape_close = np.zeros(closes.size, dtype=bool)
    escape_close[:-1] = closes[:-1] + 1 == opens[1:]
    at_end = (after == delimiter) | (after == NEWLINE) | (after == CARRIAGE_RETURN)
    closed = (closes == arr.size - 1) | at_end | escape_close
    return bool(opened.all() and closed.all())


def record_fields(
    data: bytes, delimiter: str, quote: str, at_most: int | None = None
) -> Records | None:
    """Every record's byte span and field count, or ``None`` where only the ``csv`` module
    settles the count (see the module's docstring). ``at_most``: the most fields any record
    has, when known (polars read the file without error); without quotes, one total count of
    delimiters then tells whether every non-blank record has exactly that many."""
    if not (delimiter.isascii() and quote.isascii()) or delimiter in "\r\n" + quote:
        return None
    if not data:
        return None
    arr = np.frombuffer(data, dtype=np.uint8)
    if b"\r" in data:  # the csv module ends a record at a bare \r too
        returns = np.flatnonzero(arr == CARRIAGE_RETURN)
        if returns[-1] + 1 >= arr.size or (arr[returns + 1] != NEWLINE).any():
            return None
    newlines = np.flatnonzero(arr == NEWLINE)
    d = ord(delimiter)
    quotes = np.flatnonzero(arr == ord(quote)) if quote.encode() in data else None
    if quotes is not None:
        if not _quotes_well_formed(arr, quotes, d):
            return None
        # A position is inside quotes when an odd number of quotes comes before it.
        newlines = newlines[np.searchsorted(quotes, newlines) % 2 == 0]
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [arr.size]))
    if starts[-1] == arr.size:  # the file ends with a line end: no record after it
        starts, ends = starts[:-1], ends[:-1]
    length = ends - starts
    blank = (length == 0) | ((length == 1) & (arr[np.minimum(starts, arr.size - 1)] == 13))
    if blank[0]:  # a blank header: let the csv module decide
        return None
    if quotes is None and at_most is not None:
        # No record has more than at_most fields, so the total is at its ceiling only when
        # every non-blank record has exactly at_most.
        filled = int(blank.size - np.count_nonzero(blank))
        if np.count_nonzero(arr == d) == (at_most - 1) * filled:
            return Records(data, starts, ends, np.where(blank, 0, at_most))
    delimiters = np.flatnonzero(arr == d)
    if quotes is not None:
        delimiters = delimiters[np.searchsorted(quotes, delimiters) % 2 == 0]
    fields = np.searchsorted(delimiters, ends) - np.searchsorted(delimiters, starts) + 1
    fields[blank] = 0
    return Records(data, starts, ends, fields)


def every_record_full(data: bytes, delimiter: str, quote: str, width: int) -> bool:
    """True when every line of ``data`` (header included) has exactly ``width`` fields, told
    by two byte counts: no quote in the file (so every delimiter and line end is one), no
    bare ``\\r``, and ``width - 1`` delimiters for every line. polars read the file into
    ``width`` columns without error, so no line has more; the total is then at its ceiling
    only when every line has exactly that many (a blank line has none, so there is none).
    ``False`` says only that the records must be counted one by one (:func:`record_fields`).
    """
    if width < 2 or len(delimiter) != 1 or not delimiter.isascii() or delimiter in "\r\n":
        return False
    if not data or quote.encode() in data:
        return False
    if b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return False
    delimiters, newlines = _byte_counts(data, ord(delimiter), NEWLINE)
    lines = newlines + (not data.endswith(b"\n"))
    return delimiters == (width - 1) * lines


def _byte_counts(data: bytes, *values: int) -> list[int]:
    """How often each byte value occurs in ``data``: NumPy compares over cache-sized blocks
    (a quarter of ``bytes.count``'s time, no file-sized temporary)."""
    arr = np.frombuffer(data, np.uint8)
    counts = [0] * len(values)
    same = np.empty(min(arr.size, COUNT_BLOCK), bool)
    for start in range(0, arr.size, COUNT_BLOCK):
        block = arr[start : start + COUNT_BLOCK]
        for i, value in enumerate(values):
            np.equal(block, value, out=same[: block.size])
            counts[i] += int(np.count_nonzero(same[: block.size]))
    return counts


def parsed_record(text: str, delimiter: str, quote: str) -> list[str]:
    """One record's fields as Python's ``csv`` module reads them."""
    return next(csv.reader(io.StringIO(text), delimiter=delimiter, quotechar=quote), [])


def _conversion(dtype: pl.DataType) -> pl.Expr | None:
    """Text to ``dtype`` with the pattern polars infers from the first non-null value."""
    text = pl.col("v").str
    if dtype == pl.Date:
        return text.to_date(strict=False)
    if dtype == pl.Time:
        return text.to_time(strict=False)
    if isinstance(dtype, pl.Datetime):
        return text.to_datetime(strict=False, time_unit=dtype.time_unit, time_zone=dtype.time_zone)
    return None


def _converted(series: pl.Series, dtype: pl.DataType) -> pl.Series | None:
    """``series`` (text) as ``dtype`` via the one pattern polars finds, or ``None`` when a
    value does not convert (the reference reader decides then). A long column is converted
    in parallel halves; the second half goes with the column's first non-null value put in
    front (and dropped after), so both halves use the very pattern one pass would."""
    expr = _conversion(dtype)
    if expr is None:
        return None
    fast = iso_converted(series, dtype, expr)
    if fast is not None:  # one ISO layout throughout, read from the bytes (csv_dates)
        return fast.alias(series.name)
    first = series.is_not_null().arg_max() if series.null_count() < series.len() else None
    halves = [series]
    if series.len() >= SPLIT_ROWS and first is not None:
        middle = series.len() // 2
        halves = [series[:middle], pl.concat([series[first : first + 1], series[middle:]])]
    try:
        frames = pl.collect_all([pl.LazyFrame({"v": h}).select(expr) for h in halves])
    except pl.exceptions.PolarsError:  # e.g. no pattern fits the first value
        return None
    parts = [frames[0]["v"], *(f["v"][1:] for f in frames[1:])]
    out = (parts[0] if len(parts) == 1 else pl.concat(parts)).alias(series.name)
    if out.dtype != dtype or out.null_count() != series.null_count():  # a value did not convert
        return None
    return out


def _head(data: bytes, lines: int) -> bytes:
    """The first ``lines`` lines of ``data`` (all of it when it has fewer)."""
    end = 0
    for _ in range(lines):
        end = data.find(b"\n", end) + 1
        if not end:
            return data
    return data[:end]


def _leads_with_digit(series: pl.Series) -> bool:
    """Whether the column's first value starts with a digit (past spaces and quotes): every
    date, time and datetime pattern polars infers does, so a column whose first value does
    not is text for polars' date inference, whatever follows."""
    values = series.drop_nulls()
    return values.len() > 0 and values[0].lstrip(" \t'\"")[:1].isdigit()


def date_schema(data: bytes, overrides: dict, options: dict) -> pl.Schema:
    """The schema ``pl.scan_csv(data, try_parse_dates=True, schema_overrides=overrides,
    **options)`` infers, with its date inference run only where a date can be found.

    polars tries every date pattern on every text value of the first rows (about 5 µs a
    value), dates or not. Its inference types a value as a number or boolean before it tries
    dates, and a column as a date only when all its values are dates, so only text columns
    whose first value starts with a digit can be dates; the others keep the type inferred
    without dates. A candidate whose first rows are all valid values of one ISO layout takes
    the type polars infers for a few of them (:func:`_iso_type`); the other candidates' first
    rows are written out alone, byte for byte as they were (a head with no quote, no ``\\r``
    and no blank line: every field unquoted, every line a record), and polars infers those.
    Any other head is inferred whole."""

    def whole() -> pl.Schema:
        return pl.scan_csv(
            data, try_parse_dates=True, schema_overrides=overrides, **options
        ).collect_schema()

    head = _head(data, options["infer_schema_length"] + 1)
    if options["quote_char"].encode() in head or b"\r" in head or b"\n\n" in head:
        return whole()
    try:
        plain = pl.read_csv(head, schema_overrides=overrides, **options)
    except pl.exceptions.PolarsError:
        return whole()
    schema = dict(plain.schema)
    candidates = []
    for name, dtype in plain.schema.items():
        if dtype != pl.String or name in overrides or not _leads_with_digit(plain[name]):
            continue
        iso = _iso_type(plain[name], options)
        if iso is None:
            candidates.append(name)
        else:
            schema[name] = iso
    if candidates:
        found = _inferred(plain.select(candidates), options)
        for name, dtype in found.items():
            if dtype.is_temporal():  # else text: a candidate was text without dates
                schema[name] = dtype
    return pl.Schema(schema)


def _inferred(columns: pl.DataFrame, options: dict) -> pl.Schema:
    """What polars' date inference makes of quote-free text ``columns``, written out as they
    were read (no field needs quoting, so each is byte for byte as in the file)."""
    text = columns.write_csv(separator=options["separator"], quote_char=options["quote_char"])
    return pl.scan_csv(text.encode(), try_parse_dates=True, **options).collect_schema()


def _iso_type(values: pl.Series, options: dict) -> pl.DataType | None:
    """The temporal type polars infers for a column whose first rows are ``values`` when all
    of them are valid values of one ISO layout (``csv_dates``), else ``None``. polars types
    each value by the pattern its shape matches, and one valid layout matches one pattern, so
    inferring its first ``ISO_SAMPLE`` values answers for all of them."""
    present = values.drop_nulls()
    dtype = _inferred(present.head(ISO_SAMPLE).to_frame("v"), options)["v"]
    expr = _conversion(dtype) if dtype.is_temporal() else None
    if expr is None or iso_converted(values, dtype, expr) is None:
        return None
    return dtype


def read_typed(
    data: bytes, delimiter: str, quote: str, decimal_comma: bool, overrides: dict
) -> pl.DataFrame:
    """``data`` (UTF-8 CSV) as ``pl.read_csv(..., try_parse_dates=True,
    infer_schema_length=10_000, schema_overrides=overrides)`` reads it."""
    options = {
        "separator": delimiter,
        "quote_char": quote,
        "decimal_comma": decimal_comma,
        "infer_schema_length": INFER_ROWS,
    }

    def reference() -> pl.DataFrame:
        return pl.read_csv(data, try_parse_dates=True, schema_overrides=overrides, **options)

    # Date inference (single-threaded) runs beside the read, which types every other column
    # the same way without it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        inferred = pool.submit(date_schema, data, overrides, options)
        try:
            rows = pl.read_csv(data, schema_overrides=overrides, **options)
        except pl.exceptions.PolarsError:
            rows = None
        schema = inferred.result()
    temporal = {name: dtype for name, dtype in schema.items() if dtype.is_temporal()}
    as_text = {**schema, **{name: pl.String() for name in temporal}}
    if rows is None or rows.schema != pl.Schema(as_text):
        return reference()
    if not temporal:
        return rows
    columns = []
    for name, dtype in temporal.items():
        converted = _converted(rows[name], dtype)
        if converted is None:
            return reference()
        columns.append(converted)
    return rows.with_columns(columns)
