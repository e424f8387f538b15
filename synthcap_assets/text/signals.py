"""Document quality rules with datatrove's definitions (Gopher quality, Gopher repetition, C4
quality, FineWeb quality), each returning the name of the first rule a document fails.

The rules, their order, their defaults and their failure names follow datatrove 0.10
(``pipeline/filters/{gopher_quality,gopher_repetition,c4,fineweb_quality}_filter.py``) so a
document's verdict here is datatrove's. Written here rather than called because datatrove pins
trafilatura and friends that clash with ours, and because its filters tokenize every document
once per filter with spaCy; here one regular-expression tokenization serves all four.

What differs, on purpose and measured by ``synthcap bench text`` (keep/drop agreement per
rule): datatrove's English words come from spaCy's rule-based tokenizer (``spacy.blank``) and
its sentences from spaCy's sentencizer; here :data:`TOKEN` approximates that tokenizer (URLs,
emails and numbers whole, contractions split as ``do``/``n't``, punctuation apart, ``...``
one token) and a sentence ends at a ``.``, ``!`` or ``?`` token followed by a word. Left out,
as datatrove leaves them out or downloads them at run time: C4's bad-words filter and the
paragraph filter, FineWeb's language-model and URL lists.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

FILTERS = ("gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality")
STOP_WORDS = frozenset(["the", "be", "to", "of", "and", "that", "have", "with"])
# datatrove's PUNCTUATION (with its control characters) and the common terminal marks.
PUNCTUATION_SET = frozenset(
    "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»"
    + "".join(chr(x) for a, b in ((0, 9), (11, 13), (13, 32), (127, 160)) for x in range(a, b))
    + "؟۔।॥｡"
)
TERMINAL_PUNCTUATION = tuple(".?!。！？．｡؟۔।॥‼⁇⁈⁉")
SENTENCE_END = frozenset(".?!。！？．｡؟۔।")
C4_END_PUNCTUATION = (".", "?", "!", '"', "'")
CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
POLICY_SUBSTRINGS = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)
TOKEN = re.compile(
    r"https?://\S+|www\.\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\d+(?:[.,:/]\d+)+"
    r"|\w+(?=n['’]t\b)|n['’]t\b|(?<=\w)['’](?:s|re|ve|ll|d|m)\b"
    r"|\w+|\.\.\.+|…|[^\w\s]",
    re.IGNORECASE,
)
_PARAGRAPH = re.compile(r"\n{2,}")
_LINES = re.compile(r"\n+")


def words_of(text: str) -> list[str]:
    """The word tokens of ``text`` (see the module doc)."""
    return TOKEN.findall(text)


def sentence_count(tokens: Sequence[str]) -> int:
    """Sentences as spaCy's sentencizer counts them: a new one after each sentence-ending
    punctuation token that a non-punctuation token follows."""
    if not tokens:
        return 0
    count = 1
    for before, after in zip(tokens, tokens[1:], strict=False):
        if before in SENTENCE_END and not all(ch in PUNCTUATION_SET for ch in after):
            count += 1
    return count


@dataclass(frozen=True)
class GopherQuality:
    min_doc_words: int | None = 50
    max_doc_words: int | None = 100_000
    min_avg_word_length: float | None = 3
    max_avg_word_length: float | None = 10
    max_symbol_word_ratio: float | None = 0.1
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    max_non_alpha_words_ratio: float | None = 0.8
    min_stop_words: int | None = 2

    def check(self, text: str, words: list[str]) -> str | None:
        n_words = len(words)
        plain = [w for w in words if any(ch not in PUNCTUATION_SET for ch in w)]
        if self.min_doc_words and len(plain) < self.min_doc_words:
            return "gopher_short_doc"
        if self.max_doc_words and len(plain) > self.max_doc_words:
            return "gopher_long_doc"
        if not plain or not n_words:
            return "gopher_short_doc"
        mean = sum(len(w) for w in plain) / len(plain)
        if self.min_avg_word_length and mean < self.min_avg_word_length:
            return "gopher_below_avg_threshold"
        if self.max_avg_word_length and mean > self.max_avg_word_length:
            return "gopher_above_avg_threshold"
        if self.max_symbol_word_ratio and text.count("#") / n_words > self.max_symbol_word_ratio:
            return "gopher_too_many_hashes"
        ellipses = text.count("...") + text.count("…")
        if self.max_symbol_word_ratio and ellipses / n_words > self.max_symbol_word_ratio:
            return "gopher_too_many_ellipsis"
        lines = text.splitlines() or [""]
        bullets = sum(s.lstrip().startswith(("•", "-")) for s in lines)
        if self.max_bullet_lines_ratio and bullets / len(lines) > self.max_bullet_lines_ratio:
            return "gopher_too_many_bullets"
        ending = sum(s.rstrip().endswith(("...", "…")) for s in lines)
        if self.max_ellipsis_lines_ratio and ending / len(lines) > self.max_ellipsis_lines_ratio:
            return "gopher_too_many_end_ellipsis"
        alpha = sum(any(c.isalpha() for c in w) for w in words)
        if self.max_non_alpha_words_ratio and alpha / n_words < self.max_non_alpha_words_ratio:
            return "gopher_below_alpha_threshold"
        if self.min_stop_words and len(STOP_WORDS.intersection(words)) < self.min_stop_words:
            return "gopher_enough_stop_words"
        return None


def _duplicates(items: Sequence[str]) -> tuple[int, int]:
    seen: set[str] = set()
    elements = chars = 0
    for item in items:
        if item in seen:
            elements += 1
            chars += len(item)
        else:
            seen.add(item)
    return elements, chars


def _top_duplicate(words: Sequence[str], n: int) -> int:
    grams = Counter(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    gram, count = grams.most_common(1)[0]
    return len(gram) * count


def _all_duplicate(words: Sequence[str], n: int) -> int:
    seen: set[str] = set()
    repeated, idx = 0, 0
    while idx < len(words) - n + 1:
        gram = "".join(words[idx : idx + n])
        if gram in seen:
            repeated += len(gram)
            idx += n
        else:
            seen.add(gram)
            idx += 1
    return repeated


@dataclass(frozen=True)
class GopherRepetition:
    dup_line_frac: float | None = 0.3
    dup_para_frac: float | None = 0.3
    dup_line_char_frac: float | None = 0.2
    dup_para_char_frac: float | None = 0.2
    top_n_grams: tuple[tuple[int, float], ...] = ((2, 0.2), (3, 0.18), (4, 0.16))
    dup_n_grams: tuple[tuple[int, float], ...] = (
        (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10),
    )  # fmt: skip

    def check(self, text: str, words: list[str]) -> str | None:
        if not text:
            return "empty"
        paragraphs = _PARAGRAPH.split(text.strip())
        dups, chars = _duplicates(paragraphs)
        if self.dup_para_frac and dups / len(paragraphs) > self.dup_para_frac:
            return "dup_para_frac"
        if self.dup_para_char_frac and chars / len(text) > self.dup_para_char_frac:
            return "dup_para_char_frac"
        lines = _LINES.split(text)
        dups, chars = _duplicates(lines)
        if self.dup_line_frac and dups / len(lines) > self.dup_line_frac:
            return "dup_line_frac"
        if self.dup_line_char_frac and chars / len(text) > self.dup_line_char_frac:
            return "dup_line_char_frac"
        for n, frac in self.top_n_grams:
            if len(words) >= n and _top_duplicate(words, n) / len(text) > frac:
                return f"top_{n}_gram"
        for n, frac in self.dup_n_grams:
            if _all_duplicate(words, n) / len(text) > frac:
                return f"duplicated_{n}_n_grams"
        return None


@dataclass(frozen=True)
class C4Quality:
    remove_citations: bool = True
    filter_no_terminal_punct: bool = True
    min_num_sentences: int = 5
    min_words_per_line: int = 3
    max_word_length: int = 1000
    filter_lorem_ipsum: bool = True
    filter_javascript: bool = True
    filter_curly_bracket: bool = True
    filter_policy: bool = True

    def check(self, text: str, words: list[str]) -> str | None:
        sentences = 0
        for raw in text.splitlines():
            line = raw.strip()
            parts = line.split()
            if self.max_word_length != -1 and any(len(w) > self.max_word_length for w in parts):
                continue
            if self.remove_citations:
                line = CITATION.sub("", line)
            if self.filter_no_terminal_punct and (
                not line.endswith(C4_END_PUNCTUATION) or line.endswith("...")
            ):
                continue
            if len(parts) < self.min_words_per_line:
                continue
            lower = line.lower()
            if self.filter_lorem_ipsum and "lorem ipsum" in lower:
                return "lorem_ipsum"
            if self.filter_javascript and "javascript" in lower:
                continue
            if self.filter_curly_bracket and "{" in line:
                return "curly_bracket"
            if self.filter_policy and any(p in lower for p in POLICY_SUBSTRINGS):
                continue
            if self.min_num_sentences != -1:
                sentences += sentence_count(words_of(line))
        if sentences < self.min_num_sentences:
            return "too_few_sentences"
        return None


@dataclass(frozen=True)
class FineWebQuality:
    line_punct_thr: float = 0.12
    line_punct_exclude_zero: bool = False
    short_line_thr: float = 0.67
    short_line_length: int = 30
    char_duplicates_ratio: float = 0.01
    new_line_ratio: float = 0.3

    def check(self, text: str, words: list[str]) -> str | None:
        lines = [line for line in text.split("\n") if line.strip() != ""]
        if not lines:
            return "empty"
        ratio = sum(1 for line in lines if line.endswith(TERMINAL_PUNCTUATION)) / len(lines)
        if ratio < self.line_punct_thr and not (ratio == 0 and self.line_punct_exclude_zero):
            return "line_punct_ratio"
        ratio = sum(1 for line in lines if len(line) <= self.short_line_length) / len(lines)
        if ratio > self.short_line_thr:
            return "short_line_ratio"
        ratio = _duplicates(lines)[1] / max(len(text.replace("\n", "")), 1)
        if ratio > self.char_duplicates_ratio:
            return "char_dup_ratio"
        if words and text.count("\n") / len(words) > self.new_line_ratio:
            return "list_ratio"
        return None


@dataclass(frozen=True)
class QualityRules:
    """The four rule sets, each with its (catalog-overridable) parameters."""

    gopher_quality: GopherQuality = field(default_factory=GopherQuality)
    gopher_repetition: GopherRepetition = field(default_factory=GopherRepetition)
    c4_quality: C4Quality = field(default_factory=C4Quality)
    fineweb_quality: FineWebQuality = field(default_factory=FineWebQuality)

    @classmethod
    def from_overrides(cls, overrides: dict[str, dict[str, object]]) -> QualityRules:
        """Rules with the given per-filter parameters replaced (unknown names raise)."""
        made = {}
        for name in FILTERS:
            base = getattr(cls(), name)
            given = dict(overrides.get(name, {}))
            unknown = set(given) - set(base.__dataclass_fields__)
            if unknown:
                raise ValueError(f"{name}: unknown parameters {sorted(unknown)}")
            for key, value in given.items():
                if isinstance(value, list):
                    given[key] = tuple(tuple(v) if isinstance(v, list) else v for v in value)
            made[name] = type(base)(**given)
        extra = set(overrides) - set(FILTERS)
        if extra:
            raise ValueError(f"unknown filters {sorted(extra)}; known: {', '.join(FILTERS)}")
        return cls(**made)


def quality_signals(texts: Sequence[str | None], rules: QualityRules | None = None) -> pl.DataFrame:
    """Per document: ``words`` (tokens), ``lines``, ``sentences`` and, per filter, the name of
    the first rule the document fails (null when it passes; all null for null text)."""
    r = rules or QualityRules()
    out: dict[str, list] = {"words": [], "lines": [], **{name: [] for name in FILTERS}}
    for text in texts:
        if text is None:
            for values in out.values():
                values.append(None)
            continue
        words = words_of(text)
        out["words"].append(len([w for w in words if w not in string.punctuation]))
        out["lines"].append(text.count("\n") + 1 if text else 0)
        for name in FILTERS:
            out[name].append(getattr(r, name).check(text, words))
    return pl.DataFrame(
        out,
        schema={"words": pl.Int64, "lines": pl.Int64, **dict.fromkeys(FILTERS, pl.String)},
    )
