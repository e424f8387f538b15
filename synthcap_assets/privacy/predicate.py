"""Erasure predicates: a closed grammar, so user input never reaches a SQL engine as text.

Grammar (keywords case-insensitive)::

    predicate := clause ("and" clause)*
    clause    := column op literal | column "in" "(" literal ("," literal)* ")"
    op        := "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
    literal   := 'string' | number | #token

Columns must be the table's own. A parsed predicate renders as Delta (DataFusion) SQL rebuilt
from its tokens (identifiers double-quoted, strings re-escaped), as a polars expression, and as
canonical text; ``tokenized`` swaps its ``=`` / ``in`` literals for keyed tokens
(:mod:`.tokens`), which is how the erasure list stores it (``#token`` literals match values by
their token).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from synthcap_assets.privacy.tokens import token, tokenize

_TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<number>[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<op>==|!=|<=|>=|=|<|>)|(?P<punct>[(),])|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<token>#[a-z2-7]{52}))"
)
_OPS = {"=": "=", "==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class ErasureError(ValueError):
    """The erasure request is invalid or could not be carried out; the message says why."""


@dataclass(frozen=True)
class Token:
    """A keyed token standing for a literal (see :mod:`.tokens`); written ``#<token>``."""

    text: str


Literal = str | int | float | Token


@dataclass(frozen=True)
class Clause:
    column: str
    op: str  # one of _OPS' values, or "in"
    values: tuple[Literal, ...]


@dataclass(frozen=True)
class Predicate:
    """A parsed erasure predicate: clauses joined by AND."""

    clauses: tuple[Clause, ...]

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(c.column for c in self.clauses))

    def text(self) -> str:
        """The canonical text (what the audit table stores and capture re-parses)."""
        return " and ".join(_clause_text(c, quote_names=False) for c in self.clauses)

    def sql(self) -> str:
        """A Delta (DataFusion) SQL predicate built from the parsed tokens only."""
        if any(isinstance(v, Token) for c in self.clauses for v in c.values):
            raise ErasureError("a tokenized predicate matches by token only, not in SQL")
        return " AND ".join(_clause_text(c, quote_names=True) for c in self.clauses)

    def tokenized(self, key: bytes) -> Predicate:
        """This predicate with every ``=`` / ``in`` literal replaced by its keyed token: what
        the erasure list stores, so that it never holds the erased person's values."""
        clauses = [
            Clause(c.column, c.op, tuple(Token(token(str(v), key)) for v in c.values))
            if c.op in ("=", "in")
            else c
            for c in self.clauses
        ]
        return Predicate(tuple(clauses))

    def expr(self, key: bytes | None = None) -> pl.Expr:
        """The polars expression: True for rows to erase (a null never matches). Tokens are
        compared with the column's values tokenized under ``key``."""
        parts = []
        for c in self.clauses:
            col = pl.col(c.column)
            if any(isinstance(v, Token) for v in c.values):
                if key is None:
                    raise ErasureError("matching a tokenized predicate needs the token key")
                hexes = [v.text for v in c.values if isinstance(v, Token)]
                tokens = col.map_batches(lambda s: tokenize(s, key), return_dtype=pl.String)
                parts.append(tokens.is_in(hexes))
            elif c.op == "in":
                parts.append(col.is_in(list(c.values)))
            else:
                value = c.values[0]
                parts.append(
                    {
                        "=": col == value,
                        "!=": col != value,
                        "<": col < value,
                        "<=": col <= value,
                        ">": col > value,
                        ">=": col >= value,
                    }[c.op]
                )
        return pl.all_horizontal(parts).fill_null(False)


def _literal(value: Literal) -> str:
    if isinstance(value, Token):
        return f"#{value.text}"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _clause_text(c: Clause, quote_names: bool) -> str:
    name = f'"{c.column}"' if quote_names else c.column
    if c.op == "in":
        return f"{name} in ({', '.join(_literal(v) for v in c.values)})"
    return f"{name} {c.op} {_literal(c.values[0])}"


def _tokens(text: str) -> list[tuple[str, str]]:
    out, at = [], 0
    text = text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            raise ErasureError(f"cannot read the predicate at {text[at : at + 20]!r}")
        kind = match.lastgroup
        out.append((kind, match.group(kind)))
        at = match.end()
    return out


def _value(kind: str, text: str) -> Literal:
    if kind == "token":
        return Token(text[1:])
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind == "number":
        return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)
    raise ErasureError(f"expected a literal ('text' or a number), got {text!r}")


def parse_predicate(text: str, columns: Sequence[str]) -> Predicate:
    """Parse ``text`` over ``columns``; raise :class:`ErasureError` on anything else."""
    tokens = _tokens(text)
    if not tokens:
        raise ErasureError("the predicate is empty: say which rows to erase")
    known, clauses, i = set(columns), [], 0

    def take() -> tuple[str, str]:
        nonlocal i
        if i >= len(tokens):
            raise ErasureError(f"the predicate {text!r} ends too early")
        i += 1
        return tokens[i - 1]

    while True:
        kind, name = take()
        if kind != "name" or name.lower() in ("and", "in"):
            raise ErasureError(f"expected a column name, got {name!r}")
        if name not in known:
            raise ErasureError(
                f"unknown column {name!r}; the table has: {', '.join(sorted(known))}"
            )
        kind, op = take()
        if kind == "op":
            clauses.append(Clause(name, _OPS[op], (_value(*take()),)))
        elif kind == "name" and op.lower() == "in":
            if take() != ("punct", "("):
                raise ErasureError("expected '(' after 'in'")
            values = [_value(*take())]
            while (sep := take()) == ("punct", ","):
                values.append(_value(*take()))
            if sep != ("punct", ")"):
                raise ErasureError("expected ',' or ')' in the 'in' list")
            clauses.append(Clause(name, "in", tuple(values)))
        else:
            raise ErasureError(f"expected an operator or 'in' after {name!r}, got {op!r}")
        if i == len(tokens):
            return Predicate(tuple(clauses))
        kind, word = take()
        if kind != "name" or word.lower() != "and":
            raise ErasureError(f"expected 'and' between conditions, got {word!r} (no 'or')")
