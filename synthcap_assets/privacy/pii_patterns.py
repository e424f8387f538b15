"""Value-level PII recognisers: regular expressions plus checksum and shape validators.

Each recogniser answers "is this whole value an X?" (``VALUE_MATCHERS``) or "does this text
contain an X somewhere?" (``TEXT_FINDERS``). Regexes alone give many false positives, so every
recogniser that can be validated is: card numbers by the Luhn checksum, IBANs by ISO 13616
mod-97, IP addresses by the standard library's ``ipaddress`` parser.

Phone numbers pass two gates: a shape check of our own (7-15 digits, the E.164 limit, once
``+ ( ) - .`` and spaces are stripped, an optional extension; no dates, IPv4 addresses or
decimals), then Google's libphonenumber rules (the ``phonenumbers`` package): the number must
parse, international ones (``+`` or ``00``) by their country code, national ones as US
numbers, and have a
possible length for its country. Whether a number is actually assigned is not checked
(synthetic test data uses unassigned ranges on purpose).

Person names and street addresses have no reliable whole-value pattern, so ``name_suggests``
reads them (and zip codes and birth dates, which are then value-checked) off the column name.
Inside free text they are found by context: an honorific or "my name is" before a capitalised
name, a house number before a street name and a street suffix, a birth keyword before a date.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

import phonenumbers

_EMAIL = (
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
)
EMAIL_RE = re.compile(rf"^{_EMAIL}$")
EMAIL_IN_TEXT = re.compile(rf"(?<![\w.%+-]){_EMAIL}")

# Area 000, 666 and 900-999 are never issued, nor group 00 or serial 0000.
_SSN = r"(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}"
SSN_RE = re.compile(rf"^{_SSN}$")
SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
SSN_IN_TEXT = re.compile(rf"(?<![\d-]){_SSN}(?![\d-])")

_CARD = r"\d(?:[ -]?\d){12,18}"
CARD_RE = re.compile(rf"^{_CARD}$")
CARD_IN_TEXT = re.compile(rf"(?<![\dA-Za-z-]){_CARD}(?![\dA-Za-z-])")

_IBAN = r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}"
IBAN_RE = re.compile(rf"^{_IBAN}$")
IBAN_IN_TEXT = re.compile(rf"(?<![A-Za-z0-9]){_IBAN}(?![A-Za-z0-9])")

_PHONE_EXTENSION = re.compile(r"\s*(?:x|ext\.?|#)\s*\d{1,6}$", re.IGNORECASE)
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")
PHONE_IN_TEXT = re.compile(
    r"(?<![\w.-])\+?\(?\d(?:[\d().-]|[ ](?=[\d(]))*\d(?:\s*(?:x|ext\.?)\s*\d{1,6})?(?![\w-])",
    re.IGNORECASE,
)
_ISO_DATE_START = re.compile(r"^\d{4}-\d{2}-\d{2}")
_CLOCK_TIME = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")

IPV4_IN_TEXT = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
IPV6_IN_TEXT = re.compile(
    r"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Fa-f:])"
)

ZIP_RE = re.compile(r"^\d{5}(?:-\d{4})?$")


def luhn_valid(s: str) -> bool:
    """True when ``s`` is 13-19 digits (spaces/dashes allowed) passing the Luhn checksum."""
    if not isinstance(s, str) or not CARD_RE.match(s.strip()):
        return False
    digits = [int(ch) for ch in s if ch.isdigit()]
    total = 0
    # Double every second digit from the right (the check digit is not doubled).
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def iban_valid(s: str) -> bool:
    """True when ``s`` is an IBAN whose ISO 13616 mod-97 check digits are right."""
    if not isinstance(s, str):
        return False
    compact = s.replace(" ", "").upper()
    if not IBAN_RE.match(compact) or not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    # Letters become two-digit numbers A=10 .. Z=35.
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def email_valid(s: str) -> bool:
    return EMAIL_RE.match(s.strip()) is not None


def ssn_valid(s: str) -> bool:
    return SSN_RE.match(s.strip()) is not None


def ip_valid(s: str) -> bool:
    text = s.strip()
    if not text or _CLOCK_TIME.match(text):
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def phone_valid(s: str) -> bool:
    """True when ``s`` has a phone-like shape with 7-15 digits (see the module docstring)."""
    text = _PHONE_EXTENSION.sub("", s.strip())
    if not _PHONE_CHARS.match(text) or "+" in text[1:] or _ISO_DATE_START.match(text):
        return False
    if SSN_SHAPE.match(text):
        return False
    digits = sum(ch.isdigit() for ch in text)
    if not 7 <= digits <= 15:
        return False
    if text.count("(") > 1 or text.count("(") != text.count(")"):
        return False
    if "(" in text and not re.search(r"\(\d{1,5}\)", text):
        return False
    separators = {ch for ch in text if not ch.isdigit()}
    if not separators and digits < 10:
        return False  # a bare run of digits is only phone-like at full national length
    # One dot is a decimal; four groups of <= 3 digits is an IPv4 address.
    if separators == {"."} and (text.count(".") < 2 or ip_valid(text)):
        return False
    return _libphonenumber_possible(text)


def _libphonenumber_possible(text: str) -> bool:
    """libphonenumber's verdict: parses (international by country code, else as a US number)
    and has a possible length for its country."""
    if text.startswith("00"):
        text = "+" + text[2:]  # 00 is the international call prefix in most countries
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else "US")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_possible_number(number)


_STREET_WORD = re.compile(
    r"\b(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|court|ct|way|place|pl|"
    r"terrace|parkway|pkwy|square|sq|highway|hwy|streets|avenues|roads|rue|calle|via|"
    r"straße|strasse|str|allee|weg|gasse|platz|vej|gata|gate|vei)\b\.?"
    r"|[^\W\d_](?:straße|strasse|allee|weg|gasse|platz|vej|gata|gate|vei)\b",
    re.IGNORECASE,
)
_HOUSE_NUMBER = re.compile(r"^\s*\d{1,6}[A-Za-z]?\s+[^\W\d_]")


def address_valid(s: str) -> bool:
    """A street address: a house number before a word, a street word (St, Ave, Straße ...),
    or several parts (lines or commas) of which one holds a number ("Storgatan 64\n35938 X")."""
    if _HOUSE_NUMBER.match(s) is not None or _STREET_WORD.search(s) is not None:
        return True
    parts = [p for p in re.split(r"[\n,]", s) if p.strip()]
    return len(parts) >= 2 and any(ch.isdigit() for ch in s)


def zip_valid(s: str) -> bool:
    return ZIP_RE.match(s.strip()) is not None


# Whole-value recognisers, in priority order: when two types match equally often, the
# earlier, more specific (checksummed) type wins.
VALUE_MATCHERS: dict[str, Callable[[str], bool]] = {
    "card_number": luhn_valid,
    "iban": iban_valid,
    "national_id": ssn_valid,
    "ip_address": ip_valid,
    "email": email_valid,
    "phone": phone_valid,
}


def _finds(pattern: re.Pattern[str], validator: Callable[[str], bool]) -> Callable[[str], bool]:
    def find(text: str) -> bool:
        return any(validator(m.group(0)) for m in pattern.finditer(text))

    return find


def _ipv6_candidate_valid(candidate: str) -> bool:
    # A bare "::" or "a::b" inside prose is punctuation far more often than an address.
    return sum(ch.isdigit() for ch in candidate) >= 2 and ip_valid(candidate)


_find_ipv4 = _finds(IPV4_IN_TEXT, ip_valid)
_find_ipv6 = _finds(IPV6_IN_TEXT, _ipv6_candidate_valid)


def _finds_ip(text: str) -> bool:
    return _find_ipv4(text) or _find_ipv6(text)


# Digit runs that are already something more specific; a phone search must not see them.
_NOT_PHONES = (
    (IBAN_IN_TEXT, iban_valid),
    (CARD_IN_TEXT, luhn_valid),
    (SSN_IN_TEXT, ssn_valid),
    (EMAIL_IN_TEXT, email_valid),
    (IPV4_IN_TEXT, ip_valid),
)


def _finds_phone(text: str) -> bool:
    for pattern, validator in _NOT_PHONES:
        text = pattern.sub(lambda m, ok=validator: " " if ok(m.group(0)) else m.group(0), text)
    return any(phone_valid(m.group(0)) for m in PHONE_IN_TEXT.finditer(text))


# A capitalised name word ending in lowercase: "Tom", "DeAndre", "O'Brien", "José".
_NAME_WORD = r"[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ÿ'’]*[a-zß-öø-ÿ]"
HONORIFIC_NAME = re.compile(
    r"\b(?P<cue>(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof)\.?|[Mm]y name is|[Tt]his is)\s+"
    rf"(?P<name>{_NAME_WORD}(?:[ -]{_NAME_WORD})?)(?![\w'’])"
)
STREET_ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[A-Z][A-Za-z]+\s+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|"
    r"Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Parkway|Pkwy|Square|Sq)\b"
)
BIRTH_DATE_IN_TEXT = re.compile(
    r"\b(?:born|dob|d\.o\.b\.|date of birth|birthday)\b[\s:,-]*(?:on\s+|is\s+)?"
    r"(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}"
    r"|[A-Z][a-z]+ \d{1,2},? \d{4}|\d{1,2} [A-Z][a-z]+ \d{4})",
    re.IGNORECASE,
)
# "This is" only names someone when a capitalised word follows that is not a common word.
_NOT_NAMES = frozenset({"The", "This", "That", "It", "My", "Your", "Our", "A", "An", "Not"})


def is_cued_name(match: re.Match[str]) -> bool:
    """Whether an :data:`HONORIFIC_NAME` match names someone (not "This is The ...")."""
    return match.group("name").split()[0].split("-")[0] not in _NOT_NAMES


def _finds_name(text: str) -> bool:
    return any(is_cued_name(match) for match in HONORIFIC_NAME.finditer(text))


def _finds_card(text: str) -> bool:
    """A Luhn-valid digit run that is not part of a valid IBAN (whose digits pass 1 in 10)."""
    text = IBAN_IN_TEXT.sub(lambda m: " " if iban_valid(m.group(0)) else m.group(0), text)
    return any(luhn_valid(m.group(0)) for m in CARD_IN_TEXT.finditer(text))


# Recognisers for PII embedded anywhere inside free text.
TEXT_FINDERS: dict[str, Callable[[str], bool]] = {
    "email": lambda text: "@" in text and _finds(EMAIL_IN_TEXT, email_valid)(text),
    "phone": _finds_phone,
    "card_number": _finds_card,
    "national_id": _finds(SSN_IN_TEXT, ssn_valid),
    "ip_address": _finds_ip,
    "iban": _finds(IBAN_IN_TEXT, iban_valid),
    "person_name": _finds_name,
    "address": lambda text: STREET_ADDRESS.search(text) is not None,
    "birth_date": lambda text: BIRTH_DATE_IN_TEXT.search(text) is not None,
}


# Column-name heuristics, for what value patterns cannot recognise reliably.
_PERSON_NAMES = frozenset(
    [
        "name",
        "first_name",
        "last_name",
        "full_name",
        "firstname",
        "lastname",
        "fullname",
        "surname",
        "given_name",
        "family_name",
        "middle_name",
        "maiden_name",
        "person_name",
        "customer_name",
        "contact_name",
    ]
)
# "ip_address", "email_address" etc. are found by their values, not as street addresses.
_NOT_STREET = frozenset({"ip", "email", "mail", "mac", "wallet", "web", "url", "ipv4", "ipv6"})
# "birth_place", "birth_weight" ... are about a birth but are not a date of birth.
_NOT_BIRTH_DATE = frozenset({"place", "city", "country", "weight", "order", "rank", "name"})


def column_tokens(column: str) -> list[str]:
    """Lowercase word tokens of a column name: "PickupZone" -> ["pickup", "zone"]."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", column)
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


def name_suggests(column: str) -> str | None:
    """The PII type a column name alone suggests (names, addresses, zip codes, birth dates)."""
    tokens = column_tokens(column)
    joined = "_".join(tokens)
    births = any("birth" in t for t in tokens) or "dob" in tokens or "born" in tokens
    if births and not _NOT_BIRTH_DATE & set(tokens):
        return "birth_date"
    if any(t.startswith(("zip", "postcode", "postal")) for t in tokens):
        return "zip_code"
    if "street" in tokens or ("address" in tokens and not _NOT_STREET & set(tokens)):
        return "address"
    if joined in _PERSON_NAMES:
        return "person_name"
    return None
