"""Post-processing of noisy histograms for the private domain (:mod:`.dp_domain`): the public
magnitude grid, counts per cell, the span of cells a noisy histogram holds (anchored, grown
over thin tails while values are missing, kept only when it holds the values), bin points
between bounds and quantiles of a noisy histogram. No noise is drawn here.
"""

from __future__ import annotations

import math

import numpy as np

HOLD_SIGMAS = 3.0  # a zoom is taken only when the values it leaves out are noise
MAGNITUDES = range(-4, 41)
GEOMETRIC_RATIO = 20.0
PROFILE_POINTS = 101


def magnitude_grid() -> np.ndarray:
    """The public grid for columns without declared bounds: 0 and ±{1, 1.5}·2^k, ascending."""
    positive = sorted({m * 2.0**k for k in MAGNITUDES for m in (1.0, 1.5)})
    return np.array([-v for v in reversed(positive)] + [0.0] + positive)


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


def grown_span(
    edges: np.ndarray,
    noisy: np.ndarray,
    strict: float,
    loose: float,
    reach: int = 4,
    total: float | None = None,
) -> tuple[float, float] | None:
    """:func:`kept_span` at ``strict``, then grown outwards, one step at a time, over the next
    ``w`` cells (``w`` = 1, 2, 4, ... up to ``reach``) whose noisy counts sum to at least
    ``loose * sqrt(w)`` (a tail that no single cell carries past the threshold, spread over a
    few cells); ``None`` if no cell reaches ``strict``.

    With ``total`` (the noisy number of values), a side grows only while the span misses at
    least ``loose * sqrt(k + 1)`` of it (``k`` cells in the span): where the anchors already
    hold every value, noise beside them has nothing to add (it stretched a 4-year date column
    by decades about 1 run in 50)."""
    kept = np.nonzero(noisy >= strict)[0]
    if kept.size == 0:
        return None
    low, high = int(kept[0]), int(kept[-1])
    widths = [w for w in (1, 2, 4, 8, 16, 32) if w <= reach]

    def missing() -> bool:
        held = float(noisy[low : high + 1].sum())
        return total is None or total - held >= loose * math.sqrt(high - low + 2)

    while low > 0 and missing():
        grow = [w for w in widths if noisy[max(low - w, 0) : low].sum() >= loose * math.sqrt(w)]
        if not grow:
            break
        low = max(low - grow[0], 0)
    while high < noisy.size - 1 and missing():
        grow = [w for w in widths if noisy[high + 1 : high + 1 + w].sum() >= loose * math.sqrt(w)]
        if not grow:
            break
        high = min(high + grow[0], noisy.size - 1)
    return float(edges[low]), float(edges[high + 1])


def holds_bulk(
    edges: np.ndarray,
    noisy: np.ndarray,
    span: tuple[float, float],
    sigma: float,
    total: float,
    total_sigma: float,
) -> bool:
    """Whether ``span`` (on ``edges``) holds the ``total`` values but noise: ``total`` less the
    noisy counts of its cells is under ``HOLD_SIGMAS`` sigmas of that difference's noise
    (``total`` carries ``total_sigma``, each cell ``sigma``)."""
    inside = (edges[:-1] >= span[0]) & (edges[1:] <= span[1])
    missing = total - float(noisy[inside].sum())
    return missing < HOLD_SIGMAS * math.sqrt(total_sigma**2 + int(inside.sum()) * sigma**2)


def bin_points(low: float, high: float) -> list[float]:
    """``PROFILE_POINTS`` points from ``low`` to ``high`` (declared bounds): geometric when
    ``low > 0`` and ``high / low > GEOMETRIC_RATIO``, else evenly spaced."""
    return zoom_edges(low, high, PROFILE_POINTS - 1).tolist()


def zoom_edges(low: float, high: float, cells: int) -> np.ndarray:
    if low > 0 and high / low > GEOMETRIC_RATIO:
        return np.geomspace(low, high, cells + 1)
    return np.linspace(low, high, cells + 1)


def noisy_quantiles(
    edges: np.ndarray, counts: np.ndarray, zero: float = 0.0, points: int = PROFILE_POINTS
) -> list[float] | None:
    """``points`` quantiles (0 to 1) of the histogram ``counts`` over ``edges`` (linear inside a
    cell) with an atom of ``zero`` rows at 0; ``None`` when there is no mass."""
    counts = np.clip(np.asarray(counts, dtype=np.float64), 0, None)
    if zero > 0:
        # The atom sits where 0 lies: split the cell holding 0 at 0, the atom between halves.
        cell = int(np.clip(np.searchsorted(edges, 0.0, side="right") - 1, 0, counts.size - 1))
        edges = np.insert(edges, cell + 1, [0.0, 0.0])
        low, high = edges[cell], edges[cell + 3]
        part = 0.0 if high == low else (0.0 - low) / (high - low)
        counts = np.insert(counts, cell + 1, [zero, counts[cell] * (1 - part)])
        counts[cell] *= part
    total = counts.sum()
    if total <= 0:
        return None
    held = np.nonzero(counts > 0)[0]  # from the first to the last cell with mass
    counts, edges = counts[held[0] : held[-1] + 1], edges[held[0] : held[-1] + 2]
    cumulative = np.concatenate([[0.0], np.cumsum(counts) / total])
    probs = np.linspace(0.0, 1.0, points)
    out = np.interp(probs, cumulative, edges)
    # np.interp takes the last of equal cumulative values; an atom must hold its whole share.
    return np.maximum.accumulate(out).tolist()
