"""The CPU path of the Pearson and summary-Spearman kernels: hand-written numba loops.

Why loops: on the CPU the JAX path (``correlation._pearson_sums``, ``corr_sketch``) needs a
NaN-filled rows × columns copy of the table, four masked matrix products per row block and, for
Spearman, a 13-step binary search per value that XLA:CPU runs serially on one core. Here one
pass reads each row block straight from the columns' Arrow buffers (values + validity bitmap,
``synthcap_resources.compute.FloatColumn``) into a cache-resident block, and for every pair
(i, j) accumulates the pairwise-complete sums: counts, sums and sums of squares of column i on
the rows valid in j, and co-products. Nulls are sparse in practice, so the sums of i over the
rows valid in j are the sums over all of i's rows minus (or, when j is mostly null, plus) those
over j's null rows: one dot product per pair and row instead of four. Spearman ranks are read
from the quantile summary with a lookup table (``RankTables``: the knots' cell in an even grid
over the central knots gives the few knots a value can fall between, then a branch-free search
of at most 4), in the same pass, and correlated by the same loop.

What it must equal:
- Pearson: numpy float64 ``corrcoef`` on each pair's complete rows, and the JAX path, to
  ~1e-12 (sums in another order, so not bit for bit; counts exactly). Values are shifted by the
  mean of their column in the block (so 1e12 + noise keeps its digits, as the JAX path shifts
  by the chunk's mean), each block's sums are centred on its own pair means, and blocks are
  merged by Chan's formulas into ``correlation.PearsonState`` (same fields and meaning, so it
  merges with JAX states; ``scale`` bounds |x - shift| the same way, so the same pairs are
  degenerate). Non-finite values are nulls; subnormals are kept (XLA on the CPU flushes them).
- Ranks: ``corr_sketch._column_ranks`` (exact summaries: counts of knots below and at most x,
  bit for bit; else ``quantiles._ramp_below``/``_ramp``, to rounding: strictly between two
  knots the mean of the two ramps is one precomputed line, one multiply-add).

Cramér's V (``corr_cramer``) counts each pair's contingency table here too (``pair_counts``:
one pass, the table is a few hundred kB; XLA:CPU's scatter-add runs serially and ``np.bincount``
needs the combined codes of the valid rows first); it must equal those counts exactly.

Only the dot products and sums over a block are compiled with reassociation (so LLVM may
vectorise them); nothing else uses fast-math. Loops are ``nogil``: the callers run row ranges
on ``cpu_workers()`` threads and merge the states.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

from synthcap_resources.compute import FloatColumn, chunk_ranges, cpu_workers

BLOCK = 1024  # rows per block: columns × BLOCK doubles (and their ranks) stay in L2
CELLS = 1 << 14  # lookup-table cells per column for the rank search (at least)
MAX_CELLS = 1 << 17
WINDOW = 4  # knots compared branch-free after the table lookup (unrolled below)
_TAIL = 32  # knots left out of each end of the table's even grid (heavy tails)
_REASSOC = {"reassoc", "contract"}


def _pointer_intrinsic(dtype: types.Type):  # noqa: ANN202
    """An intrinsic turning an int64 address into a ``dtype`` pointer (for ``numba.carray``):
    the loop takes the columns as addresses in ONE int64 array, so it compiles once for any
    number of columns (a tuple of arrays would compile once per column count)."""

    @intrinsic
    def as_pointer(typingctx, address):  # noqa: ANN001, ANN202, ARG001
        sig = types.CPointer(dtype)(types.int64)

        def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202, ARG001
            return builder.inttoptr(args[0], context.get_value_type(types.CPointer(dtype)))

        return sig, codegen

    return as_pointer


_float64_at = _pointer_intrinsic(types.float64)
_uint8_at = _pointer_intrinsic(types.uint8)


@numba.njit(cache=True, nogil=True, fastmath=_REASSOC)
def _dot(a: np.ndarray, b: np.ndarray, n: int) -> float:
    s = 0.0
    for r in range(n):
        s += a[r] * b[r]
    return s


@numba.njit(cache=True, nogil=True, fastmath=_REASSOC)
def _sums(a: np.ndarray, n: int) -> tuple[float, float]:
    s = 0.0
    s2 = 0.0
    for r in range(n):
        s += a[r]
        s2 += a[r] * a[r]
    return s, s2


@numba.njit(cache=True, nogil=True, inline="always")
def _cell(v: float, lo: float, inv_w: float, cells: int) -> int:
    """The table cell of ``v``: monotone non-decreasing in v (so knots in lower cells are
    below every value of this cell, knots in higher cells above)."""
    t = (v - lo) * inv_w
    if not t >= 0.0:  # below the grid (or NaN from 0 × inf: never for finite v, kept safe)
        return 0
    if t >= cells:
        return cells - 1
    return int(t)


@numba.njit(cache=True, nogil=True)
def _build_table(
    knots: np.ndarray, lo: float, inv_w: float, cells: int, table: np.ndarray
) -> None:
    """table[c] = number of knots whose cell is below c (table[cells] = all knots)."""
    table[:] = 0
    for v in knots:
        table[_cell(v, lo, inv_w, cells) + 1] += 1
    for c in range(cells):
        table[c + 1] += table[c]


@numba.njit(cache=True, nogil=True, inline="always")
def _count_at_most(
    knots: np.ndarray, table: np.ndarray, lo: float, inv_w: float, cells: int, x: float
) -> int:
    """Number of knots <= x (``searchsorted(knots, x, "right")``)."""
    c = _cell(x, lo, inv_w, cells)
    first = table[c]
    stop = table[c + 1]
    if stop - first <= WINDOW:
        # Knots after ``stop`` lie in higher cells, so above x (``knots`` is padded with
        # +inf): count a whole window, independent loads and no branch.
        return (
            first
            + (knots[first] <= x)
            + (knots[first + 1] <= x)
            + (knots[first + 2] <= x)
            + (knots[first + 3] <= x)
        )
    if knots[stop - 1] <= x:  # also a whole cell of tied knots at x
        return stop
    if knots[first] > x:
        return first
    while stop - first > 1:  # knots[first] <= x < knots[stop]
        mid = (first + stop) >> 1
        if knots[mid] <= x:
            first = mid
        else:
            stop = mid
    return stop


@numba.njit(cache=True, nogil=True)
def _block_ranks(
    vals, start, valid, nb, knots, table, lo, inv_w, cells,  # noqa: ANN001
    ranks, inside, first_equal, count, exact, right, out,  # noqa: ANN001
) -> None:
    """out[r] = the average rank of vals[start + r] among the summarised values, for the
    ``valid`` rows (NaN elsewhere): ``corr_sketch._column_ranks`` value by value, i.e.
    (count below x + count at most x + 1) / 2, counts of knots for an exact summary, else
    ``quantiles._ramp_below`` and ``_ramp`` (written out for each case below)."""
    # Two loops: the table searches alone (no branch, so the CPU overlaps many), then the
    # ranks. Everything is written out here: arrays passed to a helper per value cost reference
    # counting (measured 4x slower).
    top_cell = cells - 1.0
    for r in range(nb):  # cells first: a branch-free loop LLVM can vectorise
        t = (vals[start + r] - lo) * inv_w
        t = t if t >= 0.0 else 0.0  # also NaN (a null's value)
        right[r] = int(min(t, top_cell))
    for r in range(nb):
        x = vals[start + r]
        first = table[right[r]]
        stop = table[right[r] + 1]
        if stop - first <= WINDOW:
            right[r] = (
                first
                + (knots[first] <= x)
                + (knots[first + 1] <= x)
                + (knots[first + 2] <= x)
                + (knots[first + 3] <= x)
            )
        else:
            right[r] = _count_at_most(knots, table, lo, inv_w, cells, x)
    top = ranks.shape[0]  # KNOTS
    for r in range(nb):
        if not valid[r]:
            out[r] = np.nan
            continue
        x = vals[start + r]
        at = right[r]  # knots <= x
        last = max(at - 1, 0)
        tie = at > 0 and knots[last] == x
        if exact:
            left = first_equal[last] if tie else at  # knots < x
            out[r] = (min(left, count) + min(at, count) + 1) / 2
        elif not tie:
            if at == 0:  # below every knot
                out[r] = 0.5
            elif at == top:  # above every knot
                out[r] = (count + count + 1) / 2
            else:  # strictly between two knots: one line (``rank_tables``)
                out[r] = inside[last, 0] + (x - knots[last]) * inside[last, 1]
        else:
            # At a knot: ``_ramp`` from knot ``last`` (= x) has frac 0; ``_ramp_below`` from
            # the knot before the tie run (< x) to its first knot (= x) has frac 1.
            at_most = count if last >= top - 1 else ranks[last] + 1
            left = first_equal[last]
            below = 0.0
            if left > 0:
                t0 = ranks[left - 1]
                t1 = ranks[left]
                below = t0 + 1 + 1.0 * max(t1 - t0 - 1, 0.0)
            out[r] = (below + at_most + 1) / 2


@numba.njit(cache=True, nogil=True)
def _block_sums(d, nb, w, idx, tot, tot2, ntot, s, q, n, c, counts) -> None:  # noqa: ANN001
    """Pairwise-complete sums of one block of deviations ``d`` (columns × rows, 0 where
    invalid): s[i, j], q[i, j] = Σ d_i, Σ d_i² over rows valid in i and j, c[i, j] = Σ d_i d_j,
    and (``counts``) n[i, j] the number of such rows."""
    k = d.shape[0]
    for i in range(k):
        tot[i], tot2[i] = _sums(d[i], nb)
    for j in range(k):
        # Rows to subtract (j's nulls) or, when j is mostly null, to add (j's valid rows).
        nulls = nb - ntot[j]
        subtract = nulls <= ntot[j]
        m = 0
        for r in range(nb):
            idx[m] = r
            m += (w[j, r] == 0) if subtract else (w[j, r] != 0)
        for i in range(k):
            a = 0.0
            a2 = 0.0
            an = 0
            for t in range(m):
                v = d[i, idx[t]]
                a += v
                a2 += v * v
                an += w[i, idx[t]]
            if subtract:
                s[i, j] = tot[i] - a
                q[i, j] = tot2[i] - a2
                if counts:
                    n[i, j] = ntot[i] - an
            else:
                s[i, j] = a
                q[i, j] = a2
                if counts:
                    n[i, j] = an
        for i in range(j):
            c[i, j] = c[j, i] = _dot(d[i], d[j], nb)
        c[j, j] = q[j, j]  # the same sum, so that r[j, j] is exactly 1


@numba.njit(cache=True, nogil=True)
def _centre(row, valid, nb, got):  # noqa: ANN001, ANN202
    """Shift the valid entries of ``row[:nb]`` by their mean (invalid ones are 0 and stay 0);
    return (mean, smallest, largest) of the valid entries (0, inf, -inf without any)."""
    total = 0.0
    lo = np.inf
    hi = -np.inf
    for r in range(nb):
        if valid[r]:
            v = row[r]
            total += v
            lo = min(lo, v)
            hi = max(hi, v)
    p = total / got if got else 0.0
    for r in range(nb):
        row[r] = row[r] - p if valid[r] else 0.0
    return p, lo, hi


@numba.njit(cache=True, nogil=True)
def _merge_block(st, has, pivot, lo, hi, n, s, q, c) -> None:  # noqa: ANN001
    """Chan-merge a block's sums (deviations from ``pivot``) into the state ``st`` = (count,
    shift, offset, m2, cross, scale); ``has`` says which columns have a shift yet."""
    count, shift, offset, m2, cross, scale = st
    k = n.shape[0]
    for i in range(k):
        if n[i, i] == 0:
            continue
        if not has[i]:
            has[i] = True
            shift[i] = pivot[i]
        # |x - shift| <= |x - pivot| + |pivot - shift| (as ``correlation._merge`` bounds it).
        spread = max(hi[i] - pivot[i], pivot[i] - lo[i])
        scale[i] = max(scale[i], spread + abs(pivot[i] - shift[i]))
        for j in range(k):
            nb = n[i, j]
            if nb == 0:
                continue
            # The block's centred sums: mean of i on the pair's rows, m2, and (below) cross.
            s[i, j] /= nb  # now the mean deviation from the pivot
            q[i, j] -= s[i, j] * s[i, j] * nb
    # Co-moments need both means; computed before the state's means move.
    for i in range(k):
        for j in range(k):
            nb = n[i, j]
            if nb == 0:
                continue
            bi = pivot[i] - shift[i] + s[i, j]
            bj = pivot[j] - shift[j] + s[j, i]
            cb = c[i, j] - s[i, j] * s[j, i] * nb
            na = count[i, j]
            if na == 0:
                cross[i, j] = cb
                continue
            total = na + nb
            di = bi - offset[i, j]
            dj = bj - offset[j, i]
            cross[i, j] += cb + di * dj * (na * nb / total)
    for i in range(k):
        for j in range(k):
            nb = n[i, j]
            if nb == 0:
                continue
            bi = pivot[i] - shift[i] + s[i, j]
            na = count[i, j]
            total = na + nb
            if na == 0:
                offset[i, j] = bi
                m2[i, j] = q[i, j]
            else:
                di = bi - offset[i, j]
                offset[i, j] += di * nb / total
                m2[i, j] += q[i, j] + di * di * (na * nb / total)
            count[i, j] = total


@numba.njit(cache=True, nogil=True)
def _segment(
    buffers, bit_base, row_base, rows,  # noqa: ANN001
    knots, ranks, inside, first_equal, tables, lo_grid, inv_w, cells, count,  # noqa: ANN001
    exact, with_ranks,  # noqa: ANN001
    st_x, has_x, st_r, has_r,  # noqa: ANN001
) -> None:
    """Accumulate ``rows`` rows of every column into the value state and, ``with_ranks``, the
    rank state. Column j's buffers: ``buffers[j]`` = (address and length of its float64
    values, address and length of its validity bitmap, 0 and 0 without one); its row t is
    value row_base[j] + t, validity bit bit_base[j] + t."""
    k = buffers.shape[0]
    d = np.zeros((k, BLOCK))
    rk = np.zeros((k, BLOCK))
    w = np.zeros((k, BLOCK), np.uint8)
    idx = np.zeros(BLOCK, np.int64)
    right = np.zeros(BLOCK, np.int64)
    tot = np.zeros(k)
    tot2 = np.zeros(k)
    ntot = np.zeros(k, np.int64)
    n = np.zeros((k, k), np.int64)
    s = np.zeros((k, k))
    q = np.zeros((k, k))
    c = np.zeros((k, k))
    nf = np.zeros((k, k))
    pivot = np.zeros(k)
    lo = np.zeros(k)
    hi = np.zeros(k)
    rpivot = np.zeros(k)
    rlo = np.zeros(k)
    rhi = np.zeros(k)
    for start in range(0, rows, BLOCK):
        nb = min(BLOCK, rows - start)
        for j in range(k):
            vals = numba.carray(_float64_at(buffers[j, 0]), buffers[j, 1])
            bits = numba.carray(_uint8_at(buffers[j, 2]), buffers[j, 3])
            has_bitmap = buffers[j, 2] != 0
            rb = row_base[j] + start
            bb = bit_base[j] + start
            got = 0
            for r in range(nb):
                v = vals[rb + r]
                ok = np.isfinite(v)
                if has_bitmap:
                    bit = bb + r
                    ok = ok and ((bits[bit >> 3] >> (bit & 7)) & 1) == 1
                got += ok
                w[j, r] = ok
                d[j, r] = v if ok else 0.0
            p, mn, mx = _centre(d[j], w[j], nb, got)
            ntot[j] = got
            pivot[j] = p
            lo[j] = mn
            hi[j] = mx
            if with_ranks:
                _block_ranks(
                    vals, rb, w[j], nb, knots[j], tables[j], lo_grid[j], inv_w[j], cells[j],
                    ranks[j], inside[j], first_equal[j], count[j], exact[j], right, rk[j],
                )
                rpivot[j], rlo[j], rhi[j] = _centre(rk[j], w[j], nb, got)
        _block_sums(d, nb, w, idx, tot, tot2, ntot, s, q, n, c, True)
        for i in range(k):
            for j in range(k):
                nf[i, j] = n[i, j]
        if with_ranks:
            # The same counts; ranks' sums overwrite s, q, c after the values are merged.
            _merge_block(st_x, has_x, pivot, lo, hi, nf, s, q, c)
            _block_sums(rk, nb, w, idx, tot, tot2, ntot, s, q, n, c, False)
            _merge_block(st_r, has_r, rpivot, rlo, rhi, nf, s, q, c)
        else:
            _merge_block(st_x, has_x, pivot, lo, hi, nf, s, q, c)


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


@numba.njit(cache=True, nogil=True)
def _pair_counts(a, b, ca, cb, out) -> int:  # noqa: ANN001
    """out[x × cb + y] += 1 for each row with codes x = a[r], y = b[r] both valid (>= 0);
    returns the number of rows with a code beyond ``ca`` or ``cb`` (not counted)."""
    bad = 0
    for r in range(a.shape[0]):
        x = a[r]
        y = b[r]
        if x >= 0 and y >= 0:
            if x < ca and y < cb:
                out[x * cb + y] += 1
            else:
                bad += 1
    return bad


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
