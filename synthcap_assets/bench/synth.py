"""``synthcap bench synth``: synthcap's private, catalog-informed preprocessing against
smartnoise-synth's defaults, with MST and AIM, on the bundled tables, at several epsilons.

Both tools get the same rows (the table's first sample day, capture-conformed, PII columns
dropped as the pipeline drops them), the same train/holdout split, the same (epsilon, delta),
the same columns and the same MST/AIM fitting code (synthcap's faster pair selection and AIM
rounds); only the preprocessing differs:

- ``synthcap``: the column roles from the profile, bin edges, categories and null codes
  measured privately inside the budget unless the catalog declares them (:mod:`dp_domain`),
  ``preprocess_share`` of the budget;
- ``smartnoise``: smartnoise-synth's inferred ``TableTransformer`` (10 equal-width bins between
  bounds inferred with ``preprocessor_eps`` = the same share of epsilon, raised step by step to
  3/4 of it while smartnoise finds no bounds; categories learnt from the rows without noise,
  which smartnoise does not charge).

Scores are the evaluation's (:mod:`synthcap_assets.synthesis.evaluate`) against the training
rows: mean column shape, mean pair trend, and the DCR ratio against the holdout. ``seconds`` is
preprocessing + fit + sample. A failed fit (e.g. smartnoise finding no bounds at a small
epsilon) is reported with its error and no scores.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import polars as pl
from rich.console import Console

from synthcap_assets.capture.conform import conform
from synthcap_assets.privacy.pii import detect_pii, pii_columns
from synthcap_assets.profile.stats import profile_frame
from synthcap_assets.synthesis.dp_domain import declared_categories
from synthcap_assets.synthesis.evaluate import evaluate, summary
from synthcap_assets.synthesis.pipeline import split_holdout
from synthcap_assets.synthesis.prepare import CATEGORICAL_TYPES, CONTINUOUS_TYPES
from synthcap_assets.synthesis.synthesize import (
    SynthesisError,
    fit_smartnoise_default,
    synthesize,
)
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR, load_catalog
from synthcap_resources.sources.files import read_source_file

TOOLS = ("synthcap", "smartnoise")
SYNTHESIZERS = ("mst", "aim")
EPSILONS = (0.5, 1.0, 3.0)
# smartnoise splits preprocessor_eps over the continuous columns and often finds no bounds with
# a tenth of epsilon on a few hundred rows; it gets more, up to 3/4, until one works.
SMARTNOISE_SHARES = (0.1, 0.25, 0.5, 0.75)
# One run's scores move by a few hundredths with the (unseedable) DP noise; means of three
# runs per case decide the comparison.
REPEATS = 3
_US_PER_DAY = 86_400_000_000


def bundled_case(source: str, rows: int | None = None) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """(frame, profile, spec) of a bundled source's first sample day, PII columns dropped."""
    spec = load_catalog(BUNDLED_SOURCES_DIR)[source]
    day = spec.start_date
    frame = conform(read_source_file(spec, day), spec.declared_schema, f"bench {source}")
    pii = detect_pii(frame, hints=spec.pii, quasi_identifiers=spec.quasi_identifiers)
    frame = frame.drop(sorted(set(pii_columns(pii)) | set(spec.pii_columns)))
    if rows is not None:
        frame = frame.head(rows)
    return frame, profile_frame(frame), spec


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
        if dtype == pl.Date:
            values = values.cast(pl.Float64).round().cast(pl.Int32).cast(pl.Date)
        elif dtype == pl.Datetime:
            values = (values.cast(pl.Float64) * _US_PER_DAY).round().cast(pl.Int64)
            values = values.cast(pl.Datetime("us")).cast(dtype)
        elif dtype == pl.Boolean:
            values = values.cast(pl.String) == "True"
        else:
            values = values.cast(dtype, strict=False)
        columns.append(values.rename(name))
    return pl.DataFrame(columns)


def run_case(
    source: str, synthesizer: str, epsilon: float, rows: int | None = None, seed: int = 0
) -> list[dict]:
    """Both tools on one (table, synthesizer, epsilon); one result row each."""
    frame, profile, spec = bundled_case(source, rows)
    privacy = spec.privacy
    train, holdout = split_holdout(frame, seed=seed)
    results = []
    started = time.perf_counter()
    try:
        ours = synthesize(
            train,
            profile=profile,
            epsilon=epsilon,
            delta=privacy.delta,
            preprocess_share=privacy.preprocess_share,
            synthesizer=synthesizer,
            bounds={k: (float(v[0]), float(v[1])) for k, v in privacy.bounds.items()},
            categories=declared_categories(spec.quality.rules) | dict(privacy.categories),
            seed=seed,
        )
        columns, sample, error = ours.columns, ours.sample, None
    except SynthesisError as exc:
        columns, sample, error = [], None, str(exc)
    results.append(
        _row(
            "synthcap",
            source,
            synthesizer,
            epsilon,
            started,
            train,
            holdout,
            sample,
            columns,
            error,
            seed,
        )
    )
    if not columns:
        return results
    roles = dict(zip(profile["column"], profile["semantic_type"], strict=True))
    started = time.perf_counter()
    sample, error, note = None, None, None
    for share in SMARTNOISE_SHARES:
        try:
            raw = fit_smartnoise_default(
                _to_smartnoise(train, columns),
                synthesizer=synthesizer,
                epsilon=epsilon,
                delta=privacy.delta,
                preprocessor_eps=share * epsilon,
                categorical=[c for c in columns if roles[c] in CATEGORICAL_TYPES],
                continuous=[c for c in columns if roles[c] in CONTINUOUS_TYPES],
                rows=train.height,
                seed=seed,
            )
        except (SynthesisError, ValueError, TypeError) as exc:
            error = str(exc)
            continue
        sample, error, note = _from_smartnoise(raw, train), None, f"preprocessor_eps {share:g}x eps"
        break
    row = _row(
        "smartnoise",
        source,
        synthesizer,
        epsilon,
        started,
        train,
        holdout,
        sample,
        columns,
        error,
        seed,
    )
    results.append(row | ({"note": note} if note else {}))
    return results


def _row(
    tool: str,
    source: str,
    synthesizer: str,
    epsilon: float,
    started: float,
    train: pl.DataFrame,
    holdout: pl.DataFrame,
    sample: pl.DataFrame | None,
    columns: Sequence[str],
    error: str | None,
    seed: int,
) -> dict:
    seconds = time.perf_counter() - started
    row = {
        "tool": tool,
        "case": f"{source}/{synthesizer}",
        "table": source,
        "synthesizer": synthesizer,
        "epsilon": epsilon,
        "seconds": round(seconds, 3),
        "rows": train.height,
        "columns": list(columns),
        "column_shapes": None,
        "pair_trends": None,
        "dcr_ratio": None,
    }
    if error is not None or sample is None:
        return row | {"error": error or "no sample"}
    headline = summary(evaluate(train, holdout, sample, columns, seed=seed))
    return row | {k: headline[k] for k in ("column_shapes", "pair_trends", "dcr_ratio")}


def run_synth_bench(
    tables: Sequence[str] | None = None,
    synthesizers: Sequence[str] = SYNTHESIZERS,
    epsilons: Sequence[float] = EPSILONS,
    rows: int | None = None,
    seed: int = 0,
    repeats: int = REPEATS,
) -> dict:
    """Every (table, synthesizer, epsilon) case, both tools, ``repeats`` runs each (seeds
    ``seed``, ``seed + 1``, ...: other holdouts and draws) averaged; the JSON document."""
    if repeats < 1:
        raise ValueError(f"repeats must be 1 or more, got {repeats}")
    chosen = list(tables or sorted(load_catalog(BUNDLED_SOURCES_DIR)))
    rows_out = []
    for table in chosen:
        for synthesizer in synthesizers:
            for epsilon in epsilons:
                runs = [
                    run_case(table, synthesizer, float(epsilon), rows, seed + i)
                    for i in range(repeats)
                ]
                rows_out += [_mean_row(list(same)) for same in zip(*runs, strict=True)]
    return {
        "bench": "synth",
        "rows": rows_out,
        "how": {
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
            "date": dt.date.today().isoformat(),
            "method": "same rows, split, epsilon, delta, columns and MST/AIM fitting code for "
            "both tools; only preprocessing differs; scores against the training rows, "
            f"mean of {repeats} run(s) per case (DP noise cannot be seeded)",
        },
    }


def _mean_row(runs: list[dict]) -> dict:
    """One tool's runs of a case as one row: seconds and scores averaged over the runs that
    produced a sample; ``failed_runs`` counts the others (all failed: the last error)."""
    ok = [r for r in runs if "error" not in r]
    row = dict((ok or runs)[-1]) | {"repeats": len(runs), "failed_runs": len(runs) - len(ok)}
    row["seconds"] = round(sum(r["seconds"] for r in runs) / len(runs), 3)
    for key in ("column_shapes", "pair_trends", "dcr_ratio"):
        values = [r[key] for r in ok if r[key] is not None]
        row[key] = sum(values) / len(values) if values else None
    return row


def format_table(document: dict) -> str:
    """The comparison as a fixed-width text table, synthcap and smartnoise side by side."""
    lines = [
        f"{'case':<26}{'eps':>5}  {'tool':<11}{'seconds':>8}{'shapes':>8}{'pairs':>8}"
        f"{'dcr':>8}  note"
    ]

    def fmt(value: float | None) -> str:
        return f"{value:>8.3f}" if value is not None else f"{'-':>8}"

    for r in document["rows"]:
        lines.append(
            f"{r['case']:<26}{r['epsilon']:>5g}  {r['tool']:<11}{r['seconds']:>8.1f}"
            f"{fmt(r['column_shapes'])}{fmt(r['pair_trends'])}{fmt(r['dcr_ratio'])}  "
            f"{_note(r)[:70]}"
        )
    wins, both, failed = compare(document["rows"])
    lines.append(
        f"synthcap's column-shape score is higher in {wins} of {both} cases where both tools "
        f"produced a sample; smartnoise's default preprocessing failed in {failed} more. "
        + document["how"]["method"]
    )
    return "\n".join(lines)


def _note(row: dict) -> str:
    """The row's error or note, and how many of its runs failed when some did."""
    failed = row.get("failed_runs", 0)
    text = row.get("error") or row.get("note") or ""
    if failed and failed < row.get("repeats", 1):
        text = f"{failed}/{row['repeats']} runs failed; {text}"
    return text


def compare(rows: list[dict]) -> tuple[int, int, int]:
    """(cases where synthcap's column shapes beat smartnoise's, cases where both produced a
    sample, cases where only synthcap did)."""
    by_case: dict[tuple, dict[str, float | None]] = {}
    for r in rows:
        by_case.setdefault((r["case"], r["epsilon"]), {})[r["tool"]] = r["column_shapes"]
    wins = both = failed = 0
    for scores in by_case.values():
        ours, theirs = scores.get("synthcap"), scores.get("smartnoise")
        if ours is not None and theirs is not None:
            both += 1
            wins += ours > theirs
        elif ours is not None and "smartnoise" in scores:
            failed += 1
    return wins, both, failed


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
