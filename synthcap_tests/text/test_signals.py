"""datatrove's quality rules, each failing rule reached by a hand-made document."""

from __future__ import annotations

import pytest

from synthcap_assets.text.signals import (
    C4Quality,
    FineWebQuality,
    GopherQuality,
    GopherRepetition,
    QualityRules,
    quality_signals,
    sentence_count,
    words_of,
)

GOOD = (
    "The committee met on Tuesday to review the budget and the plans that have been "
    "prepared for the new library. Members agreed that the building should open in spring, "
    "and they asked the architects to present two designs with the costs of each option. "
    "The chair thanked the volunteers who have organised the reading programme for children. "
    "A final vote on the designs will be held at the next meeting of the council. Everyone "
    "left the hall at nine."
)


def _check(rule, text: str) -> str | None:
    return rule.check(text, words_of(text))


def test_tokens_split_like_spacy_on_the_usual_cases() -> None:
    assert words_of("I don't know, it's 3.14 km... email a.b@c.org!") == [
        "I", "do", "n't", "know", ",", "it", "'s", "3.14", "km", "...", "email", "a.b@c.org", "!",
    ]  # fmt: skip
    assert sentence_count(words_of("One here. Two there! Three?")) == 3
    assert sentence_count(words_of("No end")) == 1


def test_a_clean_paragraph_passes_every_filter() -> None:
    signals = quality_signals([GOOD, None])
    row = signals.row(0, named=True)
    assert row["gopher_quality"] is None and row["gopher_repetition"] is None
    assert row["fineweb_quality"] is None
    assert row["c4_quality"] is None  # one line of 5 sentences counts 5
    assert _check(C4Quality(), GOOD.replace(". ", ".\n")) is None
    four = GOOD.rsplit(" Everyone", 1)[0]
    assert _check(C4Quality(), four) == "too_few_sentences"
    assert signals.row(1) == (None,) * signals.width


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("too short to count", "gopher_short_doc"),
        (" ".join(["a"] * 60), "gopher_below_avg_threshold"),
        (" ".join(["extraordinarily"] * 60), "gopher_above_avg_threshold"),
        (GOOD + " #x" * 20, "gopher_too_many_hashes"),
        (GOOD + " well..." * 20, "gopher_too_many_ellipsis"),
        ("\n".join("• " + GOOD[i * 20 : i * 20 + 60] for i in range(10)),
         "gopher_too_many_bullets"),
        (" ".join(["Quick brown foxes jump over lazy dogs near river banks."] * 8),
         "gopher_enough_stop_words"),
    ],
)  # fmt: skip
def test_gopher_quality_rules(text: str, rule: str) -> None:
    assert _check(GopherQuality(), text) == rule


def test_gopher_repetition_rules() -> None:
    assert _check(GopherRepetition(), "") == "empty"
    para = "A paragraph about the budget of the town hall this year."
    assert _check(GopherRepetition(), "\n\n".join([para, para, "Other text here."])) == (
        "dup_para_frac"
    )
    lines = [f"Line number {i} says something different." for i in range(8)]
    lines += [lines[0]] * 4
    assert _check(GopherRepetition(), "\n".join(lines)) == "dup_line_frac"
    assert _check(GopherRepetition(), GOOD) is None
    assert _check(GopherRepetition(), GOOD + " the council" * 12) == "top_2_gram"
    looped = " ".join(f"word{i}" for i in range(40))
    assert _check(GopherRepetition(), f"{GOOD} {looped} {looped}") == "duplicated_5_n_grams"


def test_c4_and_fineweb_rules() -> None:
    assert _check(C4Quality(), "Lorem ipsum dolor sit amet.\n" + GOOD) == "lorem_ipsum"
    assert _check(C4Quality(min_num_sentences=1), "Some code { here } ok.\n" + GOOD) == (
        "curly_bracket"
    )
    assert _check(FineWebQuality(), "no punctuation here\nnor here\nnone") == "line_punct_ratio"
    short = "\n".join(f"Short line {i}." for i in range(10))
    assert _check(FineWebQuality(), short) == "short_line_ratio"
    dup = "\n".join([GOOD, GOOD[:200] + "."])
    assert _check(FineWebQuality(), dup + "\n" + GOOD) == "char_dup_ratio"
    assert _check(FineWebQuality(), "   \n  ") == "empty"


def test_overrides_replace_parameters_and_reject_unknown_ones() -> None:
    rules = QualityRules.from_overrides({"gopher_quality": {"min_doc_words": 2}})
    assert rules.gopher_quality.min_doc_words == 2 and rules.c4_quality == C4Quality()
    with pytest.raises(ValueError, match="unknown parameters"):
        QualityRules.from_overrides({"gopher_quality": {"min_words": 2}})
    with pytest.raises(ValueError, match="unknown filters"):
        QualityRules.from_overrides({"badwords": {}})
