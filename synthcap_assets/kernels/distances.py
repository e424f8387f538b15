"""Distance to the closest record: for each query row, the Euclidean distance to its nearest
reference row (the DCR of synthetic-data privacy evaluation).

Rows are feature vectors (rows × features, already scaled by the caller). Both sides are padded
to shape buckets (``synthcap_resources.compute.bucket_size``) so that a new table size reuses a
compiled kernel; padded reference rows are pushed to +inf distance, padded query rows are cut
off on return. The work is blocked: a ``fori_loop`` over reference blocks of ``REF_BLOCK`` rows
inside a ``vmap``-free loop over query blocks, each step forming the (query block × reference
block) differences directly, ``sum((q - r)^2)``, instead of ``|q|^2 + |r|^2 - 2 q.r``, which
loses digits when records are near each other (exactly the case that matters here).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_resources.compute import bucket_size, runtime

QUERY_BLOCK = 256
REF_BLOCK = 1024


class DistanceInputError(ValueError):
    """The query and reference matrices cannot be compared."""


@partial(jax.jit, static_argnames=("ref_rows",))
def _nearest(
    queries: jax.Array, reference: jax.Array, ref_rows: int
) -> tuple[jax.Array, jax.Array]:
    n_query, n_ref = queries.shape[0], reference.shape[0]
    q_blocks, r_blocks = n_query // QUERY_BLOCK, n_ref // REF_BLOCK
    ref_index = jnp.arange(n_ref, dtype=jnp.int32)

    def query_block(qi: jax.Array, out: tuple[jax.Array, jax.Array]):
        q = jax.lax.dynamic_slice_in_dim(queries, qi * QUERY_BLOCK, QUERY_BLOCK, 0)

        def ref_block(ri: jax.Array, best: tuple[jax.Array, jax.Array]):
            r = jax.lax.dynamic_slice_in_dim(reference, ri * REF_BLOCK, REF_BLOCK, 0)
            index = jax.lax.dynamic_slice_in_dim(ref_index, ri * REF_BLOCK, REF_BLOCK, 0)
            d2 = jnp.sum((q[:, None, :] - r[None, :, :]) ** 2, axis=-1)
            d2 = jnp.where(index[None, :] < ref_rows, d2, jnp.inf)
            local = jnp.argmin(d2, axis=1)
            value = jnp.take_along_axis(d2, local[:, None], axis=1)[:, 0]
            better = value < best[0]
            return jnp.where(better, value, best[0]), jnp.where(better, index[local], best[1])

        init = (jnp.full(QUERY_BLOCK, jnp.inf, queries.dtype), jnp.zeros(QUERY_BLOCK, jnp.int32))
        d2, arg = jax.lax.fori_loop(0, r_blocks, ref_block, init)
        dist = jax.lax.dynamic_update_slice_in_dim(out[0], jnp.sqrt(d2), qi * QUERY_BLOCK, 0)
        args = jax.lax.dynamic_update_slice_in_dim(out[1], arg, qi * QUERY_BLOCK, 0)
        return dist, args

    init = (jnp.zeros(n_query, queries.dtype), jnp.zeros(n_query, jnp.int32))
    return jax.lax.fori_loop(0, q_blocks, query_block, init)


def _padded(values: np.ndarray, block: int, dtype: np.dtype) -> np.ndarray:
    rows = max(bucket_size(values.shape[0]), block)
    rows = -(-rows // block) * block
    out = np.zeros((rows, values.shape[1]), dtype=dtype)
    out[: values.shape[0]] = values
    return out


def nearest_distances(queries: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distance, index) of each query row's nearest reference row, Euclidean, in the runtime's
    float type (float64 on the CPU). Rows must be finite; both need the same feature count."""
    queries, reference = np.asarray(queries), np.asarray(reference)
    if queries.ndim != 2 or reference.ndim != 2 or queries.shape[1] != reference.shape[1]:
        raise DistanceInputError(
            f"need two 2-D arrays with equal feature counts, got {queries.shape} and "
            f"{reference.shape}"
        )
    if reference.shape[0] == 0:
        raise DistanceInputError("the reference set is empty: nothing to be close to")
    if not (np.isfinite(queries).all() and np.isfinite(reference).all()):
        raise DistanceInputError("rows must be finite: impute or drop missing values first")
    if queries.shape[0] == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    dtype = runtime().dtype
    distance, index = _nearest(
        jnp.asarray(_padded(queries, QUERY_BLOCK, dtype)),
        jnp.asarray(_padded(reference, REF_BLOCK, dtype)),
        ref_rows=reference.shape[0],
    )
    rows = queries.shape[0]
    return np.asarray(distance)[:rows], np.asarray(index)[:rows].astype(np.int64)
