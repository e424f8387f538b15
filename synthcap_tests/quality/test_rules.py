"""Tests for the consistency rule language: parsing, evaluation semantics and every error."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from synthcap_assets.quality.rules import Rule, RuleError, parse_rule

FRAME = pl.DataFrame(
    {
        "high": [10.0, 9.5, None, 12.0, 3.0],
        "low": [9.0, 10.1, 3.0, 12.0, 3.5],
        "status": ["open", "closed", None, "weird", "open"],
        "qty": [1, 2, 3, None, 5],
        "my col": [1, 2, 3, 4, 5],
    }
)


def evaluate(text: str, frame: pl.DataFrame = FRAME) -> list[bool]:
    rule = parse_rule(text, frame.columns)
    return frame.select(rule.expr).to_series().to_list()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Row 2 has high null, row 3 qty null: involved nulls pass.
        ("high >= low", [True, False, True, True, False]),
        ("high > low", [True, False, True, False, False]),
        ("high <= low", [False, True, True, True, True]),
        ("high < low", [False, True, True, False, True]),
        ("high == low", [False, False, True, True, False]),
        ("high != low", [True, True, True, False, True]),
        ("qty >= 3", [False, False, True, True, True]),
        ("qty < 2.5", [True, True, False, True, False]),
        ("low > -1e1", [True] * 5),
        ("status == 'open'", [True, False, True, False, True]),
        ("status != 'open'", [False, True, True, True, False]),
        ("qty between 2 and 3", [False, True, True, True, False]),
        ("low between 3 and high", [True, False, True, True, False]),
        ("qty in (1, 5)", [True, False, False, True, True]),
        ("low in (3, 12)", [False, False, True, True, False]),
        ("low in (3.5, 9)", [True, False, False, False, True]),
        ("status in ('open', 'closed')", [True, True, True, False, True]),
        ("status not null", [True, True, False, True, True]),
        ("qty is not null", [True, True, True, False, True]),
        ('"my col" >= 3', [False, False, True, True, True]),
        ("qty BETWEEN 2 AND 3", [False, True, True, True, False]),
        ("qty>=3", [False, False, True, True, True]),
    ],
)
def test_rule_semantics(text: str, expected: list[bool]) -> None:
    assert evaluate(text) == expected


def test_string_literal_with_escaped_quote() -> None:
    frame = pl.DataFrame({"name": ["it's", "its", None]})
    assert evaluate("name == 'it''s'", frame) == [True, False, True]


def test_rule_fields() -> None:
    rule = parse_rule("low between 0 and high", FRAME.columns)
    assert isinstance(rule, Rule)
    assert rule.text == "low between 0 and high"
    assert rule.columns == ("low", "high")
    assert isinstance(rule.expr, pl.Expr)
    assert parse_rule("qty between qty and qty", FRAME.columns).columns == ("qty",)
    assert parse_rule("status in ('a')", FRAME.columns).columns == ("status",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.text = "other"  # type: ignore[misc]


def test_rules_on_single_row_and_empty_frame() -> None:
    one = FRAME.head(1)
    assert evaluate("high >= low", one) == [True]
    assert evaluate("high >= low", FRAME.head(0)) == []


def test_random_comparison_matches_numpy() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=500)
    y = rng.normal(size=500)
    x_null = rng.random(500) < 0.1
    frame = pl.DataFrame({"x": [None if m else v for v, m in zip(x, x_null, strict=True)], "y": y})
    expected = x_null | (x >= y)
    assert evaluate("x >= y", frame) == expected.tolist()
    expected_between = x_null | ((x >= -0.5) & (x <= y))
    assert evaluate("x between -0.5 and y", frame) == expected_between.tolist()
    assert 0 < expected.sum() < 500  # the data exercises both outcomes


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty rule"),
        ("   ", "empty rule"),
        ("nope > 1", "unknown column 'nope'"),
        ("high > nope", "unknown column 'nope'"),
        ("high between 0 and nope", "unknown column 'nope'"),
        ('"no such" > 1', "unknown column 'no such'"),
        ("high >=", "expected a column, number or 'string'"),
        ("high => low", "unexpected character"),
        ("high ~ 2", "unexpected character"),
        ("high low", "expected an operator"),
        ("high > low extra", "unexpected 'extra'"),
        ("high between 1 or 2", "expected 'and'"),
        ("high between 'a' and 2", "expected a lower bound"),
        ("status in ()", "expected a number or a 'quoted string'"),
        ("status in 'open'", "expected '('"),
        ("status in ('open'", "expected ')'"),
        ("status in ('open', 1)", "only strings or only numbers"),
        ("status in (open)", "expected a number or a 'quoted string'"),
        ("status == 'open", "unterminated quote"),
        ("status not nul", "expected 'null'"),
        ("status is null", "expected 'not'"),
        ("between > 1", "expected a column name at the start"),
        ("3 > high", "expected a column name at the start"),
    ],
)
def test_parse_errors_name_rule_and_problem(text: str, problem: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_rule(text, FRAME.columns)
    assert f"rule {text!r}" in str(info.value)
    assert problem in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_column_message_lists_known_columns() -> None:
    with pytest.raises(RuleError, match=r"columns: a, b"):
        parse_rule("c > 1", ["a", "b"])
