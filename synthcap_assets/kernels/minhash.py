"""MinHash signatures and LSH band keys of documents given as hashed shingles (JAX).

Input: the 32-bit hashes of every document's shingles laid end to end (``shingles``) with the
document each belongs to (``doc_ids``, 0-based, ``-1`` for padding). Output: per document a
signature of ``K`` values, and per band the key of ``rows`` consecutive signature values.

Scheme: one-permutation MinHash with optimal densification (Li, Owen & Zhang 2012;
Shrivastava 2017), not ``K`` independent permutations. Each shingle hash is permuted once,
``h = fmix32(x XOR seed)`` (MurmurHash3's finalizer, a bijection of uint32); its high bits
pick one of ``K`` bins (``((h >> 16) · K) >> 16``, ``K`` ≤ 65536) and each bin keeps its
minimum ``h``: one hash and one ``segment_min`` per shingle instead of ``K``. An empty bin (a
document with fewer shingles than bins) borrows the value of the first filled bin along a
probe sequence that depends on the bin and the attempt only, the same for every document.
Each signature value then collides with probability equal to the Jaccard similarity of the
two shingle sets (unbiased; a little more variance for documents with few shingles; measured
in ``synthcap_tests/text/test_minhash.py``); the 32-bit shingle hashes add collisions of
distinct shingles of about ``shingles² / 2³³`` per pair. All uint32 arithmetic, so it runs the
same on CPU and GPU without x64. Written here because datasketch's loop is per document in
Python, with ``K`` hashes per shingle.

The shingle count and the document count are padded to buckets (``compute.bucket_size``), so a
new corpus size reuses the compiled kernel. Below :data:`SMALL_SHINGLES` shingles (a day of
short messages) the same arithmetic runs in numpy instead (``_signatures_np``,
``_band_keys_np``): compiling the two kernels costs about a second of CPU per process and
shape bucket, far more than computing a few thousand documents; the two paths give the same
bits (``synthcap_tests/text/test_minhash.py``).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from synthcap_resources.compute import bucket_size

EMPTY = np.uint32(0xFFFFFFFF)  # the signature value of a document without shingles
DEFAULT_SEED = 1


def fmix32(x: jax.Array) -> jax.Array:
    """MurmurHash3's finalizer on uint32 (a bijection)."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x85EBCA6B)
    x = x ^ (x >> 13)
    x = x * jnp.uint32(0xC2B2AE35)
    return x ^ (x >> 16)


def permutation_seeds(permutations: int, seed: int = DEFAULT_SEED) -> np.ndarray:
    """``permutations`` distinct uint32 seeds, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    seeds = rng.choice(np.iinfo(np.uint32).max, size=permutations, replace=False)
    return seeds.astype(np.uint32)


PROBES = 64  # densification attempts; a bin finds a filled one unless nearly all are empty
SMALL_SHINGLES = 1 << 21  # at most this many shingles: numpy, no compilation
_GOLDEN, _STEP, _FNV_PRIME, _FNV_BASIS = 0x9E3779B1, 0x85EBCA77, 0x01000193, 0x811C9DC5


@partial(jax.jit, static_argnames=("num_docs", "bins"))
def _signatures(
    shingles: jax.Array, doc_ids: jax.Array, seed: jax.Array, num_docs: int, bins: int
) -> jax.Array:
    valid = doc_ids >= 0
    h = fmix32(shingles ^ seed)
    b = (((h >> 16) * jnp.uint32(bins)) >> 16).astype(jnp.int32)  # the bin: high bits
    segments = jnp.where(valid, doc_ids * bins + b, num_docs * bins)
    mins = jax.ops.segment_min(
        jnp.where(valid, h, jnp.uint32(EMPTY)), segments, num_segments=num_docs * bins + 1
    )[: num_docs * bins].reshape(num_docs, bins)
    # Optimal densification: bin i probes bins p(i, 0) = i, p(i, 1), ... and takes the first
    # filled one; the probe sequence is the same for every document.
    own = jnp.arange(bins, dtype=jnp.uint32)

    def probe(t: jax.Array) -> jax.Array:
        step = fmix32(own * jnp.uint32(_GOLDEN) + t * jnp.uint32(_STEP) + seed)
        return jnp.where(t == 0, own, step % jnp.uint32(bins)).astype(jnp.int32)

    def unfinished(state: tuple) -> jax.Array:
        t, _, done = state
        return (t < PROBES) & ~done.all()

    def attempt(state: tuple) -> tuple:
        t, out, done = state
        looked = mins[:, probe(t)]
        take = ~done & (looked != jnp.uint32(EMPTY))
        # The attempt joins a borrowed value, so it differs from the lender's own value.
        value = jnp.where(t == 0, looked, fmix32(looked ^ t))
        return t + jnp.uint32(1), jnp.where(take, value, out), done | take

    # A document without shingles (padding included) has nothing to borrow: done at once.
    nothing = (mins == jnp.uint32(EMPTY)).all(axis=1, keepdims=True)
    start = (jnp.uint32(0), jnp.full_like(mins, EMPTY), jnp.broadcast_to(nothing, mins.shape))
    _, out, _ = jax.lax.while_loop(unfinished, attempt, start)
    return out


def _fmix32_np(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x85EBCA6B)
    x = x ^ (x >> np.uint32(13))
    x = x * np.uint32(0xC2B2AE35)
    return x ^ (x >> np.uint32(16))


def _signatures_np(
    shingles: np.ndarray, doc_ids: np.ndarray, seed: np.uint32, num_docs: int, bins: int
) -> np.ndarray:
    """:func:`_signatures` in numpy, step for step (uint32 arithmetic wraps the same way)."""
    with np.errstate(over="ignore"):
        h = _fmix32_np(shingles ^ seed)
        b = ((h >> np.uint32(16)) * np.uint32(bins)) >> np.uint32(16)
        mins = np.full(num_docs * bins, EMPTY, np.uint32)
        np.minimum.at(mins, doc_ids.astype(np.int64) * bins + b.astype(np.int64), h)
        mins = mins.reshape(num_docs, bins)
        own = np.arange(bins, dtype=np.uint32)
        out = np.full_like(mins, EMPTY)
        done = np.broadcast_to((mins == EMPTY).all(axis=1, keepdims=True), mins.shape).copy()
        for t in range(PROBES):
            if done.all():
                break
            t32 = np.uint32(t)
            step = _fmix32_np(own * np.uint32(_GOLDEN) + t32 * np.uint32(_STEP) + seed)
            looked = mins[:, own if t == 0 else step % np.uint32(bins)]
            take = ~done & (looked != EMPTY)
            out = np.where(take, looked if t == 0 else _fmix32_np(looked ^ t32), out)
            done |= take
    return out


def minhash_signatures(
    shingles: np.ndarray,
    doc_ids: np.ndarray,
    num_docs: int,
    seeds: np.ndarray,
    jit: bool | None = None,
) -> np.ndarray:
    """uint32 signatures (``num_docs`` × ``len(seeds)`` values; ``seeds[0]`` seeds the one
    permutation, the length sets the bins); a document without shingles gets ``EMPTY``.
    ``jit``: the compiled JAX kernel (True) or numpy (False); by default JAX above
    :data:`SMALL_SHINGLES` shingles."""
    shingles = np.asarray(shingles, dtype=np.uint32)
    doc_ids = np.asarray(doc_ids, dtype=np.int32)
    if shingles.shape != doc_ids.shape:
        raise ValueError(f"shingles {shingles.shape} and doc_ids {doc_ids.shape} differ in shape")
    if not (shingles.size > SMALL_SHINGLES if jit is None else jit):
        return _signatures_np(shingles, doc_ids, np.uint32(seeds[0]), num_docs, len(seeds))
    size = bucket_size(max(shingles.size, 1))
    padded = np.zeros(size, np.uint32)
    padded[: shingles.size] = shingles
    ids = np.full(size, -1, np.int32)
    ids[: doc_ids.size] = doc_ids
    docs = bucket_size(max(num_docs, 1))
    bins = len(seeds)
    out = _signatures(jnp.asarray(padded), jnp.asarray(ids), jnp.uint32(seeds[0]), docs, bins)
    return np.asarray(out)[:num_docs]


@partial(jax.jit, static_argnames=("bands", "rows"))
def _band_keys(signatures: jax.Array, bands: int, rows: int) -> jax.Array:
    grouped = signatures[:, : bands * rows].reshape(signatures.shape[0], bands, rows)

    def combine(acc: jax.Array, value: jax.Array) -> tuple[jax.Array, None]:
        return fmix32(acc * jnp.uint32(_FNV_PRIME) ^ value), None

    start = jnp.full(
        grouped.shape[:2], jnp.uint32(_FNV_BASIS) + jnp.arange(bands, dtype=jnp.uint32)
    )
    keys, _ = jax.lax.scan(combine, start, jnp.moveaxis(grouped, 2, 0))
    return keys


def _band_keys_np(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """:func:`_band_keys` in numpy."""
    grouped = signatures[:, : bands * rows].reshape(signatures.shape[0], bands, rows)
    keys = np.broadcast_to(
        np.uint32(_FNV_BASIS) + np.arange(bands, dtype=np.uint32), grouped.shape[:2]
    )
    with np.errstate(over="ignore"):
        for r in range(rows):
            keys = _fmix32_np(keys * np.uint32(_FNV_PRIME) ^ grouped[:, :, r])
    return np.ascontiguousarray(keys)


def band_keys(signatures: np.ndarray, bands: int, rows: int, jit: bool | None = None) -> np.ndarray:
    """uint32 key per (document, band): a hash of the band's ``rows`` signature values (two
    documents share a key when their band agrees, up to 32-bit key collisions, which the exact
    Jaccard confirmation removes). The band index is mixed in, so keys of different bands differ.
    ``jit`` as in :func:`minhash_signatures`, by default JAX above :data:`SMALL_SHINGLES`
    signature values."""
    if bands < 1 or rows < 1:
        raise ValueError(f"bands and rows must be at least 1, got {bands} x {rows}")
    if signatures.shape[1] < bands * rows:
        raise ValueError(
            f"signatures have {signatures.shape[1]} values, {bands} bands x {rows} rows need "
            f"{bands * rows}"
        )
    if signatures.shape[0] == 0:
        return np.zeros((0, bands), np.uint32)
    signatures = np.asarray(signatures, dtype=np.uint32)
    if not (signatures.size > SMALL_SHINGLES if jit is None else jit):
        return _band_keys_np(signatures, bands, rows)
    docs = signatures.shape[0]
    padded = np.zeros((bucket_size(docs), signatures.shape[1]), np.uint32)
    padded[:docs] = signatures
    return np.asarray(_band_keys(jnp.asarray(padded), bands, rows))[:docs]
