"""The synthesizer's domain (bin edges, categories, null codes) measured with differential privacy.

MST and AIM need every column's codes fixed before they look at the rows. Taking bin edges and
category lists straight from the profile would leak the exact extremes, quantiles and rare
values of the very rows the synthesizer protects, outside any budget. This module decides them
from public knowledge where the catalog has it, and measures the rest privately, returning a
*private profile*: a frame with the profile's columns (``column``, ``semantic_type``, ``count``,
``nulls``, ``distinct``, ``quantiles``, ``top_values``, ``value_range``) that
:func:`~synthcap_assets.synthesis.prepare.encode` reads like a profile.

Public, free: the column roles (the profile's semantic type, which follows the declared schema;
integer columns without declared categories are binned as numbers), the catalog's ``bounds`` per
column and its category lists (``privacy.categories`` and ``col in ('a', 'b')`` quality rules).

Budget. The preprocessing ``rho`` is shared among the columns by weight: 1 for a continuous column
without bounds, ``CATEGORY_WEIGHT`` for a categorical column without a declared list (at equal
shares a category's threshold and a range cell's come out alike), ``BOUNDED_WEIGHT`` for a
continuous column with declared bounds (no range stages; the last stage's histogram inside the
bounds places its bins and trims its range to the measured ends), and ``DECLARED_WEIGHT`` for a
declared category list (only its null cell is measured). When only category lists are declared,
only ``NULLS_ONLY_SHARE`` of the preprocessing budget is spent; the caller gives the rest to the
synthesizer. Each column's measurements are Gaussian releases of a histogram to which one record
adds one count (L2 sensitivity 1), so a release of ``rho_c`` has noise ``sigma = sqrt(1 / (2
rho_c))``; releases add up in zCDP. Noise is OpenDP's discrete Gaussian on integer counts (exact
sampling, no floating-point attack).

Measured in stages (each stage reported to ``on_measure`` before its noise is
drawn, so a ledger can record it ahead of use):

1. range, for continuous columns without bounds (``RANGE_SHARE`` of the column's share): a
   histogram on a fixed public magnitude grid (``0, ±2^k, ±1.5·2^k``, k in [-4, 40]) plus a
   null cell (so the number of values is known, up to noise); the cells whose noisy count
   passes a Bonferroni threshold (``FALSE_CELL_RATE`` per column) anchor the range, which then
   grows over the next 1, 2, 4, 8 or 16 cells whose noisy counts sum to ``GROW_SIGMAS *
   sqrt(w)`` sigmas (a tail spread thin over many cells, such as the rain amounts beside a
   day's zeros), but only while the span misses values: where the anchors hold them all,
   noise beside them has nothing to add;
2. zoom rounds (``FIRST_ZOOM_SHARE``, split ``ZOOM_ROUND_SHARES``), for anchors narrow against
   their distance from zero (a month of timestamps sits in a 22-year magnitude cell): 32
   equal cells inside the range, anchored and grown the same way over at most ``ZOOM_REACH``
   cells at a time. A round's span is kept only when it holds the values but noise
   (``HOLD_SIGMAS``: one noisy spike among the many cells of a spread-out column would cut the
   rest off), widened by ``ZOOM_MARGIN`` of its width after the first round (a thin tail stays
   the last stage's to keep or trim) and by half a cell after a later one; a span at most
   ``ZOOM_AGAIN`` cells wide is zoomed into once more. Rounds not needed leave their share to
   the last stage;
3. the rest of the column's share: a histogram inside the range (equal cells, geometric when
   the range is positive and wide; as many cells as keep an average cell ``CELL_SIGMAS``
   sigmas above zero, from ``MIN_ZOOM_CELLS`` to 32), an exact-zero cell where 0 lies in the
   range (zero-inflated amounts get a bin of their own) and a null cell, so that a null code
   exists only where nulls measurably do. The range ends at the outermost cells past
   ``END_SIGMAS`` sigmas; for categorical columns without a declared list, the noisy count of
   every value, a value being released only when its noisy count reaches the stability
   threshold ``tau = 1 + sigma * z(1 - delta / m)`` (``m`` undeclared categorical columns), so
   a value held by one person stays hidden except with probability ``delta`` (the
   stability-based histogram). Every value that clears ``tau`` is kept (up to
   ``MAX_CATEGORIES``, busiest first); discovered lists keep an ``__other__`` code, a declared
   list is the whole domain.

Ranges and cells are post-processing of Gaussian counts on public grids (:mod:`.dp_cells`), so
their thresholds are a matter of utility, not of privacy; only released category values need
``delta``. The bin points (``quantiles`` of the private profile) are the noisy quantiles of the
last histogram (counts under one sigma taken as 0), so ``encode`` cuts equal-frequency bins, not
equal-width ones, and every bin lies inside the measured range. Columns whose range or categories
the noise hid are reported in ``DomainCost.shortfalls`` with the threshold that was missed and the
share of rows the busiest noisy cell held, so that the caller can say how many rows, or what
epsilon, would have found them (:mod:`.shortfall`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from scipy.stats import norm

from synthcap_assets.synthesis.dp_cells import (
    PROFILE_POINTS,
    bin_points,
    cell_counts,
    grown_span,
    holds_bulk,
    kept_span,
    magnitude_grid,
    noisy_quantiles,
    zoom_edges,
)
from synthcap_assets.synthesis.prepare import (
    CATEGORICAL_TYPES,
    CONTINUOUS_TYPES,
    _as_days,
    _as_strings,
)

ZOOM_CELLS = 32
MIN_ZOOM_CELLS = 4
CELL_SIGMAS = 4.0
# Known trade-off (open): at 2.5 noise alone grows a range far past the data about 1 run in
# 150 (visits to 747 against 48); 3.5 stops that but costs seattle-weather ~0.03 of column
# shape at epsilon 1, under the 0.85 target in 3 runs of 8.
GROW_SIGMAS = 2.5
GROW_REACH = 16
END_SIGMAS = 2.0
ZOOM_REACH = 2  # the first zoom locates: it grows over at most 2 cells at a time
ZOOM_ROUND_SHARES = (0.5, 0.25, 0.25)
ZOOM_AGAIN = 2  # cells: a span this narrow is zoomed into once more
ZOOM_MARGIN = 0.5  # of the located width, added on each side (a thin tail stays reachable)
FALSE_CELL_RATE = 0.001  # chance, per column, that an empty cell survives the threshold
NULLS_ONLY_SHARE = 0.1  # of the preprocessing rho, when only null cells need measuring
CATEGORY_WEIGHT = 1.0
RANGE_SHARE = 0.6  # of a continuous column's share; the first zoom takes FIRST_ZOOM_SHARE
FIRST_ZOOM_SHARE = 0.2
DECLARED_WEIGHT = 0.1
# A number with declared bounds skips the range and zoom stages; its histogram inside the
# bounds still places the bins (equal-width bins over wide public bounds lose the shape).
BOUNDED_WEIGHT = 1.0 - RANGE_SHARE
MAX_CATEGORIES = 64
MAX_DECLARED_RANGE = 16
NARROW_RATIO = 0.5
RANGE_STAGE = "domain: ranges"
ZOOM_STAGE = "domain: first zoom"
LAST_STAGE = "domain: zoom, categories and nulls"
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
class Shortfall:
    """A column whose domain the noise hid. ``kind`` is ``"range"`` or ``"categories"``; a cell
    or value had to reach ``offset + sigma * z``; ``top_share`` is the busiest noisy cell's share
    of the rows (post-processing of the release, ``None`` when nothing was counted)."""

    kind: str
    sigma: float
    z: float
    offset: float
    top_share: float | None

    @property
    def threshold(self) -> float:
        return self.offset + self.sigma * self.z


@dataclass(frozen=True)
class DomainCost:
    """What the private profile spent (zCDP ``rho``, of the ``rho`` it was given), the ``delta``
    of released values, the largest noise of any release, where each column's domain came from,
    each continuous column's measured span (days for dates) and the columns the noise hid."""

    rho: float
    delta: float
    sigma: float
    columns: dict[str, str] = field(default_factory=dict)
    spans: dict[str, tuple[float, float]] = field(default_factory=dict)
    shortfalls: dict[str, Shortfall] = field(default_factory=dict)


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


def _cells(rows: int, sigma: float) -> int:
    """Cells of the last zoom: as many as keep an average cell ``CELL_SIGMAS`` noise sigmas
    above zero, between ``MIN_ZOOM_CELLS`` and ``ZOOM_CELLS`` (rows and sigma are public)."""
    return int(np.clip(rows / (CELL_SIGMAS * sigma), MIN_ZOOM_CELLS, ZOOM_CELLS))


def _narrow(span: tuple[float, float]) -> bool:
    """A span narrow against its distance from zero (dates, years, price levels)."""
    low, high = span
    return (high - low) <= NARROW_RATIO * max(abs(low), abs(high))


def _sigma(rho: float) -> float:
    return math.sqrt(1.0 / (2.0 * rho))


def _measure(
    what: str,
    vectors: Mapping[str, np.ndarray],
    rhos: Mapping[str, float],
    on_measure: Callable[[str, float], None] | None,
) -> dict[str, tuple[np.ndarray, float]]:
    """One stage: ``on_measure(what, rho)`` first, then each column's vector plus Gaussian noise
    of its ``rho``; column -> (noisy vector, sigma)."""
    if not vectors:
        return {}
    if on_measure is not None:
        on_measure(what, float(sum(rhos[c] for c in vectors)))
    out = {}
    for name, vector in vectors.items():
        sigma = _sigma(rhos[name])
        out[name] = (discrete_gaussian(vector, sigma), sigma)
    return out


def _top_share(noisy: np.ndarray, rows: int) -> float | None:
    top = float(np.max(noisy)) if noisy.size else 0.0
    return None if top <= 0 or rows <= 0 else min(top / rows, 1.0)


def _roles(
    df: pl.DataFrame,
    profile: pl.DataFrame,
    bounds: Mapping[str, tuple[float, float]],
    categories: dict[str, list[str]],
) -> dict[str, str]:
    roles = {r["column"]: r["semantic_type"] for r in profile.iter_rows(named=True)}
    for name, (low, high) in bounds.items():
        # Integer codes with declared bounds declare their categories too (counts, levels).
        small = high - low <= MAX_DECLARED_RANGE and float(low).is_integer()
        coded = name in df.columns and df.schema[name].is_integer() and name not in categories
        if roles.get(name) in CATEGORICAL_TYPES and coded and small:
            categories[name] = [str(v) for v in range(int(low), int(high) + 1)]
    for name, labels in list(categories.items()):
        # Numbers with a declared list of values (a codebook's levels, such as 1-5 ratings or
        # interval midpoints) are categories: binned as ranges, their synthetic values would
        # fall between the levels. Labels are matched in the column's own string form.
        if roles.get(name) == "numeric" and name in df.columns and labels:
            try:
                as_column = pl.Series([float(v) for v in labels]).cast(df.schema[name])
            except (ValueError, pl.exceptions.PolarsError):
                continue
            categories[name] = _as_strings(as_column).to_list()
            roles[name] = "categorical"
    for name in df.columns:
        # Integer "categories" without a declared list are counts or levels: measuring their
        # range costs far less than discovering each value, and keeps their order.
        integer = df.schema[name].is_integer()
        if roles.get(name) in CATEGORICAL_TYPES and integer and not categories.get(name):
            roles[name] = "numeric"
    return roles


def _zoom(
    names: Sequence[str],
    values: Mapping[str, np.ndarray],
    spans: Mapping[str, tuple[float, float] | None],
    totals: Mapping[str, tuple[float, float]],
    share: Mapping[str, float],
    left: dict[str, float],
    sigmas: list[float],
    on_measure: Callable[[str, float], None] | None,
) -> dict[str, tuple[float, float]]:
    """The zoom rounds (module docs, stage 2) of the ``names`` columns; column -> located span.

    Round ``r`` spends ``ZOOM_ROUND_SHARES[r]`` of ``FIRST_ZOOM_SHARE`` of a column's share on
    ``ZOOM_CELLS`` equal cells across its span. A column goes on to the next round only while
    the span its values were located in is at most ``ZOOM_AGAIN`` cells wide (a month in a
    22-year magnitude cell needs two rounds); the rounds it skips leave their share to the last
    stage. The located span is widened by ``ZOOM_MARGIN`` of its width on each side."""
    located: dict[str, tuple[float, float]] = {}
    active = {c: spans[c] for c in names if spans.get(c) is not None}
    for round_, fraction in enumerate(ZOOM_ROUND_SHARES):
        if not active:
            break
        grids = {c: np.linspace(*span, ZOOM_CELLS + 1) for c, span in active.items()}
        stage = {c: share[c] * FIRST_ZOOM_SHARE * fraction for c in active}
        what = ZOOM_STAGE if round_ == 0 else f"domain: zoom {round_ + 1}"
        noisy = _measure(
            what, {c: cell_counts(values[c], grids[c])[0] for c in active}, stage, on_measure
        )
        active = {}
        for name, (cells, sigma) in noisy.items():
            left[name] -= stage[name]
            sigmas.append(sigma)
            strict = sigma * float(norm.isf(FALSE_CELL_RATE / ZOOM_CELLS))
            loose = sigma * GROW_SIGMAS
            total, total_sigma = totals[name]
            found = grown_span(grids[name], cells, strict, loose, ZOOM_REACH, total)
            # A zoom that located only part of the values (one noisy spike among many cells
            # of a spread-out column) would cut the rest off: the span so far stays.
            held = found and holds_bulk(grids[name], cells, found, sigma, total, total_sigma)
            if not held:
                continue
            outer = spans[name]
            width = grids[name][1] - grids[name][0]
            # The first round's margin keeps a thin tail reachable; a later round zooms into a
            # bulk the round before located, half a cell beside it is enough.
            margin = ZOOM_MARGIN * (found[1] - found[0]) if round_ == 0 else width / 2
            located[name] = (max(found[0] - margin, outer[0]), min(found[1] + margin, outer[1]))
            if found[1] - found[0] <= ZOOM_AGAIN * width:
                # Zoom again around it, one cell beside it on each side.
                active[name] = (max(found[0] - width, outer[0]), min(found[1] + width, outer[1]))
    return located


def private_profile(
    df: pl.DataFrame,
    profile: pl.DataFrame,
    *,
    rho: float,
    delta: float,
    exclude: Sequence[str] = (),
    bounds: Mapping[str, tuple[float, float]] | None = None,
    categories: Mapping[str, Sequence[str]] | None = None,
    max_categories: int = MAX_CATEGORIES,
    on_measure: Callable[[str, float], None] | None = None,
) -> tuple[pl.DataFrame, DomainCost]:
    """The private profile of ``df`` (module docs), spending at most ``rho`` and ``delta``.

    ``profile`` gives only each column's semantic type; columns of other types, or excluded,
    are passed through without values so that ``encode`` still says why they are unusable.
    ``on_measure(stage, rho)`` is called before each stage's noise is drawn.
    """
    if not (rho > 0 and math.isfinite(rho)) or not 0 < delta < 1:
        raise DomainError(f"rho must be > 0 and delta in (0, 1), got rho={rho}, delta={delta}")
    missing = [c for c in ("column", "semantic_type") if c not in profile.columns]
    if missing:
        raise DomainError(f"profile lacks columns {missing}; pass the profile asset's frame")
    bounds = {k: (float(v[0]), float(v[1])) for k, v in (bounds or {}).items()}
    categories = {k: [str(x) for x in v] for k, v in (categories or {}).items()}
    roles = _roles(df, profile, bounds, categories)
    usable = (*CONTINUOUS_TYPES, *CATEGORICAL_TYPES)
    wanted = [c for c in df.columns if c not in set(exclude) and roles.get(c) in usable]
    continuous = [c for c in wanted if roles[c] in CONTINUOUS_TYPES]
    values = {c: _as_days(df.get_column(c)).fill_null(np.nan).to_numpy() for c in continuous}
    unbounded = [c for c in continuous if c not in bounds]
    undeclared = [c for c in wanted if roles[c] in CATEGORICAL_TYPES and not categories.get(c)]
    bounded = [c for c in continuous if c in bounds]
    weights = {
        c: 1.0
        if c in unbounded
        else BOUNDED_WEIGHT
        if c in bounded
        else CATEGORY_WEIGHT
        if c in undeclared
        else DECLARED_WEIGHT
        for c in wanted
    }
    spend = rho if (unbounded or undeclared or bounded) else rho * NULLS_ONLY_SHARE
    total_weight = sum(weights.values()) or 1.0
    share = {c: spend * w / total_weight for c, w in weights.items()}
    left = dict(share)
    spans: dict[str, tuple[float, float] | None] = dict(bounds)
    shortfalls: dict[str, Shortfall] = {}
    anchors: dict[str, tuple[float, float] | None] = {}
    sigmas: list[float] = []
    rows_n = df.height

    if unbounded:
        grid = magnitude_grid()
        z_range = float(norm.isf(FALSE_CELL_RATE / grid.size))
        stage = {c: share[c] * RANGE_SHARE for c in unbounded}
        # One more cell counts the nulls (same release: a record sits in one cell), so that
        # the number of values is known to the growth and the first zoom.
        vectors = {c: np.append(*cell_counts(values[c], grid)) for c in unbounded}
        noisy = _measure(RANGE_STAGE, vectors, stage, on_measure)
        totals: dict[str, tuple[float, float]] = {}
        for name, (measured, sigma) in noisy.items():
            cells = measured[:-1]
            totals[name] = (float(rows_n - max(int(measured[-1]), 0)), sigma)
            left[name] -= stage[name]
            sigmas.append(sigma)
            anchors[name] = kept_span(grid, cells, sigma * z_range)
            spans[name] = grown_span(
                grid, cells, sigma * z_range, sigma * GROW_SIGMAS, GROW_REACH, totals[name][0]
            )
            if spans[name] is None:
                shortfalls[name] = Shortfall(
                    "range", sigma, z_range, 0.0, _top_share(cells, rows_n)
                )
        # Decided on the noisy counts alone (post-processing): the cells past the strict
        # threshold lie far from zero, close together (a month of timestamps, price levels).
        narrow = [c for c in unbounded if anchors.get(c) is not None and _narrow(anchors[c])]
        zoomed = _zoom(narrow, values, spans, totals, share, left, sigmas, on_measure)
        spans.update(zoomed)

    vectors: dict[str, np.ndarray] = {}
    layout: dict[str, tuple[str, object]] = {}
    for name in wanted:
        if roles[name] in CONTINUOUS_TYPES:
            if name in unbounded and spans[name] is None:
                continue  # nothing to zoom into; its remaining share goes unspent
            nulls = int(np.isnan(values[name]).sum())
            if name in unbounded or name in bounds:
                edges = zoom_edges(*spans[name], _cells(rows_n, _sigma(left[name])))
                finite = values[name][np.isfinite(values[name])]
                with_zero = bool(edges[0] <= 0.0 <= edges[-1])
                zeros = int((finite == 0).sum()) if with_zero else 0
                cells, _ = cell_counts(finite[finite != 0] if with_zero else finite, edges)
                vectors[name] = np.concatenate([cells, [zeros] if with_zero else [], [nulls]])
                layout[name] = ("zoom", (edges, with_zero))
            else:
                vectors[name] = np.array([nulls])
                layout[name] = ("nulls", None)
        else:
            strings = _as_strings(df.get_column(name))
            if categories.get(name):
                vectors[name] = np.array([strings.null_count()])
                layout[name] = ("nulls", categories[name])
                continue
            counts = strings.drop_nulls().value_counts(sort=True)
            vectors[name] = np.array([*counts["count"].to_list(), strings.null_count()])
            layout[name] = ("discover", counts[:, 0].to_list())
    noisy = _measure(LAST_STAGE, vectors, left, on_measure)
    spent = sum(share.values()) - sum(left[c] for c in wanted if c not in noisy)
    z_null = float(norm.isf(FALSE_CELL_RATE / max(len(wanted), 1)))
    z_stable = float(norm.isf(delta / max(len(undeclared), 1)))

    rows, origins = [], {}
    for name in wanted:
        row = dict.fromkeys(_SCHEMA) | {"column": name, "semantic_type": roles[name]}
        if name not in noisy:
            origins[name] = "dropped: no range found under the noise (too few rows)"
            rows.append(row)
            continue
        measured, sigma = noisy[name]
        sigmas.append(sigma)
        kind, extra = layout[name]
        nulls = int(measured[-1]) if measured[-1] >= sigma * z_null else 0
        counted = int(max(measured[:-1].sum(), 0)) if kind != "nulls" else None
        row |= {"nulls": nulls, "count": counted}
        if roles[name] in CONTINUOUS_TYPES:
            span = spans[name]
            points = bin_points(*span)
            if kind == "zoom":
                edges, with_zero = extra
                cells = measured[: edges.size - 1]
                zero = float(measured[edges.size - 1]) if with_zero else 0.0
                zero = zero if zero >= sigma * z_null else 0.0
                # The ends: the outermost cells past END_SIGMAS (an empty cell gets there 2.3%
                # of the time); inside them, counts under one sigma are taken as noise.
                strong = np.nonzero(cells >= END_SIGMAS * sigma)[0]
                if strong.size:
                    inside = np.arange(cells.size)
                    cells = np.where((inside < strong[0]) | (inside > strong[-1]), 0, cells)
                cells = np.where(cells >= sigma, cells, 0)
                points = noisy_quantiles(edges, cells, zero) or points
                span = (points[0], points[-1])
            row |= {"quantiles": points, "distinct": PROFILE_POINTS}
            spans[name] = span
            origins[name] = "declared bounds" if name in bounds else "private range"
        else:
            if kind == "nulls":
                top = list(extra)  # declared: all of them, their frequencies are not known
                origins[name] = "declared categories"
            else:
                threshold = 1.0 + sigma * z_stable
                found = [
                    (k, v) for k, v in zip(extra, measured[:-1], strict=True) if v >= threshold
                ]
                found.sort(key=lambda item: -item[1])
                top = [k for k, _ in found[:max_categories]]
                origins[name] = "stability histogram"
                if not top:
                    shortfalls[name] = Shortfall(
                        "categories", sigma, z_stable, 1.0, _top_share(measured[:-1], rows_n)
                    )
            # Discovered lists get an "other" code (the rest stays hidden); a declared list is
            # the whole domain (a value outside it breaks the catalog's rule; it maps to the
            # first category instead of costing every marginal an extra cell).
            row |= {"top_values": top, "distinct": len(top) + (kind != "nulls")}
            if name in bounds:
                row["value_range"] = list(bounds[name])
        rows.append(row)
    rows += [
        dict.fromkeys(_SCHEMA) | {"column": name, "semantic_type": role}
        for name, role in roles.items()
        if name not in set(wanted) and name in df.columns
    ]
    frame = pl.DataFrame(rows, schema=_SCHEMA) if rows else pl.DataFrame(schema=_SCHEMA)
    cost = DomainCost(
        rho=spent,
        delta=delta,
        sigma=max(sigmas, default=0.0),
        columns=origins,
        spans={c: s for c, s in spans.items() if s is not None and c in wanted},
        shortfalls=shortfalls,
    )
    return frame, cost
