"""Drift of today's captured frame against the previous day's profile, on the drift kernels.

The reference is only yesterday's profile (from ``profile_frame``), never yesterday's rows:

- Numeric columns: the reference is its 101 quantiles and count (``ReferenceQuantiles``, the
  piecewise-linear quantile model of ``kernels.drift_quantiles``, plain linear tails). Against
  it the kernels give the KS statistic with its asymptotic p-value, PSI over the reference
  deciles, Jensen–Shannon over its 5% quantiles and Wasserstein-1 normed by the reference std.
- Categorical columns (semantic type categorical or boolean): counts over the reference's
  stored values plus an "other" bucket for anything else (``value_labels``/``value_counts``):
  chi-square test of homogeneity, PSI and Jensen–Shannon (``kernels.drift``).
- Which statistic decides is chosen per column by reference size in the manner of Evidently
  (``kernels.drift.choose_method``): KS / chi-square on references of at most
  ``small_reference_max`` rows, Wasserstein / Jensen–Shannon on larger ones; a source may name
  one method for all columns. Thresholds come from the catalog's ``drift`` block.
- Datetime, text, identifier and empty columns are not compared: daily partitions move in time
  by construction, and free text or identifiers have no stable distribution of values.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthcap_assets.columns import data_columns
from synthcap_assets.kernels.drift import (
    CategoryCounts,
    DriftResult,
    DriftThresholds,
    Method,
    choose_method,
    drift_categorical,
    drift_numeric,
)
from synthcap_assets.kernels.drift_quantiles import ReferenceQuantiles
from synthcap_assets.kernels.drift_stats import DriftInputError
from synthcap_assets.profile.stats import (
    QUANTILE_PROBS,
    check_profile,
    kernel_column,
    nullify_non_finite,
    sorted_value_counts,
)

__all__ = ["DRIFT_SCHEMA", "DriftInputError", "drift_against_profile", "drift_summary"]

DRIFT_SCHEMA: dict[str, pl.DataType] = {
    "column": pl.Utf8(),
    "kind": pl.Utf8(),
    "method": pl.Utf8(),
    "statistic": pl.Float64(),
    "threshold": pl.Float64(),
    "reference_rows": pl.Int64(),
    "current_rows": pl.Int64(),
    "psi": pl.Float64(),
    "ks_statistic": pl.Float64(),
    "ks_pvalue": pl.Float64(),
    "wasserstein": pl.Float64(),
    "jensenshannon": pl.Float64(),
    "chi2_statistic": pl.Float64(),
    "chi2_pvalue": pl.Float64(),
    "drifted": pl.Boolean(),
    "detail": pl.Utf8(),
}
OTHER_BUCKET = "other"
NUMERIC_STATISTICS: tuple[Method, ...] = ("ks", "psi", "wasserstein", "jensenshannon")
CATEGORICAL_STATISTICS: tuple[Method, ...] = ("chisquare", "psi", "jensenshannon")


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


def _row(column: str, kind: str, verdict: DriftResult | str, **fields: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(DRIFT_SCHEMA)
    if isinstance(verdict, DriftResult):
        fields = {
            "statistic": verdict.statistic,
            "threshold": verdict.threshold,
            "drifted": verdict.drifted,
            **fields,
        }
        verdict = verdict.method
    row.update(column=column, kind=kind, method=verdict, **fields)
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
    name: str, values: np.ndarray, ref: dict, thresholds: DriftThresholds, method: Method | None
) -> dict[str, object]:
    quantiles = np.asarray(ref["quantiles"] or [], dtype=np.float64)
    if quantiles.size != len(QUANTILE_PROBS):
        raise DriftInputError(
            f"reference profile of column {name!r} has {quantiles.size} quantiles, expected "
            f"{len(QUANTILE_PROBS)}; re-profile the reference day with profile_frame"
        )
    n, m = int(ref["count"]), int(values.size)
    reference = ReferenceQuantiles.of(
        quantiles, n, QUANTILE_PROBS, std=ref["std"] or 0.0, tails="linear"
    )
    found = {
        s: drift_numeric(reference, values[:, None], method=s, thresholds=thresholds)[0]
        for s in NUMERIC_STATISTICS
    }
    chosen = method or choose_method(n, "numeric", thresholds)
    verdict = found[chosen]
    detail = (
        f"{_describe(verdict)}; PSI {found['psi'].statistic:.3f}; median "
        f"{quantiles[50]:.6g} -> {float(np.median(values)):.6g}"
    )
    return _row(
        name,
        "numeric",
        verdict,
        reference_rows=n,
        current_rows=m,
        psi=found["psi"].statistic,
        ks_statistic=found["ks"].statistic,
        ks_pvalue=found["ks"].p_value,
        wasserstein=found["wasserstein"].statistic,
        jensenshannon=found["jensenshannon"].statistic,
        detail=detail,
    )


def category_counts_against(
    current: pl.Series, ref: dict
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(buckets, reference counts, current counts) over the reference's stored values plus
    "other" (the reference rows not stored, and any value new today)."""
    labels = list(ref["value_labels"] or [])
    stored = np.asarray(ref["value_counts"] or [], np.float64)
    reference = np.append(stored, int(ref["count"]) - stored.sum())
    seen_labels, seen_counts, _ = sorted_value_counts(current)
    found = dict(zip(seen_labels, seen_counts, strict=True))
    today = np.asarray([found.pop(label, 0) for label in labels], np.float64)
    today = np.append(today, sum(found.values()))
    return [*labels, OTHER_BUCKET], reference, today


def _categorical_row(
    name: str, current: pl.Series, ref: dict, thresholds: DriftThresholds, method: Method | None
) -> dict[str, object]:
    buckets, reference, today = category_counts_against(current, ref)
    ref_counts, cur_counts = CategoryCounts(reference), CategoryCounts(today)
    found = {
        s: drift_categorical(ref_counts, cur_counts, method=s, thresholds=thresholds)
        for s in CATEGORICAL_STATISTICS
    }
    n = int(reference.sum())
    categorical = method if method in CATEGORICAL_STATISTICS else None
    chosen = categorical or choose_method(n, "categorical", thresholds)
    verdict = found[chosen]
    shares = today / today.sum() - reference / reference.sum()
    i = int(np.argmax(np.abs(shares)))
    detail = (
        f"{_describe(verdict)} over {len(buckets) - 1} reference values + other; largest "
        f"change {buckets[i]!r} {reference[i] / n:.1%} -> {today[i] / today.sum():.1%}"
    )
    return _row(
        name,
        "categorical",
        verdict,
        reference_rows=n,
        current_rows=int(today.sum()),
        psi=found["psi"].statistic,
        jensenshannon=found["jensenshannon"].statistic,
        chi2_statistic=found["chisquare"].statistic,
        chi2_pvalue=found["chisquare"].p_value,
        detail=detail,
    )


def _describe(verdict: DriftResult) -> str:
    test = f" (p={verdict.p_value:.2g})" if verdict.p_value is not None else ""
    return (
        f"{verdict.method} {verdict.statistic:.3g}{test} vs threshold {verdict.threshold:g}: "
        f"{'drifted' if verdict.drifted else 'stable'}"
    )


def _compare(
    name: str, series: pl.Series, ref: dict, thresholds: DriftThresholds, method: Method | None
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
    current = nullify_non_finite(series).drop_nulls()
    if current.len() == 0 or not ref["count"]:
        return _row(
            name,
            "numeric" if numeric else "categorical",
            "none",
            reference_rows=ref["count"],
            current_rows=current.len(),
            drifted=False,
            detail="not compared: no non-null values on one of the days",
        )
    if numeric:
        values = kernel_column(current)
        return _numeric_row(name, values[np.isfinite(values)], ref, thresholds, method)
    return _categorical_row(name, current, ref, thresholds, method)


def drift_against_profile(
    current: pl.DataFrame,
    reference: pl.DataFrame,
    *,
    thresholds: DriftThresholds | None = None,
    method: Method | None = None,
) -> pl.DataFrame:
    """One drift row (schema ``DRIFT_SCHEMA``) per data column of ``current`` or ``reference``.

    Columns on one side only and columns whose type changed get kind "schema" and drifted True.
    Other columns drift by the verdict of ``method``, or of the method Evidently's defaults
    choose for the reference's size, against ``thresholds``.
    """
    check_profile(reference)
    thresholds = thresholds or DriftThresholds()
    present = data_columns(current)
    refs = {r["column"]: r for r in reference.iter_rows(named=True)}
    rows = []
    for name, ref in refs.items():
        if name not in present:
            detail = "column removed since the reference day"
            rows.append(_schema_row(name, detail, ref["count"], None))
            continue
        row = _compare(name, current.get_column(name), ref, thresholds, method)
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
