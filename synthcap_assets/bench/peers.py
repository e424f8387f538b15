"""The peer tools of the profile benchmark, each written as its best user would write it.

The statistic set, in families (``families.FAMILIES``): per numeric column count, nulls, sum,
mean, variance, skewness, kurtosis, min, max, zeros, negatives (moments); quantiles at
``PROBS``; a ``HIST_BINS``-bin equal-width histogram over [min, max]; distinct counts of the
numeric columns; Pearson (pairwise complete) and Spearman matrices of the numeric columns;
Cramér's V of the categorical pair; per categorical column its top ``TOP_K`` values and its
distinct count. Every tool counts the same columns in each family: the categorical columns'
distinct counts come with their value counts (top values), where synthcap's exact counts give
them, not in the distinct family (the peers' distinct rows used to count 12 columns against
synthcap's 10).

Each family is ONE plan or query per tool: polars as lazy plans (the whole set through one
``collect_all``; every column ranked once, then Pearson of the ranks, for Spearman; quantiles as
one list per column); DuckDB as one SQL query per family (``histogram()`` with
``equi_width_bins`` in one query; Spearman ranks from ``rank()`` and ``cume_dist()`` over ONE
window per column, so one sort per column). Where a tool has an approximate form of a family
the default row uses it and says so (DuckDB ``approx_quantile`` (T-Digest),
``approx_count_distinct`` and ``approx_top_k``; polars ``approx_n_unique``); the ``-exact``
rows use the exact forms. Where a tool has no approximate form its exact form stands in,
labelled ``exact``.
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
from synthcap_assets.bench.families import Family, ToolRun

PAIRS = list(itertools.combinations(NUMERIC_COLUMNS, 2))


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V (no bias correction) of a contingency table."""
    n = table.sum()
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.nansum((table - expected) ** 2 / expected)
    return float(np.sqrt(chi2 / (n * (min(table.shape) - 1))))


def _cells_to_v(cells: pl.DataFrame, count: str) -> float:
    a, b = CATEGORICAL_COLUMNS
    table = cells.pivot(on=b, index=a, values=count).drop(a).fill_null(0).to_numpy()
    return cramers_v(table)


# ---------------------------------------------------------------- polars


def polars_plans(df: pl.DataFrame, exact: bool = False) -> dict[str, list[pl.LazyFrame]]:
    """One lazy plan per family (two for top values: one per categorical column)."""
    lf = df.lazy()
    moments = []
    for c in NUMERIC_COLUMNS:
        col = pl.col(c)
        moments += [
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
        ]
    distinct = [
        # Non-null values, like the other tools (polars counts null as a value).
        (
            pl.col(c).drop_nulls().n_unique() if exact else pl.col(c).drop_nulls().approx_n_unique()
        ).alias(c)
        for c in NUMERIC_COLUMNS
    ]
    ranked = lf.select(pl.col(NUMERIC_COLUMNS).rank("average"))
    return {
        "moments": [lf.select(moments)],
        "quantiles": [
            lf.select(pl.col(c).quantile(list(PROBS), "linear") for c in NUMERIC_COLUMNS)
        ],
        "histograms": [lf.select(pl.col(c).hist(bin_count=HIST_BINS) for c in NUMERIC_COLUMNS)],
        "distinct": [lf.select(distinct)],
        "pearson": [lf.select(pl.corr(a, b).alias(f"{a}|{b}") for a, b in PAIRS)],
        "spearman": [ranked.select(pl.corr(a, b).alias(f"{a}|{b}") for a, b in PAIRS)],
        "cramers_v": [lf.group_by(CATEGORICAL_COLUMNS).len()],
        # Every group (its number is the distinct count), the top ones taken when finishing.
        "top_values": [lf.drop_nulls(c).group_by(c).len() for c in CATEGORICAL_COLUMNS],
    }


def _polars_finish(results: dict[str, list[pl.DataFrame]]) -> dict:
    out: dict = {name: frames for name, frames in results.items()}
    if "cramers_v" in results:
        out["cramers_v"] = _cells_to_v(results["cramers_v"][0], "len")
    if "top_values" in results:
        out["top_values"] = [
            (frame.height, frame.sort("len", descending=True).head(TOP_K))
            for frame in results["top_values"]
        ]
    return out


def polars_stats(df: pl.DataFrame, exact: bool = False) -> dict:
    """The whole statistic set in one ``collect_all``."""
    plans = polars_plans(df, exact)
    flat = [(name, plan) for name, group in plans.items() for plan in group]
    frames = pl.collect_all([plan for _, plan in flat])
    results: dict[str, list[pl.DataFrame]] = {}
    for (name, _), frame in zip(flat, frames, strict=True):
        results.setdefault(name, []).append(frame)
    return _polars_finish(results)


def polars_run(df: pl.DataFrame, exact: bool = False) -> ToolRun:
    plans = polars_plans(df, exact)

    def family(name: str):
        return lambda: _polars_finish({name: pl.collect_all(plans[name])})

    distinct = (
        ("exact", "n_unique")
        if exact
        else ("approximate", "approx_n_unique (HyperLogLog; polars states no bound)")
    )
    how = {
        "quantiles": ("exact", "quantile(list, 'linear'): no approximate form in polars"),
        "histograms": ("exact", "Expr.hist(bin_count)"),
        "distinct": distinct,
        "spearman": ("exact", "rank('average') once per column, Pearson of the ranks"),
        "top_values": ("exact", "group_by().len() sorted; its height the distinct count"),
    }
    return ToolRun(
        whole=lambda: polars_stats(df, exact),
        families={
            name: Family(*how.get(name, ("exact", "one lazy plan")), family(name)) for name in plans
        },
    )


# ---------------------------------------------------------------- DuckDB


def duckdb_queries(rows: int, exact: bool = False) -> dict[str, str]:
    """One SQL query per family over the table ``t`` of ``rows`` rows."""
    probs = "[" + ", ".join(str(p) for p in PROBS) + "]"
    moments = []
    for c in NUMERIC_COLUMNS:
        moments += [
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
        ]
    quantile = "quantile_cont" if exact else "approx_quantile"
    distinct = "count(distinct {})" if exact else "approx_count_distinct({})"
    hist = "histogram({c}, (select equi_width_bins(min({c}), max({c}), {bins}, false) from t))"
    # Average rank = (lowest rank + highest rank) / 2; rank() and cume_dist() over the same
    # window share one sort (nulls sort last, so cume_dist * rows counts the values <= x).
    ranks = ", ".join(
        f"case when {c} is null then null else "
        f"(rank() over w_{c} + round(cume_dist() over w_{c} * {rows})) / 2 end as {c}"
        for c in NUMERIC_COLUMNS
    )
    windows = ", ".join(f"w_{c} as (order by {c})" for c in NUMERIC_COLUMNS)
    a, b = CATEGORICAL_COLUMNS
    if exact:  # count(*) over () on the groups: the distinct count
        top = " union all ".join(
            f"(select '{c}' as col, {c}::varchar as value, count(*) as n, "
            f"count(*) over () as distinct_values from t where {c} is not null "
            f"group by {c} order by n desc limit {TOP_K})"
            for c in CATEGORICAL_COLUMNS
        )
    else:
        top = "select " + ", ".join(
            f"approx_top_k({c}, {TOP_K}), approx_count_distinct({c})" for c in CATEGORICAL_COLUMNS
        )
        top += " from t"
    corr = ", ".join(f"corr({x}, {y})" for x, y in PAIRS)
    return {
        "moments": f"select {', '.join(moments)} from t",
        "quantiles": "select "
        + ", ".join(f"{quantile}({c}, {probs})" for c in NUMERIC_COLUMNS)
        + " from t",
        "histograms": "select "
        + ", ".join(hist.format(c=c, bins=HIST_BINS) for c in NUMERIC_COLUMNS)
        + " from t",
        "distinct": "select " + ", ".join(distinct.format(c) for c in NUMERIC_COLUMNS) + " from t",
        "pearson": f"select {corr} from t",
        "spearman": f"with r as (select {ranks} from t window {windows}) select {corr} from r",
        "cramers_v": f"select {a}, {b}, count(*) as n from t group by {a}, {b}",
        "top_values": top,
    }


def duckdb_run(df: pl.DataFrame, exact: bool = False) -> ToolRun:
    import duckdb

    con = duckdb.connect()
    con.register("t", df.to_arrow())
    queries = duckdb_queries(df.height, exact)

    def family(name: str):
        if name == "cramers_v":
            return lambda: _cells_to_v(con.sql(queries[name]).pl(), "n")
        return lambda: con.sql(queries[name]).fetchall()

    how = {
        "quantiles": ("exact", "quantile_cont")
        if exact
        else ("approximate", "approx_quantile (T-Digest; DuckDB states no bound)"),
        "distinct": ("exact", "count(distinct)")
        if exact
        else ("approximate", "approx_count_distinct (HyperLogLog; DuckDB states no bound)"),
        "top_values": ("exact", "group by, order by, limit; count(*) over () distinct")
        if exact
        else (
            "approximate",
            "approx_top_k (Filtered Space-Saving; values only), approx_count_distinct",
        ),
        "histograms": ("exact", "histogram() with equi_width_bins, one query"),
        "spearman": ("exact", "rank() and cume_dist() over one window (one sort) per column"),
    }
    return ToolRun(
        families={
            name: Family(*how.get(name, ("exact", "one SQL query")), family(name))
            for name in queries
        },
        notes={"setup": "the Arrow table registered outside the clock"},
    )


# ---------------------------------------------------------------- numpy / scipy


def _pairwise_pearson(block: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Pearson over pairwise-complete rows by masked matrix products (centred first)."""
    centred = np.where(valid, block - np.nanmean(block, 0), 0.0)
    v = valid.astype(np.float64)
    n = v.T @ v
    sa, sb = centred.T @ v, v.T @ centred
    saa, sbb = (centred**2).T @ v, v.T @ centred**2
    sab = centred.T @ centred
    return (n * sab - sa * sb) / np.sqrt((n * saa - sa**2) * (n * sbb - sb**2))


def _numpy_moments(block: np.ndarray, valid: np.ndarray) -> dict:
    from scipy import stats

    columns = [col[ok] for col, ok in zip(block.T, valid.T, strict=True)]
    return {
        "count": valid.sum(0),
        "sum": np.nansum(block, 0),
        "mean": np.nanmean(block, 0),
        "var": np.nanvar(block, 0, ddof=1),
        "min": np.nanmin(block, 0),
        "max": np.nanmax(block, 0),
        "zeros": (block == 0).sum(0),
        "negatives": (block < 0).sum(0),
        # Per column on the valid values: scipy's nan_policy="omit" goes through masked arrays.
        "skew": [stats.skew(c) for c in columns],
        "kurt": [stats.kurtosis(c) for c in columns],
    }


def _numpy_codes(df: pl.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    # Hash-based factorize: np.unique on strings sorts Python objects (seconds per column).
    return {c: pd.factorize(df[c].to_numpy()) for c in CATEGORICAL_COLUMNS}


def _numpy_top(df: pl.DataFrame) -> dict:
    out = {}
    for c, (inverse, values) in _numpy_codes(df).items():
        counts = np.bincount(inverse[inverse >= 0], minlength=values.size)
        out[f"{c}:distinct"] = values.size
        out[f"{c}:top"] = values[np.argsort(-counts)[:TOP_K]]
    return out


def _numpy_cramers_v(df: pl.DataFrame) -> float:
    (ia, va), (ib, vb) = _numpy_codes(df).values()
    keep = (ia >= 0) & (ib >= 0)
    table = np.zeros((va.size, vb.size))
    np.add.at(table, (ia[keep], ib[keep]), 1)
    return cramers_v(table)


def _numpy_spearman(block: np.ndarray, valid: np.ndarray) -> np.ndarray:
    from scipy import stats

    ranks = np.column_stack([stats.rankdata(col, nan_policy="omit") for col in block.T])
    return _pairwise_pearson(ranks, valid)  # NaN stays NaN


def numpy_families(df: pl.DataFrame) -> dict[str, Family]:
    block = df.select(NUMERIC_COLUMNS).to_numpy()  # nulls become NaN (outside the clock)
    valid = ~np.isnan(block)
    columns = lambda: [col[ok] for col, ok in zip(block.T, valid.T, strict=True)]  # noqa: E731
    return {
        "moments": Family(
            "exact", "nan-aware numpy, scipy.stats", lambda: _numpy_moments(block, valid)
        ),
        "quantiles": Family(
            "exact", "np.nanquantile", lambda: np.nanquantile(block, PROBS, axis=0)
        ),
        "histograms": Family(
            "exact", "np.histogram", lambda: [np.histogram(c, HIST_BINS)[0] for c in columns()]
        ),
        "distinct": Family("exact", "np.unique", lambda: [np.unique(c).size for c in columns()]),
        "pearson": Family(
            "exact", "masked matrix products", lambda: _pairwise_pearson(block, valid)
        ),
        "spearman": Family(
            "exact", "scipy.stats.rankdata, Pearson of ranks", lambda: _numpy_spearman(block, valid)
        ),
        "cramers_v": Family("exact", "pandas.factorize, np.add.at", lambda: _numpy_cramers_v(df)),
        "top_values": Family("exact", "pandas.factorize, np.bincount", lambda: _numpy_top(df)),
    }


def numpy_run(df: pl.DataFrame) -> ToolRun:
    return ToolRun(
        families=numpy_families(df),
        notes={"setup": "the NaN-for-null block made outside the clock"},
    )


def numpy_stats(df: pl.DataFrame) -> dict:
    """The reference statistic set (numpy/scipy, float64), one entry per family."""
    return {name: family.run() for name, family in numpy_families(df).items()}
