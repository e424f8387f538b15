"""Exact and near-duplicate documents: normalized hashes, MinHash + LSH, exact Jaccard.

- Exact duplicates: documents whose normalized text (:func:`normalize`: Unicode NFKC,
  lowercased, punctuation removed, whitespace collapsed) has the same 64-bit BLAKE2b hash.
- Near duplicates: character ``k``-gram shingles (default 5, suited to short documents; or word
  ``k``-grams) of the normalized text, hashed to 32 bits; MinHash signatures and LSH band keys
  by the JAX kernel (:mod:`synthcap_assets.kernels.minhash`, default 14 bands × 8 rows, as
  datatrove); documents sharing a band key are candidates, kept when the exact Jaccard of their
  shingle sets reaches ``min_jaccard``. "Exact" is over the 32-bit shingle hashes, the same
  sets datasketch's MinHash would see; distinct shingles collide with probability ~2⁻³² each.
- Clusters: connected components (scipy) of exact and confirmed pairs; the representative is
  the earliest document of its cluster; every other member is a duplicate of it.
- History: each day's band keys and shingle sets are kept (``state/text_signatures``), so day
  N is checked against days 1…N−1 by joining band keys, without re-reading their text.

The shingles are hashed by numpy over all documents at once (UTF-32 code points, a polynomial
rolling hash finished by MurmurHash3's ``fmix32``); documents shorter than ``k`` characters get
one shingle, the whole text padded.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from synthcap_assets.kernels.minhash import band_keys, minhash_signatures, permutation_seeds

__all__ = [
    "DedupParams",
    "Shingles",
    "confirmed_pairs",
    "duplicates",
    "exact_keys",
    "normalize",
    "normalize_all",
    "shingle_hashes",
]

_PUNCT = re.compile(r"[^\w\s]")
_SPACE = re.compile(r"\s+")
_BASE = np.uint32(0x01000193)


@dataclass(frozen=True)
class DedupParams:
    """Shingles (``char`` or ``word`` ``k``-grams), LSH bands × rows and the Jaccard a
    candidate pair must reach to count as near-duplicate."""

    shingle: str = "char"
    k: int = 5
    bands: int = 14
    rows: int = 8
    min_jaccard: float = 0.8
    seed: int = 1


def normalize(text: str) -> str:
    """NFKC, lowercased, punctuation removed, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()


def normalize_all(texts: Sequence[str | None]) -> list[str]:
    """:func:`normalize` of every text at once (polars), ``""`` for null."""
    series = pl.Series(texts, dtype=pl.String).fill_null("")
    out = (
        series.str.normalize("NFKC")
        .str.to_lowercase()
        .str.replace_all(r"[^\w\s]", " ")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    return out.to_list()


def exact_keys(normalized: Sequence[str]) -> np.ndarray:
    """64-bit BLAKE2b of each normalized text, as int64 (Delta has no unsigned type)."""
    return np.array(
        [
            int.from_bytes(
                hashlib.blake2b(t.encode(), digest_size=8).digest(), "little", signed=True
            )
            for t in normalized
        ],
        dtype=np.int64,
    )


def _fmix32(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x85EBCA6B)
    x = x ^ (x >> np.uint32(13))
    x = x * np.uint32(0xC2B2AE35)
    return x ^ (x >> np.uint32(16))


@dataclass
class Shingles:
    """Every document's shingle hashes end to end, in document order (``hashes``,
    ``doc_ids``); a document's sorted distinct hashes (:meth:`of`) are made when first asked
    for, since only candidate pairs need them."""

    hashes: np.ndarray
    doc_ids: np.ndarray
    bounds: np.ndarray
    _sets: dict[int, np.ndarray] = field(default_factory=dict)

    def of(self, doc: int) -> np.ndarray:
        found = self._sets.get(doc)
        if found is None:
            found = np.unique(self.hashes[self.bounds[doc] : self.bounds[doc + 1]])
            self._sets[doc] = found
        return found


def _units(texts: Sequence[str], shingle: str) -> tuple[np.ndarray, np.ndarray]:
    """(code units end to end, units per document): characters, or word hashes."""
    if shingle == "char":
        joined = "".join(texts)
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        return codes, np.array([len(t) for t in texts], dtype=np.int64)
    if shingle == "word":
        words = [t.split() for t in texts]
        flat = [w for ws in words for w in ws]
        codes = np.array(
            [int.from_bytes(hashlib.blake2b(w.encode(), digest_size=4).digest(), "little")
             for w in flat],
            dtype=np.uint32,
        )  # fmt: skip
        return codes, np.array([len(ws) for ws in words], dtype=np.int64)
    raise ValueError(f"shingle must be 'char' or 'word', got {shingle!r}")


def shingle_hashes(normalized: Sequence[str], k: int = 5, shingle: str = "char") -> Shingles:
    """The hashed ``k``-gram shingles of every (normalized) document."""
    if k < 1:
        raise ValueError(f"shingle length k must be at least 1, got {k}")
    codes, lengths = _units(normalized, shingle)
    # A non-empty document shorter than k contributes one shingle: its units, zero-padded.
    short = (lengths > 0) & (lengths < k)
    if short.any():
        pieces, out_lengths, pos = [], lengths.copy(), 0
        for i, n in enumerate(lengths):
            piece = codes[pos : pos + n]
            pos += n
            if short[i]:
                piece = np.concatenate([piece, np.zeros(k - n, np.uint32)])
                out_lengths[i] = k
            pieces.append(piece)
        codes = np.concatenate(pieces) if pieces else codes
        lengths = out_lengths
    ends = np.cumsum(lengths)
    total = codes.size
    count = max(total - k + 1, 0)
    h = np.zeros(count, np.uint32)
    with np.errstate(over="ignore"):
        for j in range(k):
            h = h * _BASE + codes[j : j + count]
        h = _fmix32(h)
    doc_of = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)[:count]
    valid = np.arange(count) + k <= ends[doc_of] if count else np.zeros(0, bool)
    hashes, doc_ids = h[valid], doc_of[valid]
    bounds = np.searchsorted(doc_ids, np.arange(len(lengths) + 1))
    return Shingles(hashes=hashes, doc_ids=doc_ids, bounds=bounds)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted sets of distinct hashes (0 for two empty sets)."""
    if a.size == 0 and b.size == 0:
        return 0.0
    both = np.intersect1d(a, b, assume_unique=True).size
    return both / (a.size + b.size - both)


def signatures_and_bands(shingles: Shingles, docs: int, p: DedupParams) -> np.ndarray:
    """Band keys (documents × bands) of the MinHash signatures."""
    seeds = permutation_seeds(p.bands * p.rows, p.seed)
    sig = minhash_signatures(shingles.hashes, shingles.doc_ids, docs, seeds)
    return band_keys(sig, p.bands, p.rows)


def candidate_pairs(keys: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Distinct (i, j), i < j, of usable documents sharing a band key (pairs × 2)."""
    docs, bands = keys.shape
    frame = pl.DataFrame(
        {
            "doc": np.repeat(np.arange(docs), bands),
            "band": np.tile(np.arange(bands), docs),
            "key": keys.reshape(-1).astype(np.int64),
        }
    ).filter(pl.Series(np.repeat(usable, bands)))
    shared = frame.join(frame, on=["band", "key"], suffix="_b").filter(
        pl.col("doc") < pl.col("doc_b")
    )
    pairs = shared.select("doc", "doc_b").unique()
    return pairs.to_numpy().reshape(-1, 2)


def confirmed_pairs(
    sh: Shingles, bands: np.ndarray, usable: np.ndarray, min_jaccard: float
) -> tuple[int, list[tuple[int, int, float]]]:
    """(candidate pairs from the LSH bands, the pairs whose exact Jaccard reaches
    ``min_jaccard`` as (i, j, Jaccard))."""
    if bands.shape[0] == 0:
        return 0, []
    candidates = candidate_pairs(bands, usable)
    confirmed = []
    for i, j in candidates:
        score = jaccard(sh.of(int(i)), sh.of(int(j)))
        if score >= min_jaccard:
            confirmed.append((int(i), int(j), score))
    return len(candidates), confirmed


def duplicates(
    texts: Sequence[str | None],
    params: DedupParams | None = None,
    history: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Per-document duplicate facts and the day's signature rows.

    ``history``: earlier days' signature rows (``date``, ``doc``, ``exact_key``, ``bands``,
    ``shingles``), or None. First frame, one row per input document, in order: ``doc``,
    ``exact_key``, ``exact_duplicate`` (same normalized text as an earlier document of the
    day), ``near_duplicate`` (in a cluster, not its representative, not an exact duplicate),
    ``cluster`` (the representative's doc index), ``cluster_size``, ``max_jaccard`` (with a
    confirmed partner, null without), ``seen_before`` ("<date>#<doc>" of a matching earlier
    document, exact or near, null if none). Null or empty texts are no one's duplicate.
    Second frame: the signature rows to keep for later days.
    """
    p = params or DedupParams()
    n = len(texts)
    normalized = normalize_all(texts)
    usable = np.array([bool(t) for t in normalized], dtype=bool)
    keys64 = exact_keys(normalized)
    sh = shingle_hashes(normalized, p.k, p.shingle)
    bands = signatures_and_bands(sh, n, p) if n else np.zeros((0, p.bands), np.uint32)
    rows, cols, best = [], [], np.full(n, np.nan)
    # Exact duplicates: link each document to the first with the same key.
    first: dict[int, int] = {}
    exact_dup = np.zeros(n, bool)
    for i in range(n):
        if not usable[i]:
            continue
        j = first.setdefault(int(keys64[i]), i)
        if j != i:
            exact_dup[i] = True
            rows.append(j), cols.append(i)
            best[i] = best[j] = 1.0
    _, confirmed = confirmed_pairs(sh, bands, usable & ~exact_dup, p.min_jaccard)
    for i, j, score in confirmed:
        rows.append(i), cols.append(j)
        best[i] = score if np.isnan(best[i]) else max(best[i], score)
        best[j] = score if np.isnan(best[j]) else max(best[j], score)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False) if n else (0, np.zeros(0, int))
    representative = (
        pl.DataFrame({"label": labels, "doc": np.arange(n)})
        .group_by("label")
        .agg(pl.col("doc").min().alias("rep"), pl.len().alias("size"))
    )
    joined = pl.DataFrame({"label": labels}).join(representative, on="label", how="left")
    cluster = joined["rep"].to_numpy()
    size = joined["size"].to_numpy()
    seen = _seen_before(keys64, bands, sh, usable, history, p)
    facts = pl.DataFrame(
        {
            "doc": np.arange(n, dtype=np.int64),
            "exact_key": keys64,
            "exact_duplicate": exact_dup,
            "near_duplicate": (cluster != np.arange(n)) & ~exact_dup,
            "cluster": cluster.astype(np.int64),
            "cluster_size": size.astype(np.int64),
            "max_jaccard": pl.Series(best, dtype=pl.Float64).fill_nan(None),
            "seen_before": pl.Series(seen, dtype=pl.String),
        }
    )
    # Each document's shingle hashes as a list (a view over the flat array, no per-document
    # work); repeats stay in, a later day takes the distinct ones when it compares.
    lists = pa.LargeListArray.from_arrays(
        pa.array(sh.bounds.astype(np.int64)), pa.array(sh.hashes.astype(np.int64))
    )
    signatures = pl.DataFrame(
        {
            "doc": np.arange(n, dtype=np.int64),
            "exact_key": keys64,
            "bands": pl.Series(bands.astype(np.int64)).cast(pl.List(pl.Int64)),
            "shingles": pl.Series(lists).cast(pl.List(pl.Int64)),
        }
    ).filter(pl.Series(usable))
    return facts, signatures


def _seen_before(
    keys64: np.ndarray,
    bands: np.ndarray,
    sh: Shingles,
    usable: np.ndarray,
    history: pl.DataFrame | None,
    p: DedupParams,
) -> list[str | None]:
    """Per document, "<date>#<doc>" of an earlier day's matching document, or None."""
    n = keys64.size
    seen: list[str | None] = [None] * n
    if history is None or history.height == 0 or n == 0:
        return seen
    label = history.select(
        (pl.col("date").cast(pl.String) + "#" + pl.col("doc").cast(pl.String)).alias("label"),
        "exact_key",
        "bands",
        "shingles",
    ).with_row_index("h")
    by_key = dict(zip(label["exact_key"].to_list(), label["label"].to_list(), strict=True))
    for i in np.flatnonzero(usable):
        seen[i] = by_key.get(int(keys64[i]))
    today = pl.DataFrame(
        {
            "doc": np.repeat(np.arange(n), bands.shape[1]),
            "band": np.tile(np.arange(bands.shape[1]), n),
            "key": bands.reshape(-1).astype(np.int64),
        }
    ).filter(pl.Series(np.repeat(usable, bands.shape[1])))
    past = (
        label.select("h", "bands")
        .with_columns(pl.int_ranges(0, pl.col("bands").list.len()).alias("band"))
        .explode("bands", "band")
        .rename({"bands": "key"})
    )
    pairs = today.join(past, on=["band", "key"]).select("doc", "h").unique().sort("doc", "h")
    shingles = label["shingles"]
    for doc, h in pairs.iter_rows():
        if seen[doc] is not None:
            continue
        past_set = np.unique(np.asarray(shingles[h], dtype=np.int64).astype(np.uint32))
        if jaccard(sh.of(doc), past_set) >= p.min_jaccard:
            seen[doc] = label["label"][h]
    return seen
