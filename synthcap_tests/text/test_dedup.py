"""Exact and near duplicates: hashed shingles vs Python sets, planted pairs, history."""

from __future__ import annotations

import numpy as np
import polars as pl

from synthcap_assets.text.dedup import (
    DedupParams,
    duplicates,
    jaccard,
    normalize,
    shingle_hashes,
)

WORDS = [
    *("order", "parcel", "refund", "delivery", "account", "invoice", "lamp", "jacket"),
    *("heater", "grinder", "warranty", "address", "payment", "tracking", "week", "month"),
    *("customer", "service", "problem", "answer", "return", "label"),
]


def _doc(rng: np.random.Generator, n: int = 40) -> str:
    return " ".join(rng.choice(WORDS, size=n))


def _grams(text: str, k: int = 5) -> set[str]:
    t = normalize(text)
    return {t[i : i + k] for i in range(len(t) - k + 1)} if len(t) >= k else {t}


def _edit(text: str, rng: np.random.Generator, changes: int) -> str:
    words = text.split()
    for i in rng.choice(len(words), size=changes, replace=False):
        words[i] = "zebra"
    return " ".join(words)


def test_hashed_shingle_jaccard_equals_python_sets() -> None:
    rng = np.random.default_rng(1)
    texts = [_doc(rng, int(rng.integers(1, 30))) for _ in range(30)] + ["abc", "é"]
    sh = shingle_hashes([normalize(t) for t in texts])
    for i in range(len(texts)):
        assert sh.of(i).size == len(_grams(texts[i]))
    for i, j in rng.integers(0, len(texts), size=(60, 2)):
        a, b = _grams(texts[i]), _grams(texts[j])
        assert jaccard(sh.of(i), sh.of(j)) == len(a & b) / len(a | b)


def test_planted_duplicates_are_found_and_confirmed() -> None:
    rng = np.random.default_rng(2)
    texts = [_doc(rng) for _ in range(300)]
    exact = {300 + k: int(i) for k, i in enumerate(rng.choice(300, 10, replace=False))}
    texts += [texts[i].upper().replace(" ", "  ") + "!" for i in exact.values()]
    near = {310 + k: int(i) for k, i in enumerate(rng.choice(300, 10, replace=False))}
    texts += [_edit(texts[i], rng, 1) for i in near.values()]
    facts, signatures = duplicates(texts, DedupParams(min_jaccard=0.8))
    assert facts.height == 320 and signatures.height == 320
    for dup, original in exact.items():
        row = facts.row(dup, named=True)
        assert row["exact_duplicate"] and row["cluster"] <= original
    for dup, original in near.items():
        true = len(_grams(texts[dup]) & _grams(texts[original])) / len(
            _grams(texts[dup]) | _grams(texts[original])
        )
        row = facts.row(dup, named=True)
        if true >= 0.9:  # recall on planted pairs of Jaccard >= 0.9
            assert row["near_duplicate"] and row["cluster"] == facts["cluster"][original]
    # Precision: every near duplicate really is >= 0.8 from some member of its cluster.
    for row in facts.filter(pl.col("near_duplicate")).iter_rows(named=True):
        members = facts.filter(pl.col("cluster") == row["cluster"])["doc"].to_list()
        best = max(
            len(_grams(texts[row["doc"]]) & _grams(texts[m]))
            / len(_grams(texts[row["doc"]]) | _grams(texts[m]))
            for m in members
            if m != row["doc"]
        )
        assert best >= 0.8
    # Representatives are the earliest member of their cluster.
    firsts = facts.group_by("cluster").agg(pl.col("doc").min())
    assert (firsts["cluster"] == firsts["doc"]).all()


def test_history_finds_yesterdays_documents_without_their_text() -> None:
    rng = np.random.default_rng(4)
    yesterday = [_doc(rng) for _ in range(50)]
    _, kept = duplicates(yesterday)
    history = kept.with_columns(pl.lit("2026-11-16").str.to_date().alias("date"))
    today = [_doc(rng) for _ in range(20)] + [yesterday[7], _edit(yesterday[9], rng, 1)]
    facts, _ = duplicates(today, history=history)
    seen = facts["seen_before"].to_list()
    assert seen[20] == "2026-11-16#7" and seen[21] == "2026-11-16#9"
    assert all(s is None for s in seen[:20])


def test_empty_and_null_texts_are_nobodys_duplicate() -> None:
    facts, signatures = duplicates([None, "", "  ", "hello there", None])
    assert not facts["exact_duplicate"].any() and not facts["near_duplicate"].any()
    assert signatures.height == 1
