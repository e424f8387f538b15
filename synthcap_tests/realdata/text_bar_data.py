"""Real multilingual text for the text Bar (``test_text_bar.py``), with planted PII and
duplicates whose counts are known.

The text: XZ Utils' messages (help texts and diagnostics) as their human translators wrote
them, read from the gettext catalogs Debian installs under ``/usr/share/locale/<lang>/
LC_MESSAGES/xz.mo`` with the standard library's ``gettext.GNUTranslations``: the English
originals (the catalog keys) and twelve translations (Latin, Cyrillic, Han and Hangul
scripts). XZ Utils' translated messages are in the public domain
(``/usr/share/doc/xz-utils/copyright``), a license synthcap's compliance table knows; GNU
packages' catalogs (coreutils, ...) are GPL, which it does not know, so a source of them is
refused before capture. Nothing here generates text; the plants are copies of real documents
(case, spacing and punctuation changed, or one character changed) and sentences carrying one
PII literal of each type the redactor knows.

Documents are picked so that no two are alike before the plants (character 5-gram Jaccard
below 0.5 and distinct normalized text, computed here with Python sets): every duplicate the
pipeline reports must then be a planted one.
"""

from __future__ import annotations

import datetime as dt
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

LOCALE = Path("/usr/share/locale")
DOMAIN = "xz"
# Catalog folder -> the ISO 639-1 code a language identifier answers.
LANGUAGES = {
    "fr": "fr", "de": "de", "es": "es", "it": "it", "pl": "pl", "sv": "sv", "uk": "uk",
    "zh_CN": "zh", "ko": "ko", "pt_BR": "pt", "hu": "hu", "tr": "tr",
}  # fmt: skip
MIN_CHARS, MAX_CHARS = 60, 1500
LONG = 150  # distinct 5-grams of a near copy's original: one character changed keeps J >= 0.9
_PUNCT = re.compile(r"[^\w\s]")


def catalogs_present() -> bool:
    return all((LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").is_file() for lang in LANGUAGES)


def _catalog(lang: str) -> dict[str, str]:
    with open(LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as f:
        found = gettext.GNUTranslations(f)._catalog  # msgid -> msgstr, as gettext reads it
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, str)}


def _normal(text: str) -> str:
    return " ".join(_PUNCT.sub(" ", text.lower()).split())


def grams(text: str) -> set[str]:
    """Character 5-grams of the lowercased text without punctuation (the reference)."""
    t = _normal(text)
    return {t[i : i + 5] for i in range(len(t) - 4)} if len(t) >= 5 else {t}


def jaccard(a: str, b: str) -> float:
    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def real_documents(limit: int) -> list[tuple[str, str]]:
    """Up to ``limit`` (language, text) pairs: each message in English and its translations,
    no two alike (module doc)."""
    cats = {folder: _catalog(folder) for folder in LANGUAGES}
    keys = sorted(k for k in cats["de"] if MIN_CHARS <= len(k) <= MAX_CHARS)
    picked: list[tuple[str, str]] = []
    seen: list[set[str]] = []
    for key in keys:
        versions = [("en", key)]
        versions += [(code, cats[f][key]) for f, code in LANGUAGES.items() if key in cats[f]]
        for lang, text in versions:
            text = text.strip()
            g = grams(text)
            if any(len(g & h) / len(g | h) >= 0.5 for h in seen):
                continue
            picked.append((lang, text))
            seen.append(g)
            if len(picked) == limit:
                return picked
    return picked


def _iban(country: str, bban: str) -> str:
    """A valid IBAN (ISO 13616 mod-97 check digits), grouped by four."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    raw = f"{country}{98 - int(digits) % 97:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _card(prefix: str) -> str:
    """A Luhn-valid 16-digit card number starting with ``prefix``, grouped by four."""
    body = prefix.ljust(15, "0")
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    raw = body + str((10 - total % 10) % 10)
    return " ".join(raw[i : i + 4] for i in range(0, 16, 4))


def planted_pii(day_index: int) -> dict[str, str]:
    """One literal of each redactor type, different each day; the cues (honorific, "born on")
    the redactor needs are part of the sentence, not the literal."""
    k = day_index
    return {
        "email": f"margot.lindqvist{k}@example.net",
        "phone": f"+44 20 7946 09{10 + k:02d}",
        "iban": _iban("GB", f"WEST1234569876543{k}"),
        "card_number": _card(f"45320151128{k}"),
        "national_id": f"21{k}-37-4{k}19",
        "ip_address": f"203.0.113.{70 + k}",
        "person_name": ["Hargreaves", "Pemberton", "Whitcombe", "Ashdown"][k % 4],
        "address": f"{1600 + k} Pennsylvania Avenue",
        "birth_date": f"1984-03-{12 + k:02d}",
    }


# The IPv4 address ends its sentence: a following full stop once kept it from the redactor.
CUES = {"person_name": "Mr. {}", "birth_date": "born on {}", "ip_address": "served from {}"}
DEFAULT_CUE = "Contact: {} for this"


@dataclass
class PlantedDay:
    """A day's documents (language label, text) and what was planted in them."""

    day: dt.date
    rows: list[tuple[str, str]]
    pii: dict[str, str]
    exact: list[int] = field(default_factory=list)  # doc indices of within-day exact copies
    near: list[int] = field(default_factory=list)  # ... of within-day near copies
    seen_before: list[int] = field(default_factory=list)  # ... of copies of earlier days
    originals: dict[int, str] = field(default_factory=dict)  # copy index -> original text


def _one_char_changed(text: str) -> str:
    """``text`` with the middle letter of its middle third replaced (a typo)."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    i = letters[len(letters) // 2]
    return text[:i] + ("q" if text[i] != "q" else "x") + text[i + 1 :]


def _retyped(text: str) -> str:
    """Same normalized text: ASCII case swapped, spacing and punctuation changed."""
    swapped = "".join(c.swapcase() if c.isascii() else c for c in text)
    return "  " + swapped.replace(" ", "   ", 3) + " !!"


def plant_days(start: dt.date, days: int, per_day: int, plants: int = 2) -> list[PlantedDay]:
    """``days`` days of ``per_day`` real documents each, then per day: ``plants`` exact and
    ``plants`` near copies of the day's documents, from day 2 on ``plants`` verbatim and
    ``plants`` near copies of earlier days' documents, and one sentence per PII type appended
    to a document of its own."""
    pool = real_documents(days * per_day)
    if len(pool) < days * per_day:
        raise ValueError(f"only {len(pool)} distinct real documents, {days * per_day} wanted")
    out: list[PlantedDay] = []
    earlier: list[tuple[str, str]] = []  # long documents of earlier days, without PII
    for d in range(days):
        base = pool[d * per_day : (d + 1) * per_day]
        long = [i for i, (_, t) in enumerate(base) if len(grams(t)) >= LONG]
        near_src = long[:plants]
        exact_src = [i for i in range(per_day) if i not in near_src][:plants]
        free = [i for i in range(per_day) if i not in near_src and i not in exact_src]
        pii = planted_pii(d)
        pii_docs = free[: len(pii)]
        if len(near_src) < plants or len(pii_docs) < len(pii):
            raise ValueError(f"day {d}: too few documents to plant in; raise per_day")
        rows = list(base)
        for i, (kind, literal) in zip(pii_docs, pii.items(), strict=True):
            lang, text = rows[i]
            rows[i] = (lang, f"{text}\n{CUES.get(kind, DEFAULT_CUE).format(literal)}.")
        day = PlantedDay(start + dt.timedelta(days=d), rows, pii)
        for i in exact_src:
            day.exact.append(len(day.rows))
            day.rows.append((base[i][0], _retyped(base[i][1])))
        for i in near_src:
            day.near.append(len(day.rows))
            day.originals[len(day.rows)] = base[i][1]
            day.rows.append((base[i][0], _one_char_changed(base[i][1])))
        if d:
            if len(earlier) < 2 * plants:
                raise ValueError("too few long documents on earlier days; raise per_day")
            for j, (lang, text) in enumerate(earlier[-2 * plants :]):
                day.seen_before.append(len(day.rows))
                day.originals[len(day.rows)] = text
                day.rows.append((lang, text if j < plants else _one_char_changed(text)))
        earlier += [base[i] for i in long if i not in pii_docs]
        out.append(day)
    return out
