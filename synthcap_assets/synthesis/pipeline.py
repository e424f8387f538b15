"""One partition's synthesis as the asset runs it: hold out real rows, synthesize from the rest
at the source's privacy settings, evaluate the sample against both.

The holdout (``HOLDOUT_SHARE`` of the rows, a seeded random choice) is never shown to the
synthesizer: it is the baseline that distance-to-closest-record and membership inference need
(:mod:`.evaluate`). Frames under ``MIN_HOLDOUT_ROWS`` rows are synthesized whole, without
a holdout, and their privacy metrics that need one are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from synthcap_assets.columns import without_meta
from synthcap_assets.privacy.anonymity import AGE_BAND_YEARS
from synthcap_assets.privacy.handling import apply_handling
from synthcap_assets.synthesis.dp_domain import declared_categories
from synthcap_assets.synthesis.evaluate import evaluate
from synthcap_assets.synthesis.synthesize import SynthesisResult, synthesize
from synthcap_assets.synthesis.utility import utility_score
from synthcap_resources.catalog import PrivacySpec

HOLDOUT_SHARE = 0.2
MAX_AGE_YEARS = 120
CODES_METRIC = "codes"  # evaluation rows that record each column's code count (domain size)
MIN_HOLDOUT_ROWS = 50
BAND_CATEGORIES = [str(band) for band in range(0, 125, AGE_BAND_YEARS)]


@dataclass(frozen=True)
class EvaluatedSample:
    """The synthesis result, its evaluation rows (column, metric, score), the split sizes and
    the source's data columns (every one of them counts in utility: :mod:`.utility`)."""

    result: SynthesisResult
    evaluation: pl.DataFrame
    train_rows: int
    holdout_rows: int
    source_columns: tuple[str, ...] = ()

    @property
    def utility(self) -> float:
        """Mean of column shapes and pair trends, every source column counted."""
        return utility_score(self.evaluation, self.source_columns)


def split_holdout(
    df: pl.DataFrame, share: float = HOLDOUT_SHARE, seed: int = 0
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train, holdout): a seeded random ``share`` of the rows held out, none below
    ``MIN_HOLDOUT_ROWS`` rows in all."""
    if df.height < MIN_HOLDOUT_ROWS:
        return df, df.clear()
    held = np.zeros(df.height, dtype=bool)
    rng = np.random.default_rng(seed)
    held[rng.choice(df.height, int(round(df.height * share)), replace=False)] = True
    mask = pl.Series(held)
    return df.filter(~mask), df.filter(mask)


def synthesize_evaluated(
    real: pl.DataFrame,
    *,
    profile: pl.DataFrame,
    privacy: PrivacySpec,
    exclude: Sequence[str] = (),
    rules: Sequence[str] = (),
    seed: int = 0,
    generalize: Mapping[str, str] | None = None,
    on_release: Callable[[str, float], None] | None = None,
) -> EvaluatedSample:
    """Synthesize ``real`` (data columns only) at ``privacy``'s settings and evaluate it.

    Public domain knowledge comes from the catalog: ``privacy.bounds``, ``privacy.categories``
    and the category lists of ``col in (...)`` quality ``rules``. ``privacy.constraints`` hold
    in every sample row, ``privacy.targets`` are kept first within ``privacy.max_columns``.

    What the asset passes: ``exclude``, the columns whose handling is ``drop`` or ``tokenize``
    (and every PII column that is not kept); ``generalize``, column -> PII type of the columns
    whose handling is ``generalize`` (the privacy report's type): they enter synthesis in
    generalized form (:func:`synthcap_assets.privacy.handling.apply_handling`; a type with no
    generalization is dropped, with why in ``result.dropped``), and the evaluation compares the
    sample with the generalized rows; ``on_release``, the ledger hook
    (:func:`.ledger.release_recorder`), called before each release of private information.
    """
    frame = without_meta(real)
    source_columns = tuple(frame.columns)
    handled: dict[str, str] = {}
    bands: dict[str, list[str]] = {}
    if generalize:
        wanted = {c: k for c, k in generalize.items() if c in frame.columns and c not in exclude}
        before = frame.schema
        frame, done = apply_handling(frame, dict.fromkeys(wanted, "generalize"), wanted, b"")
        handled = {c: f"generalize: {how}" for c, how in done.items() if how.startswith("dropped")}
        # A number that stays an integer was cut into age bands: its bands are public
        # categories, so the sample holds band values only (years of birth stay numbers).
        bands = {
            c: BAND_CATEGORIES
            for c, how in done.items()
            if how.startswith("generalized")
            and before[c].is_numeric()
            and frame.schema[c].is_integer()
        }
        profile = profile.with_columns(
            pl.when(pl.col("column").is_in(list(bands)))
            .then(pl.lit("categorical"))
            .otherwise(pl.col("semantic_type"))
            .alias("semantic_type")
        )
    # A year of birth has public bounds: nobody alive was born over 120 years ago or in the
    # future (declared bounds win).
    this_year = float(dt.date.today().year)
    birth_years = {
        c: (this_year - MAX_AGE_YEARS, this_year)
        for c, how in (done.items() if generalize else ())
        if how.startswith("generalized")
        and generalize[c] == "birth_date"
        and frame.schema[c].is_integer()
    }
    train, holdout = split_holdout(frame, seed=seed)
    result = synthesize(
        train,
        profile=profile,
        epsilon=privacy.epsilon,
        delta=privacy.delta,
        preprocess_share=privacy.preprocess_share,
        exclude=exclude,
        synthesizer=privacy.synthesizer,
        rows=privacy.sample_rows if privacy.sample_rows is not None else real.height,
        bounds=birth_years | {k: (float(v[0]), float(v[1])) for k, v in privacy.bounds.items()},
        categories=declared_categories(rules) | bands | dict(privacy.categories),
        seed=seed,
        max_columns=privacy.max_columns,
        constraints=privacy.constraints,
        targets=privacy.targets,
        on_release=on_release,
    )
    if handled:
        result = replace(result, dropped=result.dropped | handled)
    evaluation = evaluate(train, holdout, result.sample, result.columns, seed=seed)
    codes = pl.DataFrame(
        [(c, CODES_METRIC, float(k)) for c, k in (result.cardinalities or {}).items()],
        schema=evaluation.schema,
        orient="row",
    )
    evaluation = pl.concat([evaluation, codes])
    return EvaluatedSample(result, evaluation, train.height, holdout.height, source_columns)
