"""Evaluation of a synthetic sample: utility (column shapes, column pair trends) and privacy
(distance to closest record, exact matches, membership inference), as tidy rows.

The definitions follow SDMetrics and synthcity, written here in numpy (neither library is a
dependency: SDMetrics pulls in plotly and copulas, synthcity torch models we do not use):

- column shapes: :mod:`.utility` (KS / TV complement);
- pair trends, per pair of synthesized columns: ``correlation_similarity`` = ``1 - |r_real -
  r_syn| / 2`` with Pearson's r when both are numeric (SDMetrics CorrelationSimilarity);
  otherwise ``contingency_similarity`` = ``1 - TVD`` of the two joint distributions, numeric
  columns cut at the real column's deciles (SDMetrics ContingencySimilarity);
- ``dcr_ratio``: median distance from each synthetic row to its closest *training* row over the
  median distance from each *holdout* row (real, not used to fit) to its closest training row.
  Around 1 or above: synthetic rows are no closer to the people they were fitted on than new
  people are; well below 1: the sample copies training records;
- ``exact_match_share``: synthetic rows equal to a training row (distance 0 after encoding);
- ``mia_auc``: a distance attack's ROC AUC at telling training rows from holdout rows by their
  distance to the closest synthetic row (0.5 = no better than a coin; the Anonymeter/synthcity
  "DCR-based MIA"). Computed as the Mann-Whitney U statistic over equal-size groups.

Rows are encoded for distances as: numeric columns min-max scaled by the training range
(dates as days), categorical columns one-hot on the training categories, a null indicator per
column; distances come from numpy for a day's sizes (``SMALL_WORK``) and from the JAX kernel
:mod:`synthcap_assets.kernels.distances` above them: the kernel compiles for every new shape
(0.1-1 s a partition, more than the whole computation at a few hundred rows).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import polars as pl
from scipy.stats import rankdata

from synthcap_assets.kernels.distances import nearest_distances
from synthcap_assets.synthesis.utility import (
    PAIR_METRICS,
    PAIR_SEPARATOR,
    SHAPES_SCHEMA,
    UtilityError,
    _finite_floats,
    _is_continuous,
    column_shapes,
    column_shapes_score,
    pair_trends_score,
)

TABLE = "*"
PRIVACY_METRICS = ("dcr_ratio", "exact_match_share", "mia_auc")
DECILES = np.linspace(0.1, 0.9, 9)


def _as_float(series: pl.Series) -> np.ndarray:
    """Values as float64 with NaN for missing (dates as days, datetimes as microseconds)."""
    if series.dtype == pl.Date:
        series = series.cast(pl.Int32)
    elif series.dtype == pl.Datetime:
        series = series.dt.epoch("us")
    floats = series.cast(pl.Float64).fill_nan(None).fill_null(np.nan).to_numpy()
    return floats.astype(np.float64, copy=False)


def _labels(series: pl.Series, edges: np.ndarray | None) -> np.ndarray:
    """Category labels of a column for contingency tables; numeric ones by decile bin."""
    if edges is not None:
        values = _as_float(series)
        bins = np.searchsorted(edges, values, side="right").astype(object)
        bins[np.isnan(values)] = None
        return np.array([None if b is None else f"bin{b}" for b in bins], dtype=object)
    cast = series.cast(pl.String, strict=False)
    return np.array(cast.to_list(), dtype=object)


def correlation_similarity(real: pl.DataFrame, synthetic: pl.DataFrame, a: str, b: str) -> float:
    """``1 - |r_real - r_syn| / 2`` on rows where both columns hold finite values."""

    def r(frame: pl.DataFrame) -> float:
        x, y = _as_float(frame[a]), _as_float(frame[b])
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 2 or np.std(x[ok]) == 0 or np.std(y[ok]) == 0:
            return 0.0
        return float(np.corrcoef(x[ok], y[ok])[0, 1])

    return float(1.0 - abs(r(real) - r(synthetic)) / 2.0)


def contingency_similarity(real: pl.DataFrame, synthetic: pl.DataFrame, a: str, b: str) -> float:
    """``1 - TVD`` of the joint (a, b) distributions, null as a category of its own."""
    keys = []
    for frame in (real, synthetic):
        parts = []
        for column in (a, b):
            edges = None
            if _is_continuous(real.schema[column]):
                values = _finite_floats(real[column])
                edges = np.unique(np.quantile(values, DECILES)) if values.size else np.array([])
            parts.append(_labels(frame[column], edges))
        keys.append([f"{x!r}{PAIR_SEPARATOR}{y!r}" for x, y in zip(*parts, strict=True)])
    if not keys[0] or not keys[1]:
        return 1.0 if len(keys[0]) == len(keys[1]) else 0.0
    p = {k: c / len(keys[0]) for k, c in zip(*np.unique(keys[0], return_counts=True), strict=True)}
    q = {k: c / len(keys[1]) for k, c in zip(*np.unique(keys[1], return_counts=True), strict=True)}
    tvd = 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q))
    return float(max(0.0, 1.0 - tvd))


def pair_trends(
    real: pl.DataFrame, synthetic: pl.DataFrame, columns: Sequence[str]
) -> pl.DataFrame:
    """One row per column pair (``a|b``): correlation similarity for two numeric columns,
    contingency similarity otherwise. Schema: column, metric, score."""
    rows = []
    for a, b in itertools.combinations(columns, 2):
        numeric = _is_continuous(real.schema[a]) and _is_continuous(real.schema[b])
        if numeric:
            metric, score = PAIR_METRICS[0], correlation_similarity(real, synthetic, a, b)
        else:
            metric, score = PAIR_METRICS[1], contingency_similarity(real, synthetic, a, b)
        rows.append((f"{a}{PAIR_SEPARATOR}{b}", metric, score))
    return pl.DataFrame(rows, schema=SHAPES_SCHEMA, orient="row")


def encode_rows(
    frames: Sequence[pl.DataFrame], train: pl.DataFrame, columns: Sequence[str]
) -> list[np.ndarray]:
    """Each frame as a float matrix for distances, scaled/one-hot on ``train`` (module docs)."""
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    for column in columns:
        if _is_continuous(train.schema[column]):
            base = _finite_floats(train[column])
            low, high = (base.min(), base.max()) if base.size else (0.0, 1.0)
            span = high - low if high > low else 1.0
            for out, frame in zip(blocks, frames, strict=True):
                values = (_as_float(frame[column]) - low) / span
                out.append(np.nan_to_num(np.clip(values, -1.0, 2.0), nan=0.0)[:, None])
                out.append(np.isnan(values).astype(np.float64)[:, None])
        else:
            cats = [c for c in train[column].cast(pl.String).unique().to_list() if c is not None]
            for out, frame in zip(blocks, frames, strict=True):
                strings = np.array(frame[column].cast(pl.String).to_list(), dtype=object)
                onehot = np.stack([strings == c for c in cats], axis=1) if cats else None
                if onehot is not None:
                    out.append(onehot.astype(np.float64))
                out.append(np.array([s is None for s in strings], dtype=np.float64)[:, None])
    return [
        np.hstack(b) if b else np.zeros((f.height, 0)) for b, f in zip(blocks, frames, strict=True)
    ]


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """ROC AUC of scores (higher = more likely positive), ties counted half (Mann-Whitney)."""
    if positive.size == 0 or negative.size == 0:
        return 0.5
    ranks = rankdata(np.concatenate([positive, negative]))
    u = ranks[: positive.size].sum() - positive.size * (positive.size + 1) / 2
    return float(u / (positive.size * negative.size))


SMALL_WORK = 20_000_000  # query rows x reference rows x features computed in numpy
_BLOCK_ELEMENTS = 4_000_000  # numpy's temporary (query block x reference x features)


def nearest(queries: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each query row's Euclidean distance to its nearest reference row: the kernel's
    ``sum((q - r)^2)`` in numpy, query block by query block, for inputs up to
    ``SMALL_WORK``; larger, empty or non-finite ones go to the kernel (which says what is
    wrong with them)."""
    rows, (ref_rows, features) = queries.shape[0], reference.shape
    work = rows * ref_rows * max(features, 1)
    if not (0 < work <= SMALL_WORK) or not (
        np.isfinite(queries).all() and np.isfinite(reference).all()
    ):
        return nearest_distances(queries, reference)[0]
    block = max(1, _BLOCK_ELEMENTS // (ref_rows * max(features, 1)))
    out = np.empty(rows)
    for start in range(0, rows, block):
        q = queries[start : start + block]
        squared = np.sum((q[:, None, :] - reference[None, :, :]) ** 2, axis=-1)
        out[start : start + block] = np.sqrt(squared.min(axis=1))
    return out


def privacy_metrics(
    train: pl.DataFrame,
    holdout: pl.DataFrame,
    synthetic: pl.DataFrame,
    columns: Sequence[str],
    seed: int = 0,
) -> dict[str, float | None]:
    """dcr_ratio, exact_match_share and mia_auc (module docs); ``None`` where undefined (no
    holdout, or no synthetic row)."""
    if synthetic.height == 0 or train.height == 0 or not columns:
        return dict.fromkeys(PRIVACY_METRICS)
    x_train, x_hold, x_syn = encode_rows([train, holdout, synthetic], train, columns)
    d_syn = nearest(x_syn, x_train)
    out: dict[str, float | None] = {
        "exact_match_share": float(np.mean(d_syn <= 1e-12)),
        "dcr_ratio": None,
        "mia_auc": None,
    }
    if holdout.height == 0:
        return out
    d_hold = nearest(x_hold, x_train)
    baseline = float(np.median(d_hold))
    out["dcr_ratio"] = float(np.median(d_syn)) / baseline if baseline > 0 else None
    rng = np.random.default_rng(seed)
    members = x_train[rng.choice(train.height, min(train.height, holdout.height), replace=False)]
    m_dist = nearest(members, x_syn)
    h_dist = nearest(x_hold, x_syn)
    out["mia_auc"] = auc(-m_dist, -h_dist)  # closer to the sample = guessed a member
    return out


def evaluate(
    train: pl.DataFrame,
    holdout: pl.DataFrame,
    synthetic: pl.DataFrame,
    columns: Sequence[str],
    seed: int = 0,
) -> pl.DataFrame:
    """All evaluation rows (column, metric, score): shapes and pair trends against ``train``,
    then the ``*`` rows with the privacy metrics (undefined ones left out)."""
    missing = [c for c in columns if c not in train.columns or c not in synthetic.columns]
    if missing:
        raise UtilityError(f"columns {missing} are not in both frames")
    privacy = privacy_metrics(train, holdout, synthetic, columns, seed)
    table = pl.DataFrame(
        [(TABLE, k, v) for k, v in privacy.items() if v is not None],
        schema=SHAPES_SCHEMA,
        orient="row",
    )
    return pl.concat(
        [
            column_shapes(train, synthetic, columns),
            pair_trends(train, synthetic, columns),
            table,
        ]
    )


def summary(
    evaluation: pl.DataFrame, columns: Sequence[str] | None = None
) -> dict[str, float | None]:
    """Headline numbers: mean column-shape score, mean pair-trend score (with ``columns``, every
    source column counted: :mod:`.utility`), and each privacy metric (``None`` when absent)."""

    def mean(metrics: Sequence[str]) -> float | None:
        scores = evaluation.filter(pl.col("metric").is_in(list(metrics)))["score"]
        return None if scores.is_empty() else float(scores.mean())

    out = {
        "column_shapes": column_shapes_score(evaluation, columns),
        "pair_trends": pair_trends_score(evaluation, columns),
    }
    for metric in PRIVACY_METRICS:
        out[metric] = mean([metric])
    return out
