"""HyperLogLog registers (hash version 2) of one column piece: one numba loop, CPU only.

Why a hand-written loop: the registers need, per value, a hash and a scatter-max into 2**14
bytes. numpy needs a dozen passes over each chunk for that (multiply, compare, gather,
compact, hash, ``np.maximum.at``), and XLA:CPU runs its scatter-max serially at ~13 ns a
value. Here each value is read once; the loop is compiled by numba (``cache=True``: once per
machine; ``nogil=True``: the callers' threads run columns on all cores).

What it must equal: the registers of ``distinct``'s definition, bit for bit (hashes in the
``distinct`` module docstring: rank from ``u * C1``, register from two xorshift-multiply
rounds, both zeros as +0.0, null rows and NaN/inf skipped), so that the state (hash v2) and
the JAX path's registers are unchanged. The loop only skips values that cannot raise a
register:

- while every register is at least ``low`` (the registers' minimum, tracked by counting the
  registers still at it), a value whose rank hash is below ``HIGH[low]`` has rank at most
  ``low``: one multiply and one compare, no index hash, no bitmap read (almost every value of
  a high-cardinality column once its first ~200k values are in). The candidates are
  collected branch-free per ``CHUNK`` values first (a taken branch every ~2**low values would
  mispredict), then checked;
- while some register is 0 (few distinct values so far), a value whose bit pattern is already
  in the seen table (slot: top 16 bits of the rank hash; only valid values are entered) was
  hashed before and cannot raise a register again (low-cardinality columns: every value).

The rest (null check, finite check, both hashes, register max) runs for the candidates only.

Measured on the bench table (10M rows, 5% nulls, one core, under load): ~0.85 ns a value on
high-cardinality columns, 0.6 ns on 11 values, 1.0-1.4 ns on 3k-60k values (seen-table
collisions), against ~5 ns for the numpy version.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.cpython.unsafe.numbers import leading_zeros

P = 14
REGISTERS = 1 << P
RANK_BITS = 64 - P
CHUNK = 1 << 15  # values between two reads of the registers' minimum
SEEN_BITS = 16  # slots of the seen table (512 KB)
NOT_SEEN = 0x7FF8_0000_0000_0001  # a NaN pattern: never entered (only valid values are)

_RANK_MUL = np.uint64(0x9E3779B97F4A7C15)
_INDEX_MUL0 = np.uint64(0xD6E8FEB86659FD93)
_INDEX_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
# HIGH[r]: the smallest rank hash whose rank (leading ones + 1) exceeds r.
HIGH = np.array([(1 << 64) - (1 << (64 - r)) for r in range(RANK_BITS + 1)], np.uint64)

_EXP = np.uint64(0x7FF0_0000_0000_0000)
_SIGN_OFF = np.uint64(0x7FFF_FFFF_FFFF_FFFF)
_ZERO = np.uint64(0)
_S32 = np.uint64(32)
_S_INDEX = np.uint64(64 - P)
_S_SEEN = np.uint64(64 - SEEN_BITS)
_MAX_RANK = RANK_BITS + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _raise(u: np.uint64, regs: np.ndarray) -> int:
    """Register max with one valid finite value's bit pattern ``u``; the register's old value
    if it was raised, else -1."""
    if (u & _SIGN_OFF) == _ZERO:
        u = _ZERO  # -0.0 hashes as +0.0
    g = u * _RANK_MUL
    rank = np.int64(leading_zeros(~g)) + 1
    if rank > _MAX_RANK:
        rank = _MAX_RANK
    p = (u ^ (u >> _S32)) * _INDEX_MUL0
    p = (p ^ (p >> _S32)) * _INDEX_MUL1
    index = p >> _S_INDEX
    old = np.int64(regs[index])
    if rank > old:
        regs[index] = rank
        return old
    return -1


@numba.njit(cache=True, nogil=True)
def _lowest(regs: np.ndarray) -> tuple[int, int]:
    """(the registers' minimum, how many registers hold it)."""
    low = 255
    for r in regs:
        low = min(low, np.int64(r))
    count = 0
    for r in regs:
        count += np.int64(r) == low
    return low, count


@numba.njit(cache=True, nogil=True, inline="always")
def _valid(u: np.uint64, i: int, validity: np.ndarray, offset: int, has_validity: bool) -> bool:
    if (u & _EXP) == _EXP:
        return False  # NaN or +/-inf
    if has_validity:
        j = i + offset
        return ((validity[j >> 3] >> (j & 7)) & 1) != 0
    return True


@numba.njit(cache=True, nogil=True)
def raise_registers(
    bits: np.ndarray,
    validity: np.ndarray,
    offset: int,
    has_validity: bool,
    regs: np.ndarray,
    seen: np.ndarray,
) -> None:
    """Raise ``regs`` (2**14 uint8) with one piece: ``bits`` its float64 values as uint64,
    ``validity`` its Arrow bitmap from bit ``offset`` (read only if ``has_validity``),
    ``seen`` the column's seen table (2**16 uint64, filled with ``NOT_SEEN`` at first)."""
    n = bits.size
    low, at_low = _lowest(regs)
    cand = np.empty(CHUNK, np.int32)
    for start in range(0, n, CHUNK):
        if at_low == 0:  # the last register at ``low`` was raised
            low, at_low = _lowest(regs)
        if low > RANK_BITS:
            return  # every register saturated
        # Loops over a slice (indices provably >= 0: no wraparound checks in the hot loop).
        chunk = bits[start : min(start + CHUNK, n)]
        if low == 0:
            # Mostly hits once the column's few values are all in (a well-predicted branch).
            for i in range(chunk.size):
                u = chunk[i]
                slot = (u * _RANK_MUL) >> _S_SEEN
                if seen[slot] != u and _valid(u, start + i, validity, offset, has_validity):
                    seen[slot] = u
                    at_low -= _raise(u, regs) == low
        else:
            # Candidates first (branch-free: no mispredictions on the ~1/2**low taken ones),
            # then the checks and hashes for those only.
            high = HIGH[low]
            m = 0
            for i in range(chunk.size):
                cand[m] = i
                m += chunk[i] * _RANK_MUL >= high
            for j in range(m):
                i = cand[j]
                u = chunk[i]
                if _valid(u, start + i, validity, offset, has_validity):
                    at_low -= _raise(u, regs) == low


def new_seen() -> np.ndarray:
    """An empty seen table for ``raise_registers`` (one per column)."""
    return np.full(1 << SEEN_BITS, np.uint64(NOT_SEEN), np.uint64)
