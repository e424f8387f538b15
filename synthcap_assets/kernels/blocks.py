"""Shared machinery of the profile kernels: row-block loops, validity and value hashing.

Every profile kernel reads a column block: a (columns × rows) float array, one contiguous row
per table column, padded to a shape bucket, with NaN or +/-inf where a value is missing (see
``synthcap_resources.compute.column_block``). No separate mask travels with it.

Why row blocks: measured on XLA:CPU (jax 0.10), a reduction fused with element-wise work over a
whole 10M-row column materialises every intermediate and runs 5-20x slower than the same work
done in a ``fori_loop`` over cache-sized row blocks; selects and compares are cheap inside such
a block and dear outside it. Histogram scatters are likewise fastest flattened over columns
inside the block loop (a batched/vmapped scatter was 2-3x slower).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import jax
import jax.numpy as jnp

BLOCK_ROWS = 16384
Carry = TypeVar("Carry")


def state_dtype() -> jnp.dtype:
    """The float type of merged states: float64 where JAX runs with x64, else float32."""
    return jnp.dtype(jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)


def block_rows(rows: int) -> int:
    """The row-block length for a padded length: at most ``BLOCK_ROWS``, dividing ``rows``."""
    if rows <= 0:
        return 1
    return min(BLOCK_ROWS, rows & -rows)


def fold_blocks(
    x: jax.Array, body: Callable[[jax.Array, Carry], Carry], init: Carry, start: int = 0
) -> Carry:
    """Fold ``body(block, carry)`` over the row blocks of ``x`` (columns × rows), from ``start``."""
    size = block_rows(x.shape[1])

    def step(i: jax.Array, carry: Carry) -> Carry:
        return body(jax.lax.dynamic_slice_in_dim(x, i * size, size, 1), carry)

    return jax.lax.fori_loop(start, x.shape[1] // size, step, init)


def clean(block: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(valid, values): finite entries, and the block with missing entries set to 0 and -0.0
    turned into +0.0 (so that equal numbers hash equally)."""
    valid = jnp.isfinite(block)
    return valid, jnp.where(valid, block, 0.0) + 0.0


def first_valid(x: jax.Array) -> jax.Array:
    """Per column, the first finite value (0 where a column has none): the moments' pivot.

    Scans row blocks only until every column has one, which is usually the first block.
    """
    size = block_rows(x.shape[1])
    blocks = x.shape[1] // size
    cols = x.shape[0]

    def cond(carry: tuple) -> jax.Array:
        i, found, _ = carry
        return (i < blocks) & ~jnp.all(found)

    def body(carry: tuple) -> tuple:
        i, found, pivot = carry
        valid, values = clean(jax.lax.dynamic_slice_in_dim(x, i * size, size, 1))
        here = jnp.any(valid, axis=1)
        first = jnp.take_along_axis(values, jnp.argmax(valid, axis=1)[:, None], axis=1)[:, 0]
        pivot = jnp.where(~found & here, first, pivot)
        return i + 1, found | here, pivot

    init = (0, jnp.zeros(cols, bool), jnp.zeros(cols, x.dtype))
    return jax.lax.while_loop(cond, body, init)[2]


def _fmix32(h: jax.Array) -> jax.Array:
    """MurmurHash3's 32-bit finaliser: a bijection with full avalanche."""
    h = h ^ (h >> 16)
    h = h * jnp.uint32(0x85EBCA6B)
    h = h ^ (h >> 13)
    h = h * jnp.uint32(0xC2B2AE35)
    return h ^ (h >> 16)


def hash_values(values: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Two well-mixed 32-bit hashes of each value's bit pattern (float32 or float64).

    Two 32-bit murmur finalisers instead of a 64-bit mixer: 64-bit multiplies do not vectorise
    on AVX2 and uint64 is unavailable when JAX runs without x64 (float32 on accelerators).
    """
    if values.dtype == jnp.float64:
        # Split through uint64: bitcasting to (..., 2) uint32 is 4x slower on XLA:CPU.
        bits = jax.lax.bitcast_convert_type(values, jnp.uint64)
        lo, hi = bits.astype(jnp.uint32), (bits >> 32).astype(jnp.uint32)
    else:
        lo = jax.lax.bitcast_convert_type(values.astype(jnp.float32), jnp.uint32)
        hi = jnp.zeros_like(lo)
    h1 = _fmix32(lo ^ _fmix32(hi ^ jnp.uint32(0x9E3779B9)))
    h2 = _fmix32(hi ^ _fmix32(lo + jnp.uint32(0x7FEB352D)))
    return h1, h2
