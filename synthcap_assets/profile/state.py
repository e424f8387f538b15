"""The profile's mergeable side: frame columns -> one kernel state -> profile rows, and back.

Every data column is profiled by ``kernels.profile`` in one call: numbers, dates and booleans
on their values (see ``stats.numeric_values``), other columns on a 53-bit hash of their string
form, which feeds only the distinct-count sketch. Each profile row stores, besides its
statistics, the column's state (``kernels.state_io`` records: moments, quantile knots, HLL
registers, exact small set) and its value counts, so profiles of days merge into the profile of
a date range without the raw rows (``merge_profiles``): moments exactly, quantiles and
histograms within the stated rank bound (``rank_error``), distinct counts exactly while small
and by HyperLogLog (0.81% standard error) beyond, value counts exactly while every day kept
all its values (``value_counts_complete``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from synthcap_assets.kernels.profile import ProfileState, finalize, merge_many, profile_columns
from synthcap_assets.kernels.state_io import from_records, to_records
from synthcap_assets.kernels.string_counts import string_value_counts

QUANTILE_PROBS: tuple[float, ...] = tuple(i / 100 for i in range(101))
COLUMN_BUCKET = 16
SMALL_TABLE_ROWS = 1 << 16
# Value counts kept per column and day; beyond this only the most frequent are stored.
VALUE_COUNTS_CAP = 1000
_MOMENT_FIELDS = ("rows", "count", "shift", "mean", "m2", "m3", "m4", "minimum", "maximum")
_MOMENT_FIELDS += ("zeros", "negatives")

STATE_SCHEMA: dict[str, pl.DataType] = {
    "state_moments": pl.List(pl.Float64()),
    "quantile_knots": pl.List(pl.Float64()),
    "quantile_count": pl.Float64(),
    "quantile_error": pl.Float64(),
    "hll_registers": pl.Binary(),
    "small_set": pl.List(pl.Float64()),
    "value_labels": pl.List(pl.Utf8()),
    "value_counts": pl.List(pl.Int64()),
    "value_counts_complete": pl.Boolean(),
}


def hashed_values(strings: pl.Series) -> np.ndarray:
    """A float64 per string (NaN for null) that is equal exactly when the strings are: a 64-bit
    hash cut to 53 bits (collisions ~ n**2 / 2**54, negligible at profile sizes)."""
    hashes = strings.hash(seed=0).to_numpy() >> np.uint64(11)
    out = hashes.astype(np.float64)
    out[strings.is_null().to_numpy()] = np.nan
    return out


def kernel_state(columns: Sequence[np.ndarray]) -> ProfileState:
    """The mergeable state of float64 columns (NaN = missing), all of one length.

    Small tables, where compiling costs more than computing, are padded with all-missing
    columns to a multiple of ``COLUMN_BUCKET`` so that sources of different widths share
    compiled kernels (and so do the reads of the state): callers use the first
    ``len(columns)`` entries of what they read from it.
    """
    cols = list(columns)
    rows = len(cols[0]) if cols else 0
    if rows > SMALL_TABLE_ROWS or len(cols) % COLUMN_BUCKET == 0:
        return profile_columns(cols)
    pad = COLUMN_BUCKET - len(cols) % COLUMN_BUCKET
    return profile_columns(cols + [np.full(rows, np.nan)] * pad)


def value_counts(strings: pl.Series) -> tuple[list[str], list[int], bool]:
    """(labels, counts, complete): the column's values by count (ties by label), at most
    ``VALUE_COUNTS_CAP`` of them, counted exactly by ``kernels.string_counts``."""
    labels, counts = string_value_counts(strings.cast(pl.String))
    if not labels:
        return [], [], True
    by_label = np.argsort(np.argsort(np.asarray(labels, dtype=str), kind="stable"))
    order = np.lexsort((by_label, -counts))[:VALUE_COUNTS_CAP]
    return (
        [labels[i] for i in order],
        counts[order].astype(np.int64).tolist(),
        len(labels) <= VALUE_COUNTS_CAP,
    )


def merge_value_counts(
    parts: Sequence[tuple[list[str], list[int], bool]], numeric: bool = False
) -> tuple[list[str], list[int], bool]:
    """Value counts of the union of the rows behind ``parts``, with the cap and the order of a
    day profile: by count, ties by value (numerically for ``numeric`` labels)."""
    total: dict[str, int] = {}
    for labels, counts, _ in parts:
        for label, count in zip(labels, counts, strict=True):
            total[label] = total.get(label, 0) + int(count)
    order = (lambda label: (float(label), label)) if numeric else (lambda label: (0.0, label))
    ranked = sorted(total.items(), key=lambda kv: (-kv[1], order(kv[0])))
    complete = all(p[2] for p in parts) and len(ranked) <= VALUE_COUNTS_CAP
    kept = ranked[:VALUE_COUNTS_CAP]
    return [k for k, _ in kept], [v for _, v in kept], complete


def state_fields(state: ProfileState) -> list[dict[str, object]]:
    """Per column, the stored form of its kernel state (keys of ``STATE_SCHEMA``)."""
    out = []
    for record in to_records(state):
        out.append(
            {
                "state_moments": [record[k] for k in _MOMENT_FIELDS],
                "quantile_knots": np.asarray(record["quantile_knots"]).tolist(),
                "quantile_count": record["quantile_count"],
                "quantile_error": record["quantile_error"],
                "hll_registers": record["hll_registers"],
                "small_set": None
                if record["small_set"] is None
                else np.asarray(record["small_set"]).tolist(),
            }
        )
    return out


def state_of_rows(rows: Sequence[dict[str, object]]) -> ProfileState:
    """The kernel state of stored profile rows (one per column, in order)."""
    records = []
    for row in rows:
        record = dict(zip(_MOMENT_FIELDS, row["state_moments"], strict=True))
        record.update(
            quantile_knots=np.asarray(row["quantile_knots"], np.float64),
            quantile_count=row["quantile_count"],
            quantile_error=row["quantile_error"],
            hll_registers=row["hll_registers"],
            small_set=row["small_set"],
        )
        records.append(record)
    return from_records(records)


def merged_state(days: Sequence[Sequence[dict[str, object]]]) -> ProfileState:
    """One state from the stored rows of several days (each: one row per column, same order)."""
    return merge_many([state_of_rows(rows) for rows in days])


def statistics(state: ProfileState, bins: int) -> list[dict[str, object]]:
    """Per column: the finished statistics of ``state`` as plain Python values."""
    stats = finalize(state, QUANTILE_PROBS, bins)
    m, out = stats.moments, []
    for j in range(len(stats.distinct)):
        edges, counts = stats.hist_edges[j].tolist(), stats.hist_counts[j].tolist()
        if m["count"][j] and m["min"][j] == m["max"][j]:
            # A constant column: one bin [v, v] holding every value.
            edges, counts = [edges[0], edges[0]], [int(m["count"][j])]
        out.append(
            {
                "count": int(m["count"][j]),
                "nulls": int(m["nulls"][j]),
                "distinct": int(stats.distinct[j]),
                "distinct_exact": bool(stats.distinct_exact[j]),
                **{k: _number(m[k][j]) for k in ("sum", "mean", "std", "var", "min", "max")},
                "skewness": _number(m["skewness"][j]),
                "kurtosis": _number(m["kurtosis"][j]),
                "zeros": int(m["zeros"][j]),
                "negatives": int(m["negatives"][j]),
                "quantiles": stats.quantiles[j].tolist(),
                "rank_error": float(stats.rank_error[j]),
                "hist_edges": edges,
                "hist_counts": counts,
                "outliers_robust_z": _count(stats.outliers["robust_count"][j]),
                "outliers_iqr": _count(stats.outliers["iqr_count"][j]),
            }
        )
    return out


def _number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _count(value: float) -> int | None:
    """A count that is undefined (NaN) for a column without values."""
    return int(round(float(value))) if np.isfinite(value) else None
