"""``synthcap bench synth``: synthcap's private, catalog-informed preprocessing against
smartnoise-synth, with MST and AIM, on the bundled tables and on real tables shipped inside
installed packages (:mod:`.synth_cases`), at several epsilons.

Every tool gets the same rows (PII columns dropped as the pipeline drops them), the same
train/holdout split, the same (epsilon, delta) and the same columns (those synthcap
synthesized; every usable one when synthcap refuses), and MST/AIM fit by the same
smartnoise-synth code; only the preprocessing differs:

- ``synthcap``: the column roles from the profile, bin edges, categories and null codes
  measured privately inside the budget unless the catalog declares them (:mod:`dp_domain`),
  ``preprocess_share`` of the budget;
- ``smartnoise``: smartnoise-synth's defaults: its inferred ``TableTransformer`` (10
  equal-width bins between bounds inferred with ``preprocessor_eps`` = the same share of
  epsilon, raised step by step to 3/4 of it while smartnoise finds no bounds; categories
  learnt from the rows without noise, which smartnoise does not charge);
- ``smartnoise+public``: the same, but given the public bounds and categories synthcap
  receives (the catalog's, or the codebook limits a real case declares): a declared column's
  bins span its declared bounds, so only undeclared columns spend ``preprocessor_eps``. The
  gap between this row and synthcap's is what synthcap's own preprocessing adds. (smartnoise
  learns categories from the rows anyway, so declaring them changes nothing for it.)

Scores are the evaluation's (:mod:`synthcap_assets.synthesis.evaluate`) against the training
rows with every counted column of the table in (a column a tool left out scores 0, and so does
every pair with it: :func:`~synthcap_assets.synthesis.outcome.counted_scores`): mean column
shape, mean pair trend, and the DCR ratio against the holdout. ``seconds`` is preprocessing +
fit + sample. A failed run (synthcap refusing, smartnoise finding no bounds) is shown with its
error and counted in the summary line like any other case.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import platform
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
from rich.console import Console

from synthcap_assets.bench.synth_cases import Case, all_tables, load_case
from synthcap_assets.synthesis.engine import AIM_OPTIONS, engine
from synthcap_assets.synthesis.evaluate import evaluate, summary
from synthcap_assets.synthesis.outcome import counted_scores
from synthcap_assets.synthesis.pipeline import split_holdout
from synthcap_assets.synthesis.prepare import CATEGORICAL_TYPES, CONTINUOUS_TYPES
from synthcap_assets.synthesis.synthesize import SynthesisError, synthesize

TOOLS = ("synthcap", "smartnoise", "smartnoise+public")
SYNTHESIZERS = ("mst", "aim")
EPSILONS = (0.5, 1.0, 3.0)
# smartnoise splits preprocessor_eps over the continuous columns and often finds no bounds with
# a tenth of epsilon on a few hundred rows; it gets more, up to 3/4, until one works.
SMARTNOISE_SHARES = (0.1, 0.25, 0.5, 0.75)
SMARTNOISE_BINS = 10
# One run's scores move by a few hundredths with the (unseedable) DP noise; means of three
# runs per case decide the comparison.
REPEATS = 3
SCORES = ("column_shapes", "pair_trends", "utility", "dcr_ratio")
_US_PER_DAY = 86_400_000_000


def _to_smartnoise(frame: pl.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Dates and datetimes as float days, booleans as strings: what smartnoise can read."""
    out = {}
    for name in columns:
        s = frame[name]
        if s.dtype == pl.Date:
            s = s.cast(pl.Int32).cast(pl.Float64)
        elif s.dtype == pl.Datetime:
            s = s.dt.epoch("us").cast(pl.Float64) / _US_PER_DAY
        elif s.dtype == pl.Boolean:
            s = s.cast(pl.String)
        out[name] = s.to_list()
    return pd.DataFrame(out)


def _from_smartnoise(sample: pd.DataFrame, like: pl.DataFrame) -> pl.DataFrame:
    """The smartnoise sample back in ``like``'s column types."""
    columns = []
    for name in sample.columns:
        dtype = like.schema[name]
        values = pl.Series(name, sample[name].tolist(), strict=False)
        if dtype in (pl.Date, pl.Datetime):
            # smartnoise writes a missing date as NaN: null, not a failed cast
            values = values.cast(pl.Float64, strict=False).fill_nan(None)
        if dtype == pl.Date:
            values = values.round().cast(pl.Int32).cast(pl.Date)
        elif dtype == pl.Datetime:
            values = (values * _US_PER_DAY).round().cast(pl.Int64)
            values = values.cast(pl.Datetime("us")).cast(dtype)
        elif dtype == pl.Boolean:
            values = values.cast(pl.String) == "True"
        else:
            values = values.cast(dtype, strict=False)
        columns.append(values.rename(name))
    return pl.DataFrame(columns)


def public_transformers(frame: pd.DataFrame, continuous: Sequence[str], bounds: dict) -> dict:
    """smartnoise column transformers for the continuous columns with public bounds: bins
    between the declared bounds, nothing spent on inferring them."""
    from snsynth.transform import BinTransformer

    return {
        name: BinTransformer(
            bins=SMARTNOISE_BINS,
            lower=float(bounds[name][0]),
            upper=float(bounds[name][1]),
            nullable=bool(frame[name].isna().any()),
        )
        for name in continuous
        if name in bounds
    }


def fit_smartnoise(
    frame: pd.DataFrame,
    *,
    synthesizer: str,
    epsilon: float,
    delta: float,
    preprocessor_eps: float,
    categorical: Sequence[str],
    continuous: Sequence[str],
    rows: int,
    bounds: dict | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """A sample from smartnoise-synth's own preprocessing (its inferred ``TableTransformer``;
    with ``bounds``, declared continuous columns binned between them) and the MST/AIM
    fitting code synthcap uses."""
    state = np.random.get_state()
    public = public_transformers(frame, continuous, bounds or {})
    try:
        pieces = engine()
        if synthesizer == "mst":
            model = pieces.quick_mst(epsilon=float(epsilon), delta=delta)
        else:
            model = pieces.aim(
                epsilon=float(epsilon),
                delta=delta,
                rounds=AIM_OPTIONS["rounds_per_column"] * len(frame.columns),
                max_model_size=AIM_OPTIONS["max_model_size"],
            )
        np.random.seed(seed % 2**32)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            model.fit(
                frame,
                transformer=public or None,
                categorical_columns=list(categorical),
                continuous_columns=list(continuous),
                preprocessor_eps=preprocessor_eps if len(public) < len(continuous) else 0.0,
                nullable=bool(frame.isna().any().any()),
            )
            sample = model.sample(rows)
    except ValueError as exc:
        raise SynthesisError(f"smartnoise {synthesizer} failed: {exc}") from exc
    finally:
        np.random.set_state(state)
    if not isinstance(sample, pd.DataFrame):
        sample = pd.DataFrame(list(sample), columns=frame.columns)
    return sample


def usable_columns(case: Case) -> list[str]:
    """The counted columns whose profile role a marginal synthesizer can take."""
    roles = dict(zip(case.profile["column"], case.profile["semantic_type"], strict=True))
    usable = (*CATEGORICAL_TYPES, *CONTINUOUS_TYPES)
    return [c for c in case.counted if roles.get(c) in usable]


def run_case(case: Case, synthesizer: str, epsilon: float, seed: int = 0) -> list[dict]:
    """Every tool on one (table, synthesizer, epsilon); one result row each."""
    privacy = case.privacy
    train, holdout = split_holdout(case.frame, seed=seed)
    started = time.perf_counter()
    try:
        ours = synthesize(
            train,
            profile=case.profile,
            epsilon=epsilon,
            delta=privacy.delta,
            preprocess_share=privacy.preprocess_share,
            synthesizer=synthesizer,
            bounds=case.bounds,
            categories=case.categories,
            seed=seed,
            max_columns=privacy.max_columns,
            constraints=privacy.constraints,
            targets=privacy.targets,
        )
        columns, sample, error = ours.columns, ours.sample, None
    except SynthesisError as exc:
        columns, sample, error = [], None, str(exc)
    context = (case, synthesizer, epsilon, train, holdout, seed)
    results = [_row("synthcap", *context, started, sample, columns, error)]
    given = columns or usable_columns(case)  # a refusal still shows what smartnoise does
    roles = dict(zip(case.profile["column"], case.profile["semantic_type"], strict=True))
    categorical = [c for c in given if roles[c] in CATEGORICAL_TYPES]
    continuous = [c for c in given if roles[c] in CONTINUOUS_TYPES]
    for tool, bounds in (("smartnoise", None), ("smartnoise+public", case.bounds)):
        started = time.perf_counter()
        sample, error, note = None, "no usable column", None
        # the share only matters for bounds smartnoise must infer: no retry without any
        inferred = [c for c in continuous if c not in (bounds or {})]
        shares = SMARTNOISE_SHARES if inferred else SMARTNOISE_SHARES[:1]
        for share in shares if given else ():
            try:
                raw = fit_smartnoise(
                    _to_smartnoise(train, given),
                    synthesizer=synthesizer,
                    epsilon=epsilon,
                    delta=privacy.delta,
                    preprocessor_eps=share * epsilon,
                    categorical=categorical,
                    continuous=continuous,
                    rows=train.height,
                    bounds=bounds,
                    seed=seed,
                )
            except (SynthesisError, ValueError, TypeError) as exc:
                error = str(exc)
                continue
            sample, error = _from_smartnoise(raw, train), None
            note = f"preprocessor_eps {share:g}x eps"
            break
        row = _row(tool, *context, started, sample, given, error)
        results.append(row | ({"note": note} if note else {}))
    return results


def _row(
    tool: str,
    case: Case,
    synthesizer: str,
    epsilon: float,
    train: pl.DataFrame,
    holdout: pl.DataFrame,
    seed: int,
    started: float,
    sample: pl.DataFrame | None,
    columns: Sequence[str],
    error: str | None,
) -> dict:
    seconds = time.perf_counter() - started
    row = {
        "tool": tool,
        "case": f"{case.name}/{synthesizer}",
        "table": case.name,
        "origin": case.origin,
        "synthesizer": synthesizer,
        "epsilon": epsilon,
        "seconds": round(seconds, 3),
        "rows": train.height,
        "columns": list(columns),
        "counted_columns": list(case.counted),
        **dict.fromkeys(SCORES),
    }
    if error is not None or sample is None:
        return row | {"error": error or "no sample"}
    evaluation = evaluate(train, holdout, sample, columns, seed=seed)
    shapes, pairs, utility = counted_scores(evaluation, case.counted)
    dcr = summary(evaluation)["dcr_ratio"]
    return row | {
        "column_shapes": shapes,
        "pair_trends": pairs,
        "utility": utility,
        "dcr_ratio": dcr,
    }


def run_synth_bench(
    tables: Sequence[str] | None = None,
    synthesizers: Sequence[str] = SYNTHESIZERS,
    epsilons: Sequence[float] = EPSILONS,
    rows: int | None = None,
    seed: int = 0,
    repeats: int = REPEATS,
) -> dict:
    """Every (table, synthesizer, epsilon) case, every tool, ``repeats`` runs each (seeds
    ``seed``, ``seed + 1``, ...: other holdouts and draws) averaged; the JSON document.
    ``tables`` defaults to every bundled and real table; ``rows`` caps each table."""
    if repeats < 1:
        raise ValueError(f"repeats must be 1 or more, got {repeats}")
    rows_out = []
    for table in list(tables or all_tables()):
        case = load_case(table, rows)
        for synthesizer in synthesizers:
            for epsilon in epsilons:
                runs = [
                    run_case(case, synthesizer, float(epsilon), seed + i) for i in range(repeats)
                ]
                rows_out += [_mean_row(list(same)) for same in zip(*runs, strict=True)]
    return {
        "bench": "synth",
        "rows": rows_out,
        "how": {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
            "date": dt.date.today().isoformat(),
            "method": "same rows, split, epsilon, delta, columns and MST/AIM fitting code for "
            "every tool; only preprocessing differs; scores against the training rows with "
            "every counted column in (left out = 0), "
            f"mean of {repeats} run(s) per case (DP noise cannot be seeded)",
        },
    }


def _mean_row(runs: list[dict]) -> dict:
    """One tool's runs of a case as one row: seconds and scores averaged over the runs that
    produced a sample; ``failed_runs`` counts the others (all failed: the last error)."""
    ok = [r for r in runs if "error" not in r]
    row = dict((ok or runs)[-1]) | {"repeats": len(runs), "failed_runs": len(runs) - len(ok)}
    row["seconds"] = round(sum(r["seconds"] for r in runs) / len(runs), 3)
    for key in SCORES:
        values = [r[key] for r in ok if r.get(key) is not None]
        row[key] = sum(values) / len(values) if values else None
    return row


def format_table(document: dict) -> str:
    """The comparison as a fixed-width text table, the three tools side by side."""
    lines = [
        f"{'case':<26}{'eps':>5}  {'tool':<18}{'seconds':>8}{'shapes':>8}{'pairs':>8}"
        f"{'dcr':>8}  note"
    ]

    def fmt(value: float | None) -> str:
        return f"{value:>8.3f}" if value is not None else f"{'-':>8}"

    for r in document["rows"]:
        lines.append(
            f"{r['case']:<26}{r['epsilon']:>5g}  {r['tool']:<18}{r['seconds']:>8.1f}"
            f"{fmt(r['column_shapes'])}{fmt(r['pair_trends'])}{fmt(r['dcr_ratio'])}  "
            f"{_note(r)[:70]}"
        )
    for against in TOOLS[1:]:
        wins, both, theirs, ours = compare(document["rows"], against)
        lines.append(
            f"against {against}: synthcap's column-shape score is higher in {wins} of {both} "
            f"cases where both produced a sample; {against} failed in {theirs} more, synthcap "
            f"in {ours}."
        )
    lines.append(document["how"]["method"])
    return "\n".join(lines)


def _note(row: dict) -> str:
    """The row's error or note, and how many of its runs failed when some did."""
    failed = row.get("failed_runs", 0)
    text = row.get("error") or row.get("note") or ""
    if failed and failed < row.get("repeats", 1):
        text = f"{failed}/{row['repeats']} runs failed; {text}"
    return text


def compare(rows: list[dict], against: str = "smartnoise") -> tuple[int, int, int, int]:
    """(cases where synthcap's column shapes beat ``against``'s, cases where both produced a
    sample, cases where only synthcap did, cases where only ``against`` did)."""
    by_case: dict[tuple, dict[str, float | None]] = {}
    for r in rows:
        by_case.setdefault((r["case"], r["epsilon"]), {})[r["tool"]] = r["column_shapes"]
    wins = both = theirs_failed = ours_failed = 0
    for scores in by_case.values():
        if "synthcap" not in scores or against not in scores:
            continue
        ours, theirs = scores["synthcap"], scores[against]
        if ours is not None and theirs is not None:
            both += 1
            wins += ours > theirs
        elif ours is not None:
            theirs_failed += 1
        elif theirs is not None:
            ours_failed += 1
    return wins, both, theirs_failed, ours_failed


def run_from_args(args: argparse.Namespace, console: Console) -> int:
    """``synthcap bench synth`` (arguments from ``synthcap_assets.cli``)."""
    from synthcap_assets.bench.runner import write_json

    document = run_synth_bench(
        tables=getattr(args, "tables", None),
        synthesizers=getattr(args, "synthesizers", None) or SYNTHESIZERS,
        epsilons=getattr(args, "epsilons", None) or EPSILONS,
        rows=getattr(args, "rows", None),
        repeats=getattr(args, "repeats", None) or REPEATS,
    )
    console.print(format_table(document), highlight=False)
    if getattr(args, "json", None):
        write_json(document, Path(args.json))
        console.print(f"wrote {args.json}")
    return 0
