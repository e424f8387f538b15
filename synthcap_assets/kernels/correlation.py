"""Correlation kernels: Pearson and Spearman matrices over many columns. Pure jitted array
functions; inputs are rows × columns arrays.

- Pearson is pairwise-complete under nulls: for each pair, only the rows valid in both columns
  count (like ``pandas.DataFrame.corr``). On the CPU the sums come from the numba loop of
  ``correlation_cpu`` (straight from Arrow buffers, one dot product per pair and row, blocks
  merged by Chan's formulas into the same ``PearsonState``); on an accelerator (the JAX path
  below) all pairs come from four masked matrix products
  (counts MᵀM, sums XᵀM, sums of squares (X²)ᵀM and cross-products XᵀX of values shifted by
  their column mean, zero where null), accumulated over blocks of 32k rows so that no
  rows × columns temporaries are made; no loop over pairs. The sums form a mergeable state
  (``PearsonState``: counts, means, second moments and co-moments per pair, merged by Chan's
  formulas), so a table can be correlated chunk by chunk.
- Spearman is Pearson of average ranks (ties share their mean rank). Exact pairwise-complete
  Spearman would re-rank every pair on its own complete rows (one sort per pair, which is what
  ``scipy.stats.spearmanr(nan_policy='omit')`` does); instead ``policy="pairwise"`` ranks each
  column once among its own valid values and then takes the pairwise-complete Pearson of those
  ranks. It equals scipy's result exactly when the two columns are null on the same rows (and
  without nulls), and is close otherwise (ranks within a column are then nearly a linear
  function of ranks within the pair: within 2e-3 of scipy with 10% independent nulls on 3000
  rows in the tests). ``policy="complete"`` ranks
  only the rows valid in every column (listwise deletion), exactly scipy's ``spearmanr`` on
  those rows. Ranks need the whole column, so Spearman has no mergeable state.
- Cramér's V for categorical pairs is in ``corr_cramer``.

Accuracy: values are shifted by their column mean before the products (the CPU loop: by the
mean of each block of 1024 rows), so Pearson's r carries a relative rounding error of about
eps × Σ(x − column mean)² / Σ(x − pair mean)² on the pair's rows — eps for ordinary data, also
far from zero (1e12 + noise); r is NaN where that error would pass ~1e-3 (constant columns, or
a pair's rows nearly constant far from the column's mean) or with fewer than two rows.
Subnormal values (< 2.2e-308) count as zero in the JAX path's arithmetic (XLA on the CPU flushes
them), as themselves in the CPU loop. Non-finite values count as nulls. The JAX path pads rows
to shape buckets (``synthcap_resources.compute.bucket_size``), so a new row count does not
recompile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from synthcap_assets.kernels.corr_ranks import average_ranks
from synthcap_resources.compute import FloatColumn, pad_rows, runtime

_HIGHEST = lax.Precision.HIGHEST
_PEARSON_CHUNK = 1 << 15


class CorrelationInputError(ValueError):
    """The values, mask or codes passed to a correlation kernel are unusable."""


@dataclass(frozen=True)
class Correlation:
    """A k × k correlation matrix and, per pair, the number of rows it was computed on."""

    matrix: np.ndarray
    counts: np.ndarray


@dataclass(frozen=True)
class PearsonState:
    """Mergeable pairwise-complete sums; entry [i, j] is over the rows valid in i and j.

    Column i's mean on those rows is ``shift[i] + offset[i, j]`` (kept apart so that merging
    chunks of data far from zero, e.g. 1e12 + noise, loses no precision); ``m2[i, j]`` is its
    sum of squared deviations (column j's are the transposes) and ``cross`` the sum of
    co-deviations. ``scale`` bounds |value - shift| per column, to tell rounding from spread.
    """

    count: np.ndarray
    shift: np.ndarray
    offset: np.ndarray
    m2: np.ndarray
    cross: np.ndarray
    scale: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        return self.shift[:, None] + self.offset

    def merge(self, other: PearsonState) -> PearsonState:
        """The state of the union of both row sets (Chan et al.'s pairwise update)."""
        if self.count.shape != other.count.shape:
            raise CorrelationInputError(
                f"cannot merge states over {self.count.shape[0]} and {other.count.shape[0]}"
                " columns; correlate the same columns in every chunk"
            )
        merged = _merge(*(jnp.asarray(a) for a in (*_fields(self), *_fields(other))))
        return PearsonState(*(np.asarray(a) for a in merged))

    def correlation(self) -> Correlation:
        """Pearson's r per pair (NaN with fewer than 2 rows or a constant column)."""
        r = _pearson_from_state(*(jnp.asarray(a) for a in _fields(self)))
        return Correlation(matrix=np.asarray(r), counts=np.rint(self.count).astype(np.int64))


def _fields(s: PearsonState) -> tuple[np.ndarray, ...]:
    return s.count, s.shift, s.offset, s.m2, s.cross, s.scale


def as_columns(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` as a non-empty rows × columns array (a 1-D array is one column)."""
    arr = np.asarray(values)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise CorrelationInputError(
            f"{name} must be a non-empty rows × columns array, got shape {np.shape(values)}"
        )
    return arr


def _prepare(values: np.ndarray, mask: np.ndarray | None) -> tuple[jax.Array, jax.Array]:
    """Float values and validity, padded to the row bucket, as device arrays."""
    x = as_columns(values, "values").astype(np.float64, copy=False)
    valid = np.isfinite(x)
    if mask is not None:
        if np.size(mask) != x.size:
            raise CorrelationInputError(f"mask shape {np.shape(mask)} != values {x.shape}")
        valid &= np.asarray(mask, dtype=bool).reshape(x.shape)
    # Nulls keep their values (NaN included): every kernel reads them through the mask.
    x, valid = pad_rows(x, valid)
    return jnp.asarray(x, dtype=runtime().dtype), jnp.asarray(valid)


@jax.jit
def _pearson_sums(x: jax.Array, valid: jax.Array) -> tuple[jax.Array, ...]:
    n, k = x.shape
    w = valid.astype(x.dtype)
    shift = jnp.where(valid, x, 0).sum(axis=0) / jnp.maximum(w.sum(axis=0), 1)
    chunk = min(n & -n, _PEARSON_CHUNK)

    def add_block(acc: tuple[jax.Array, ...], block: tuple[jax.Array, jax.Array]) -> tuple:
        # Row blocks keep the shifted values, their squares and the weights in cache instead
        # of materializing three more rows × columns arrays.
        xb, vb = block
        wb = vb.astype(x.dtype)
        xz = jnp.where(vb, xb - shift, 0)
        count, sums, squares, products, scale = acc
        return (
            count + jnp.matmul(wb.T, wb, precision=_HIGHEST),
            sums + jnp.matmul(xz.T, wb, precision=_HIGHEST),
            squares + jnp.matmul((xz * xz).T, wb, precision=_HIGHEST),
            products + jnp.matmul(xz.T, xz, precision=_HIGHEST),
            jnp.maximum(scale, jnp.abs(xz).max(axis=0)),
        ), None

    zero = jnp.zeros((k, k), x.dtype)
    blocks = (x.reshape(-1, chunk, k), valid.reshape(-1, chunk, k))
    init = (zero, zero, zero, zero, jnp.zeros(k, x.dtype))
    (count, sums, squares, products, scale), _ = lax.scan(add_block, init, blocks)
    safe = jnp.maximum(count, 1)
    offset = sums / safe
    m2 = squares - sums * offset
    cross = products - offset * sums.T
    return count, shift, offset, m2, cross, scale


@jax.jit
def _merge(*halves: jax.Array) -> tuple[jax.Array, ...]:
    n1, shift1, off1, m21, cross1, scale1, n2, shift2, off2, m22, cross2, scale2 = halves
    n = n1 + n2
    safe = jnp.maximum(n, 1)
    # Both means relative to one shift (the first chunk's, unless its column was all null):
    # the difference of two nearby shifts is exact, so data far from zero keeps its digits.
    shift = jnp.where(jnp.diag(n1) > 0, shift1, shift2)
    off1 = off1 + (shift1 - shift)[:, None]
    off2 = off2 + (shift2 - shift)[:, None]
    delta = off2 - off1
    weight = n1 * n2 / safe
    offset = off1 + delta * n2 / safe
    m2 = m21 + m22 + delta * delta * weight
    cross = cross1 + cross2 + delta * delta.T * weight
    scale = jnp.maximum(scale1 + jnp.abs(shift1 - shift), scale2 + jnp.abs(shift2 - shift))
    return n, shift, offset, m2, cross, scale


@jax.jit
def _pearson_from_state(*state: jax.Array) -> jax.Array:
    count, _, offset, m2, cross, _ = state
    eps = jnp.finfo(m2.dtype).eps
    # m2 is the sum of squared deviations from the shift, count * offset² of it taken away, so
    # it carries a rounding error of about eps times that sum; below a thousand times that, the
    # pair's spread is lost (a constant column, or rows nearly constant far from the shift).
    # Not eps * count * max|x - shift|²: on float32 states that called every column whose
    # farthest value lies ~90 standard deviations out (heavy tails) constant.
    floor = 1e3 * eps * (m2 + count * offset**2)
    degenerate = (count < 2) | (m2 <= floor) | (m2.T <= floor.T)
    r = cross / jnp.sqrt(jnp.where(degenerate, 1, m2 * m2.T))
    # A column with itself is exactly 1 (x / sqrt(x * x) may round to 1 - eps).
    r = jnp.where(jnp.eye(r.shape[0], dtype=bool), 1.0, r)
    return jnp.where(degenerate, jnp.nan, jnp.clip(r, -1, 1))


def merge_states(states: Sequence[PearsonState]) -> PearsonState:
    """The state of the union of the states' row sets (left to right)."""
    if not states:
        raise CorrelationInputError("no Pearson states to merge")
    merged = states[0]
    for state in states[1:]:
        merged = merged.merge(state)
    return merged


def pearson_state_of_columns(columns: Sequence[Sequence[FloatColumn]]) -> PearsonState:
    """The mergeable Pearson state of columns given as ``FloatColumn`` pieces (e.g. a polars
    table's Arrow buffers, ``compute.float_columns``), read in place by the CPU loop of
    ``correlation_cpu`` on ``cpu_workers()`` threads."""
    from synthcap_assets.kernels import correlation_cpu  # numba: only when a kernel runs

    if not columns:
        raise CorrelationInputError("no columns to correlate")
    values, _ = correlation_cpu.pearson_states(columns)
    return merge_states([PearsonState(*v) for v in values])


def pearson_state(values: np.ndarray, mask: np.ndarray | None = None) -> PearsonState:
    """The mergeable Pearson state of ``values`` (rows × columns; ``mask`` False = null).

    One way per device: on the CPU the numba loop of ``correlation_cpu`` (one read of the rows,
    no padded copy); on an accelerator the masked matrix products of ``_pearson_sums``."""
    if runtime().platform == "cpu":
        from synthcap_assets.kernels import correlation_cpu

        x = as_columns(values, "values").astype(np.float64, copy=False)
        if mask is not None and np.size(mask) != x.size:
            raise CorrelationInputError(f"mask shape {np.shape(mask)} != values {x.shape}")
        valid = None if mask is None else np.asarray(mask, dtype=bool).reshape(x.shape)
        return pearson_state_of_columns(correlation_cpu.mask_columns(x, valid))
    x, valid = _prepare(values, mask)
    return PearsonState(*(np.asarray(a) for a in _pearson_sums(x, valid)))


def pearson(values: np.ndarray, mask: np.ndarray | None = None) -> Correlation:
    """Pairwise-complete Pearson correlation matrix of the columns of ``values``."""
    return pearson_state(values, mask).correlation()


@partial(jax.jit, static_argnames="complete")
def _spearman_sums(x: jax.Array, valid: jax.Array, complete: bool) -> tuple[jax.Array, ...]:
    valid = valid & jnp.isfinite(x)
    if complete:
        valid = valid & jnp.all(valid, axis=1, keepdims=True)
    ranks, valid = average_ranks(x.T, valid.T)
    return _pearson_sums(ranks.T, valid.T)


def spearman(
    values: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    policy: Literal["pairwise", "complete"] = "pairwise",
) -> Correlation:
    """Spearman rank correlation matrix; ``policy`` says which rows are ranked (module doc)."""
    if policy not in ("pairwise", "complete"):
        raise CorrelationInputError(f"policy must be 'pairwise' or 'complete', got {policy!r}")
    x, valid = _prepare(values, mask)
    sums = _spearman_sums(x, valid, policy == "complete")
    return PearsonState(*(np.asarray(a) for a in sums)).correlation()
