"""The compiled loops of ``correlation_cpu`` (Pearson sums, summary ranks, contingency counts):
see that module's docstring for what they compute and must equal. They stay in this one file
because numba's on-disk cache (``cache=True``) does not notice a change in a compiled callee
defined in another file; the Python around them is in ``correlation_cpu``.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

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
            if subtract and a2 > 0.5 * tot2[i]:
                # Most of i's squares sit in j's null rows: the difference would cancel (its
                # error ~eps x i's whole sum, not the pair rows'), so sum the pair rows directly.
                a = 0.0
                a2 = 0.0
                an = 0
                for r in range(nb):
                    if w[j, r] != 0:
                        v = d[i, r]
                        a += v
                        a2 += v * v
                        an += w[i, r]
                s[i, j] = a
                q[i, j] = a2
                if counts:
                    n[i, j] = an
            elif subtract:
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
