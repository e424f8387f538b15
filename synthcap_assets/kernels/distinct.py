"""Distinct counts: exact while small, HyperLogLog beyond; mergeable across chunks and days.

State per column: 2**14 HLL registers (p = 14; relative standard error 1.04 / sqrt(2**14) =
0.81%, so within 2% about 98% of the time and within 2.5% for 99.8%) plus, while a column has
at most ``SMALL_SET`` = 2**14 distinct values, the set of those values themselves, which makes
the count exact and stays exact through merges (set union). Once a union would exceed
``SMALL_SET`` the set is dropped (``small_count = -1``) and the count is the HLL estimate.

The estimate is Ertl's improved raw estimator ("New cardinality estimation algorithms for
HyperLogLog sketches", 2017), unbiased from 0 to 2**40 without HLL++'s empirical bias tables.
Values are hashed by their bit pattern (``blocks.hash_values``); -0.0 counts as 0.0.

The small set of a chunk comes from its sorted values (small chunks), from a histogram whose
non-empty buckets each hold a single value (``small_set_from_buckets``), or else, when the HLL
estimate says the column may be small, from a few hash-table rounds (``small_set_rounds``): each
round scatters every not-yet-placed value into a 2**16-slot table by a fresh hash, keeping the
minimum per slot; the values equal to their slot's entry are placed. With at most 2**14
distinct values about 1/8 collide per round, so 3-4 rounds place all of them.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_assets.kernels.blocks import clean, fold_blocks, hash_values

P = 14
REGISTERS = 1 << P
HASH_BITS = 32  # rho is taken from one 32-bit hash, so registers hold 0..HASH_BITS + 1
SMALL_SET = 1 << 14
TABLE_BITS = 16
MAX_ROUNDS = 5


class DistinctState(NamedTuple):
    """``registers`` (columns × 2**14, uint8); ``small`` (columns × SMALL_SET) sorted distinct
    values padded with +inf; ``small_count`` (columns,): their number, or -1 once too many."""

    registers: jax.Array
    small: jax.Array
    small_count: jax.Array


def block_registers(valid: jax.Array, values: jax.Array, registers: jax.Array) -> jax.Array:
    """``registers`` (flattened columns × 2**14, plus one dump slot) updated with a row block."""
    h1, h2 = hash_values(values)
    rho = jax.lax.clz(h2).astype(jnp.int32) + 1
    offset = (jnp.arange(values.shape[0], dtype=jnp.int32) * REGISTERS)[:, None]
    index = (h1 >> (32 - P)).astype(jnp.int32) + offset
    index = jnp.where(valid, index, registers.shape[0] - 1)
    return registers.at[index.ravel()].max(rho.ravel(), mode="promise_in_bounds")


def empty_registers(columns: int) -> jax.Array:
    # int32, not uint8: a byte scatter-max is several times slower on XLA:CPU.
    return jnp.zeros(columns * REGISTERS + 1, jnp.int32)


@jax.jit
def registers(x: jax.Array) -> jax.Array:
    """The HLL registers (columns × 2**14) of a column block."""

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
