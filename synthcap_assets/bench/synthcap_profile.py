"""synthcap's side of the profile benchmark: the statistic set of ``peers`` from the kernels.

Numeric columns go through ``kernels.profile`` chunk by chunk (moments, quantiles, histogram,
distinct), then ``kernels.corr_sketch`` in one more pass (Pearson, and Spearman on ranks read
from the profile's quantile summaries, both as mergeable chunk states);
categorical columns are coded once by polars (``categorical_codes``) and counted by
``kernels.topk`` and ``kernels.corr_cramer``.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthcap_assets.bench.data import CATEGORICAL_COLUMNS, HIST_BINS, NUMERIC_COLUMNS, PROBS, TOP_K
from synthcap_assets.kernels.corr_cramer import cramers_v
from synthcap_assets.kernels.corr_sketch import pearson_and_spearman
from synthcap_assets.kernels.profile import finalize, profile_columns
from synthcap_assets.kernels.topk import category_counts, top_k
from synthcap_resources.compute import DEFAULT_CHUNK_ROWS, bucket_size


def categorical_codes(series: pl.Series) -> tuple[np.ndarray, list[str]]:
    """Codes 0..k-1 of a string column (-1 for nulls) and its k labels, via a polars Enum."""
    labels = series.drop_nulls().unique().sort().cast(pl.String).to_list()
    codes = series.cast(pl.String).cast(pl.Enum(labels)).to_physical()
    return codes.fill_null(-1).cast(pl.Int32).to_numpy(), labels


def synthcap_stats(df: pl.DataFrame, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> dict:
    """Issue 3's statistic set (items 1-4) for the benchmark table, computed by the kernels."""
    numeric = [df.get_column(c) for c in NUMERIC_COLUMNS]
    state = profile_columns(numeric, chunk_rows=chunk_rows)
    out: dict = {"profile": finalize(state, PROBS, HIST_BINS)}
    codes = []
    for c in CATEGORICAL_COLUMNS:
        column_codes, labels = categorical_codes(df.get_column(c))
        counts = category_counts(column_codes[None, :], bucket_size(len(labels)))
        best, freq = (np.asarray(a)[0] for a in top_k(counts, TOP_K))
        out[f"{c}:distinct"] = len(labels)
        out[f"{c}:top"] = [(labels[i], int(n)) for i, n in zip(best, freq, strict=True) if i >= 0]
        codes.append(column_codes)
    # Ranks from the profile's quantile summaries: no sort (bound in kernels.corr_sketch).
    values = df.select(NUMERIC_COLUMNS).to_numpy()
    pearson, spearman = pearson_and_spearman(values, state.quantiles, chunk_rows // 4)
    out["pearson"], out["spearman"] = pearson.matrix, spearman.matrix
    del values
    block = np.column_stack(codes)
    out["cramers_v"] = cramers_v(block, block >= 0).matrix[0, 1]
    return out
