"""The benchmark table: N rows × 10 float64 columns (5% nulls) + 2 categorical columns.

Columns mix shapes on purpose (normal, heavy-tailed, skewed, offset, integer-valued, with
zeros and negatives) so that no statistic is trivially cheap. Seeded: every tool sees the same
bytes.
"""

from __future__ import annotations

import numpy as np
import polars as pl

NUMERIC_COLUMNS = [f"x{i}" for i in range(10)]
CATEGORICAL_COLUMNS = ["cat_small", "cat_large"]
NULL_SHARE = 0.05
SMALL_LEVELS, LARGE_LEVELS = 20, 2000
# The statistic set every tool computes (issue 3, items 1-4).
PROBS = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99)
HIST_BINS = 20
TOP_K = 10


def _column(rng: np.random.Generator, i: int, rows: int) -> np.ndarray:
    shapes = [
        lambda: rng.standard_normal(rows),
        lambda: rng.standard_t(2, rows),
        lambda: rng.lognormal(0, 1, rows),
        lambda: 1e12 + rng.standard_normal(rows),
        lambda: rng.integers(-5, 6, rows).astype(np.float64),
        lambda: rng.exponential(3, rows) - 1,
        lambda: rng.uniform(-1, 1, rows),
        lambda: np.round(rng.gamma(2, 2, rows), 2),
        lambda: rng.standard_normal(rows) * 1e-6,
        lambda: np.cumsum(rng.standard_normal(rows)) / 1000,
    ]
    return shapes[i % len(shapes)]()


def make_table(rows: int, seed: int = 0) -> pl.DataFrame:
    """The benchmark table with ``rows`` rows."""
    rng = np.random.default_rng(seed)
    columns: dict[str, pl.Series] = {}
    for i, name in enumerate(NUMERIC_COLUMNS):
        values = _column(rng, i, rows)
        nulls = rng.random(rows) < NULL_SHARE
        columns[name] = pl.Series(name, values).set(pl.Series(nulls), None)
    small = rng.zipf(1.5, rows) % SMALL_LEVELS
    large = rng.integers(0, LARGE_LEVELS, rows) ^ (small * 7)
    table = pl.DataFrame(columns).with_columns(
        pl.Series("s", small), pl.Series("l", large % LARGE_LEVELS)
    )
    return table.with_columns(
        pl.format("s{}", pl.col("s")).alias("cat_small"),
        pl.format("l{}", pl.col("l")).alias("cat_large"),
    ).drop("s", "l")


def table_megabytes(df: pl.DataFrame) -> float:
    return df.estimated_size("mb")
