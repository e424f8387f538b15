"""Consistency rules: a tiny declarative rule language parsed into polars expressions.

Catalog specs list rules such as ``high >= low``, ``qty between 0 and 1000``,
``status in ('open', 'closed')`` or ``id not null``. Rules come from configuration, so they
are parsed by a small hand-written tokenizer and recursive-descent parser into ``pl.Expr``
objects instead of being handed to ``eval`` or a SQL engine: only the grammar below can be
expressed, and every mistake is reported with the rule text and what was expected.

Grammar (keywords are case-insensitive)::

    rule    := column op operand
             | column "between" bound "and" bound
             | column "in" "(" literal ("," literal)* ")"
             | column ["is"] "not" "null"
    op      := ">=" | "<=" | ">" | "<" | "==" | "!="
    operand := column | number | 'string'
    bound   := column | number
    column  := identifier | "quoted name"

A rule's expression is True for rows that pass. Rows where any involved column is null pass
(missing values are the completeness dimension's business) except for ``not null`` rules,
whose whole point is to fail on nulls. Only true nulls count: callers that treat NaN or blank
strings as missing null them first (the quality report does).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

COMPARISONS = (">=", "<=", ">", "<", "==", "!=")
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^']|'')*')
  | (?P<qname>"(?:[^"]|"")+")
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op>>=|<=|==|!=|>|<)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"between", "and", "in", "is", "not", "null"})


class RuleError(ValueError):
    """A consistency rule cannot be parsed or checked; the message names the rule and why."""


@dataclass(frozen=True)
class Rule:
    """A parsed rule: its text, the columns it involves (in order) and its pass expression."""

    text: str
    columns: tuple[str, ...]
    expr: pl.Expr


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, name, qname, op, punct, end
    text: str
    pos: int

    @property
    def keyword(self) -> str | None:
        return self.text.lower() if self.kind == "name" and self.text.lower() in _KEYWORDS else None

    def describe(self) -> str:
        return "end of rule" if self.kind == "end" else repr(self.text)


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            snippet = text[pos : pos + 10]
            if snippet.startswith(("'", '"')):
                raise RuleError(f"rule {text!r}: unterminated quote at position {pos}")
            raise RuleError(f"rule {text!r}: unexpected character(s) {snippet!r} at position {pos}")
        kind = match.lastgroup or "space"
        if kind != "space":
            tokens.append(_Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, columns: Sequence[str]) -> None:
        self.text = text
        self.known = list(columns)
        self.tokens = _tokenize(text)
        self.index = 0
        self.used: list[str] = []

    def error(self, problem: str) -> RuleError:
        return RuleError(f"rule {self.text!r}: {problem}")

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect_keyword(self, word: str) -> None:
        token = self.take()
        if token.keyword != word:
            raise self.error(f"expected {word!r} at position {token.pos}, got {token.describe()}")

    def expect_punct(self, char: str) -> None:
        token = self.take()
        if token.text != char or token.kind != "punct":
            raise self.error(f"expected {char!r} at position {token.pos}, got {token.describe()}")

    def column(self, role: str) -> pl.Expr:
        token = self.take()
        if token.kind == "qname":
            name = token.text[1:-1].replace('""', '"')
        elif token.kind == "name" and token.keyword is None:
            name = token.text
        else:
            raise self.error(f"expected {role} at position {token.pos}, got {token.describe()}")
        if name not in self.known:
            shown = ", ".join(self.known) or "none"
            raise self.error(f"unknown column {name!r} (columns: {shown})")
        if name not in self.used:
            self.used.append(name)
        return pl.col(name)

    def value(self, role: str, *, strings: bool) -> pl.Expr:
        """A column, a number or (when ``strings``) a quoted string."""
        token = self.peek()
        if token.kind == "number":
            self.take()
            return pl.lit(_number(token.text))
        if token.kind == "string" and strings:
            self.take()
            return pl.lit(_string(token.text))
        return self.column(role)

    def literal(self) -> int | float | str:
        token = self.take()
        if token.kind == "number":
            return _number(token.text)
        if token.kind == "string":
            return _string(token.text)
        raise self.error(
            f"expected a number or a 'quoted string' at position {token.pos}, "
            f"got {token.describe()}"
        )

    def parse(self) -> tuple[pl.Expr, bool]:
        """The rule's condition and whether nulls in involved columns count as passing."""
        if self.peek().kind == "end":
            raise self.error("empty rule")
        subject = self.column("a column name at the start")
        token = self.take()
        null_passes = True
        if token.kind == "op":
            condition = _compare(
                subject, token.text, self.value("a column, number or 'string'", strings=True)
            )
        elif token.keyword == "between":
            low = self.value("a lower bound (column or number)", strings=False)
            self.expect_keyword("and")
            high = self.value("an upper bound (column or number)", strings=False)
            condition = (subject >= low) & (subject <= high)
        elif token.keyword == "in":
            # Equalities rather than is_in: they coerce numbers the way comparisons do, while
            # is_in insists on exactly matching dtypes (an int list against a float column).
            condition = pl.any_horizontal([subject == pl.lit(v) for v in self.values_list()])
        elif token.keyword in ("is", "not"):
            if token.keyword == "is":
                self.expect_keyword("not")
            self.expect_keyword("null")
            condition, null_passes = subject.is_not_null(), False
        else:
            raise self.error(
                f"expected an operator ({', '.join(COMPARISONS)}, between, in, not null) "
                f"at position {token.pos}, got {token.describe()}"
            )
        trailing = self.peek()
        if trailing.kind != "end":
            raise self.error(f"unexpected {trailing.describe()} at position {trailing.pos}")
        return condition, null_passes

    def values_list(self) -> list[int | float | str]:
        self.expect_punct("(")
        values = [self.literal()]
        while self.peek().text == ",":
            self.take()
            values.append(self.literal())
        self.expect_punct(")")
        if len({isinstance(v, str) for v in values}) > 1:
            raise self.error("an 'in' list must hold only strings or only numbers")
        return values


def _number(text: str) -> int | float:
    return int(text) if re.fullmatch(r"[+-]?\d+", text) else float(text)


def _string(text: str) -> str:
    return text[1:-1].replace("''", "'")


def _compare(left: pl.Expr, op: str, right: pl.Expr) -> pl.Expr:
    if op == ">=":
        return left >= right
    if op == "<=":
        return left <= right
    if op == ">":
        return left > right
    if op == "<":
        return left < right
    if op == "==":
        return left == right
    return left != right


def parse_rule(text: str, columns: Sequence[str]) -> Rule:
    """Parse ``text`` into a :class:`Rule` over ``columns``; raise :class:`RuleError` if invalid."""
    parser = _Parser(text, columns)
    condition, null_passes = parser.parse()
    involved = tuple(parser.used)
    if null_passes:
        any_null = pl.any_horizontal([pl.col(c).is_null() for c in involved])
        expr = any_null | condition.fill_null(False)
    else:
        expr = condition
    return Rule(text=text, columns=involved, expr=expr.alias(text))
