"""One ANTLR runtime for Dagster's 4.13-generated selection parser and smartnoise-sql's
4.9-generated SQL parser: the serialized-ATN conversion both ways, and both parsers at work in
one interpreter. (Dagster's CLI in a subprocess, synthesizing after a string selection, is in
test_materialize.py.)"""

from __future__ import annotations

import importlib

import dagster as dg
import pytest
from antlr4.atn.ATNDeserializer import ATNDeserializer

import synthcap_assets  # noqa: F401 (importing the package installs the conversion)
from synthcap_assets.antlr_atn import ATNFormatError, install, v3_to_v4, v4_to_v3

DAGSTER = "dagster._core.definitions.antlr_asset_selection.generated.AssetSelection"
SNSQL = ("snsql.sql.parser.SqlSmall", "snsql.xpath.parser.XPath")


def _serialized(prefix: str, kind: str) -> str | list[int]:
    return importlib.import_module(f"{prefix}{kind}").serializedATN()


def _dump(atn) -> list:  # noqa: ANN001 (an antlr4 ATN of either runtime)
    """Every state, transition, rule, mode, decision and lexer action of ``atn``, as plain data.

    The 4.9 runtime reads a serialized -1 (``0xFFFF``) as 65534: both spellings mean -1 here."""

    def signed(v: int | None) -> int | None:
        return -1 if v in (0xFFFE, 0xFFFF) else v

    def label(t) -> list | None:  # noqa: ANN001
        return None if t.label is None else [(r.start, r.stop) for r in t.label.intervals]

    states = [
        None
        if s is None
        else [
            type(s).__name__,
            signed(s.ruleIndex),
            getattr(s, "nonGreedy", False),
            getattr(s, "isPrecedenceRule", False),
            getattr(s, "decision", None),
            getattr(getattr(s, "endState", None), "stateNumber", None),
            getattr(getattr(s, "loopBackState", None), "stateNumber", None),
            [
                [
                    type(t).__name__,
                    t.target.stateNumber,
                    label(t),
                    *(getattr(t, a, None) for a in ("ruleIndex", "precedence", "predIndex")),
                    signed(getattr(t, "actionIndex", None)),
                ]
                for t in s.transitions
            ],
        ]
        for s in atn.states
    ]
    return [
        int(atn.grammarType),
        atn.maxTokenType,
        states,
        [s.stateNumber for s in atn.ruleToStartState],
        list(atn.ruleToTokenType or []),
        [s.stateNumber for s in atn.modeToStartState],
        [s.stateNumber for s in atn.decisionToState],
        [repr(a.__dict__ if hasattr(a, "__dict__") else a) for a in atn.lexerActions or []],
    ]


def test_install_is_idempotent_and_matches_the_pinned_runtime() -> None:
    from antlr4.atn import ATNDeserializer as module

    expected = {3: "v4->v3", 4: "v3->v4"}[module.SERIALIZED_VERSION]
    assert install() == install() == expected


@pytest.mark.parametrize("kind", ["Lexer", "Parser"])
def test_dagster_atn_round_trips_exactly(kind: str) -> None:
    original = _serialized(DAGSTER, kind)
    assert isinstance(original, list) and original[0] == 4
    down = v4_to_v3(original)
    assert isinstance(down, str) and ord(down[0]) == 3
    assert v3_to_v4(down) == original


@pytest.mark.parametrize("prefix", SNSQL)
@pytest.mark.parametrize("kind", ["Lexer", "Parser"])
def test_smartnoise_atn_survives_both_conversions(prefix: str, kind: str) -> None:
    """smartnoise's format-3 ATN → format 4 → format 3 gives the same automaton, read by the
    installed runtime, as the original (every state, edge, set, rule and action)."""
    original = _serialized(prefix, kind)
    assert isinstance(original, str) and ord(original[0]) == 3
    up = v3_to_v4(original)
    assert up[0] == 4
    native = _dump(ATNDeserializer().deserialize(original))
    assert _dump(ATNDeserializer().deserialize(v4_to_v3(up))) == native
    assert len(native[2]) > 100


def test_malformed_atns_are_refused() -> None:
    atn = _serialized(DAGSTER, "Parser")
    with pytest.raises(ATNFormatError, match="not a format-4"):
        v4_to_v3([3, *atn[1:]])
    with pytest.raises(ATNFormatError, match="ends early"):
        v4_to_v3(atn[:-5])
    with pytest.raises(ATNFormatError, match="after the format-4"):
        v4_to_v3([*atn, 0])
    with pytest.raises(ATNFormatError, match="unknown feature UUID"):
        v3_to_v4(chr(3) + "".join(chr(7) for _ in range(40)))


SELECTIONS = {
    # In Dagster's grammar a bare `+` is every layer; `+1` one layer.
    "key:raw_capture+": dg.AssetSelection.assets("raw_capture").downstream(),
    "key:raw_capture+1": dg.AssetSelection.assets("raw_capture").downstream(1),
    "2+key:readiness_score": dg.AssetSelection.assets("readiness_score").upstream(2),
    "key:profile or key:drift_report": dg.AssetSelection.assets("profile", "drift_report"),
    "group:synthesis and not key:readiness_score": dg.AssetSelection.groups("synthesis")
    - dg.AssetSelection.assets("readiness_score"),
    "sinks(*)": dg.AssetSelection.all().sinks(),
    "roots(*)": dg.AssetSelection.all().roots(),
}


def test_selection_strings_resolve_like_the_python_api_and_sql_still_parses(
    capsys: pytest.CaptureFixture,
) -> None:
    """Both generations of parser in one interpreter: Dagster's selection strings against
    synthcap's graph, equal to the same selections built in Python, and smartnoise's SQL."""
    from snsql.sql.parse import QueryParser

    from synthcap_assets.definitions import build_definitions

    graph = build_definitions().resolve_asset_graph()
    for text, expected in SELECTIONS.items():
        got = dg.AssetSelection.from_string(text).resolve(graph)
        assert got == expected.resolve(graph), text
        assert got, text
    query = QueryParser().query("SELECT color, COUNT(*) AS n FROM shop.orders GROUP BY color")
    assert [str(c) for c in query.select.namedExpressions] == ["color", "COUNT(*) AS n"]
    with pytest.raises(Exception, match="Invalid selection string"):
        dg.AssetSelection.from_string("key:a or (")
    assert "versions disagree" not in capsys.readouterr().out
