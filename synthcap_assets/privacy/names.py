"""Do a column's values look like people's names? The value check behind ``person_name``.

A column name such as ``name`` or ``last_name`` only suggests person names; the values decide.
A value looks like a person's name when it is name-shaped (1-4 words of letters, with ``.``
``'`` ``-`` and one comma allowed, no digits) and either starts with an honorific (Mr, Mrs, Ms,
Mx, Miss, Dr, Prof) or its words hit the first- and last-name lists of every locale Faker
ships (``faker.providers.person.*``: about 30,000 first names, read once per process):

- first-name columns (``first``, ``given``, ``middle``, ``forename`` in the column name): the
  first word is a first name;
- last-name columns (``last``, ``surname``, ``family``, ``maiden``): some word is a last name;
- full names: the first word is a first name ("Ana Lima"), or the word after a comma is
  ("Lima, Ana"), or a last name is followed by a first name (family-name-first order).

The column holds person names when at least :data:`NAME_SHARE` of its non-null values do. Car
models ("chevrolet chevelle malibu": about 10% hit), airport names (about 30%) and codes
("n1"..."n200": none) stay below it. Names in scripts written without spaces between given and
family name (Chinese, for one) are not recognised by value: declare such a column in the
catalog's ``pii:`` (a hint always counts).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import re
from collections.abc import Sequence

NAME_SHARE = 0.5
_HONORIFIC = re.compile(r"^(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof)\.?\s", re.IGNORECASE)
_NAME_CHARS = re.compile(r"^[^\W\d_][^\W\d_\s.'’,-]*(?:[\s.'’,-]+[^\W\d_][^\W\d_\s.'’,-]*)*\.?$")
_WORD = re.compile(r"[^\W\d_]+")
_FIRST_PARTS = frozenset({"first", "given", "middle", "forename", "firstname", "givenname"})
_LAST_PARTS = frozenset({"last", "surname", "family", "maiden", "lastname", "familyname"})


@functools.cache
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, last names), lowercased, from every locale's Faker person provider."""
    import faker.providers.person as person  # noqa: PLC0415 (only needed on first use)

    first: set[str] = set()
    last: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"{person.__name__}.{module.name}").Provider
        for attribute, into in (
            ("first_names", first),
            ("first_names_male", first),
            ("first_names_female", first),
            ("first_names_nonbinary", first),
            ("last_names", last),
        ):
            names = provider.__dict__.get(attribute)
            if isinstance(names, list | tuple | set | dict):
                into.update(str(n).lower() for n in names)
    return frozenset(first), frozenset(last)


def name_part(column: str) -> str:
    """Which part of a name a column holds, by its name: "first", "last" or "full"."""
    tokens = set(re.split(r"[^a-z]+", re.sub(r"(?<=[a-z])(?=[A-Z])", "_", column).lower()))
    if tokens & _FIRST_PARTS:
        return "first"
    if tokens & _LAST_PARTS:
        return "last"
    return "full"


def looks_like_name(value: str, part: str = "full") -> bool:
    """True when ``value`` looks like a person's name (or ``part`` of one), see the module doc."""
    text = value.strip()
    if not text or not _NAME_CHARS.match(text) or len(text.replace(",", " ").split()) > 4:
        return False
    if _HONORIFIC.match(text):
        return True
    first, last = name_lists()
    words = [w.lower() for w in _WORD.findall(text)]
    if part == "first":
        return words[0] in first
    if part == "last":
        return any(w in last for w in words)
    if "," in text:
        after = _WORD.findall(text.split(",", 1)[1])
        return bool(after) and after[0].lower() in first
    return words[0] in first or (len(words) >= 2 and words[0] in last and words[1] in first)


def person_name_share(values: Sequence[str], column: str) -> float | None:
    """Share of ``values`` that look like person names of the part ``column`` suggests."""
    if not values:
        return None
    part = name_part(column)
    return sum(1 for v in values if looks_like_name(v, part)) / len(values)
