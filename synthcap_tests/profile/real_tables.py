"""Real tables bundled with installed packages (no network), for the drift tests.

Each differs on purpose: ``randhie`` (20,190 rows: more than 8k, discrete counts and heavy
ties), ``fair`` (6,366 rows: survey scales with heavy ties, outlier-heavy ``affairs``),
``engel`` (235 rows: outlier-heavy incomes), ``cars`` (406 rows: car-model names, missing
values), ``airports`` (3,376 rows: codes, names and cities, high-cardinality states).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl
import statsmodels.api as sm
from vega_datasets import data as vega

LOADERS = {
    "randhie": lambda: sm.datasets.randhie.load_pandas().data,
    "fair": lambda: sm.datasets.fair.load_pandas().data,
    "engel": lambda: sm.datasets.engel.load_pandas().data,
    "cars": vega.cars,
    "airports": vega.airports,
}


@cache
def real_table(name: str) -> pl.DataFrame:
    """The bundled table ``name`` as polars."""
    return pl.from_pandas(LOADERS[name]())


def random_halves(frame: pl.DataFrame, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(day 1, day 2): a seeded random split of ``frame`` into two halves."""
    order = np.random.default_rng(seed).permutation(frame.height)
    half = frame.height // 2
    return frame[order[:half]], frame[order[half:]]
