"""Drift of today's captured frame against the previous day's profile.

The reference is only yesterday's profile (from ``profile_frame``), never yesterday's rows, so
the statistics are written here rather than taken from scipy's two-sample tests, which need both
samples:

- Numeric columns: the reference CDF is the piecewise-linear curve through (quantiles,
  ``QUANTILE_PROBS``); repeated quantiles make it jump there. The KS statistic is the exact sup
  of |F_ref - F_cur| between that curve and today's empirical CDF. Its p-value is
  ``scipy.stats.kstwo.sf`` (the exact Kolmogorov distribution) at n_eff = round(n*m / (n+m)),
  which is what ``scipy.stats.ks_2samp`` does in its asymptotic mode; it is approximate because
  the reference curve is itself a summary. PSI uses ten bins cut at the reference deciles,
  right-closed so a value equal to a decile falls with the values below it, as in the CDF.
- Categorical columns (semantic type categorical or boolean): PSI over the reference's top
  values plus an "other" bucket for everything else, and a chi-square test of homogeneity on
  the 2 × k table of reference and current counts (``scipy.stats.chi2_contingency``), judged
  at the same significance level as KS — PSI alone misses a real shift on a few hundred rows.
- Datetime, text, identifier and empty columns are not compared: daily partitions move in time
  by construction, and free text or identifiers have no stable distribution of values.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats as sps

from synthcap_assets.columns import data_columns
from synthcap_assets.profile.stats import (
    QUANTILE_PROBS,
    check_profile,
    nullify_non_finite,
    numeric_values,
    value_strings,
)

DRIFT_SCHEMA: dict[str, pl.DataType] = {
    "column": pl.Utf8(),
    "kind": pl.Utf8(),
    "method": pl.Utf8(),
    "reference_rows": pl.Int64(),
    "current_rows": pl.Int64(),
    "psi": pl.Float64(),
    "ks_statistic": pl.Float64(),
    "ks_pvalue": pl.Float64(),
    "chi2_statistic": pl.Float64(),
    "chi2_pvalue": pl.Float64(),
    "drifted": pl.Boolean(),
    "detail": pl.Utf8(),
}
PSI_EPSILON = 1e-4
OTHER_BUCKET = "other"
_PROBS = np.asarray(QUANTILE_PROBS, dtype=np.float64)
_DECILE_INDEX = [round(p * 100) for p in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)]


class DriftInputError(ValueError):
    """The reference profile or a drift threshold is unusable; the message says what to fix."""


def reference_cdf(points: np.ndarray, quantiles: np.ndarray, *, before: bool = False) -> np.ndarray:
    """The reference CDF at ``points``, linear between (quantile, prob) knots.

    With ``before`` it gives the left limit F(x-), which differs from F(x) where repeated
    quantiles make the curve jump.
    """
    x = np.asarray(points, dtype=np.float64)
    q = np.asarray(quantiles, dtype=np.float64)
    if q.size != _PROBS.size:
        raise DriftInputError(f"expected {_PROBS.size} quantiles (QUANTILE_PROBS), got {q.size}")
    # Last knot with q <= x (or q < x for the left limit): x lies between it and the next knot,
    # which is strictly greater, so the interpolation never divides by zero.
    j = np.searchsorted(q, x, side="left" if before else "right") - 1
    k = np.clip(j, 0, q.size - 2)
    width = q[k + 1] - q[k]
    frac = np.divide(x - q[k], width, out=np.zeros_like(x), where=width > 0)
    cdf = _PROBS[k] + (_PROBS[k + 1] - _PROBS[k]) * np.clip(frac, 0.0, 1.0)
    return np.where(j < 0, 0.0, np.where(j >= q.size - 1, 1.0, cdf))


def ks_statistic(current: np.ndarray, quantiles: np.ndarray) -> float:
    """sup |F_ref - F_cur|, checked at and just before every sample point and quantile knot.

    Between those points F_cur is flat and F_ref linear, so the sup is reached at one of them.
    """
    cur = np.sort(np.asarray(current, dtype=np.float64))
    points = np.unique(np.concatenate([cur, np.asarray(quantiles, dtype=np.float64)]))
    at = np.abs(reference_cdf(points, quantiles) - np.searchsorted(cur, points, "right") / cur.size)
    before = np.abs(
        reference_cdf(points, quantiles, before=True)
        - np.searchsorted(cur, points, "left") / cur.size
    )
    return float(max(at.max(), before.max()))


def ks_pvalue(statistic: float, n: int, m: int) -> float:
    """Two-sample KS p-value: the Kolmogorov distribution at n_eff = round(n*m / (n+m))."""
    n_eff = max(1, round(n * m / (n + m)))
    return float(np.clip(sps.kstwo.sf(statistic, n_eff), 0.0, 1.0))


def psi(actual: np.ndarray, expected: np.ndarray, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index sum((a - e) * ln(a / e)) of two share vectors, clipped at eps."""
    a = np.clip(np.asarray(actual, dtype=np.float64), epsilon, None)
    e = np.clip(np.asarray(expected, dtype=np.float64), epsilon, None)
    return float(np.sum((a - e) * np.log(a / e)))


def decile_edges(quantiles: np.ndarray) -> np.ndarray:
    """The distinct reference deciles (quantiles at 0.1 .. 0.9), the inner PSI bin edges."""
    return np.unique(np.asarray(quantiles, dtype=np.float64)[_DECILE_INDEX])


def decile_shares(current: np.ndarray, quantiles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(actual, expected) shares in the bins (-inf, e1], (e1, e2], ..., (ek, inf).

    Expected shares come from the reference CDF at the edges: 0.1 per bin for continuous data;
    where the reference has ties at a decile, or repeated deciles merged bins, the CDF's jump
    puts the tied share in the bin that holds the tied value.
    """
    edges = decile_edges(quantiles)
    cur = np.sort(np.asarray(current, dtype=np.float64))
    actual_cdf = np.searchsorted(cur, edges, side="right") / cur.size
    expected_cdf = reference_cdf(edges, quantiles)
    actual = np.diff(np.concatenate([[0.0], actual_cdf, [1.0]]))
    expected = np.diff(np.concatenate([[0.0], expected_cdf, [1.0]]))
    return actual, expected


def categorical_shares(
    current: pl.Series, top_values: list[str], top_counts: list[int], reference_count: int
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(buckets, actual, expected) shares over the reference top values plus "other"."""
    buckets = [*top_values, OTHER_BUCKET]
    expected_counts = np.asarray([*top_counts, reference_count - sum(top_counts)], np.float64)
    # Renamed so that a data column called "count" cannot clash with value_counts' own column.
    seen = value_strings(current).rename("value").value_counts()
    found = dict(zip(seen["value"].to_list(), seen["count"].to_list(), strict=True))
    if not found:
        raise DriftInputError("categorical_shares needs at least one non-null current value")
    actual_counts = np.asarray([found.get(v, 0) for v in top_values], dtype=np.float64)
    m = float(sum(found.values()))
    actual = np.append(actual_counts, m - actual_counts.sum()) / m
    return buckets, actual, expected_counts / reference_count


def _family(dtype: str) -> str:
    """A coarse type family from a polars dtype name, to tell comparable columns apart."""
    for prefix, family in (
        (("Int", "UInt"), "int"),
        (("Float", "Decimal"), "float"),
        (("Boolean",), "bool"),
        (("String", "Utf8", "Categorical", "Enum"), "str"),
        (("Datetime",), "datetime"),
        (("Date",), "date"),
        (("Null",), "null"),
    ):
        if dtype.startswith(prefix):
            return family
    return dtype


def _row(column: str, kind: str, method: str, **fields: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(DRIFT_SCHEMA)
    row.update(column=column, kind=kind, method=method, **fields)
    return row


def _schema_row(
    name: str, detail: str, ref_rows: int | None, cur_rows: int | None
) -> dict[str, object]:
    return _row(
        name,
        "schema",
        "schema",
        reference_rows=ref_rows,
        current_rows=cur_rows,
        drifted=True,
        detail=detail,
    )


def _non_null(series: pl.Series) -> int:
    return series.len() - nullify_non_finite(series).null_count()


def _numeric_row(
    name: str, values: np.ndarray, ref: dict, thresholds: tuple[float, float]
) -> dict[str, object]:
    quantiles = np.asarray(ref["quantiles"] or [], dtype=np.float64)
    if quantiles.size != len(QUANTILE_PROBS):
        raise DriftInputError(
            f"reference profile of column {name!r} has {quantiles.size} quantiles, expected "
            f"{len(QUANTILE_PROBS)}; re-profile the reference day with profile_frame"
        )
    n, m = int(ref["count"]), int(values.size)
    d = ks_statistic(values, quantiles)
    p = ks_pvalue(d, n, m)
    score = psi(*decile_shares(values, quantiles))
    drifted = score > thresholds[0] or p < thresholds[1]
    detail = (
        f"PSI {score:.3f}, KS D {d:.3f} (p={p:.2g}); median {quantiles[50]:.6g} -> "
        f"{float(np.median(values)):.6g}: {'drifted' if drifted else 'stable'}"
    )
    return _row(
        name,
        "numeric",
        "ks+psi",
        reference_rows=n,
        current_rows=m,
        psi=score,
        ks_statistic=d,
        ks_pvalue=p,
        drifted=drifted,
        detail=detail,
    )


def chi2_homogeneity(
    actual: np.ndarray, expected: np.ndarray, m: int, n: int
) -> tuple[float, float]:
    """Chi-square statistic and p-value that current (m rows) and reference (n rows) counts
    over the same buckets come from one distribution; buckets empty on both days are left out."""
    table = np.vstack([np.rint(expected * n), np.rint(actual * m)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    result = sps.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def _categorical_row(
    name: str, current: pl.Series, ref: dict, thresholds: tuple[float, float]
) -> dict[str, object]:
    n = int(ref["count"])
    buckets, actual, expected = categorical_shares(
        current, list(ref["top_values"]), list(ref["top_counts"]), n
    )
    score = psi(actual, expected)
    chi2, p = chi2_homogeneity(actual, expected, current.len(), n)
    drifted = score > thresholds[0] or p < thresholds[1]
    i = int(np.argmax(np.abs(actual - expected)))
    detail = (
        f"PSI {score:.3f}, chi2 {chi2:.1f} (p={p:.2g}) over {len(buckets) - 1} reference values"
        f" + other; largest change {buckets[i]!r} {expected[i]:.1%} -> {actual[i]:.1%}: "
        f"{'drifted' if drifted else 'stable'}"
    )
    return _row(
        name,
        "categorical",
        "chi2+psi",
        reference_rows=n,
        current_rows=current.len(),
        psi=score,
        chi2_statistic=chi2,
        chi2_pvalue=p,
        drifted=drifted,
        detail=detail,
    )


def _compare(
    name: str, series: pl.Series, ref: dict, thresholds: tuple[float, float]
) -> dict[str, object] | None:
    """The drift row for a column present on both days, or None when it is not comparable."""
    ref_family, cur_family = _family(ref["dtype"]), _family(str(series.dtype))
    numeric = ref["semantic_type"] == "numeric"
    same_type = ref_family == cur_family or (
        numeric and {ref_family, cur_family} <= {"int", "float"}
    )
    if not same_type and "null" not in (ref_family, cur_family):
        detail = f"type changed from {ref['dtype']} to {series.dtype}"
        return _schema_row(name, detail, ref["count"], _non_null(series))
    if ref["semantic_type"] not in ("numeric", "categorical", "boolean"):
        return None
    kind, method = ("numeric", "ks+psi") if numeric else ("categorical", "chi2+psi")
    current = nullify_non_finite(series).drop_nulls()
    if current.len() == 0:
        return _row(
            name,
            kind,
            method,
            reference_rows=ref["count"],
            current_rows=0,
            drifted=False,
            detail="not compared: no non-null values today",
        )
    if numeric:
        values = numeric_values(current)
        return _numeric_row(name, values if values is not None else np.empty(0), ref, thresholds)
    return _categorical_row(name, current, ref, thresholds)


def drift_against_profile(
    current: pl.DataFrame,
    reference: pl.DataFrame,
    *,
    psi_threshold: float = 0.2,
    ks_pvalue: float = 0.01,
) -> pl.DataFrame:
    """One drift row (schema ``DRIFT_SCHEMA``) per data column of ``current`` or ``reference``.

    Columns on one side only and columns whose type changed get kind "schema" and drifted True.
    A column drifts when PSI > ``psi_threshold`` or the KS (numeric) or chi-square
    (categorical) p-value < ``ks_pvalue``.
    """
    check_profile(reference)
    if not (math.isfinite(psi_threshold) and psi_threshold > 0):
        raise DriftInputError(f"psi_threshold must be a positive number, got {psi_threshold}")
    if not 0 < ks_pvalue < 1:
        raise DriftInputError(f"ks_pvalue must lie strictly between 0 and 1, got {ks_pvalue}")
    thresholds = (psi_threshold, ks_pvalue)
    present = data_columns(current)
    refs = {r["column"]: r for r in reference.iter_rows(named=True)}
    rows = []
    for name, ref in refs.items():
        if name not in present:
            detail = "column removed since the reference day"
            rows.append(_schema_row(name, detail, ref["count"], None))
            continue
        row = _compare(name, current.get_column(name), ref, thresholds)
        if row is not None:
            rows.append(row)
    for name in present:
        if name not in refs:
            detail = "column added since the reference day"
            rows.append(_schema_row(name, detail, None, _non_null(current.get_column(name))))
    return pl.DataFrame(rows, schema=DRIFT_SCHEMA)


def drift_summary(report: pl.DataFrame) -> dict[str, float | int]:
    """Headline numbers of a drift report.

    columns_compared counts numeric/categorical rows with a PSI; columns_drifted counts every
    drifted row, schema changes included; max_psi is 0.0 when nothing was compared.
    """
    missing = [c for c in DRIFT_SCHEMA if c not in report.columns]
    if missing:
        raise DriftInputError(
            f"drift report lacks columns {missing}; pass a frame made by drift_against_profile"
        )
    scored = report.filter(pl.col("psi").is_not_null())
    drifted = int(report["drifted"].fill_null(False).sum())
    return {
        "columns_compared": scored.height,
        "columns_drifted": drifted,
        "schema_changes": int((report["kind"] == "schema").sum()),
        "max_psi": float(scored["psi"].max()) if scored.height else 0.0,
        "drifted_share": drifted / report.height if report.height else 0.0,
    }
