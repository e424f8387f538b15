"""The one text redactor: personal data in free text replaced by typed placeholders.

Every text path (the features' text family, a text column handled ``redact``) calls
:func:`redact_text`. It reuses the finders of :mod:`.pii_patterns`, so what the privacy report
counts is what gets replaced: each candidate span is replaced only when its validator accepts
it (Luhn for cards, mod-97 for IBANs, libphonenumber for phones, ...). Order matters, more
specific first, as in the detector: emails, IBANs, cards, SSNs, IP addresses, then phones
(so a card's digits are never read as a phone), then cued names, street addresses and birth
dates.

Placeholders: ``<EMAIL>``, ``<IBAN>``, ``<CARD>``, ``<NATIONAL_ID>``, ``<IP_ADDRESS>``,
``<PHONE>``, ``<PERSON>``, ``<ADDRESS>``, ``<BIRTH_DATE>``. Names are found by a cue (an
honorific, "my name is", "this is" before a capitalised name: the cue stays, the name goes) or
because they are ``known_names`` (e.g. the values of the same frame's person-name columns),
replaced wherever they occur as whole words. There is no NER model: a bare name with no cue
and no hint stays.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import polars as pl

from synthcap_assets.privacy.pii_patterns import (
    BIRTH_DATE_IN_TEXT,
    CARD_IN_TEXT,
    EMAIL_IN_TEXT,
    HONORIFIC_NAME,
    IBAN_IN_TEXT,
    IPV4_IN_TEXT,
    IPV6_IN_TEXT,
    PHONE_IN_TEXT,
    SSN_IN_TEXT,
    STREET_ADDRESS,
    email_valid,
    iban_valid,
    ip_valid,
    is_cued_name,
    luhn_valid,
    phone_valid,
    ssn_valid,
)

PLACEHOLDERS = {
    "email": "<EMAIL>",
    "iban": "<IBAN>",
    "card_number": "<CARD>",
    "national_id": "<NATIONAL_ID>",
    "ip_address": "<IP_ADDRESS>",
    "phone": "<PHONE>",
    "person_name": "<PERSON>",
    "address": "<ADDRESS>",
    "birth_date": "<BIRTH_DATE>",
}
MIN_KNOWN_NAME = 3  # shorter name parts ("Al", "Jo") would redact ordinary words


def _ipv6_ok(candidate: str) -> bool:
    return sum(ch.isdigit() for ch in candidate) >= 2 and ip_valid(candidate)


# (pattern, validator, placeholder), applied in this order.
_VALIDATED: tuple[tuple[re.Pattern[str], Callable[[str], bool], str], ...] = (
    (EMAIL_IN_TEXT, email_valid, PLACEHOLDERS["email"]),
    (IBAN_IN_TEXT, iban_valid, PLACEHOLDERS["iban"]),
    (CARD_IN_TEXT, luhn_valid, PLACEHOLDERS["card_number"]),
    (SSN_IN_TEXT, ssn_valid, PLACEHOLDERS["national_id"]),
    (IPV4_IN_TEXT, ip_valid, PLACEHOLDERS["ip_address"]),
    (IPV6_IN_TEXT, _ipv6_ok, PLACEHOLDERS["ip_address"]),
    (PHONE_IN_TEXT, phone_valid, PLACEHOLDERS["phone"]),
)


def _replace(match: re.Match[str], valid: Callable[[str], bool], placeholder: str) -> str:
    return placeholder if valid(match.group(0)) else match.group(0)


def _cued_name(match: re.Match[str]) -> str:
    if not is_cued_name(match):
        return match.group(0)
    return f"{match.group('cue')} {PLACEHOLDERS['person_name']}"


def _known_names_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """Whole-word alternation of the names and their parts, longest first."""
    parts: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            continue
        words = [w.strip(".,") for w in name.split()]
        parts.update(w for w in words if len(w) >= MIN_KNOWN_NAME)
        if len(words) > 1:
            parts.add(" ".join(words))
    if not parts:
        return None
    alternation = "|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)")


def redact_value(text: str, known: re.Pattern[str] | None = None) -> str:
    """``text`` with every PII span the patterns (and ``known`` names) find replaced."""
    if any(ch.isdigit() for ch in text) or "@" in text:
        for pattern, valid, placeholder in _VALIDATED:
            text = pattern.sub(lambda m, v=valid, p=placeholder: _replace(m, v, p), text)
    text = HONORIFIC_NAME.sub(_cued_name, text)
    if known is not None:
        text = known.sub(PLACEHOLDERS["person_name"], text)
    text = STREET_ADDRESS.sub(PLACEHOLDERS["address"], text)
    return BIRTH_DATE_IN_TEXT.sub(PLACEHOLDERS["birth_date"], text)


def redact_text(series: pl.Series, known_names: Iterable[str] = ()) -> pl.Series:
    """``series`` (text) with personal data replaced by typed placeholders; nulls stay null,
    the name and length of the series are kept. ``known_names`` are redacted wherever they
    occur as whole words (see the module doc)."""
    known = _known_names_pattern(known_names)
    values = series.cast(pl.String).to_list()
    redacted = [None if v is None else redact_value(v, known) for v in values]
    return pl.Series(series.name, redacted, dtype=pl.String)
