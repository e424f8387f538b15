"""The peer tools of the profile benchmark, each computing the same statistic set.

Per numeric column: count, nulls, sum, mean, variance, skewness, kurtosis, min, max, zeros,
negatives, quantiles at ``PROBS``, a ``HIST_BINS``-bin equal-width histogram and a distinct
count; per categorical column: distinct count and top ``TOP_K`` values; Pearson (pairwise
complete) and Spearman matrices of the numeric columns; Cramér's V of the categorical pair.
Each function is the best way we know to ask that tool for those numbers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import polars as pl

from synthcap_assets.bench.data import (
    CATEGORICAL_COLUMNS,
    HIST_BINS,
    NUMERIC_COLUMNS,
    PROBS,
    TOP_K,
)


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V (no bias correction) of a contingency table."""
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.nansum((table - expected) ** 2 / expected)
    return float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))


def polars_stats(df: pl.DataFrame) -> dict:
    """The statistic set with polars expressions (multi-threaded, one select where possible)."""
    exprs = []
    for c in NUMERIC_COLUMNS:
        col = pl.col(c)
        exprs += [
            col.count().alias(f"{c}:count"),
            col.null_count().alias(f"{c}:nulls"),
            col.sum().alias(f"{c}:sum"),
            col.mean().alias(f"{c}:mean"),
            col.var().alias(f"{c}:var"),
            col.skew().alias(f"{c}:skew"),
            col.kurtosis().alias(f"{c}:kurt"),
            col.min().alias(f"{c}:min"),
            col.max().alias(f"{c}:max"),
            (col == 0).sum().alias(f"{c}:zeros"),
            (col < 0).sum().alias(f"{c}:negatives"),
            col.approx_n_unique().alias(f"{c}:distinct"),
        ]
        exprs += [col.quantile(p, "linear").alias(f"{c}:q{p}") for p in PROBS]
    for c in CATEGORICAL_COLUMNS:
        exprs.append(pl.col(c).approx_n_unique().alias(f"{c}:distinct"))
    out = df.select(exprs).row(0, named=True)
    for c in NUMERIC_COLUMNS:
        lo, hi = out[f"{c}:min"], out[f"{c}:max"]
        width = (hi - lo) / HIST_BINS or 1.0
        bins = ((pl.col(c) - lo) / width).floor().clip(0, HIST_BINS - 1).cast(pl.Int32)
        out[f"{c}:hist"] = df.select(bins.alias("b")).drop_nulls()["b"].value_counts()
    for c in CATEGORICAL_COLUMNS:
        out[f"{c}:top"] = df[c].value_counts(sort=True).head(TOP_K)
    pairs = list(itertools.combinations(NUMERIC_COLUMNS, 2))
    out["pearson"] = df.select(
        pl.corr(a, b, method="pearson").alias(f"{a}|{b}") for a, b in pairs
    ).row(0)
    out["spearman"] = df.select(
        pl.corr(a, b, method="spearman").alias(f"{a}|{b}") for a, b in pairs
    ).row(0)
    counts = df.group_by(CATEGORICAL_COLUMNS).len()
    table = counts.pivot(on=CATEGORICAL_COLUMNS[1], index=CATEGORICAL_COLUMNS[0], values="len")
    out["cramers_v"] = cramers_v(table.drop(CATEGORICAL_COLUMNS[0]).fill_null(0).to_numpy())
    return out


def duckdb_stats(df: pl.DataFrame) -> dict:
    """The statistic set in DuckDB SQL over the Arrow table (SUMMARIZE-style aggregates)."""
    import duckdb

    con = duckdb.connect()
    con.register("t", df.to_arrow())
    probs = "[" + ", ".join(str(p) for p in PROBS) + "]"
    selects = []
    for c in NUMERIC_COLUMNS:
        selects += [
            f"count({c})",
            f"count(*) - count({c})",
            f"sum({c})",
            f"avg({c})",
            f"var_samp({c})",
            f"skewness({c})",
            f"kurtosis({c})",
            f"min({c})",
            f"max({c})",
            f"count_if({c} = 0)",
            f"count_if({c} < 0)",
            f"approx_count_distinct({c})",
            f"quantile_cont({c}, {probs})",
        ]
    selects += [f"approx_count_distinct({c})" for c in CATEGORICAL_COLUMNS]
    out: dict = {"aggregates": con.sql(f"select {', '.join(selects)} from t").fetchall()[0]}
    for i, c in enumerate(NUMERIC_COLUMNS):
        lo, hi = out["aggregates"][i * 13 + 7], out["aggregates"][i * 13 + 8]
        width = (hi - lo) / HIST_BINS or 1.0
        out[f"{c}:hist"] = con.sql(
            f"select least(floor(({c} - {lo}) / {width}), {HIST_BINS - 1}) b, count(*) "
            f"from t where {c} is not null group by b"
        ).fetchall()
    for c in CATEGORICAL_COLUMNS:
        out[f"{c}:top"] = con.sql(
            f"select {c}, count(*) n from t group by {c} order by n desc limit {TOP_K}"
        ).fetchall()
    pairs = list(itertools.combinations(NUMERIC_COLUMNS, 2))
    out["pearson"] = con.sql(
        "select " + ", ".join(f"corr({a}, {b})" for a, b in pairs) + " from t"
    ).fetchall()[0]
    ranks = ", ".join(
        f"case when {c} is null then null else rank() over (order by {c}) "
        f"+ (count(*) over (partition by {c}) - 1) / 2.0 end as r_{c}"
        for c in NUMERIC_COLUMNS
    )
    out["spearman"] = con.sql(
        f"with r as (select {ranks} from t) select "
        + ", ".join(f"corr(r_{a}, r_{b})" for a, b in pairs)
        + " from r"
    ).fetchall()[0]
    a, b = CATEGORICAL_COLUMNS
    cells = con.sql(f"select {a}, {b}, count(*) n from t group by {a}, {b}").pl()
    table = cells.pivot(on=b, index=a, values="n").drop(a).fill_null(0).to_numpy()
    out["cramers_v"] = cramers_v(table)
    return out


def _pairwise_pearson(block: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Pearson over pairwise-complete rows by masked matrix products (centred first)."""
    centred = np.where(valid, block - np.nanmean(block, 0), 0.0)
    v = valid.astype(np.float64)
    n = v.T @ v
    sa, sb = centred.T @ v, v.T @ centred
    saa, sbb = (centred**2).T @ v, v.T @ centred**2
    sab = centred.T @ centred
    return (n * sab - sa * sb) / np.sqrt((n * saa - sa**2) * (n * sbb - sb**2))


def numpy_stats(df: pl.DataFrame) -> dict:
    """The statistic set with numpy/scipy on the NaN-for-null float64 block."""
    from scipy import stats

    block = df.select(NUMERIC_COLUMNS).to_numpy()  # nulls become NaN
    valid = ~np.isnan(block)
    out: dict = {
        "count": valid.sum(0),
        "sum": np.nansum(block, 0),
        "mean": np.nanmean(block, 0),
        "var": np.nanvar(block, 0, ddof=1),
        "min": np.nanmin(block, 0),
        "max": np.nanmax(block, 0),
        "zeros": (block == 0).sum(0),
        "negatives": (block < 0).sum(0),
        # Per column on the valid values: scipy's nan_policy="omit" goes through masked arrays.
        "skew": [stats.skew(col[ok]) for col, ok in zip(block.T, valid.T, strict=True)],
        "kurt": [stats.kurtosis(col[ok]) for col, ok in zip(block.T, valid.T, strict=True)],
        "quantiles": np.nanquantile(block, PROBS, axis=0),
    }
    out["hist"] = [
        np.histogram(col[ok], HIST_BINS)[0] for col, ok in zip(block.T, valid.T, strict=True)
    ]
    out["distinct"] = [np.unique(col[ok]).size for col, ok in zip(block.T, valid.T, strict=True)]
    codes = {}
    for c in CATEGORICAL_COLUMNS:
        # Hash-based factorize: np.unique on strings sorts Python objects (seconds per column).
        inverse, values = pd.factorize(df[c].to_numpy())
        counts = np.bincount(inverse, minlength=values.size)
        codes[c] = (inverse, values.size)
        out[f"{c}:distinct"] = values.size
        out[f"{c}:top"] = values[np.argsort(-counts)[:TOP_K]]
    out["pearson"] = _pairwise_pearson(block, valid)
    ranks = np.column_stack(
        [stats.rankdata(col, nan_policy="omit") for col in block.T]
    )  # NaN stays NaN
    out["spearman"] = _pairwise_pearson(ranks, valid)
    (ia, na), (ib, nb) = codes.values()
    table = np.zeros((na, nb))
    np.add.at(table, (ia, ib), 1)
    out["cramers_v"] = cramers_v(table)
    return out


def ydata_stats(df: pl.DataFrame) -> dict:
    """ydata-profiling in minimal mode: its description set (no HTML rendering)."""
    from ydata_profiling import ProfileReport

    report = ProfileReport(
        df.to_pandas(),
        minimal=True,
        progress_bar=False,
        correlations={
            "pearson": {"calculate": True},
            "spearman": {"calculate": True},
            "cramers": {"calculate": True},
        },
    )
    return {"description": report.get_description()}
