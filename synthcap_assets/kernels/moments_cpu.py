"""Column moments of one column piece: one numba loop, CPU only.

Why a hand-written loop: the numerics (see ``moments``) want each row block reduced two-pass
(block mean, then central sums of powers 2-4) plus min, max, zeros, negatives and the count,
with nulls (Arrow bitmap at any bit offset) and NaN/inf left out. numpy needs about eleven
passes over each block for that (mask, select, min, max, sum, centre, square, two dot
products, compares), XLA:CPU nine reductions at ~2.5 ns a value each. Here a ``BLOCK``-row
block (32 KB, in L1) takes two vectorised passes, masked by the bitmap read as 64-bit words:
~0.9 ns a value in all. Compiled by numba (``cache=True``: once per machine; ``nogil=True``:
the callers' threads run columns on all cores).

What it must equal: the numpy/JAX paths' states to rounding (~1e-12 relative, also with a 1e12
offset), and the counts, min, max, zeros and negatives exactly. The two passes' sums run
under fastmath ``reassoc`` only (LLVM vectorises a float reduction only if it may reorder it):
rounding-level differences from numpy/JAX and between CPU kinds, the same bits on one machine.
The finite check is on the bits, so no fast-math flag can drop it; min and max go through
order-preserving int64 keys (integer reductions vectorise without any flag). Blocks are
merged by the same Chan/Pébay update as ``moments.merge_moments``, pairwise as a tree, bit for
bit (tested).

A part (one block's state) is a row of ``FIELDS`` float64: count, mean - shift, M2, M3, M4,
min, max, zeros, negatives.
"""

from __future__ import annotations

import numba
import numpy as np

BLOCK = 4096  # rows per block: its values (32 KB) stay in L1 for the two passes
FIELDS = 9  # count, mean - shift, m2, m3, m4, min, max, zeros, negatives

_ALL = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_KEY_MAX = np.int64(0x7FFF_FFFF_FFFF_FFFF)
_EXP = np.int64(0x7FF0_0000_0000_0000)  # all exponent bits set: NaN or +/-inf


@numba.njit(cache=True, nogil=True, inline="always")
def _ok(v: float, j: int, validity: np.ndarray, has_validity: bool) -> bool:
    """Not null (bit ``j`` of the bitmap, if any) and finite."""
    if has_validity and ((validity[j >> 3] >> (j & 7)) & 1) == 0:
        return False
    return v - v == 0.0


@numba.njit(cache=True, nogil=True)
def first_valid(values: np.ndarray, validity: np.ndarray, offset: int, has_validity: bool) -> tuple:
    """(found, the piece's first valid value + 0.0)."""
    for i in range(values.size):
        if _ok(values[i], offset + i, validity, has_validity):
            return True, values[i] + 0.0
    return False, 0.0


@numba.njit(cache=True, nogil=True)
def _words(
    validity: np.ndarray, first: int, has_validity: bool, size: int, words: np.ndarray
) -> None:
    """The block's validity as ``BLOCK // 64`` words (bit k of word w: row 64 w + k), from
    bit ``first`` of the bitmap (any bit offset); rows from ``size`` on are cleared."""
    nbytes = validity.size
    q, r = first >> 3, np.uint64(first & 7)
    for w in range(words.size):
        if not has_validity:
            words[w] = _ALL
            continue
        base = q + 8 * w
        val = np.uint64(0)
        for b in range(8):
            if base + b < nbytes:
                val |= np.uint64(validity[base + b]) << np.uint64(8 * b)
        if r:
            top = np.uint64(validity[base + 8]) if base + 8 < nbytes else np.uint64(0)
            val = (val >> r) | (top << (np.uint64(64) - r))
        words[w] = val
    for w in range(words.size):
        if 64 * w >= size:
            words[w] = 0
        elif 64 * w + 64 > size:
            words[w] &= (np.uint64(1) << np.uint64(size - 64 * w)) - np.uint64(1)


@numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
def _pass_one(x: np.ndarray, words: np.ndarray) -> tuple:
    """(count, sum, min key, max key, zeros, negatives) of the valid (masked, finite) rows;
    min/max as order-preserving int64 keys (integer reductions vectorise, float ones not)."""
    bits = x.view(np.int64)
    n = 0
    total = 0.0
    low = _KEY_MAX
    high = -_KEY_MAX - 1
    zeros = 0
    negatives = 0
    for w in range(words.size):
        word = words[w]
        for k in range(64):
            i = 64 * w + k
            v = x[i]
            b = bits[i]
            ok = (((word >> np.uint64(k)) & np.uint64(1)) != 0) & ((b & _EXP) != _EXP)
            key = b ^ ((b >> 63) & _KEY_MAX)
            n += ok
            total += v if ok else 0.0
            low = min(low, key if ok else _KEY_MAX)
            high = max(high, key if ok else -_KEY_MAX - 1)
            zeros += ok & (v == 0.0)
            negatives += ok & (v < 0.0)
    return n, total, low, high, zeros, negatives


@numba.njit(cache=True, nogil=True, fastmath={"reassoc"})
def _pass_two(x: np.ndarray, words: np.ndarray, mu: float) -> tuple:
    """Sums of e, e**2, e**3, e**4 over the valid rows, e = x - mu."""
    bits = x.view(np.int64)
    s1 = s2 = s3 = s4 = 0.0
    for w in range(words.size):
        word = words[w]
        for k in range(64):
            i = 64 * w + k
            v = x[i]
            ok = (((word >> np.uint64(k)) & np.uint64(1)) != 0) & ((bits[i] & _EXP) != _EXP)
            e = v - mu if ok else 0.0
            e2 = e * e
            s1 += e
            s2 += e2
            s3 += e2 * e
            s4 += e2 * e2
    return s1, s2, s3, s4


@numba.njit(cache=True, nogil=True, inline="always")
def _key_value(key: int, scratch: np.ndarray) -> float:
    """The float64 of an order-preserving key (the key map is its own inverse)."""
    scratch[0] = key ^ ((key >> 63) & _KEY_MAX)
    return scratch.view(np.float64)[0]


@numba.njit(cache=True, nogil=True)
def _block(x: np.ndarray, words: np.ndarray, shift: float, out: np.ndarray) -> bool:
    """One part from a block (``x``: BLOCK values, ``words`` its validity); False when the
    block has no valid row (``out`` untouched)."""
    count, total, low, high, zeros, negatives = _pass_one(x, words)
    if count == 0:
        return False
    n = float(count)
    mu = total / n
    t1, t2, t3, t4 = _pass_two(x, words, mu)
    # mu's rounding: d = sum(e)/n is tiny and the central sums about mu + d follow exactly.
    d = t1 / n
    scratch = np.empty(1, np.int64)
    out[0] = n
    out[1] = (mu - shift) + d
    out[2] = t2 - n * d * d
    out[3] = t3 - 3.0 * d * t2 + 2.0 * n * d**3
    out[4] = t4 - 4.0 * d * t3 + 6.0 * d * d * t2 - 3.0 * n * d**4
    out[5] = _key_value(low, scratch) + 0.0
    out[6] = _key_value(high, scratch) + 0.0
    out[7] = float(zeros)
    out[8] = float(negatives)
    return True


@numba.njit(cache=True, nogil=True)
def piece_parts(
    values: np.ndarray,
    validity: np.ndarray,
    offset: int,
    has_validity: bool,
    shift: float,
    parts: np.ndarray,
    k: int,
) -> int:
    """Append the parts of one piece's blocks that hold valid values to ``parts`` from row
    ``k``; returns the next free row. ``validity``/``offset``: the Arrow bitmap, read only if
    ``has_validity``."""
    words = np.empty(BLOCK // 64, np.uint64)
    tail = np.zeros(BLOCK)
    for start in range(0, values.size, BLOCK):
        size = min(BLOCK, values.size - start)
        _words(validity, offset + start, has_validity, size, words)
        if size == BLOCK:
            x = values[start : start + BLOCK]
        else:  # the last block, zero-padded (masked out anyway)
            tail[:size] = values[start:]
            x = tail
        if _block(x, words, shift, parts[k]):
            k += 1
    return k


@numba.njit(cache=True, nogil=True, inline="always")
def _merge(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    """``moments.merge_moments`` on two parts with counts > 0 and the same shift (the same
    operations in the same order)."""
    na, nb = a[0], b[0]
    n = na + nb
    delta = b[1] - a[1]
    mean = a[1] + delta * nb / n
    d2 = delta * delta
    m2 = a[2] + b[2] + d2 * na * nb / n
    m3 = (
        a[3]
        + b[3]
        + d2 * delta * na * nb * (na - nb) / (n * n)
        + 3.0 * delta * (na * b[2] - nb * a[2]) / n
    )
    m4 = (
        a[4]
        + b[4]
        + d2 * d2 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n)
        + 6.0 * d2 * (na * na * b[2] + nb * nb * a[2]) / (n * n)
        + 4.0 * delta * (na * b[3] - nb * a[3]) / n
    )
    out[0] = n
    out[1] = mean
    out[2] = m2
    out[3] = m3
    out[4] = m4
    out[5] = min(a[5], b[5])
    out[6] = max(a[6], b[6])
    out[7] = a[7] + b[7]
    out[8] = a[8] + b[8]


@numba.njit(cache=True, nogil=True)
def merge_parts(parts: np.ndarray, k: int) -> np.ndarray:
    """One part from ``parts[:k]`` (k >= 1), merged pairwise as a tree like
    ``moments._merge_all`` (pairs 0-1, 2-3, ...; an odd last one joins the next round).
    Overwrites ``parts``."""
    while k > 1:
        half = k // 2
        for p in range(half):
            _merge(parts[2 * p], parts[2 * p + 1], parts[p])
        if k % 2:
            parts[half] = parts[k - 1]
        k = half + k % 2
    return parts[0].copy()
