"""The outcome of one partition's synthesis, and whether its sample is fit to use.

``synthetic_sample`` never leaves a captured (source, date) without an answer: it writes one
row to ``reports/synthetic_outcome`` (:data:`OUTCOME_SCHEMA`) whatever happens:

- ``status``: ``sample`` (a sample was written), ``refused`` (the synthesis could not be done as
  configured: too few rows or usable columns for the epsilon, budget exhausted; nothing is
  written to ``synthetic/<source>`` for that day) or ``failed`` (an unexpected error; the asset
  still raises after writing the row, so the run shows it);
- ``reason`` and ``actions``: why, and what would change it (rows needed at this epsilon, the
  epsilon needed for these rows, bounds or categories to declare, columns to drop);
- ``dropped``: every source column not in the sample, with why;
- ``spent_epsilon``: what the ledger recorded for this synthesis, failures included;
- for a sample, the verdict of :func:`judge_sample` (``passed``, ``problems``), which the
  blocking check ``synthetic_sample_is_useful`` re-applies to the stored rows. A sample fails
  when a synthesized column is all placeholder (``__other__``, or null throughout), when a
  declared constraint (``privacy.constraints``, quality-rule grammar) is broken in any row,
  when a synthesized column's shape score is under ``COLUMN_SHAPE_FLOOR`` (a collapsed range
  or lost categories), or when its utility (mean of column shapes and pair trends, every
  counted source column in, a column left out scoring 0) is under ``privacy.utility_floor``.

Pure: frames in, rows out; the asset does the reading and writing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import polars as pl

from synthcap_assets.quality.rules import RuleError, parse_rule
from synthcap_assets.synthesis.prepare import OTHER
from synthcap_assets.synthesis.utility import (
    SHAPE_METRICS,
    column_shapes_score,
    pair_trends_score,
    utility_score,
)

SYNTHETIC_OUTCOME = "synthetic_outcome"
SAMPLE, REFUSED, FAILED = "sample", "refused", "failed"
STATUSES = (SAMPLE, REFUSED, FAILED)
DROPPED_TYPE = pl.List(pl.Struct({"column": pl.String, "why": pl.String}))
OUTCOME_SCHEMA: dict[str, pl.DataType] = {
    "status": pl.String(),
    "reason": pl.String(),
    "actions": pl.List(pl.String),
    "dropped": DROPPED_TYPE,
    "spent_epsilon": pl.Float64(),
    "synthesizer": pl.String(),
    "sample_rows": pl.Int64(),
    "synthesized": pl.List(pl.String),
    "counted_columns": pl.List(pl.String),
    "column_shapes": pl.Float64(),
    "pair_trends": pl.Float64(),
    "utility": pl.Float64(),
    "utility_floor": pl.Float64(),
    "placeholder_columns": pl.List(pl.String),
    "broken_constraints": pl.List(pl.String),
    "passed": pl.Boolean(),
    "problems": pl.List(pl.String),
}


class OutcomeError(ValueError):
    """An outcome row cannot be built as asked; the message says which field and why."""


# A synthesized column whose shape score (KS / TV complement) falls under this does not
# reproduce its column: a collapsed range or lost categories, which a table-wide mean hides.
COLUMN_SHAPE_FLOOR = 0.5


@dataclass(frozen=True)
class Verdict:
    """Whether a sample is useful: all-placeholder columns, broken constraints (``rule: N of M
    rows``), utility against the floor, and the problems they make (empty: it passes)."""

    placeholder_columns: list[str]
    broken_constraints: list[str]
    problems: list[str]

    @property
    def passed(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Outcome:
    """One partition's synthesis outcome (the module docstring says what each field means)."""

    status: str
    reason: str | None = None
    actions: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)
    spent_epsilon: float = 0.0
    synthesizer: str | None = None
    sample_rows: int = 0
    synthesized: list[str] = field(default_factory=list)
    counted_columns: list[str] = field(default_factory=list)
    column_shapes: float | None = None
    pair_trends: float | None = None
    utility: float | None = None
    utility_floor: float | None = None
    verdict: Verdict | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise OutcomeError(f"status must be one of {STATUSES}, got {self.status!r}")
        if self.status == SAMPLE and self.verdict is None:
            raise OutcomeError("a sample outcome needs the verdict of judge_sample")

    @property
    def passed(self) -> bool:
        return self.status == SAMPLE and self.verdict is not None and self.verdict.passed

    @property
    def problems(self) -> list[str]:
        if self.status != SAMPLE:
            return [f"no sample: synthesis {self.status}: {self.reason or 'no reason given'}"]
        return list(self.verdict.problems) if self.verdict else []

    def as_frame(self) -> pl.DataFrame:
        """The outcome as one row of :data:`OUTCOME_SCHEMA`."""
        verdict = self.verdict or Verdict([], [], [])
        row = {
            "status": self.status,
            "reason": self.reason,
            "actions": list(self.actions),
            "dropped": [{"column": c, "why": w} for c, w in self.dropped.items()],
            "spent_epsilon": float(self.spent_epsilon),
            "synthesizer": self.synthesizer,
            "sample_rows": int(self.sample_rows),
            "synthesized": list(self.synthesized),
            "counted_columns": list(self.counted_columns),
            "column_shapes": self.column_shapes,
            "pair_trends": self.pair_trends,
            "utility": self.utility,
            "utility_floor": self.utility_floor,
            "placeholder_columns": verdict.placeholder_columns,
            "broken_constraints": verdict.broken_constraints,
            "passed": self.passed,
            "problems": self.problems,
        }
        return pl.DataFrame([row], schema=OUTCOME_SCHEMA)


def outcome_from_row(row: Mapping) -> Outcome:
    """An :class:`Outcome` back from a stored row (a dict of :data:`OUTCOME_SCHEMA` fields)."""
    status = row["status"]
    verdict = None
    if status == SAMPLE:
        verdict = Verdict(
            list(row.get("placeholder_columns") or []),
            list(row.get("broken_constraints") or []),
            list(row.get("problems") or []),
        )
    return Outcome(
        status=status,
        reason=row.get("reason"),
        actions=list(row.get("actions") or []),
        dropped={d["column"]: d["why"] for d in row.get("dropped") or []},
        spent_epsilon=float(row.get("spent_epsilon") or 0.0),
        synthesizer=row.get("synthesizer"),
        sample_rows=int(row.get("sample_rows") or 0),
        synthesized=list(row.get("synthesized") or []),
        counted_columns=list(row.get("counted_columns") or []),
        column_shapes=row.get("column_shapes"),
        pair_trends=row.get("pair_trends"),
        utility=row.get("utility"),
        utility_floor=row.get("utility_floor"),
        verdict=verdict,
    )


def placeholder_columns(sample: pl.DataFrame, columns: Sequence[str]) -> list[str]:
    """Columns of ``sample`` that carry no value at all: every value ``__other__`` or null."""
    if sample.height == 0:
        return []
    out = []
    for name in columns:
        series = sample.get_column(name)
        if series.dtype.is_float():
            series = series.fill_nan(None)
        if series.null_count() == series.len():
            out.append(name)
        elif series.dtype in (pl.String, pl.Categorical, pl.Enum):
            values = series.cast(pl.String).drop_nulls()
            if (values == OTHER).all():
                out.append(name)
    return out


def broken_constraints(
    sample: pl.DataFrame, constraints: Sequence[str], known_columns: Sequence[str]
) -> tuple[list[str], list[str]]:
    """(``rule: N of M rows`` for each constraint some sample row breaks, problems with the
    constraints themselves). A constraint on a column not in the sample is not applicable."""
    broken, errors = [], []
    names = list(dict.fromkeys([*known_columns, *sample.columns]))
    for text in constraints:
        try:
            rule = parse_rule(text, names)
        except RuleError as exc:
            errors.append(f"constraint {text!r} cannot be checked: {exc}")
            continue
        if not set(rule.columns) <= set(sample.columns) or sample.height == 0:
            continue
        try:
            passes = sample.select(rule.expr.fill_null(False)).to_series()
        except pl.exceptions.PolarsError as exc:
            errors.append(f"constraint {text!r} cannot be checked on the sample: {exc}")
            continue
        failing = int((~passes).sum())
        if failing:
            broken.append(f"{text}: {failing} of {sample.height} rows")
    return broken, errors


def judge_sample(
    sample: pl.DataFrame,
    *,
    synthesized: Sequence[str],
    constraints: Sequence[str],
    known_columns: Sequence[str],
    utility: float | None,
    utility_floor: float,
    column_shapes: Mapping[str, float] | None = None,
) -> Verdict:
    """The usefulness verdict of ``sample`` (module docstring). ``column_shapes``, each
    synthesized column's shape score (KS / TV complement against the real rows): a column
    under ``COLUMN_SHAPE_FLOOR`` does not reproduce its column, whatever the mean says."""
    problems: list[str] = []
    lost = {c: v for c, v in (column_shapes or {}).items() if v < COLUMN_SHAPE_FLOOR}
    if lost:
        problems.append(
            "columns "
            + ", ".join(f"{c} ({v:.2f})" for c, v in sorted(lost.items()))
            + f" score a shape under {COLUMN_SHAPE_FLOOR:g}: their synthetic values are far "
            "from the real ones (a range or categories lost under the noise); declare their "
            "bounds or categories, raise epsilon or capture more rows"
        )
    empty = placeholder_columns(sample, synthesized)
    if empty:
        problems.append(
            f"columns {', '.join(empty)} hold only placeholders ('{OTHER}' or null): no real "
            "value survived the noise; declare their categories (privacy.categories) or bounds, "
            "raise epsilon or capture more rows"
        )
    broken, errors = broken_constraints(sample, constraints, known_columns)
    problems += [f"constraint broken: {b}" for b in broken] + errors
    if utility is None:
        problems.append("utility could not be scored")
    elif utility < utility_floor:
        problems.append(
            f"utility {utility:.3f} < floor {utility_floor:g} (every counted source column in, "
            "a left-out one scoring 0): raise epsilon, declare bounds and categories, or list "
            "the columns that matter in privacy.targets"
        )
    return Verdict(empty, broken, problems)


def counted_scores(
    evaluation: pl.DataFrame, counted: Sequence[str]
) -> tuple[float | None, float | None, float | None]:
    """(column shapes, pair trends, utility) with every column of ``counted`` in: a column
    not in the sample scores 0, and so does every pair that involves one (:mod:`.utility`);
    all ``None`` when nothing is counted."""
    if not counted:
        return None, None, None
    columns = list(counted)
    return (
        column_shapes_score(evaluation, columns),
        pair_trends_score(evaluation, columns),
        utility_score(evaluation, columns),
    )


def shape_scores(evaluation: pl.DataFrame | None) -> dict[str, float]:
    """Each synthesized column's shape score (KS / TV complement) from evaluation rows."""
    if evaluation is None or evaluation.is_empty():
        return {}
    rows = evaluation.filter(pl.col("metric").is_in(SHAPE_METRICS))
    return dict(zip(rows["column"].to_list(), rows["score"].to_list(), strict=True))
