"""How well a synthetic sample keeps each column's distribution ("column shapes").

The scores follow SDMetrics' definitions (KSComplement and TVComplement), written here in a few
lines of numpy/polars rather than taken from SDMetrics, which is not a dependency:

- numbers, dates and datetimes: ``1 - D`` with ``D`` the two-sample Kolmogorov-Smirnov
  statistic (largest gap between the two empirical CDFs), nulls and NaN dropped first;
- booleans, strings and every other type: ``1 - 0.5 * sum(|p_real - p_synthetic|)`` over the
  categories of both frames, null counting as a category of its own.

Both scores lie in [0, 1], 1 meaning the same distribution. When a column has no value to compare
on either side the score is 1 (both empty, nothing differs); on one side only, 0.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import polars as pl

SHAPES_SCHEMA: dict[str, pl.DataType] = {
    "column": pl.Utf8(),
    "metric": pl.Utf8(),
    "score": pl.Float64(),
}
KS_METRIC = "ks_complement"
TV_METRIC = "tv_complement"
SHAPE_METRICS = (KS_METRIC, TV_METRIC)
PAIR_METRICS = ("correlation_similarity", "contingency_similarity")
PAIR_SEPARATOR = "|"


class UtilityError(ValueError):
    """The frames cannot be compared as asked; the message names the missing columns."""


def _is_continuous(dtype: pl.DataType) -> bool:
    return (dtype.is_numeric() and dtype != pl.Boolean) or dtype in (pl.Date, pl.Datetime)


def _finite_floats(series: pl.Series) -> np.ndarray:
    if series.dtype == pl.Date:
        series = series.cast(pl.Int32)
    elif series.dtype == pl.Datetime:
        series = series.dt.epoch("us")
    values = series.drop_nulls().cast(pl.Float64).to_numpy().astype(np.float64, copy=False)
    return values[np.isfinite(values)]


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample KS statistic: the largest gap between the empirical CDFs of ``a`` and ``b``."""
    a, b = np.sort(a), np.sort(b)
    pooled = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, pooled, side="right") / a.size
    cdf_b = np.searchsorted(b, pooled, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def ks_complement(real: pl.Series, synthetic: pl.Series) -> float:
    """``1 - KS statistic`` on the non-null, finite values of both series."""
    a, b = _finite_floats(real), _finite_floats(synthetic)
    if a.size == 0 or b.size == 0:
        return 1.0 if a.size == b.size else 0.0
    return 1.0 - ks_statistic(a, b)


def _shares(series: pl.Series) -> dict[str | None, float]:
    if series.dtype.is_float():
        # NaN and null are both "missing" here, as in the profile.
        series = series.fill_nan(None)
    try:
        keys = series.cast(pl.String)
    except pl.exceptions.PolarsError:
        keys = pl.Series([None if v is None else str(v) for v in series.to_list()], dtype=pl.String)
    counts = keys.rename("key").value_counts()
    total = float(series.len())
    return {k: c / total for k, c in zip(counts["key"], counts["count"], strict=True)}


def tv_complement(real: pl.Series, synthetic: pl.Series) -> float:
    """``1 - total variation distance`` of the category shares, null as its own category."""
    if real.len() == 0 or synthetic.len() == 0:
        return 1.0 if real.len() == synthetic.len() else 0.0
    p, q = _shares(real), _shares(synthetic)
    distance = 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q))
    return float(min(1.0, max(0.0, 1.0 - distance)))


def column_shapes(
    real: pl.DataFrame, synthetic: pl.DataFrame, columns: Sequence[str]
) -> pl.DataFrame:
    """One row per column in ``columns``: column, metric (ks/tv_complement), score in [0, 1].

    The metric follows the real column's type: KS for numbers, dates and datetimes, TV otherwise.
    """
    missing = [c for c in columns if c not in real.columns or c not in synthetic.columns]
    if missing:
        raise UtilityError(
            f"columns {missing} are not in both frames; compare only the synthesized columns"
        )
    rows = []
    for name in columns:
        a, b = real.get_column(name), synthetic.get_column(name)
        if _is_continuous(a.dtype) and _is_continuous(b.dtype):
            rows.append((name, KS_METRIC, ks_complement(a, b)))
        else:
            rows.append((name, TV_METRIC, tv_complement(a, b)))
    return pl.DataFrame(rows, schema=SHAPES_SCHEMA, orient="row")


def _scores(evaluation: pl.DataFrame, metrics: Sequence[str]) -> dict[str, float]:
    rows = evaluation.filter(pl.col("metric").is_in(list(metrics)))
    return {c: float(v) for c, v in zip(rows["column"], rows["score"], strict=True)}


def column_shapes_score(
    evaluation: pl.DataFrame, columns: Sequence[str] | None = None
) -> float | None:
    """Mean column-shape score (0-1). With ``columns`` (every column of the source) each
    column counts once, a column without a shape row (left out of the sample) scoring 0;
    without, the mean of the shape rows present. ``None`` when there is nothing to score."""
    scores = _scores(evaluation, SHAPE_METRICS)
    if columns is None:
        return float(np.mean(list(scores.values()))) if scores else None
    names = list(dict.fromkeys(columns))
    return float(np.mean([scores.get(c, 0.0) for c in names])) if names else None


def pair_trends_score(
    evaluation: pl.DataFrame, columns: Sequence[str] | None = None
) -> float | None:
    """Mean pair-trend score (0-1). With ``columns`` every pair of them counts once (``a|b``
    or ``b|a``), a pair without a row (a column left out of the sample) scoring 0; without,
    the mean of the pair rows present. ``None`` with fewer than two columns (no pair)."""
    scores = _scores(evaluation, PAIR_METRICS)
    if columns is None:
        return float(np.mean(list(scores.values()))) if scores else None
    names = list(dict.fromkeys(columns))
    pairs = list(itertools.combinations(names, 2))
    if not pairs:
        return None
    values = [
        scores.get(f"{a}{PAIR_SEPARATOR}{b}", scores.get(f"{b}{PAIR_SEPARATOR}{a}", 0.0))
        for a, b in pairs
    ]
    return float(np.mean(values))


def utility_score(shapes: pl.DataFrame, columns: Sequence[str] | None = None) -> float:
    """Utility in [0, 1].

    Without ``columns`` (the old call): the mean column-shape score of the rows present (so an
    evaluation table with pair-trend and privacy rows can be passed as is), 0 when there is no
    column to score. With ``columns``, every column of the source: the mean of
    :func:`column_shapes_score` and :func:`pair_trends_score` over all of them (a column left
    out of the sample scores 0, and so does every pair involving it); a source of one column
    scores its column shape alone.
    """
    if columns is None:
        score = column_shapes_score(shapes)
        return 0.0 if score is None else score
    parts = [column_shapes_score(shapes, columns), pair_trends_score(shapes, columns)]
    known = [p for p in parts if p is not None]
    return float(np.mean(known)) if known else 0.0
