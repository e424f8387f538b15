"""Distinct counts: exact while small, HyperLogLog beyond; mergeable across chunks and days.

State per column: 2**14 HLL registers (p = 14; relative standard error 1.04 / sqrt(2**14) =
0.81%, so within 2% about 98% of the time and within 2.5% for 99.8%) plus, while a column has
at most ``SMALL_SET`` = 2**14 distinct values, the set of those values themselves, which makes
the count exact and stays exact through merges (set union). Once a union would exceed
``SMALL_SET`` the set is dropped (``small_count = -1``) and the count is the HLL estimate.

The estimate is Ertl's improved raw estimator ("New cardinality estimation algorithms for
HyperLogLog sketches", 2017), unbiased from 0 to 2**40 without HLL++'s empirical bias tables.

The registers (hash version ``HLL_HASH_VERSION`` = 2) come from two hashes of a value's float64
bit pattern ``u``: the rank from the rank hash ``u * C1`` (mod 2**64: one multiply; its leading
ones plus one, capped at ``RANK_BITS + 1``), the register from an index hash (two
xorshift-multiply rounds, top 14 bits; one multiplicative hash alone spreads integer-valued
floats badly, 17% error on 2M consecutive integers). Both zeros hash as +0.0. One way per
device:

- CPU (``column_registers``, one numba loop per column piece in ``distinct_cpu``, one column
  per thread; row ranges with max-merged registers when there are fewer columns than
  threads): a value can raise a register only if its rank exceeds the lowest register, so the
  loop computes the rank hash of every value (one multiply, one compare) and the validity
  check, the index hash and the register max only for those few candidates; while some
  register is still 0, a table of values already hashed skips repeats instead. Exact: the
  same registers as hashing everything. Numba because numpy needs a dozen passes per chunk
  (0.5 s for 100M values) and XLA:CPU hashes and scatter-maxes serially at ~13 ns a value:
  ~0.6-1.4 ns a value (bench table, 10M rows × 10 columns: ~0.09 CPU-s).
- accelerators (``block_registers``, JAX): the same hashes in uint32 pairs (float32 values are
  hashed as their float64 pattern), so states from either device merge.

Version 1 registers (two murmur finalisers, before 2026-12-07) are not comparable; ``state_io``
converts a stored version-1 state whose exact set is known and rejects the others.

The small set of a chunk comes from its sorted values (small chunks), from a histogram whose
non-empty buckets each hold a single value (``small_set_from_buckets``), or else, when the HLL
estimate says the column may be small, from a few hash-table rounds (``small_set_rounds``): each
round scatters every not-yet-placed value into a 2**16-slot table by a fresh hash, keeping the
minimum per slot; the values equal to their slot's entry are placed. With at most 2**14
distinct values about 1/8 collide per round, so 3-4 rounds place all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_assets.kernels import distinct_cpu
from synthcap_assets.kernels.blocks import clean, fold_blocks, hash_values
from synthcap_resources.compute import FloatColumn, cpu_workers

P = 14
REGISTERS = 1 << P
RANK_BITS = 64 - P  # ranks come from 50 hash bits, so registers hold 0..RANK_BITS + 1
HASH_BITS = RANK_BITS  # Ertl's q
HLL_HASH_VERSION = 2
SMALL_SET = 1 << 14
TABLE_BITS = 16
MAX_ROUNDS = 5


class DistinctState(NamedTuple):
    """``registers`` (columns × 2**14, uint8); ``small`` (columns × SMALL_SET) sorted distinct
    values padded with +inf; ``small_count`` (columns,): their number, or -1 once too many."""

    registers: jax.Array
    small: jax.Array
    small_count: jax.Array


_RANK_MUL = 0x9E3779B97F4A7C15
_INDEX_MUL = (0xD6E8FEB86659FD93, 0xBF58476D1CE4E5B9)
_NO_BITMAP = np.zeros(1, np.uint8)  # what the numba loop gets for a piece without nulls


def column_registers(pieces: list[FloatColumn], regs: np.ndarray | None = None) -> np.ndarray:
    """The 2**14 registers (uint8) of one column's pieces, raised in place in ``regs`` if
    given: ``distinct_cpu.raise_registers`` over each piece (one numba loop, see there)."""
    regs = np.zeros(REGISTERS, np.uint8) if regs is None else regs
    seen = distinct_cpu.new_seen()
    for piece in pieces:
        has = piece.validity is not None
        # Read-only views, as Arrow's buffers are: one numba compilation for all pieces.
        validity = (piece.validity if has else _NO_BITMAP).view()
        bits = np.ascontiguousarray(piece.values).view(np.uint64)
        validity.flags.writeable = bits.flags.writeable = False
        distinct_cpu.raise_registers(bits, validity, piece.offset, has, regs, seen)
    return regs


def distinct_registers(
    columns: Sequence[list[FloatColumn]], workers: int | None = None
) -> np.ndarray:
    """The registers (columns × 2**14, uint8) of several columns on ``workers`` threads
    (default: the usable cores; the numba loop releases the GIL): one column per task, which
    costs the least CPU (each task warms its own registers up); with fewer columns than
    threads, each column is split into row ranges whose registers are max-merged (exact)."""
    workers = max(1, workers or cpu_workers())
    out = np.zeros((len(columns), REGISTERS), np.uint8)
    if workers == 1 or not columns:
        for j, pieces in enumerate(columns):
            column_registers(pieces, out[j])
        return out
    parts = -(-workers // len(columns))  # ranges per column
    tasks = [(j, r) for j, pieces in enumerate(columns) for r in _row_ranges(pieces, parts)]
    with ThreadPoolExecutor(min(workers, len(tasks))) as pool:
        regs = list(pool.map(lambda task: column_registers(task[1]), tasks))
    for (j, _), r in zip(tasks, regs, strict=True):
        np.maximum(out[j], r, out=out[j])
    return out


def _row_ranges(pieces: list[FloatColumn], parts: int) -> list[list[FloatColumn]]:
    """A column's pieces cut into ``parts`` row ranges of about equal size (one if parts=1)."""
    if parts <= 1:
        return [pieces]
    rows = sum(p.values.size for p in pieces)
    size = max(1, -(-rows // parts))
    ranges: list[list[FloatColumn]] = [[]]
    room = size
    for piece in pieces:
        start = 0
        while start < piece.values.size:
            if room == 0:
                ranges.append([])
                room = size
            stop = min(piece.values.size, start + room)
            ranges[-1].append(
                FloatColumn(piece.values[start:stop], piece.validity, piece.offset + start)
            )
            room -= stop - start
            start = stop
    return ranges


def registers_of_block(block: np.ndarray, rows: int | None = None) -> np.ndarray:
    """The registers (columns × 2**14, uint8) of a NaN-coded column block's first ``rows``."""
    block = np.asarray(block)
    rows = block.shape[1] if rows is None else rows
    out = np.zeros((block.shape[0], REGISTERS), np.uint8)
    for j in range(block.shape[0]):
        column_registers([FloatColumn(np.asarray(block[j, :rows], np.float64))], out[j])
    return out


# ---------------------------------------------------------------- the same hashes in JAX


def _mul_hi32(a: jax.Array, b: int) -> jax.Array:
    """High 32 bits of a * b (uint32 a, constant b) in 16-bit limbs (no uint64 needed)."""
    a0, a1 = a & 0xFFFF, a >> 16
    b0, b1 = jnp.uint32(b & 0xFFFF), jnp.uint32(b >> 16)
    m1, m2 = a1 * b0, a0 * b1
    mid = ((a0 * b0) >> 16) + (m1 & 0xFFFF) + (m2 & 0xFFFF)
    return a1 * b1 + (m1 >> 16) + (m2 >> 16) + (mid >> 16)


def _mul64(hi: jax.Array, lo: jax.Array, c: int) -> tuple[jax.Array, jax.Array]:
    """(hi, lo) * c mod 2**64, as uint32 pairs."""
    c_lo, c_hi = c & 0xFFFFFFFF, c >> 32
    high = _mul_hi32(lo, c_lo) + lo * jnp.uint32(c_hi) + hi * jnp.uint32(c_lo)
    return high, lo * jnp.uint32(c_lo)


def _float64_bits(values: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(high, low) uint32 halves of each value's float64 bit pattern, zeros as -0.0."""
    if values.dtype == jnp.float64:
        bits = jax.lax.bitcast_convert_type(values, jnp.uint64)
        hi, lo = (bits >> 32).astype(jnp.uint32), bits.astype(jnp.uint32)
    else:  # float32 widened by hand (no float64 without x64); XLA flushes subnormals to 0
        b = jax.lax.bitcast_convert_type(values, jnp.uint32)
        exponent = ((b >> 23) & 0xFF) + jnp.uint32(1023 - 127)
        hi = (b & jnp.uint32(0x80000000)) | (exponent << 20) | ((b & 0x7FFFFF) >> 3)
        lo = (b & 7) << 29
    zero = values == 0  # both zeros hash as +0.0
    return jnp.where(zero, 0, hi).astype(jnp.uint32), jnp.where(zero, 0, lo).astype(jnp.uint32)


def hash_registers(values: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(register index, rank) of each value, int32: the hashes of ``column_registers``."""
    hi, lo = _float64_bits(values)
    ghi, glo = _mul64(hi, lo, _RANK_MUL)
    ghi, glo = ~ghi, ~glo  # the rank counts leading ones
    zeros = jnp.where(ghi != 0, jax.lax.clz(ghi), 32 + jax.lax.clz(glo)).astype(jnp.int32)
    rank = jnp.minimum(zeros + 1, RANK_BITS + 1)
    phi, plo = _mul64(hi, lo ^ hi, _INDEX_MUL[0])
    phi, plo = _mul64(phi, plo ^ phi, _INDEX_MUL[1])
    return (phi >> (32 - P)).astype(jnp.int32), rank


def block_registers(valid: jax.Array, values: jax.Array, registers: jax.Array) -> jax.Array:
    """``registers`` (flattened columns × 2**14, plus one dump slot) updated with a row block."""
    index, rank = hash_registers(values)
    offset = (jnp.arange(values.shape[0], dtype=jnp.int32) * REGISTERS)[:, None]
    index = jnp.where(valid, index + offset, registers.shape[0] - 1)
    return registers.at[index.ravel()].max(rank.ravel(), mode="promise_in_bounds")


def empty_registers(columns: int) -> jax.Array:
    # int32, not uint8: a byte scatter-max is several times slower on XLA:CPU.
    return jnp.zeros(columns * REGISTERS + 1, jnp.int32)


@jax.jit
def registers(x: jax.Array) -> jax.Array:
    """The HLL registers (columns × 2**14) of a column block, in JAX (the accelerator way)."""

    def body(block: jax.Array, regs: jax.Array) -> jax.Array:
        return block_registers(*clean(block), regs)

    regs = fold_blocks(x, body, empty_registers(x.shape[0]))
    return regs[:-1].reshape(x.shape[0], REGISTERS).astype(jnp.uint8)


def _compact(values: jax.Array, keep: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Per column, the kept values (in order) in the first slots of a SMALL_SET row, padded
    with +inf, and how many were kept (-1 if more than SMALL_SET)."""

    def one(v: jax.Array, k: jax.Array) -> tuple[jax.Array, jax.Array]:
        position = jnp.where(k, jnp.cumsum(k) - 1, SMALL_SET)
        out = jnp.full(SMALL_SET, jnp.inf, v.dtype).at[position].set(v, mode="drop")
        count = k.sum()
        return out, jnp.where(count > SMALL_SET, -1, count).astype(jnp.int32)

    return jax.vmap(one)(values, keep)


@jax.jit
def small_set_from_sorted(sorted_values: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The small set from each column's ascending values (missing ones sorted last as +inf)."""
    first = jnp.concatenate(
        [jnp.ones_like(sorted_values[:, :1], bool), sorted_values[:, 1:] != sorted_values[:, :-1]],
        axis=1,
    )
    return _compact(sorted_values, first & jnp.isfinite(sorted_values))


@jax.jit
def small_set_from_buckets(
    count: jax.Array, low: jax.Array, high: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The small set from a histogram's per-bucket (count, min, max), ascending buckets; -1
    where some non-empty bucket holds more than one value (the set is then unknown here)."""
    values, size = _compact(low, count > 0)
    mixed = jnp.any((count > 0) & (low != high), axis=1)
    return values, jnp.where(mixed, -1, size)


_compact_jit = jax.jit(_compact)


def _slot(h1: jax.Array, h2: jax.Array, round_: int) -> jax.Array:
    word = h1 if round_ % 2 == 0 else h2
    shift = 32 - TABLE_BITS if round_ < 2 else 0
    return ((word >> shift) & ((1 << TABLE_BITS) - 1)).astype(jnp.int32)


def _round(x: jax.Array, tables: jax.Array, live: jax.Array) -> tuple[jax.Array, jax.Array]:
    """One hash-table round: (this round's table, how many values were still unplaced)."""
    size = 1 << TABLE_BITS
    done = tables.shape[0]
    cols = x.shape[0]
    offset = (jnp.arange(cols, dtype=jnp.int32) * size)[:, None]

    def body(block: jax.Array, carry: tuple) -> tuple:
        table, active_count = carry
        valid, values = clean(block)
        h1, h2 = hash_values(values)
        active = valid & live[:, None]
        for r in range(done):
            active &= values != tables[r].ravel()[_slot(h1, h2, r) + offset]
        index = jnp.where(active, _slot(h1, h2, done) + offset, cols * size)
        table = table.at[index.ravel()].min(values.ravel(), mode="promise_in_bounds")
        return table, active_count + active.sum(axis=1, dtype=jnp.int32)

    init = (jnp.full(cols * size + 1, jnp.inf, x.dtype), jnp.zeros(cols, jnp.int32))
    table, active_count = fold_blocks(x, body, init)
    return table[:-1].reshape(cols, size), active_count


_round_jit = jax.jit(_round)


def small_set_rounds(x: jax.Array, live: np.ndarray) -> tuple[jax.Array, jax.Array]:
    """The small set of the ``live`` columns of a column block by hash-table rounds (see the
    module docstring); other columns, and columns with more than SMALL_SET values, get -1."""
    cols = x.shape[0]
    tables = jnp.zeros((0, cols, 1 << TABLE_BITS), x.dtype)
    live = jnp.asarray(live, bool)
    for _ in range(MAX_ROUNDS):
        table, active = _round_jit(x, tables, live)
        if not bool(jnp.any(active > 0)):
            break
        tables = jnp.concatenate([tables, table[None]])
    else:
        live = live & (active == 0)
    found = jnp.sort(jnp.moveaxis(tables, 0, 1).reshape(cols, -1), axis=1)
    values, count = _compact_jit(found, jnp.isfinite(found))
    return values, jnp.where(live, count, -1)


@jax.jit
def merge_distinct(a: DistinctState, b: DistinctState) -> DistinctState:
    """Register-wise max and set union (dropped once the union outgrows SMALL_SET)."""
    known = (a.small_count >= 0) & (b.small_count >= 0)

    def union() -> tuple[jax.Array, jax.Array]:
        both = jnp.sort(jnp.concatenate([a.small, b.small], axis=1), axis=1)
        return small_set_from_sorted(both)

    def dropped() -> tuple[jax.Array, jax.Array]:
        return jnp.full_like(a.small, jnp.inf), jnp.full_like(a.small_count, -1)

    # High-cardinality columns have no sets: skip the sort when no column has one.
    values, count = jax.lax.cond(jnp.any(known), union, dropped)
    return DistinctState(
        registers=jnp.maximum(a.registers, b.registers),
        small=jnp.where(known[:, None], values, jnp.inf),
        small_count=jnp.where(known, count, -1),
    )


def hll_estimate(regs: np.ndarray) -> np.ndarray:
    """Ertl's improved raw estimate from registers (columns × 2**P), per column."""
    regs = np.asarray(regs)
    m = regs.shape[-1]
    hist = np.stack([np.bincount(r, minlength=HASH_BITS + 2) for r in regs.reshape(-1, m)])
    q = HASH_BITS
    z = m * _tau(1.0 - hist[:, q + 1] / m)
    for k in range(q, 0, -1):
        z = 0.5 * (z + hist[:, k])
    with np.errstate(divide="ignore"):
        z = z + m * _sigma(hist[:, 0] / m)
        estimate = m * m / (2.0 * np.log(2.0)) / z
    return estimate.reshape(regs.shape[:-1])


def _sigma(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, float)
    out = x.copy()
    y, weight = x.copy(), 1.0
    for _ in range(64):  # x**(2**k) underflows to 0 well before k = 64 for x < 1
        y = y * y
        out = out + y * weight
        weight *= 2.0
    return np.where(x >= 1.0, np.inf, out)


def _tau(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, float)
    out = 1.0 - x
    y, weight = x.copy(), 1.0
    for _ in range(64):
        y = np.sqrt(y)
        weight *= 0.5
        out = out - (1.0 - y) ** 2 * weight
    return np.where((x <= 0.0) | (x >= 1.0), 0.0, out / 3.0)


def distinct_count(state: DistinctState) -> tuple[np.ndarray, np.ndarray]:
    """(count, exact) per column: the exact count where the small set is known, else HLL."""
    small = np.asarray(state.small_count)
    estimate = hll_estimate(np.asarray(state.registers))
    exact = small >= 0
    return np.where(exact, small, np.rint(estimate)).astype(np.int64), exact
