"""Column moments as a mergeable state: counts, sum, mean, variance, skewness, kurtosis, min/max.

One pass over the rows, for every column. Numerics: each column is shifted by a pivot (its
first valid value), each cache-sized row block is reduced two-pass (block mean, then central
sums of powers 2-4), and blocks, chunks and days are combined with Chan/Pébay's pairwise update
of M2, M3 and M4. That stays exact to ~1e-12 relative even on data with a 1e12 offset, where raw
power sums lose every digit.

One way per device:

- CPU (``column_moments``/``moments_of_columns``, one numba loop per column piece in
  ``moments_cpu``, one column per thread): the rows come as ``FloatColumn`` pieces (a polars
  column's own Arrow buffers, no NaN-filled copy). Per 4096-row block (in L1): the validity
  bitmap (any bit offset) as 64-bit words, then pass one (count, sum, min, max, zeros,
  negatives; NaN/inf masked like nulls) and pass two (central sums of powers 1-4 about the
  block mean, corrected for its rounding: ``d = sum(e)/n``, ``M2 = S2 - n d^2`` and so on),
  both vectorised; the blocks' parts are merged pairwise with ``merge_moments``' update.
  Numba because numpy needs ~11 passes per block (0.4 s for 100M values) and XLA:CPU nine
  reductions at ~2.5 ns a value each: the loop takes ~0.9 ns a value (bench table, 10M rows ×
  10 columns with 5% nulls: ~0.10 CPU-s). Sums are reassociated (fastmath ``reassoc`` only,
  so that LLVM vectorises them): rounding-level differences from numpy/JAX and between CPU
  kinds, the same bits on one machine.
- accelerators (``moments``, JAX): the same scheme over the padded column block (see
  ``blocks``), NaN/inf as missing.

Definitions (scipy.stats defaults, also polars' defaults):
- ``var``/``std``: sample, ddof=1 (NaN below 2 values);
- ``skewness``: the biased Fisher-Pearson g1 = m3 / m2**1.5 (``scipy.stats.skew``);
- ``kurtosis``: excess, biased g2 = m4 / m2**2 - 3 (``scipy.stats.kurtosis``);
  both NaN for a constant column (m2 <= (eps * mean)**2, scipy's own test) or no values.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_assets.kernels import moments_cpu
from synthcap_assets.kernels.blocks import clean, first_valid, fold_blocks, state_dtype
from synthcap_resources.compute import FloatColumn, cpu_workers


class MomentState(NamedTuple):
    """Per column (arrays of shape (columns,)); ``mean`` is relative to ``shift``."""

    rows: jax.Array
    count: jax.Array
    shift: jax.Array
    mean: jax.Array
    m2: jax.Array
    m3: jax.Array
    m4: jax.Array
    minimum: jax.Array
    maximum: jax.Array
    zeros: jax.Array
    negatives: jax.Array


def empty_moments(columns: int, dtype: jnp.dtype, xp: Any = jnp) -> MomentState:
    zero = xp.zeros(columns, dtype)
    return MomentState(
        rows=zero,
        count=zero,
        shift=zero,
        mean=zero,
        m2=zero,
        m3=zero,
        m4=zero,
        minimum=xp.full(columns, xp.inf, dtype),
        maximum=xp.full(columns, -xp.inf, dtype),
        zeros=zero,
        negatives=zero,
    )


def merge_moments(a: MomentState, b: MomentState, xp: Any = jnp) -> MomentState:
    """The state of the union of the rows behind ``a`` and ``b`` (Chan/Pébay update); ``xp``
    is the array module (``jnp``, or ``np`` for the CPU path's numpy states)."""
    na, nb = a.count, b.count
    n = na + nb
    both = (na > 0) & (nb > 0)
    shift = xp.where(na > 0, a.shift, b.shift)
    # Shift differences are exact when the shifts are within a factor of two (Sterbenz).
    mean_a = a.mean + (a.shift - shift)
    mean_b = b.mean + (b.shift - shift)
    delta = xp.where(both, mean_b - mean_a, 0.0)
    safe = xp.where(n > 0, n, 1.0)
    mean = xp.where(na > 0, mean_a + delta * nb / safe, mean_b)
    d2 = delta * delta
    m2 = a.m2 + b.m2 + d2 * na * nb / safe
    m3 = (
        a.m3
        + b.m3
        + d2 * delta * na * nb * (na - nb) / (safe * safe)
        + 3.0 * delta * (na * b.m2 - nb * a.m2) / safe
    )
    m4 = (
        a.m4
        + b.m4
        + d2 * d2 * na * nb * (na * na - na * nb + nb * nb) / (safe * safe * safe)
        + 6.0 * d2 * (na * na * b.m2 + nb * nb * a.m2) / (safe * safe)
        + 4.0 * delta * (na * b.m3 - nb * a.m3) / safe
    )
    return MomentState(
        rows=a.rows + b.rows,
        count=n,
        shift=shift,
        mean=mean,
        m2=m2,
        m3=m3,
        m4=m4,
        minimum=xp.minimum(a.minimum, b.minimum),
        maximum=xp.maximum(a.maximum, b.maximum),
        zeros=a.zeros + b.zeros,
        negatives=a.negatives + b.negatives,
    )


def block_moments(valid: jax.Array, values: jax.Array, shift: jax.Array) -> MomentState:
    """The moments of one row block (columns × block rows), two-pass about the block mean.

    The mask enters through selects and the counts through int32 sums (exact: a block has at
    most 2**14 rows), not through a float copy of the mask multiplied in.
    """
    dtype = values.dtype
    count = valid.sum(axis=1, dtype=jnp.int32).astype(dtype)
    d0 = jnp.where(valid, values - shift[:, None], 0.0)
    mean = d0.sum(axis=1) / jnp.maximum(count, 1.0)
    d = jnp.where(valid, d0 - mean[:, None], 0.0)
    d2 = d * d
    return MomentState(
        rows=jnp.zeros_like(count),
        count=count,
        shift=shift,
        mean=mean,
        m2=d2.sum(axis=1),
        m3=(d2 * d).sum(axis=1),
        m4=(d2 * d2).sum(axis=1),
        minimum=jnp.where(valid, values, jnp.inf).min(axis=1),
        maximum=jnp.where(valid, values, -jnp.inf).max(axis=1),
        zeros=(valid & (values == 0)).sum(axis=1, dtype=jnp.int32).astype(dtype),
        negatives=(values < 0).sum(axis=1, dtype=jnp.int32).astype(dtype),
    )


@jax.jit
def moments(x: jax.Array, rows: jax.Array) -> MomentState:
    """The moment state of a column block ``x`` whose first ``rows`` rows are real.

    Block sums run in ``x``'s dtype (float32 stays float32), the merged state in
    ``state_dtype()`` (float64 where JAX has x64).
    """
    shift = first_valid(x)

    dtype = state_dtype()

    def body(block: jax.Array, state: MomentState) -> MomentState:
        valid, values = clean(block)
        part = jax.tree.map(lambda a: a.astype(dtype), block_moments(valid, values, shift))
        return merge_moments(state, part)

    init = empty_moments(x.shape[0], dtype)._replace(shift=shift.astype(dtype))
    state = fold_blocks(x, body, init)
    return state._replace(rows=jnp.full(x.shape[0], rows, dtype))


def moment_stats(state: MomentState) -> dict[str, np.ndarray]:
    """Finished statistics per column as numpy arrays (see the module docstring)."""
    s = jax.tree.map(np.asarray, state)
    n = s.count
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(n > 0, s.shift + s.mean, np.nan)
        var = np.where(n > 1, s.m2 / (n - 1), np.nan)
        pop2 = s.m2 / n
        degenerate = (n < 1) | (pop2 <= (np.finfo(s.m2.dtype).eps * mean) ** 2)
        # As ratios, so that no intermediate (m2**1.5, m2**2) overflows before the result.
        skew = np.where(degenerate, np.nan, np.sqrt(n) * (s.m3 / s.m2) / np.sqrt(s.m2))
        kurt = np.where(degenerate, np.nan, n * (s.m4 / s.m2) / s.m2 - 3.0)
    has = n > 0
    return {
        "count": n.astype(np.int64),
        "nulls": (s.rows - n).astype(np.int64),
        "sum": np.where(has, n * s.shift + n * s.mean, 0.0),
        "mean": mean,
        "var": var,
        "std": np.sqrt(var),
        "skewness": skew,
        "kurtosis": kurt,
        "min": np.where(has, s.minimum, np.nan),
        "max": np.where(has, s.maximum, np.nan),
        "zeros": s.zeros.astype(np.int64),
        "negatives": s.negatives.astype(np.int64),
    }


# ---------------------------------------------------------------- the CPU path (numba)

_NO_BITMAP = np.zeros(1, np.uint8)  # what the numba loops get for a piece without nulls


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view: Arrow buffers are read-only, so the numba loops always get read-only
    arrays and compile once (numba types writable and read-only arrays apart)."""
    view = a.view()
    view.flags.writeable = False
    return view


def _piece_args(piece: FloatColumn) -> tuple[np.ndarray, np.ndarray, int, bool]:
    has = piece.validity is not None
    validity = _readonly(piece.validity if has else _NO_BITMAP)
    values = _readonly(np.ascontiguousarray(piece.values, np.float64))
    return values, validity, piece.offset, has


def column_moments(pieces: Sequence[FloatColumn]) -> MomentState:
    """The moment state of one column (fields of shape (1,), float64) from its pieces: per
    ``moments_cpu.BLOCK`` rows one part (``moments_cpu.piece_parts``), the parts merged
    pairwise (``moments_cpu.merge_parts``); the shift is the column's first valid value."""
    args = [_piece_args(piece) for piece in pieces]
    rows = float(sum(a[0].size for a in args))
    found, shift = False, 0.0
    for a in args:
        found, shift = moments_cpu.first_valid(*a)
        if found:
            break
    if not found:
        return empty_moments(1, np.float64, np)._replace(rows=np.full(1, rows))
    blocks = sum(-(-a[0].size // moments_cpu.BLOCK) for a in args)
    parts = np.empty((blocks, moments_cpu.FIELDS))
    k = 0
    for a in args:
        k = moments_cpu.piece_parts(*a, shift, parts, k)
    part = moments_cpu.merge_parts(parts, k)
    fields = [np.full(1, v) for v in (rows, part[0], shift, *part[1:])]
    return MomentState(*fields)


def moments_of_columns(
    columns: Sequence[Sequence[FloatColumn]], workers: int | None = None
) -> MomentState:
    """The moment state (numpy float64 arrays, one entry per column) of several columns, one
    column per task on ``workers`` threads (default: the usable cores)."""
    workers = max(1, min(workers or cpu_workers(), len(columns)))
    if workers == 1 or len(columns) < 2:
        states = [column_moments(c) for c in columns]
    else:
        with ThreadPoolExecutor(workers) as pool:
            states = list(pool.map(column_moments, columns))
    if not states:
        return empty_moments(0, np.float64, np)
    return MomentState(*(np.concatenate(f) for f in zip(*states, strict=True)))


def moments_of_block(block: np.ndarray, rows: int) -> MomentState:
    """The CPU path on a NaN-coded column block (columns × padded rows), first ``rows`` real."""
    block = np.asarray(block)
    pieces = [[FloatColumn(np.asarray(row[:rows], np.float64))] for row in block]
    state = moments_of_columns(pieces, workers=1)
    return state._replace(rows=np.full(block.shape[0], float(rows)))
