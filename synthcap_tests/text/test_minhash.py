"""The MinHash kernel against a plain-Python reference; its Jaccard estimate on random sets.
Both paths run: the compiled JAX kernel (``jit=True``) and its numpy twin for small inputs."""

from __future__ import annotations

import numpy as np
import pytest

from synthcap_assets.kernels.minhash import (
    EMPTY,
    PROBES,
    band_keys,
    minhash_signatures,
    permutation_seeds,
)

MASK = 0xFFFFFFFF


def _fmix32(x: int) -> int:
    """MurmurHash3's finalizer in plain Python integers (the reference)."""
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & 0xFFFFFFFF
    return x ^ (x >> 16)


def _reference(shingles: list[int], seed: int, bins: int) -> list[int]:
    """One-permutation MinHash with optimal densification, in plain Python integers."""
    mins = [int(EMPTY)] * bins
    for x in shingles:
        h = _fmix32(x ^ seed)
        b = ((h >> 16) * bins) >> 16
        mins[b] = min(mins[b], h)
    out = []
    for i in range(bins):
        value = int(EMPTY)
        for t in range(PROBES):
            j = i if t == 0 else _fmix32((i * 0x9E3779B1 + t * 0x85EBCA77 + seed) & MASK) % bins
            if mins[j] != int(EMPTY):
                value = mins[j] if t == 0 else _fmix32(mins[j] ^ t)
                break
        out.append(value)
    return out


BOTH = pytest.mark.parametrize("jit", [True, False], ids=["jax", "numpy"])


@BOTH
def test_signatures_equal_a_plain_python_reference(jit: bool) -> None:
    rng = np.random.default_rng(3)
    docs, bins = 40, 16
    sizes = rng.integers(0, 30, size=docs)
    sizes[5] = 0  # a document without shingles
    sizes[6] = 1  # one shingle: every bin borrows it
    doc_ids = np.repeat(np.arange(docs), sizes)
    shingles = rng.integers(0, 2**32, size=doc_ids.size, dtype=np.uint64).astype(np.uint32)
    order = rng.permutation(doc_ids.size)  # the kernel must not need documents contiguous
    seeds = permutation_seeds(bins, seed=7)
    got = minhash_signatures(shingles[order], doc_ids[order], docs, seeds, jit=jit)
    assert got.shape == (docs, bins) and got.dtype == np.uint32
    for d in range(docs):
        mine = [int(s) for s in shingles[doc_ids == d]]
        assert got[d].tolist() == _reference(mine, int(seeds[0]), bins), d
    assert (got[5] == EMPTY).all() and (got[6] != EMPTY).all()


def test_signature_agreement_estimates_jaccard() -> None:
    # Pairs of random sets with Jaccard 0.2 ... 0.9: the share of equal signature values
    # over 256 permutations is within 4 standard errors of the true Jaccard.
    rng = np.random.default_rng(11)
    seeds = permutation_seeds(256, seed=2)
    for target in (0.2, 0.5, 0.8, 0.9):
        shared = int(200 * target)
        union = rng.choice(2**32 - 1, size=400 - shared, replace=False).astype(np.uint32)
        a = union[:200]
        b = np.concatenate([union[:shared], union[200:]])
        jac = shared / (400 - shared)
        sig = minhash_signatures(
            np.concatenate([a, b]), np.repeat([0, 1], [a.size, b.size]), 2, seeds
        )
        agreement = float((sig[0] == sig[1]).mean())
        assert abs(agreement - jac) < 4 * np.sqrt(jac * (1 - jac) / 256) + 1e-9, (target, agreement)


@BOTH
def test_band_keys_match_exactly_when_a_band_agrees(jit: bool) -> None:
    rng = np.random.default_rng(5)
    sig = rng.integers(0, 2**32, size=(3, 14 * 8), dtype=np.uint64).astype(np.uint32)
    sig[1] = sig[0]
    sig[1, 8:16] += np.uint32(1)  # band 1 differs, every other band agrees
    keys = band_keys(sig, 14, 8, jit=jit)
    assert keys.shape == (3, 14)
    agree = keys[0] == keys[1]
    assert not agree[1] and agree[[0, *range(2, 14)]].all()
    assert not (keys[0] == keys[2]).any()
    assert len(set(keys[0].tolist())) == 14  # the band index is mixed into the key


def test_the_numpy_path_gives_the_kernels_bits() -> None:
    rng = np.random.default_rng(8)
    docs = 300
    doc_ids = np.repeat(np.arange(docs), rng.integers(0, 120, size=docs))
    shingles = rng.integers(0, 2**32, size=doc_ids.size, dtype=np.uint64).astype(np.uint32)
    seeds = permutation_seeds(14 * 8)
    jax_sig = minhash_signatures(shingles, doc_ids, docs, seeds, jit=True)
    np_sig = minhash_signatures(shingles, doc_ids, docs, seeds, jit=False)
    np.testing.assert_array_equal(jax_sig, np_sig)
    np.testing.assert_array_equal(band_keys(jax_sig, 14, 8, jit=True), band_keys(np_sig, 14, 8))
