"""Drift of today's captured rows against the previous day's captured rows, per column.

Both days' rows are in the lake (``raw/<source>``), so every statistic is computed from the
rows, never from a sketch: the numeric ones by the JAX kernels of ``kernels.drift_stats``
(batched over columns), the category counts by polars. Each equals scipy's on the same rows up
to rounding (``synthcap_tests/profile/test_drift_scipy.py``), well inside the stated
tolerances: KS statistic within 0.01 (same decision at the level unless scipy's p lies in
[level/2, 2·level], where scipy's exact small-sample p and the asymptotic one may differ),
Wasserstein-1 ÷ reference std and Jensen–Shannon (same bins, base 2) within 0.01.

- Numeric columns: KS (statistic, asymptotic p-value), Wasserstein-1 ÷ the reference std,
  PSI over the reference deciles, Jensen–Shannon over the reference's 5% quantiles; bins are
  right-closed at the reference quantiles, so tied values never straddle a bin edge.
- Categorical columns (and booleans, and integer codes with few values): counts per bucket.
  A value is its own bucket when both days expect at least ``MIN_EXPECTED`` rows of it from
  the pooled counts (``pooled × rows of the smaller day / all rows``), the ``MAX_BUCKETS`` most
  frequent at most; every other value, seen or unseen, shares one "other values" bucket on
  both days. The buckets are chosen from the pooled counts, which a homogeneity test
  conditions on, so the choice does not bias the test; the old asymmetric "other" (empty in
  the reference by construction, full of unseen values today) flagged every high-cardinality
  column daily. Then chi-square of homogeneity, PSI and Jensen–Shannon. When values were
  merged the method reads ``top_values_<method>``; the detail gives today's share of values
  unseen in the reference next to the share Good–Turing expects (reference singletons ÷
  reference rows).
- Identifier-like columns (semantic type identifier, or more than ``IDENTIFIER_MIN_DISTINCT``
  values of which more than half are distinct) get no distribution test: method
  ``identifier``, statistic = today's unseen share, never drifted.
- The verdict: ``kernels.drift.choose_method`` (KS / chi-square up to ``small_reference_max``
  reference rows, else Wasserstein / Jensen–Shannon, where the distance flags only when the
  test rejects too), or the one method a source names; thresholds from the catalog.
- Schema: a column on one day only, a changed type, or values on one day and none on the
  other (one Delta table holds both days, so an added column reads as all-null the day
  before) is a "schema" row, drifted.
- Text columns (semantic type text): no distribution of values, but three distributions of
  the documents (:func:`text_drift_row`): the vocabulary (the ``VOCABULARY_TOP`` most frequent
  lowercased word tokens of both days plus "other tokens", Jensen–Shannon, also PSI and
  chi-square), the language mix (py3langid per document, Jensen–Shannon) and the lengths in
  characters (KS and Wasserstein ÷ std, by the numeric kernels). The column drifted when the
  vocabulary or the language mix moved past the Jensen–Shannon threshold with chi-square
  rejecting, or the lengths past the Wasserstein threshold with KS rejecting (a distance flags
  only when its test rejects, as for the other columns); ``method`` names the first that decided
  (``text_vocabulary_js``, ``text_language_js``, ``text_length_wasserstein``), else
  ``text_vocabulary_js``. Top 50 tokens keep the sampling noise of the distance near 0.04 on
  days of a few thousand tokens, well under the 0.1 default.
- Datetime and empty columns are not compared: daily partitions move in time by
  construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from synthcap_assets.columns import data_columns
from synthcap_assets.kernels.drift import (
    CATEGORICAL_METHODS,
    NUMERIC_METHODS,
    DriftResult,
    DriftThresholds,
    Method,
    categorical_statistics,
    choose_method,
    decide,
    numeric_statistics,
)
from synthcap_assets.kernels.drift_stats import DriftInputError
from synthcap_assets.profile.stats import (
    infer_semantic_type,
    kernel_column,
    nullify_non_finite,
    value_strings,
)
from synthcap_assets.text.drift import VOCABULARY_TOP, text_drift
from synthcap_resources.catalog import DriftSpec

__all__ = [
    "DRIFT_SCHEMA",
    "VOCABULARY_TOP",
    "DriftInputError",
    "category_buckets",
    "drift_between",
    "drift_summary",
    "drift_thresholds",
]

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
OTHER_BUCKET = "other values"
MIN_EXPECTED = 5
MAX_BUCKETS = 100
IDENTIFIER_MIN_DISTINCT = 20
IDENTIFIER_DISTINCT_SHARE = 0.5


def _family(dtype: pl.DataType) -> str:
    """A coarse type family, to tell comparable columns apart."""
    if dtype.is_integer():
        return "int"
    if dtype.is_float() or dtype.is_decimal():
        return "float"
    for kind, family in (
        (pl.Boolean, "bool"),
        (pl.String, "str"),
        (pl.Categorical, "str"),
        (pl.Enum, "str"),
        (pl.Datetime, "datetime"),
        (pl.Date, "date"),
        (pl.Null, "null"),
    ):
        if dtype == kind:
            return family
    return str(dtype)


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


def _describe(verdict: DriftResult, kind: str, t: DriftThresholds) -> str:
    word = "drifted" if verdict.drifted else "stable"
    if verdict.method in ("ks", "chisquare"):
        return (
            f"{verdict.method} {verdict.statistic:.3g} (p={verdict.p_value:.2g}) vs level "
            f"{verdict.threshold:g}: {word}"
        )
    test, level = ("ks", t.ks_pvalue) if kind == "numeric" else ("chisquare", t.chisquare_pvalue)
    return (
        f"{verdict.method} {verdict.statistic:.3g} vs threshold {verdict.threshold:g} and "
        f"{test} p={verdict.p_value:.2g} vs level {level:g}: {word}"
    )


def _numeric_rows(
    columns: dict[str, tuple[np.ndarray, np.ndarray]], t: DriftThresholds, method: Method | None
) -> dict[str, dict[str, object]]:
    """Drift rows of numeric columns, all columns in one kernel batch (NaN = missing)."""
    if not columns:
        return {}
    names = list(columns)
    width = max(len(v[0]) for v in columns.values()), max(len(v[1]) for v in columns.values())
    ref, cur = np.full((width[0], len(names)), np.nan), np.full((width[1], len(names)), np.nan)
    for i, name in enumerate(names):
        a, b = columns[name]
        ref[: a.size, i], cur[: b.size, i] = a, b
    found = numeric_statistics(ref, cur, js_base=t.js_base)
    chosen = method if method in NUMERIC_METHODS else None
    rows = {}
    for name, s in zip(names, found, strict=True):
        verdict = decide(
            chosen or choose_method(s["reference_rows"], "numeric", t), s, "numeric", t
        )
        a, b = columns[name]
        detail = (
            f"{_describe(verdict, 'numeric', t)}; KS {s['ks']:.3g}, Wasserstein/std "
            f"{s['wasserstein']:.3g}, PSI {s['psi']:.3g}, JS {s['jensenshannon']:.3g}; median "
            f"{np.nanmedian(a):.6g} -> {np.nanmedian(b):.6g}"
        )
        rows[name] = _row(
            name,
            "numeric",
            verdict.method,
            statistic=verdict.statistic,
            threshold=verdict.threshold,
            drifted=verdict.drifted,
            reference_rows=s["reference_rows"],
            current_rows=s["current_rows"],
            psi=s["psi"],
            ks_statistic=s["ks"],
            ks_pvalue=s["ks_pvalue"],
            wasserstein=s["wasserstein"],
            jensenshannon=s["jensenshannon"],
            detail=detail,
        )
    return rows


@dataclass(frozen=True)
class Buckets:
    """Two days' counts over shared buckets: ``labels`` (the last one may be ``OTHER_BUCKET``),
    the counts per day, how many values were merged into "other", the distinct values over
    both days, today's share of rows whose value the reference never held, and the
    Good–Turing estimate of that share (reference singletons ÷ reference rows)."""

    labels: list[str]
    reference: np.ndarray
    current: np.ndarray
    merged: int
    distinct: int
    unseen_share: float
    expected_unseen: float


def category_buckets(reference: pl.Series, current: pl.Series) -> Buckets:
    """The buckets of a categorical column (module doc), nulls left out."""
    counts = [value_strings(s).alias("value").value_counts(name="n") for s in (reference, current)]
    joined = (
        counts[0]
        .join(counts[1], on="value", how="full", coalesce=True, suffix="_cur")
        .with_columns(pl.col("n").fill_null(0), pl.col("n_cur").fill_null(0))
        .with_columns((pl.col("n") + pl.col("n_cur")).alias("pooled"))
        .sort(["pooled", "value"], descending=[True, False])
    )
    ref_counts, cur_counts = joined["n"].to_numpy(), joined["n_cur"].to_numpy()
    n, m = int(ref_counts.sum()), int(cur_counts.sum())
    pooled = ref_counts + cur_counts
    needed = MIN_EXPECTED * (n + m) / max(min(n, m), 1)
    keep = min(int((pooled >= needed).sum()), MAX_BUCKETS)
    labels = joined["value"].to_list()[:keep]
    ref, cur = ref_counts[:keep].astype(np.float64), cur_counts[:keep].astype(np.float64)
    if keep < len(pooled):
        labels.append(OTHER_BUCKET)
        ref = np.append(ref, ref_counts[keep:].sum())
        cur = np.append(cur, cur_counts[keep:].sum())
    return Buckets(
        labels=labels,
        reference=ref,
        current=cur,
        merged=len(pooled) - keep,
        distinct=len(pooled),
        unseen_share=float(cur_counts[ref_counts == 0].sum() / m) if m else 0.0,
        expected_unseen=float((ref_counts == 1).sum() / n) if n else 0.0,
    )


def _unseen(b: Buckets) -> str:
    return (
        f"today {b.unseen_share:.1%} of rows hold values unseen in the reference "
        f"(Good–Turing expects {b.expected_unseen:.1%})"
    )


def _identifier_like(semantic: str, b: Buckets) -> bool:
    rows = b.reference.sum() + b.current.sum()
    return semantic == "identifier" or (
        b.distinct > IDENTIFIER_MIN_DISTINCT and b.distinct > IDENTIFIER_DISTINCT_SHARE * rows
    )


def _categorical_row(
    name: str,
    reference: pl.Series,
    current: pl.Series,
    semantic: str,
    t: DriftThresholds,
    method: Method | None,
) -> dict[str, object]:
    b = category_buckets(reference, current)
    sizes = {"reference_rows": int(b.reference.sum()), "current_rows": int(b.current.sum())}
    if _identifier_like(semantic, b):
        rows = sizes["reference_rows"] + sizes["current_rows"]
        detail = (
            f"identifier-like ({b.distinct} distinct values in {rows} rows): no distribution "
            f"test; {_unseen(b)}"
        )
        return _row(
            name, "categorical", "identifier", statistic=b.unseen_share, drifted=False,
            detail=detail, **sizes,
        )  # fmt: skip
    s = categorical_statistics(b.reference, b.current, t.js_base)
    chosen = method if method in CATEGORICAL_METHODS else None
    verdict = decide(
        chosen or choose_method(sizes["reference_rows"], "categorical", t), s, "categorical", t
    )
    shares = b.current / b.current.sum() - b.reference / b.reference.sum()
    i = int(np.argmax(np.abs(shares)))
    values = len(b.labels) - (1 if b.merged else 0)
    over = f"{values} value{'s' * (values != 1)}"
    over += f" + other values ({b.merged} merged)" if b.merged else ""
    detail = (
        f"{_describe(verdict, 'categorical', t)} over {over}; largest change {b.labels[i]!r} "
        f"{b.reference[i] / b.reference.sum():.1%} -> {b.current[i] / b.current.sum():.1%}; "
        f"{_unseen(b)}"
    )
    return _row(
        name,
        "categorical",
        f"top_values_{verdict.method}" if b.merged else verdict.method,
        statistic=verdict.statistic,
        threshold=verdict.threshold,
        drifted=verdict.drifted,
        psi=s["psi"],
        jensenshannon=s["jensenshannon"],
        chi2_statistic=s["chisquare"],
        chi2_pvalue=s["chisquare_pvalue"],
        detail=detail,
        **sizes,
    )


def text_drift_row(
    name: str, reference: pl.Series, current: pl.Series, t: DriftThresholds
) -> dict[str, object]:
    """The drift row of a text column (module doc); both series non-null strings."""
    method, fields = text_drift(reference, current, t)
    return _row(name, "text", method, **fields)


def _finite(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with float NaN and +/-inf as nulls (``nullify_non_finite``, all at once)."""
    floats = [c for c, dtype in frame.schema.items() if dtype.is_float()]
    return frame.with_columns(
        pl.when(pl.col(c).is_finite()).then(pl.col(c)).alias(c) for c in floats
    )


def _aligned(reference: pl.Series, current: pl.Series) -> tuple[pl.Series, pl.Series] | str:
    """Both days' series in one dtype, or why they cannot be compared."""
    families = {_family(reference.dtype), _family(current.dtype)}
    if len(families) == 1:
        return reference, current
    if families <= {"int", "float"}:
        return reference.cast(pl.Float64), current.cast(pl.Float64)
    if "null" in families:
        dtype = current.dtype if reference.dtype == pl.Null else reference.dtype
        return reference.cast(dtype), current.cast(dtype)
    return f"type changed from {reference.dtype} to {current.dtype}"


def drift_thresholds(spec: DriftSpec) -> DriftThresholds:
    """The kernels' thresholds from a source's ``drift`` block."""
    return DriftThresholds(
        small_reference_max=spec.small_reference_max,
        ks_pvalue=spec.ks_pvalue,
        chisquare_pvalue=spec.chisquare_pvalue,
        wasserstein=spec.wasserstein,
        jensenshannon=spec.jensenshannon,
        psi=spec.psi_threshold,
    )


def drift_between(
    current: pl.DataFrame,
    reference: pl.DataFrame,
    *,
    thresholds: DriftThresholds | None = None,
    method: Method | None = None,
) -> pl.DataFrame:
    """One drift row (schema ``DRIFT_SCHEMA``) per comparable data column of the two days'
    rows, plus a "schema" row (drifted) per column on one day only or whose type changed.

    ``method`` (the source's ``drift.method``) decides every column it applies to; other
    columns get ``choose_method``'s by reference size. Capture metadata columns are ignored.
    """
    t = thresholds or DriftThresholds()
    current, reference = _finite(current), _finite(reference)
    present, before = data_columns(current), data_columns(reference)
    rows: dict[str, dict[str, object] | None] = {}
    numeric: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in before:
        ref = reference.get_column(name)
        if name not in present:
            rows[name] = _schema_row(
                name, "column removed since the reference day", _non_null(ref), None
            )
            continue
        pair = _aligned(ref, current.get_column(name))
        if isinstance(pair, str):
            rows[name] = _schema_row(name, pair, _non_null(ref), _non_null(current[name]))
            continue
        a, b = (s.drop_nulls() for s in pair)
        semantic = infer_semantic_type(pl.concat([a, b]))
        rows[name] = None
        if semantic == "text" and a.len() and b.len():
            rows[name] = text_drift_row(name, a.cast(pl.String), b.cast(pl.String), t)
            continue
        if semantic not in ("numeric", "categorical", "boolean", "identifier"):
            continue
        if (a.len() == 0) != (b.len() == 0) and min(reference.height, current.height) > 0:
            # One table holds both days, so a column added or removed reads as all-null.
            day = "on the reference day" if a.len() == 0 else "today"
            detail = f"no values {day} (column added or removed?)"
            rows[name] = _schema_row(name, detail, a.len(), b.len())
        elif a.len() == 0 or b.len() == 0:
            rows[name] = _row(
                name, "numeric" if semantic == "numeric" else "categorical", "none",
                reference_rows=a.len(), current_rows=b.len(), drifted=False,
                detail="not compared: no non-null values on one of the days",
            )  # fmt: skip
        elif semantic == "numeric":
            numeric[name] = (kernel_column(a), kernel_column(b))
        else:
            rows[name] = _categorical_row(name, a, b, semantic, t, method)
    rows.update(_numeric_rows(numeric, t, method))
    for name in present:
        if name not in before:
            detail = "column added since the reference day"
            rows[name] = _schema_row(name, detail, None, _non_null(current.get_column(name)))
    return pl.DataFrame([r for r in rows.values() if r is not None], schema=DRIFT_SCHEMA)


def drift_summary(report: pl.DataFrame) -> dict[str, float | int]:
    """Headline numbers of a drift report.

    columns_compared counts numeric/categorical rows with a PSI (identifier-like columns have
    none); columns_drifted counts every drifted row, schema changes included; max_psi is 0.0
    when nothing was compared.
    """
    missing = [c for c in DRIFT_SCHEMA if c not in report.columns]
    if missing:
        raise DriftInputError(
            f"drift report lacks columns {missing}; pass a frame made by drift_between"
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
