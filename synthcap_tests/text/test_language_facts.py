"""Language, script, mojibake, profanity, and the text profile against independent counts."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from synthcap_assets.text.facts import document_facts, headline, merge_profiles, text_profile
from synthcap_assets.text.language import language_facts, profanity_words

SENTENCES = {
    "en": "Where is my parcel? It should have arrived three days ago and nobody answers.",
    "fr": "Où est mon colis ? Il devait arriver il y a trois jours et personne ne répond.",
    "de": "Wo ist mein Paket? Es hätte vor drei Tagen ankommen sollen und niemand antwortet.",
    "es": "¿Dónde está mi paquete? Debía llegar hace tres días y nadie responde.",
    "ru": "Где моя посылка? Она должна была прийти три дня назад, и никто не отвечает.",
}


def test_languages_scripts_and_confidences() -> None:
    facts = language_facts([*SENTENCES.values(), "12345 678", None])
    assert facts["language"].to_list()[:5] == list(SENTENCES)
    assert facts["script"].to_list()[:5] == ["Latin"] * 4 + ["Cyrillic"]
    conf = facts["language_confidence"].to_list()
    assert all(0.5 < c <= 1.0 for c in conf[:5])
    assert facts.row(5, named=True)["language"] == "und" and conf[5] == 0.0
    assert facts.row(6) == (None,) * facts.width


def test_mojibake_non_printable_and_profanity() -> None:
    text = "café".encode().decode("latin-1")  # "cafÃ©": UTF-8 read as Latin-1
    bad = next(iter(sorted(profanity_words())))
    facts = language_facts([text, "tab\tand\u200bzero width\x07bell", f"you {bad} there", "fine"])
    assert facts["mojibake"].to_list() == [True, False, False, False]
    assert facts["non_printable"].to_list() == [0, 2, 0, 0]
    assert facts["profanity"].to_list() == [False, False, True, False]


@pytest.fixture(scope="module")
def corpus() -> tuple[pl.Series, pl.DataFrame]:
    rng = np.random.default_rng(8)
    texts = []
    for i in range(120):
        lang = str(rng.choice(list(SENTENCES)))
        text = SENTENCES[lang] + f" Ref {i}." * int(rng.integers(1, 4))
        if i % 10 == 0:
            text += f" Write to client{i}@example.com please."
        if i % 15 == 0:
            text += "\nCall +44 20 7946 0958 today."
        texts.append(text)
    texts += [texts[3], texts[4].upper(), None, ""]
    series = pl.Series("body", texts)
    facts, _ = document_facts(series)
    return series, facts


def test_profile_counts_equal_independent_counts(corpus) -> None:
    series, facts = corpus
    profile = text_profile(facts, "body")
    value = {(m, k): v for m, k, v in profile.select("metric", "key", "value").iter_rows()}
    present = [t for t in series.to_list() if t is not None]
    assert value["documents", ""] == len(present) and value["null_documents", ""] == 1
    assert value["empty_documents", ""] == 1
    assert value["chars_sum", ""] == sum(len(t) for t in present)
    assert value["chars_sum_squares", ""] == sum(len(t) ** 2 for t in present)
    assert value["lines_max", ""] == max(t.count("\n") + 1 if t else 0 for t in present)
    buckets = {k: v for (m, k), v in value.items() if m == "chars_bucket"}
    assert sum(buckets.values()) == len(present)
    expected = {}
    for t in present:
        edge = 0 if not t else 1 << (len(t) - 1).bit_length()
        expected[f"<={edge}"] = expected.get(f"<={edge}", 0) + 1
    assert buckets == expected
    emails = sum("@example.com" in t for t in present)
    phones = sum("+44 20" in t for t in present)
    assert value["pii_type", "email"] == emails and value["pii_type", "phone"] == phones
    assert value["exact_duplicates", ""] == 2
    langs = {k: v for (m, k), v in value.items() if m == "language"}
    assert sum(langs.values()) == len(present) and set(SENTENCES) <= set(langs)
    h = headline(profile)
    assert h["duplicate_share"] == pytest.approx(
        (facts["exact_duplicate"].sum() + facts["near_duplicate"].sum()) / len(present)
    )


def test_profiles_merge_by_addition(corpus) -> None:
    _, facts = corpus
    a, b = facts.head(60), facts.tail(facts.height - 60)
    merged = merge_profiles([text_profile(a, "body"), text_profile(b, "body")])
    whole = text_profile(facts, "body")
    for metric in ("documents", "chars_sum", "chars_bucket", "language", "pii_type", "chars_max"):
        left = merged.filter(pl.col("metric") == metric).sort("key")
        right = whole.filter(pl.col("metric") == metric).sort("key")
        assert left.select("key", "value").equals(right.select("key", "value")), metric
        assert np.allclose(left["share"].fill_null(-1), right["share"].fill_null(-1))
