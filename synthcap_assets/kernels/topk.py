"""Value counts and top-k values of categorical columns, mergeable by addition.

Categories arrive integer-coded (e.g. polars' categorical physical codes, or
``np.unique(..., return_inverse=True)``), one code block per call: columns × rows int32 codes in
[0, categories), negative for missing. Counts are exact (a scatter-add per row block, no one-hot
matrix). Two count states merge by adding, after ``align_counts`` has put them on one
dictionary when their codes came from different dictionaries (day-by-day encodings do).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_assets.kernels.blocks import block_rows


class CategoryError(ValueError):
    """Category codes or dictionaries that cannot be counted or aligned."""


@partial(jax.jit, static_argnames="categories")
def category_counts(codes: jax.Array, categories: int) -> jax.Array:
    """Exact counts (columns × categories) of codes; codes outside [0, categories) are
    ignored (missing). ``categories`` is static: pass a bucketed size to limit recompiles."""
    cols, rows = codes.shape
    size = block_rows(rows)
    offset = (jnp.arange(cols, dtype=jnp.int32) * (categories + 1))[:, None]

    def step(i: jax.Array, acc: jax.Array) -> jax.Array:
        block = jax.lax.dynamic_slice_in_dim(codes, i * size, size, 1).astype(jnp.int32)
        ok = (block >= 0) & (block < categories)
        index = jnp.where(ok, block, categories) + offset
        return acc.at[index.ravel()].add(1, mode="promise_in_bounds")

    init = jnp.zeros(cols * (categories + 1), jnp.int32)
    out = jax.lax.fori_loop(0, rows // size, step, init)
    return out.reshape(cols, categories + 1)[:, :categories]


@partial(jax.jit, static_argnames="k")
def top_k(counts: jax.Array, k: int) -> tuple[jax.Array, jax.Array]:
    """(codes, counts) of the ``k`` most frequent categories per column, most frequent first
    (ties by smaller code); zero-count slots are returned with code -1."""
    k = min(k, counts.shape[-1])
    best, codes = jax.lax.top_k(counts, k)
    return jnp.where(best > 0, codes, -1), best


def merge_counts(a: jax.Array, b: jax.Array) -> jax.Array:
    """Counts of the union of two code-aligned count states (padded to the longer)."""
    width = max(a.shape[-1], b.shape[-1])
    pad = lambda c: jnp.pad(c, [(0, 0)] * (c.ndim - 1) + [(0, width - c.shape[-1])])  # noqa: E731
    return pad(a) + pad(b)


def align_counts(
    labels_a: Sequence[object],
    counts_a: np.ndarray,
    labels_b: Sequence[object],
    counts_b: np.ndarray,
) -> tuple[list[object], np.ndarray]:
    """Merge two one-column count vectors keyed by different dictionaries: (union labels in
    first-seen order, summed counts)."""
    if len(labels_a) != len(counts_a) or len(labels_b) != len(counts_b):
        raise CategoryError("each dictionary needs exactly one count per label")
    index = {label: i for i, label in enumerate(labels_a)}
    labels = list(labels_a)
    for label in labels_b:
        if label not in index:
            index[label] = len(labels)
            labels.append(label)
    out = np.zeros(len(labels), np.int64)
    out[: len(labels_a)] += np.asarray(counts_a, np.int64)
    np.add.at(out, [index[label] for label in labels_b], np.asarray(counts_b, np.int64))
    return labels, out
