"""Declared constraints (``privacy.constraints``) held by every synthetic row, by rejection.

Constraints are written in the grammar of ``quality.rules`` and parsed by the same parser
(:func:`synthcap_assets.quality.rules.parse_rule`); as there, a row whose involved columns hold
a null passes. The synthesizer knows nothing of them, so a sample is made to satisfy them after
the fact, which is post-processing and costs no privacy:

1. a row that breaks a rule is *decoded again* from the same codes (fresh values inside the
   same bins), up to ``REDECODES`` times: two timestamps in the same bin get a new pair of
   draws, and half of those pass ``dropoff >= pickup``;
2. rows whose codes cannot pass (the drop-off's bin entirely before the pick-up's) are
   *rejected*, and more rows are drawn from the fitted model, in batches sized by the
   acceptance seen so far, until the sample is full, or ``MAX_BATCHES`` batches or
   ``rows / MIN_ACCEPTANCE`` rows have been drawn (then the constraints are refused).

The sample thus follows the model conditioned on the constraints. A rule over a column that
was not synthesized is skipped (the sample cannot break it); a rule that does not parse, or
that no synthetic row can meet, raises :class:`ConstraintError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

from synthcap_assets.quality.rules import Rule, RuleError, parse_rule

REDECODES = 5
MAX_BATCHES = 12
MIN_ACCEPTANCE = 0.05  # below it, give up after drawing rows / MIN_ACCEPTANCE rows


class ConstraintError(ValueError):
    """A constraint cannot be parsed or met; the message names the rule and the cause."""


def parse_constraints(
    rules: Sequence[str], source_columns: Sequence[str], sample_columns: Sequence[str]
) -> list[Rule]:
    """The rules that apply to the sample: each is parsed against the source's columns (an
    error names the rule), and kept when every column it involves was synthesized."""
    parsed = []
    for text in rules:
        try:
            rule = parse_rule(text, list(source_columns))
        except RuleError as exc:
            raise ConstraintError(f"privacy.constraints: {exc}") from exc
        if all(c in sample_columns for c in rule.columns):
            parsed.append(rule)
    return parsed


def passing(frame: pl.DataFrame, rules: Sequence[Rule]) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` that pass every rule."""
    if not rules or frame.height == 0:
        return np.ones(frame.height, dtype=bool)
    mask = frame.select(pl.all_horizontal([r.expr for r in rules]).alias("ok"))["ok"]
    return mask.fill_null(False).to_numpy().astype(bool)


def constrained_sample(
    draw_codes: Callable[[int], pl.DataFrame],
    decode: Callable[[pl.DataFrame], pl.DataFrame],
    rules: Sequence[Rule],
    rows: int,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, float]:
    """``rows`` decoded rows that pass ``rules`` (module docs), and the share of drawn rows
    that passed. ``draw_codes(n)`` samples ``n`` code rows from the fitted model; ``decode``
    maps codes to values."""
    if not rules:
        return decode(draw_codes(rows)), 1.0
    kept: list[pl.DataFrame] = []
    have = drawn = 0
    batch = rows
    for _ in range(MAX_BATCHES):
        codes = draw_codes(batch)
        drawn += codes.height
        values = decode(codes)
        ok = passing(values, rules)
        kept.append(values.filter(pl.Series(ok)))
        pending = codes.filter(pl.Series(~ok))
        for _ in range(REDECODES):
            if pending.height == 0:
                break
            again = decode(pending)
            fixed = pl.Series(passing(again, rules))
            kept.append(again.filter(fixed))
            pending = pending.filter(~fixed)
        have = sum(piece.height for piece in kept)
        if have >= rows or drawn >= rows / MIN_ACCEPTANCE:
            break
        rate = max(have / drawn, MIN_ACCEPTANCE)
        batch = math.ceil((rows - have) / rate * 1.2) + 10
    acceptance = have / drawn if drawn else 0.0
    if have < rows:
        texts = "; ".join(r.text for r in rules)
        raise ConstraintError(
            f"constraints ({texts}) hold in only {acceptance:.1%} of {drawn} synthetic rows: "
            f"{have} of {rows} rows met them; check that the rules hold in the real data"
        )
    out = pl.concat(kept)
    order = rng.permutation(out.height)[:rows]
    return out[order], acceptance
