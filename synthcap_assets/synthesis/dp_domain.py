"""The synthesizer's domain (bin edges, categories, null codes) measured with differential privacy.

MST and AIM need every column's codes fixed before they look at the rows. Taking bin edges and
category lists straight from the profile would leak the exact extremes, quantiles and rare
values of the very rows the synthesizer protects, outside any budget. This module decides them
from public knowledge where the catalog has it, and measures the rest privately, returning a
*private profile*: a frame with the profile's columns (``column``, ``semantic_type``, ``count``,
``nulls``, ``distinct``, ``quantiles``, ``top_values``, ``value_range``) that
:func:`~synthcap_assets.synthesis.prepare.encode` reads like a profile.

Public, free: the column roles (the profile's semantic type, which follows the declared schema;
integer columns without declared categories are binned as numbers),
the catalog's ``bounds`` per column and its category lists (``privacy.categories`` and
``col in ('a', 'b')`` quality rules). Bins inside bounds are equal-width, or geometric when the
lower bound is positive and the range spans more than ``GEOMETRIC_RATIO`` (prices, volumes).

Measured, in at most three Gaussian releases under zero-concentrated DP (zCDP, the accounting MST
and AIM use themselves):

1. range, for continuous columns without declared bounds: a histogram on a fixed public
   magnitude grid (``0, ±2^k, ±1.5·2^k``, k in [-12, 40]); the range is the span of the cells
   whose noisy count passes a Bonferroni threshold (``FALSE_CELL_RATE`` per column); for spans
   narrow against their distance from zero (a day of timestamps sits in one 256-day cell), a
   first zoom (below) inside them, in a release of its own;
2. zoom and discovery: for those columns, 32 equal cells inside the found range, trimmed to the
   cells between the 0.5% and 99.5% points of the noisy counts (noise only widens that); for
   categorical columns without declared categories, the noisy count of every value, a value
   being released only above the stability threshold
   ``1 + sigma * z(1 - delta / m)``, so a value held by one person stays hidden except with
   probability delta (the stability-based histogram); and for every column a null cell, so that
   a null code exists only where nulls measurably do. Discovered categories always keep an
   ``__other__`` code; a declared list is taken as the whole domain.

Releases: half the budget for the ranges, a quarter for the first zoom (only when a span asks
for it, decided from the noisy spans), the rest for the last release. Each record moves one
cell of each of the ``m`` columns of a release by one, so a release has L2 sensitivity
``sqrt(m)``: noise ``sigma = sqrt(m / (2 rho))`` costs ``rho``; releases add up.
When every column's domain is declared, only the null cells are measured, with
``NULLS_ONLY_SHARE`` of the preprocessing budget; the caller gives the rest to the synthesizer.
Noise is OpenDP's discrete Gaussian on integer counts (exact sampling, no floating-point attack).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy.stats import norm

from synthcap_assets.synthesis.prepare import (
    CATEGORICAL_TYPES,
    CONTINUOUS_TYPES,
    _as_days,
    _as_strings,
)

ZOOM_CELLS = 32
ZOOM_TAIL = 0.005
MAGNITUDES = range(-12, 41)
FALSE_CELL_RATE = 0.001  # chance, per column, that an empty cell survives the threshold
GEOMETRIC_RATIO = 20.0
NULLS_ONLY_SHARE = 0.1  # of the preprocessing rho, when only null cells need measuring
PROFILE_POINTS = 101
MAX_DECLARED_RANGE = 16
NARROW_RATIO = 0.5
_IN_RULE = re.compile(r"^\s*\"?([A-Za-z_][A-Za-z0-9_.]*)\"?\s+in\s*\((.*)\)\s*$", re.IGNORECASE)
_SCHEMA = {
    "column": pl.String,
    "semantic_type": pl.String,
    "count": pl.Int64,
    "nulls": pl.Int64,
    "distinct": pl.Int64,
    "quantiles": pl.List(pl.Float64),
    "top_values": pl.List(pl.String),
    "value_range": pl.List(pl.Float64),
}


class DomainError(ValueError):
    """The private domain cannot be measured as asked; the message names the cause."""


@dataclass(frozen=True)
class DomainCost:
    """What the private profile spent (zCDP ``rho``, of the ``rho`` it was given), the ``delta``
    of released values, the noise of the last release and where each column's domain came from."""

    rho: float
    delta: float
    sigma: float
    columns: dict[str, str] = field(default_factory=dict)


def magnitude_grid() -> np.ndarray:
    """The public grid for columns without declared bounds: 0 and ±{1, 1.5}·2^k, ascending."""
    positive = sorted({m * 2.0**k for k in MAGNITUDES for m in (1.0, 1.5)})
    return np.array([-v for v in reversed(positive)] + [0.0] + positive)


def declared_categories(rules: Sequence[str]) -> dict[str, list[str]]:
    """Column -> category list from ``col in ('a', 'b')`` quality rules (public metadata)."""
    found: dict[str, list[str]] = {}
    for rule in rules:
        match = _IN_RULE.match(rule)
        if match:
            items = re.findall(r"'((?:[^']|'')*)'|([+-]?\d+(?:\.\d+)?)", match.group(2))
            found[match.group(1)] = [s.replace("''", "'") if s else n for s, n in items]
    return found


def discrete_gaussian(counts: np.ndarray, sigma: float) -> np.ndarray:
    """``counts`` plus OpenDP's discrete Gaussian noise of scale ``sigma`` (int64)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    measurement = dp.m.make_gaussian(
        dp.vector_domain(dp.atom_domain(T=int)), dp.l2_distance(T=int), scale=float(sigma)
    )
    return np.asarray(measurement([int(c) for c in counts]), dtype=np.int64)


def cell_counts(values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, int]:
    """Counts of finite ``values`` in the cells of ``edges`` (outside values clipped into the
    outer cells), and the number of missing values."""
    finite = values[np.isfinite(values)]
    clipped = np.clip(finite, edges[0], edges[-1])
    index = np.clip(np.searchsorted(edges, clipped, side="right") - 1, 0, edges.size - 2)
    return np.bincount(index, minlength=edges.size - 1), int(values.size - finite.size)


def kept_span(edges: np.ndarray, noisy: np.ndarray, threshold: float) -> tuple[float, float] | None:
    """From the first to the last cell whose noisy count reaches ``threshold``; ``None`` if none."""
    kept = np.nonzero(noisy >= threshold)[0]
    return None if kept.size == 0 else (float(edges[kept[0]]), float(edges[kept[-1] + 1]))


def trimmed_span(
    edges: np.ndarray, noisy: np.ndarray, tail: float = ZOOM_TAIL
) -> tuple[float, float]:
    """The span between the cells holding the ``tail`` and ``1 - tail`` points of the noisy
    counts (negatives clipped to 0). Noise spreads mass evenly, so a noisy histogram yields a
    wider span, never a narrower one: the trim is conservative."""
    counts = np.clip(noisy, 0, None).astype(np.float64)
    total = counts.sum()
    if total <= 0:
        return float(edges[0]), float(edges[-1])
    cumulative = np.cumsum(counts) / total
    first = int(np.searchsorted(cumulative, tail, side="left"))
    last = int(np.searchsorted(cumulative, 1.0 - tail, side="left"))
    return float(edges[first]), float(edges[min(last, counts.size - 1) + 1])


def bin_points(low: float, high: float) -> list[float]:
    """``PROFILE_POINTS`` points from ``low`` to ``high`` that ``encode`` picks bin edges from:
    geometric when ``low > 0`` and ``high / low > GEOMETRIC_RATIO``, else evenly spaced."""
    if low > 0 and high / low > GEOMETRIC_RATIO:
        return np.geomspace(low, high, PROFILE_POINTS).tolist()
    return np.linspace(low, high, PROFILE_POINTS).tolist()


def _narrow(span: tuple[float, float]) -> bool:
    """A span narrow against its distance from zero (dates, years, price levels)."""
    low, high = span
    return (high - low) < NARROW_RATIO * max(abs(low), abs(high))


def _threshold(sigma: float, cells: int) -> float:
    return sigma * float(norm.isf(FALSE_CELL_RATE / max(cells, 1)))


def _release(vectors: list[np.ndarray], rho: float) -> tuple[list[np.ndarray], float]:
    """One Gaussian release of ``vectors`` (one per column) costing ``rho``."""
    sigma = math.sqrt(len(vectors) / (2.0 * rho))
    noisy = discrete_gaussian(np.concatenate(vectors), sigma)
    cuts = np.cumsum([v.size for v in vectors])[:-1]
    return np.split(noisy, cuts), sigma


def private_profile(
    df: pl.DataFrame,
    profile: pl.DataFrame,
    *,
    rho: float,
    delta: float,
    exclude: Sequence[str] = (),
    bounds: Mapping[str, tuple[float, float]] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    max_categories: int = 10,
) -> tuple[pl.DataFrame, DomainCost]:
    """The private profile of ``df`` (module docs), spending at most ``rho`` and ``delta``.

    ``profile`` gives only each column's semantic type; columns of other types, or excluded,
    are passed through without values so that ``encode`` still says why they are unusable.
    """
    if not (rho > 0 and math.isfinite(rho)) or not 0 < delta < 1:
        raise DomainError(f"rho must be > 0 and delta in (0, 1), got rho={rho}, delta={delta}")
    missing = [c for c in ("column", "semantic_type") if c not in profile.columns]
    if missing:
        raise DomainError(f"profile lacks columns {missing}; pass the profile asset's frame")
    bounds, categories = dict(bounds or {}), dict(categories or {})
    roles = {r["column"]: r["semantic_type"] for r in profile.iter_rows(named=True)}
    for name, (low, high) in bounds.items():
        # Integer codes with declared bounds declare their categories too (counts, levels).
        small = high - low <= MAX_DECLARED_RANGE and float(low).is_integer()
        coded = name in df.columns and df.schema[name].is_integer() and name not in categories
        if roles.get(name) in CATEGORICAL_TYPES and coded and small:
            categories[name] = [str(v) for v in range(int(low), int(high) + 1)]
    for name in df.columns:
        # Integer "categories" without a declared list are counts or levels: measuring their
        # range costs far less than discovering each value, and keeps their order.
        integer = df.schema[name].is_integer()
        if roles.get(name) in CATEGORICAL_TYPES and integer and not categories.get(name):
            roles[name] = "numeric"
    usable = (*CONTINUOUS_TYPES, *CATEGORICAL_TYPES)
    wanted = [c for c in df.columns if c not in set(exclude) and roles.get(c) in usable]
    continuous = [c for c in wanted if roles[c] in CONTINUOUS_TYPES]
    values = {c: _as_days(df.get_column(c)).fill_null(np.nan).to_numpy() for c in continuous}
    unbounded = [c for c in continuous if c not in bounds]
    undeclared = [c for c in wanted if roles[c] in CATEGORICAL_TYPES and not categories.get(c)]
    needs_budget = bool(unbounded or undeclared)
    spend = rho if needs_budget else rho * NULLS_ONLY_SHARE
    spent, origins, spans = 0.0, {}, dict(bounds)

    # Release 1: ranges of the unbounded continuous columns on the magnitude grid, then a
    # first zoom inside the narrow ones.
    if unbounded:
        grid = magnitude_grid()
        counts = [cell_counts(values[c], grid)[0] for c in unbounded]
        noisy, sigma1 = _release(counts, spend / 2)
        spent += spend / 2
        for name, cells in zip(unbounded, noisy, strict=True):
            spans[name] = kept_span(grid, cells, _threshold(sigma1, grid.size))
        # Decided on the noisy spans alone (post-processing): far from zero and narrow.
        narrow = [c for c in unbounded if spans[c] is not None and _narrow(spans[c])]
        if narrow:
            grids = {c: np.linspace(*spans[c], ZOOM_CELLS + 1) for c in narrow}
            counts = [cell_counts(values[c], grids[c])[0] for c in narrow]
            noisy, _ = _release(counts, spend / 4)
            spent += spend / 4
            for name, cells in zip(narrow, noisy, strict=True):
                spans[name] = trimmed_span(grids[name], cells)

    # Release 2: zoom inside found ranges, undeclared categories, a null cell for every column.
    vectors, layout = [], []
    for name in wanted:
        if roles[name] in CONTINUOUS_TYPES:
            span = spans.get(name)
            if name in unbounded and span is not None:
                edges = np.linspace(span[0], span[1], ZOOM_CELLS + 1)
                cells, nulls = cell_counts(values[name], edges)
                vectors.append(np.append(cells, nulls))
                layout.append((name, "zoom", edges))
            else:
                vectors.append(np.array([int(np.isnan(values[name]).sum())]))
                layout.append((name, "nulls", None))
        else:
            strings = _as_strings(df.get_column(name))
            declared = [str(v) for v in categories.get(name, [])]
            if declared:
                vectors.append(np.array([strings.null_count()]))
                layout.append((name, "nulls", declared))
                continue
            counts = strings.drop_nulls().value_counts(sort=True)
            keys = counts[:, 0].to_list()
            vectors.append(np.array([*counts["count"].to_list(), strings.null_count()]))
            layout.append((name, "discover", keys))
    noisy2, sigma = _release(vectors, spend - spent) if vectors else ([], 0.0)
    spent = spend if vectors else spent
    null_threshold = _threshold(sigma, len(wanted))
    stable = 1.0 + sigma * float(norm.isf(delta / max(len(undeclared), 1)))

    rows = []
    for (name, kind, extra), noisy in zip(layout, noisy2, strict=True):
        nulls = int(noisy[-1]) if noisy[-1] >= null_threshold else 0
        row = dict.fromkeys(_SCHEMA) | {"column": name, "semantic_type": roles[name]}
        row |= {"nulls": nulls, "count": int(max(noisy[:-1].sum(), 0)) if kind != "nulls" else None}
        if roles[name] in CONTINUOUS_TYPES:
            span = spans.get(name)
            if kind == "zoom":
                span = trimmed_span(extra, noisy[:-1])
            if span is None:
                origins[name] = "dropped: no range found under the noise (too few rows)"
            else:
                row |= {"quantiles": bin_points(*span), "distinct": PROFILE_POINTS}
                origins[name] = "declared bounds" if name in bounds else "private range"
        else:
            if kind == "nulls":
                top = list(extra)  # declared: all of them, their frequencies are not known
                origins[name] = "declared categories"
            else:
                released = [(k, v) for k, v in zip(extra, noisy[:-1], strict=True) if v >= stable]
                released.sort(key=lambda item: -item[1])
                top = [k for k, _ in released[:max_categories]]
                origins[name] = "stability histogram"
            # Discovered lists get an "other" code (the rest stays hidden); a declared list is
            # the whole domain (a value outside it breaks the catalog's rule; it maps to the
            # first category instead of costing every marginal an extra cell).
            row |= {"top_values": top, "distinct": len(top) + (kind != "nulls")}
            if name in bounds:
                row["value_range"] = list(bounds[name])
        rows.append(row)
    measured = {r["column"] for r in rows}
    rows += [
        dict.fromkeys(_SCHEMA) | {"column": name, "semantic_type": role}
        for name, role in roles.items()
        if name not in measured and name in df.columns
    ]
    frame = pl.DataFrame(rows, schema=_SCHEMA) if rows else pl.DataFrame(schema=_SCHEMA)
    return frame, DomainCost(rho=spent, delta=delta, sigma=sigma, columns=origins)
