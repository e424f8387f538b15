"""Language, script, non-printable, mojibake and profanity facts of each document.

- Language: ``py3langid`` (the langid.py model, 97 languages, shipped inside the package;
  nothing is downloaded), with normalized probabilities, so the confidence is in [0, 1].
- Script: the Unicode script of most letters, from the character names (``LATIN``,
  ``CYRILLIC``, ``CJK``, ...), the way ``unicodedata`` names them.
- Non-printable: characters that are neither printable nor ordinary whitespace.
- Mojibake: ``ftfy.badness.is_bad`` (text that decoding in the wrong codec produced).
- Profanity: words of the list shipped inside ``better_profanity`` (read from the package
  file; its censor is not used, so no leetspeak variants are generated at run time).
"""

from __future__ import annotations

import importlib.resources
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import cache

import polars as pl
from ftfy.badness import is_bad
from py3langid.langid import MODEL_FILE, LanguageIdentifier

_WORD = re.compile(r"\w+")
_SPACE = frozenset("\n\r\t ")
UNKNOWN = "und"


@cache
def _identifier() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@cache
def profanity_words() -> frozenset[str]:
    """The lowercased word list shipped inside ``better_profanity``."""
    text = (
        importlib.resources.files("better_profanity")
        .joinpath("profanity_wordlist.txt")
        .read_text(encoding="utf-8")
    )
    return frozenset(w.strip().lower() for w in text.splitlines() if w.strip())


def language_of(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of ``text``; ``und``, 0.0 for text without letters."""
    if not any(ch.isalpha() for ch in text):
        return UNKNOWN, 0.0
    code, probability = _identifier().classify(text)
    return code, float(probability)


def script_of(text: str) -> str:
    """The script most letters of ``text`` belong to (``Latin``, ``Cyrillic``, ``Han``, ...),
    ``none`` without letters."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            head = name.split(" ", 1)[0] if name else "UNKNOWN"
            counts["Han" if head == "CJK" else head.title()] += 1
    return counts.most_common(1)[0][0] if counts else "none"


def non_printable(text: str) -> int:
    """Characters that are neither printable nor plain whitespace (controls, format chars)."""
    return sum(1 for ch in text if not ch.isprintable() and ch not in _SPACE)


@cache
def _profanity_split() -> tuple[frozenset[str], tuple[str, ...]]:
    """(single words, multi-word phrases padded with spaces) of the list."""
    entries = profanity_words()
    words = frozenset(e for e in entries if " " not in e)
    phrases = tuple(f" {' '.join(_WORD.findall(e))} " for e in entries if " " in e)
    return words, phrases


def has_profanity(text: str) -> bool:
    """Whether a listed word, or a listed phrase as whole words, occurs in ``text``."""
    words, phrases = _profanity_split()
    tokens = _WORD.findall(text.lower())
    if any(t in words for t in tokens):
        return True
    joined = f" {' '.join(tokens)} "
    return any(p in joined for p in phrases)


def language_facts(texts: Sequence[str | None]) -> pl.DataFrame:
    """One row per document: ``language``, ``language_confidence``, ``script``,
    ``non_printable`` (count), ``mojibake`` and ``profanity`` (booleans); nulls for null text."""
    rows = []
    for text in texts:
        if text is None:
            rows.append((None, None, None, None, None, None))
            continue
        code, probability = language_of(text)
        rows.append(
            (code, probability, script_of(text), non_printable(text), is_bad(text),
             has_profanity(text))
        )  # fmt: skip
    return pl.DataFrame(
        rows,
        schema={
            "language": pl.String,
            "language_confidence": pl.Float64,
            "script": pl.String,
            "non_printable": pl.Int64,
            "mojibake": pl.Boolean,
            "profanity": pl.Boolean,
        },
        orient="row",
    )
