"""Encode a captured frame as small integer codes for marginal-based DP synthesizers, and back.

MST and AIM model a table as a grid of discrete cells, so every column must become a code in
``0..cardinality-1`` whose cardinality is known before the data is looked at. The bins and
categories therefore come from the day's statistical profile, not from the rows:

- numeric and datetime columns: ``bins`` quantile bins, edges taken from the profile's
  quantiles (repeats removed, so a column with few distinct values gets fewer bins; a value
  holding a bin's share of the rows or more, such as the zeros of an amount, becomes a bin
  of its own); decoded uniformly inside the bin, so every value stays in the profile's range,
  dates and datetimes included (datetimes keep their time of day);
- categorical and boolean columns: the profile's top values, in profile order, plus an
  ``"__other__"`` code when the column has more distinct values than that;
- nulls: one extra code, last, when the column has any;
- text, identifier and empty columns, and the caller's ``exclude`` (PII) columns: dropped, with
  the reason in ``Encoding.dropped``.

smartnoise-synth has its own transformers, but they either learn the domain from the rows (which
leaks which values occur and cannot produce an unseen code) or spend budget on bounds; this
module uses the profile instead, and decodes bins back to values of the column's own type.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import polars as pl

from synthcap_assets.columns import data_columns

OTHER = "__other__"
DEFAULT_BINS = 12
DEFAULT_MAX_COLUMNS = 12
DEFAULT_MAX_CATEGORIES = 10
CONTINUOUS_TYPES = ("numeric", "datetime")
CATEGORICAL_TYPES = ("categorical", "boolean")
DROP_REASONS = {
    "text": "free text: marginal-based synthesizers cannot model it",
    "identifier": "identifier: unique per row, synthesizing it would copy or invent keys",
    "empty": "empty: every value is null",
}
KEEP_RULE = (
    "kept privacy.targets first (in catalog order), then non-constant columns, then the lowest "
    "null share (to 0.1), numbers and categories before dates and times, the fewest codes "
    "(less noise per cell), the catalog's column order"
)
_CALENDAR_DAYS = (-719_162.0, 2_932_896.0)  # 0001-01-01 and 9999-12-31, days since 1970
_US_PER_DAY = 86_400_000_000
_PROFILE_COLUMNS = ("column", "semantic_type", "nulls", "distinct", "quantiles", "top_values")


class EncodingError(ValueError):
    """The frame, profile or codes cannot be encoded or decoded; the message says what to fix."""


@dataclass(frozen=True)
class ColumnCodec:
    """How one column maps to codes. ``kind`` is ``"binned"`` or ``"categorical"``.

    Binned: code ``i`` is the interval ``[edges[i], edges[i+1]]`` (numbers; dates and datetimes
    as days since 1970-01-01). Categorical: code ``i`` is ``labels[i]`` (the column's own type);
    ``other_code`` stands for every other value. ``null_code`` is the last code, if any.
    """

    column: str
    kind: str
    dtype: pl.DataType
    cardinality: int
    edges: tuple[float, ...] = ()
    labels: pl.Series | None = None
    other_code: int | None = None
    null_code: int | None = None
    value_range: tuple[float, float] | None = None


@dataclass(frozen=True)
class Encoding:
    """Integer codes (one Int32 column per kept column), their codecs and what was dropped."""

    codes: pl.DataFrame
    codecs: dict[str, ColumnCodec]
    dropped: dict[str, str]

    @property
    def columns(self) -> list[str]:
        return list(self.codecs)

    @property
    def cardinalities(self) -> list[int]:
        return [c.cardinality for c in self.codecs.values()]


def _nan_to_null(series: pl.Series) -> pl.Series:
    if not series.dtype.is_float():
        return series
    return series.to_frame().select(pl.when(pl.first().is_finite()).then(pl.first())).to_series()


def _as_days(series: pl.Series) -> pl.Series:
    """Float64 values on the profile's number line (dates/datetimes in days), NaN/inf as null."""
    dtype = series.dtype
    if dtype == pl.Date:
        floats = series.cast(pl.Int32).cast(pl.Float64)
    elif dtype == pl.Datetime:
        floats = series.dt.epoch("us").cast(pl.Float64) / _US_PER_DAY
    elif dtype.is_numeric() or dtype == pl.Boolean:
        floats = series.cast(pl.Float64)
    else:
        raise EncodingError(f"type {dtype} has no number line to bin; check the profile")
    return _nan_to_null(floats)


def _as_strings(series: pl.Series) -> pl.Series:
    """Values as the profile writes top values (polars' string cast), NaN as null."""
    series = _nan_to_null(series)
    try:
        return series.cast(pl.String)
    except pl.exceptions.PolarsError:
        return pl.Series(series.name, [None if v is None else str(v) for v in series.to_list()])


def bin_edges(quantiles: Sequence[float], bins: int) -> tuple[float, ...]:
    """Edges of ``bins`` equal-frequency bins from 101 profile quantiles. A value picked twice
    in a row holds at least a bin's share of the rows: it becomes a bin of its own, ``(v, v)``
    (an atom, e.g. the zeros of a zero-inflated amount); other repeats are removed.

    A constant column gets the single degenerate bin ``(v, v)``.
    """
    qs = [q for q in quantiles if q is not None and math.isfinite(q)]
    if len(qs) != len(quantiles) or not qs:
        raise EncodingError("profile quantiles are missing or not finite; re-run the profile")
    picks = sorted(qs[round(i * (len(qs) - 1) / bins)] for i in range(bins + 1))
    edges: list[float] = []
    for value in picks:
        if edges and value == edges[-1] and len(edges) >= 2 and edges[-2] == value:
            continue
        edges.append(value)
    return tuple(edges) if len(edges) > 1 else (edges[0], edges[0])


def _binned(series: pl.Series, row: dict, bins: int) -> tuple[ColumnCodec, np.ndarray]:
    edges = bin_edges(row["quantiles"], bins)
    days = _as_days(series)
    values = days.fill_null(np.nan).to_numpy()
    n_bins = len(edges) - 1
    codes = np.searchsorted(np.asarray(edges[1:-1]), values, side="right")
    for i in range(n_bins):
        if edges[i] == edges[i + 1]:
            codes[values == edges[i]] = i  # an atom's value goes to its own bin
    # The domain comes from the (private) profile only: a null the profile did not announce
    # goes to the first bin rather than revealing itself through a new code.
    null_code = n_bins if (row["nulls"] or 0) > 0 else None
    codes = np.where(np.isnan(values), 0 if null_code is None else null_code, codes)
    cardinality = n_bins + (null_code is not None)
    codec = ColumnCodec(
        series.name, "binned", series.dtype, cardinality, edges, null_code=null_code
    )
    return codec, codes


def _categorical(series: pl.Series, row: dict, cap: int) -> tuple[ColumnCodec, np.ndarray]:
    top = [v for v in (row["top_values"] or []) if v is not None][:cap]
    strings = _as_strings(series)
    lookup = {label: i for i, label in enumerate(top)}
    keys = strings.to_list()
    raw = [None if k is None else lookup.get(k, -1) for k in keys]
    # Codes follow the (private) profile only; values it did not announce fall back to
    # "other" (or the first code), never to a code of their own.
    has_other = (row["distinct"] or 0) > len(top)
    has_null = (row["nulls"] or 0) > 0
    other_code = len(top) if has_other else None
    null_code = len(top) + has_other if has_null else None
    fallback = 0 if other_code is None else other_code
    codes = np.array(
        [
            (fallback if null_code is None else null_code)
            if c is None
            else (fallback if c == -1 else c)
            for c in raw
        ],
        dtype=np.int64,
    )
    declared = row.get("value_range")
    value_range = None
    if series.dtype.is_integer() and declared is not None:
        value_range = (float(declared[0]), float(declared[1]))
    codec = ColumnCodec(
        column=series.name,
        kind="categorical",
        dtype=series.dtype,
        cardinality=len(top) + has_other + has_null,
        labels=_labels(series, strings, top),
        other_code=other_code,
        null_code=null_code,
        value_range=value_range,
    )
    return codec, codes


def _labels(series: pl.Series, strings: pl.Series, top: list[str]) -> pl.Series:
    """The original-typed value of each top label, taken from the frame (exact type, no parse)."""
    first = {}
    for key, value in zip(strings.to_list(), series.to_list(), strict=True):
        if key is not None and key not in first:
            first[key] = value
    values = [first.get(label, label) for label in top]
    try:
        return pl.Series(series.name, values, dtype=series.dtype, strict=False)
    except (pl.exceptions.PolarsError, TypeError):
        return pl.Series(series.name, top, dtype=pl.String)


def _check_profile(profile: pl.DataFrame) -> dict[str, dict]:
    missing = [c for c in _PROFILE_COLUMNS if c not in profile.columns]
    if missing:
        raise EncodingError(f"profile lacks columns {missing}; pass the profile asset's frame")
    return {row["column"]: row for row in profile.iter_rows(named=True)}


def encode(
    df: pl.DataFrame,
    profile: pl.DataFrame,
    *,
    exclude: Sequence[str] = (),
    bins: int = DEFAULT_BINS,
    max_columns: int = DEFAULT_MAX_COLUMNS,
    max_categories: int = DEFAULT_MAX_CATEGORIES,
    targets: Sequence[str] = (),
) -> Encoding:
    """Encode the data columns of ``df`` (capture metadata ignored) using ``profile``'s rows.

    When more than ``max_columns`` columns are usable, the kept ones are chosen by
    :data:`KEEP_RULE`; the rest are dropped with that reason. A categorical column whose
    profile released no value at all (only "other" would be left) is dropped too.
    """
    if bins < 1 or max_columns < 1 or max_categories < 1:
        raise EncodingError(
            f"bins, max_columns and max_categories must be at least 1, "
            f"got {bins}, {max_columns}, {max_categories}"
        )
    rows = _check_profile(profile)
    excluded = set(exclude)
    order = {name: i for i, name in enumerate(targets)}
    dropped: dict[str, str] = {}
    candidates: list[tuple[ColumnCodec, np.ndarray, tuple]] = []
    for index, name in enumerate(data_columns(df)):
        row = rows.get(name)
        semantic = None if row is None else row["semantic_type"]
        if name in excluded:
            dropped[name] = "excluded: personal data (PII) is never synthesized"
        elif row is None:
            dropped[name] = "not in the profile: profile this frame first"
        elif semantic in DROP_REASONS:
            dropped[name] = DROP_REASONS[semantic]
        elif semantic in CONTINUOUS_TYPES and row["quantiles"] is None:
            dropped[name] = "no range in the profile to bin by"
        elif semantic in CATEGORICAL_TYPES and row["top_values"] == [] and row["distinct"]:
            dropped[name] = "no category released: every value would be the placeholder"
        elif semantic in CONTINUOUS_TYPES or semantic in CATEGORICAL_TYPES:
            series = df.get_column(name)
            try:
                if semantic in CONTINUOUS_TYPES:
                    codec, codes = _binned(series, row, bins)
                else:
                    codec, codes = _categorical(series, row, max_categories)
            except EncodingError as exc:
                dropped[name] = f"cannot encode: {exc}"
                continue
            total = (row.get("count") or 0) + (row["nulls"] or 0)
            null_share = round((row["nulls"] or 0) / total, 1) if total else 0.0
            rank = (
                order.get(name, len(order)),
                (row["distinct"] or 0) <= 1 or codec.cardinality <= 1,
                null_share,
                semantic == "datetime",
                codec.cardinality,
                index,
            )
            candidates.append((codec, codes, rank))
        else:
            dropped[name] = f"unknown semantic type {semantic!r} in the profile"
    candidates.sort(key=lambda item: item[2])
    for codec, _, _ in candidates[max_columns:]:
        dropped[codec.column] = f"over max_columns={max_columns}: {KEEP_RULE}"
    kept = sorted(candidates[:max_columns], key=lambda item: item[2][-1])
    codes = pl.DataFrame(
        {codec.column: pl.Series(codes, dtype=pl.Int32) for codec, codes, _ in kept},
        schema={codec.column: pl.Int32 for codec, _, _ in kept},
    )
    return Encoding(codes=codes, codecs={c.column: c for c, _, _ in kept}, dropped=dropped)


def _decode_binned(codec: ColumnCodec, codes: np.ndarray, rng: np.random.Generator) -> pl.Series:
    edges = np.asarray(codec.edges, dtype=np.float64)
    is_null = codes == codec.null_code
    safe = np.clip(codes, 0, edges.size - 2)
    low, high = edges[safe], edges[safe + 1]
    values = rng.uniform(low, high)
    dtype = codec.dtype
    if dtype.is_integer() or dtype == pl.Date:
        # Round, then pull back inside the bin when the bin holds a whole number at all.
        lo_int, hi_int = np.ceil(low), np.floor(high)
        values = np.where(lo_int <= hi_int, np.clip(np.round(values), lo_int, hi_int), values)
        values = np.round(values)
    if dtype in (pl.Date, pl.Datetime):
        # A privately measured range can reach far past any calendar (a noisy cell of the
        # magnitude grid): keep dates inside the years 1-9999 that the types can show.
        values = np.clip(values, *_CALENDAR_DAYS)
    out = pl.Series(codec.column, np.where(is_null, np.nan, values)).fill_nan(None)
    if dtype == pl.Date:
        return out.cast(pl.Int32).cast(pl.Date).rename(codec.column)
    if dtype == pl.Datetime:
        micros = (out * _US_PER_DAY).round().cast(pl.Int64).cast(pl.Datetime("us"))
        if dtype.time_zone:
            micros = micros.dt.replace_time_zone("UTC").dt.convert_time_zone(dtype.time_zone)
        return micros.cast(dtype).rename(codec.column)
    return out.cast(dtype, strict=False).rename(codec.column)


def _decode_categorical(
    codec: ColumnCodec, codes: np.ndarray, rng: np.random.Generator
) -> pl.Series:
    labels = codec.labels.to_list() if codec.labels is not None else []
    other = _other_values(codec, labels, int((codes == codec.other_code).sum()), rng)
    values = [
        next(other) if code == codec.other_code else labels[code] if code < len(labels) else None
        for code in codes.tolist()
    ]
    try:
        return pl.Series(codec.column, values, dtype=codec.dtype, strict=False)
    except (pl.exceptions.PolarsError, TypeError):
        # e.g. an Enum that has no "__other__" category: keep the labels, null the rest.
        return pl.Series(codec.column, [v if v != OTHER else None for v in values], codec.dtype)


def _other_values(codec: ColumnCodec, labels: list, count: int, rng: np.random.Generator):
    """Stand-ins for "any other value": the ``__other__`` label for strings, a random integer of
    the column's range that is not a top value for integer codes, null otherwise."""
    if codec.dtype in (pl.String, pl.Categorical):
        return iter([OTHER] * count)
    if codec.value_range is not None:
        low, high = int(codec.value_range[0]), int(codec.value_range[1])
        if high - low < 1_000_000:
            pool = np.setdiff1d(np.arange(low, high + 1), np.asarray(labels, dtype=np.int64))
            if pool.size:
                return iter(rng.choice(pool, size=count).tolist())
    return iter([None] * count)


def decode(
    codes: pl.DataFrame | pd.DataFrame, encoding: Encoding, rng: np.random.Generator
) -> pl.DataFrame:
    """Map codes (one column per codec, any integer type) back to values of each column's type.

    A bin becomes a value drawn uniformly inside it (integers and dates rounded to whole values
    in the bin), a category code its label, the null code null.
    """
    frame = pl.from_pandas(codes) if isinstance(codes, pd.DataFrame) else codes
    missing = [c for c in encoding.codecs if c not in frame.columns]
    if missing:
        raise EncodingError(f"codes lack columns {missing} of the encoding")
    columns = []
    for name, codec in encoding.codecs.items():
        raw = frame.get_column(name).cast(pl.Int64).fill_null(-1).to_numpy()
        if raw.size and (raw.max() >= codec.cardinality or raw.min() < 0):
            raise EncodingError(
                f"column {name!r} has codes outside 0..{codec.cardinality - 1}; "
                "decode only codes produced with this encoding"
            )
        if codec.kind == "binned":
            columns.append(_decode_binned(codec, raw, rng))
        else:
            columns.append(_decode_categorical(codec, raw, rng))
    return pl.DataFrame(columns) if columns else pl.DataFrame()
