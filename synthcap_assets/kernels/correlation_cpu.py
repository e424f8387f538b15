"""The CPU path of the Pearson and summary-Spearman kernels: hand-written numba loops.

Why loops: on the CPU the JAX path (``correlation._pearson_sums``, ``corr_sketch``) needs a
NaN-filled rows × columns copy of the table, four masked matrix products per row block and, for
Spearman, a 13-step binary search per value that XLA:CPU runs serially on one core. Here one
pass reads each row block straight from the columns' Arrow buffers (values + validity bitmap,
``synthcap_resources.compute.FloatColumn``) into a cache-resident block, and for every pair
(i, j) accumulates the pairwise-complete sums: counts, sums and sums of squares of column i on
the rows valid in j, and co-products. Nulls are sparse in practice, so the sums of i over the
rows valid in j are the sums over all of i's rows minus (or, when j is mostly null, plus) those
over j's null rows: one dot product per pair and row instead of four (summed directly over
the pair's rows where the removed rows hold most of i's squares, so no difference cancels).
Spearman ranks are read from the quantile summary with a lookup table (``RankTables``: the
knots' cell in an even grid over the central knots gives the few knots a value can fall between,
then a branch-free search of at most 4), in the same pass, and correlated by the same loop.

What it must equal:
- Pearson: numpy float64 ``corrcoef`` on each pair's complete rows, and the JAX path, to
  ~1e-12 (sums in another order, so not bit for bit; counts exactly). Values are shifted by the
  mean of their column in the block (so 1e12 + noise keeps its digits, as the JAX path shifts
  by the chunk's mean), each block's sums are centred on its own pair means, and blocks are
  merged by Chan's formulas into ``correlation.PearsonState`` (same fields and meaning, so it
  merges with JAX states; ``scale`` bounds |x - shift| the same way). Non-finite values are
  nulls; subnormals are kept (XLA on the CPU flushes them).
- Ranks: ``corr_sketch._column_ranks`` (exact summaries: counts of knots below and at most x,
  bit for bit; else ``quantiles._ramp_below``/``_ramp``, to rounding: strictly between two
  knots the mean of the two ramps is one precomputed line, one multiply-add).

Cramér's V (``corr_cramer``) counts each pair's contingency table here too (``pair_counts``:
one pass, the table is a few hundred kB; XLA:CPU's scatter-add runs serially and ``np.bincount``
needs the combined codes of the valid rows first); it must equal those counts exactly.

The compiled loops live in ``correlation_loops`` (one file: numba's on-disk cache does not
notice a change in a compiled callee defined in another file); this module builds their inputs
(rank tables, row ranges on threads) and returns the states. Only the dot products and sums
over a block are compiled with reassociation (so LLVM may vectorise them); nothing else uses
fast-math. Loops are ``nogil``: row ranges run on ``cpu_workers()`` threads and the callers
merge the states.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from synthcap_assets.kernels.correlation_loops import (
    _TAIL,
    BLOCK,
    CELLS,
    MAX_CELLS,
    WINDOW,
    _block_ranks,
    _build_table,
    _pair_counts,
    _segment,
)
from synthcap_resources.compute import FloatColumn, chunk_ranges, cpu_workers


@dataclass(frozen=True)
class RankTables:
    """Per column, what the rank loop reads from a quantile summary: knots (padded with +inf
    for the branch-free window), their ranks, per knot interval the line the average rank
    follows strictly inside it (intercept t0 + 1.5 at the lower knot, slope), the first index
    of each knot's tie run, the cell table over an even grid (``lo``, ``inv_w``, ``cells``),
    the count and whether the summary is exact."""

    knots: np.ndarray
    ranks: np.ndarray
    inside: np.ndarray
    first_equal: np.ndarray
    tables: np.ndarray
    lo: np.ndarray
    inv_w: np.ndarray
    cells: np.ndarray
    count: np.ndarray
    exact: np.ndarray


def _grid(knots: np.ndarray) -> tuple[float, float, int, np.ndarray]:
    """(lo, inv_w, cells, table) of one column's even grid: over the central knots (heavy
    tails would leave the centre few cells), else all of them (a degenerate or overflowing span
    puts everything in cell 0), with the fewest cells (from ``CELLS``, doubling up to
    ``MAX_CELLS``) that leave at most 1% of the knots in cells wider than the search window,
    cells of tied knots apart."""
    finite = knots[np.isfinite(knots)]
    if finite.size == 0:  # an empty column: no value is ever ranked
        return 0.0, 0.0, 1, np.array([0, knots.size], np.int32)
    lo, span = float(finite[0]), 0.0
    for a, b in ((knots[_TAIL], knots[-1 - _TAIL]), (finite[0], finite[-1])):
        span = float(b) - float(a)
        if np.isfinite(span) and span > 0:
            lo = float(a)
            break
    cells = CELLS
    while True:
        inv_w = cells / span if np.isfinite(span) and span > 0 else 0.0
        table = np.zeros(cells + 1, np.int32)
        _build_table(knots, lo, inv_w, cells, table)
        first, stop = table[1:-2], table[2:-1]  # the end cells hold the tails
        top = knots.size - 1
        tied = knots[np.minimum(first, top)] == knots[np.clip(stop - 1, 0, top)]
        wide = (stop - first > WINDOW) & ~tied
        if inv_w == 0 or cells >= MAX_CELLS or (stop - first)[wide].sum() <= 0.01 * knots.size:
            return lo, inv_w, cells, table
        cells *= 2


def rank_tables(values: np.ndarray, count: np.ndarray, error: np.ndarray) -> RankTables:
    """``RankTables`` for a quantile summary's ``values`` (columns × KNOTS), ``count`` and
    ``error`` (``quantiles.QuantileSummary`` fields, as numpy)."""
    from synthcap_assets.kernels.quantiles import KNOTS, knot_ranks

    values = np.asarray(values, np.float64)
    count = np.asarray(count, np.float64)
    k = values.shape[0]
    ranks = np.ascontiguousarray(np.asarray(knot_ranks(count), np.float64))
    knots = np.full((k, KNOTS + WINDOW + 1), np.inf)
    knots[:, :KNOTS] = values
    first_equal = np.stack([np.searchsorted(v, v, side="left") for v in values]).astype(np.int32)
    grids = [_grid(values[j]) for j in range(k)]
    cells = np.array([g[2] for g in grids], np.int64)
    tables = np.zeros((k, int(cells.max()) + 1), np.int32)
    for j, (_, _, c, table) in enumerate(grids):
        tables[j, : c + 1] = table
    lo = np.array([g[0] for g in grids])
    inv_w = np.array([g[1] for g in grids])
    exact = (count <= KNOTS) & (np.asarray(error) == 0)
    # Between knots a and a + 1 (q0 < x < q1), ``quantiles._ramp_below`` and ``_ramp`` are
    # t0 + 1 + f × max(t1 - t0 - 1, 0) and t0 + 1 + f × (t1 - t0), f = (x - q0) / (q1 - q0):
    # the average rank is (t0 + 1.5) + (x - q0) × slope.
    gap = np.diff(values, axis=1)
    t0, t1 = ranks[:, :-1], ranks[:, 1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (np.maximum(t1 - t0 - 1, 0) + (t1 - t0)) / 2 / gap
    inside = np.zeros((k, KNOTS, 2))
    inside[:, :-1, 0] = t0 + 1.5
    inside[:, :-1, 1] = np.where(gap > 0, slope, 0.0)
    return RankTables(knots, ranks, inside, first_equal, tables, lo, inv_w, cells, count, exact)


def column_ranks(x: np.ndarray, tables: RankTables, column: int) -> np.ndarray:
    """Average ranks of ``x`` (NaN where not finite) from column ``column``'s summary, by the
    loop the Pearson pass uses."""
    x = np.ascontiguousarray(x, np.float64)
    out = np.empty_like(x)
    right = np.empty(x.size, np.int64)
    t, j = tables, column
    _block_ranks(
        x, 0, np.isfinite(x).astype(np.uint8), x.size, t.knots[j], t.tables[j], t.lo[j],
        t.inv_w[j], t.cells[j], t.ranks[j], t.inside[j], t.first_equal[j], t.count[j],
        bool(t.exact[j]), right, out,
    )
    return out


def _no_ranks(k: int) -> RankTables:
    """Placeholder tables for a run without ranks (never read)."""
    z = np.zeros((k, 1))
    zi = np.zeros((k, 1), np.int32)
    z3 = np.zeros((k, 1, 2))
    one = np.ones(k, np.int64)
    return RankTables(
        z, z, z3, zi, zi, np.zeros(k), np.zeros(k), one, np.zeros(k), np.zeros(k, bool)
    )


def _segments(columns: Sequence[Sequence[FloatColumn]], start: int, stop: int) -> list[tuple]:
    """Rows start:stop split where any column's piece changes: per segment its row count and,
    per column, (piece, first row in the piece)."""
    bounds = []
    for pieces in columns:
        edges = np.cumsum([0] + [len(p.values) for p in pieces])
        bounds.append(edges)
    cuts = sorted({start, stop, *(int(e) for b in bounds for e in b if start < e < stop)})
    out = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        where = []
        for pieces, edges in zip(columns, bounds, strict=True):
            p = int(np.searchsorted(edges, a, side="right")) - 1
            where.append((pieces[p], a - int(edges[p])))
        out.append((b - a, where))
    return out


def _new_state(k: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    state = (
        np.zeros((k, k)), np.zeros(k), np.zeros((k, k)), np.zeros((k, k)), np.zeros((k, k)),
        np.zeros(k),
    )
    return state, np.zeros(k, np.bool_)


def _range_states(
    columns: Sequence[Sequence[FloatColumn]], start: int, stop: int, tables: RankTables | None
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    k = len(columns)
    st_x, has_x = _new_state(k)
    st_r, has_r = _new_state(k)
    t = _no_ranks(k) if tables is None else tables
    for rows, where in _segments(columns, start, stop):
        # The arrays stay referenced here while the loop reads them through their addresses.
        values = [np.ascontiguousarray(p.values, np.float64) for p, _ in where]
        bitmaps = [
            None if p.validity is None else np.ascontiguousarray(p.validity, np.uint8)
            for p, _ in where
        ]
        buffers = np.zeros((len(where), 4), np.int64)
        for j, (v, bits) in enumerate(zip(values, bitmaps, strict=True)):
            buffers[j, :2] = v.ctypes.data, v.size
            if bits is not None and bits.size:
                buffers[j, 2:] = bits.ctypes.data, bits.size
        row_base = np.array([base for _, base in where], np.int64)
        bit_base = np.array([p.offset + base for p, base in where], np.int64)
        _segment(
            buffers, bit_base, row_base, rows,
            t.knots, t.ranks, t.inside, t.first_equal, t.tables, t.lo, t.inv_w, t.cells,
            t.count, t.exact, tables is not None, st_x, has_x, st_r, has_r,
        )
    return st_x, st_r


def pearson_states(
    columns: Sequence[Sequence[FloatColumn]],
    tables: RankTables | None = None,
    workers: int | None = None,
) -> tuple[list[tuple[np.ndarray, ...]], list[tuple[np.ndarray, ...]]]:
    """Pearson states (count, shift, offset, m2, cross, scale) of the columns (each a list of
    ``FloatColumn`` pieces, all of one length) and, with ``tables``, of their ranks: one pair
    of states per row range, the ranges run on ``workers`` threads (default: the usable
    cores). The caller merges them (``correlation.PearsonState.merge``)."""
    lengths = {sum(len(p.values) for p in pieces) for pieces in columns}
    if len(lengths) != 1:
        raise ValueError(f"columns of different lengths: {sorted(lengths)}")
    length = lengths.pop()
    if tables is not None and tables.count.shape[0] != len(columns):
        raise ValueError(f"rank tables for {tables.count.shape[0]} columns, not {len(columns)}")
    workers = max(1, workers or cpu_workers())
    ranges = chunk_ranges(length, max(BLOCK, -(-length // workers)))
    if len(ranges) == 1:
        parts = [_range_states(columns, *ranges[0], tables)]
    else:
        with ThreadPoolExecutor(min(workers, len(ranges))) as pool:
            parts = list(pool.map(lambda r: _range_states(columns, *r, tables), ranges))
    return [p[0] for p in parts], [p[1] for p in parts]


def mask_columns(values: np.ndarray, mask: np.ndarray | None = None) -> list[list[FloatColumn]]:
    """A rows × columns float array (``mask`` False = null) as one ``FloatColumn`` per column."""
    out = []
    for j in range(values.shape[1]):
        col = np.ascontiguousarray(values[:, j], np.float64)
        if mask is None:
            out.append([FloatColumn(col)])
        else:
            bits = np.packbits(np.asarray(mask[:, j], bool), bitorder="little")
            out.append([FloatColumn(col, bits, 0)])
    return out



def pair_counts(a: np.ndarray, b: np.ndarray, ca: int, cb: int) -> np.ndarray:
    """The ca × cb contingency table (int64) of two integer code columns (negative = null),
    in one pass over the rows: no combined-code array, no sort (what ``np.unique`` or
    ``np.bincount`` of ``a × cb + b`` over the valid rows would need)."""
    a = np.ascontiguousarray(a)
    b = np.ascontiguousarray(b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"code columns of shapes {a.shape} and {b.shape}")
    out = np.zeros(ca * cb, np.int64)
    if _pair_counts(a, b, ca, cb, out):
        raise ValueError(f"a code is not below the category counts {ca} × {cb}")
    return out.reshape(ca, cb)
