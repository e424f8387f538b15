"""One partition's synthesis as the asset runs it: hold out real rows, synthesize from the rest
at the source's privacy settings, evaluate the sample against both.

The holdout (``HOLDOUT_SHARE`` of the rows, a seeded random choice) is never shown to the
synthesizer: it is the baseline that distance-to-closest-record and membership inference need
(:mod:`.evaluate`). Frames under ``MIN_HOLDOUT_ROWS`` rows are synthesized whole, without
a holdout, and their privacy metrics that need one are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from synthcap_assets.synthesis.dp_domain import declared_categories
from synthcap_assets.synthesis.evaluate import evaluate
from synthcap_assets.synthesis.synthesize import SynthesisResult, synthesize
from synthcap_resources.catalog import PrivacySpec

HOLDOUT_SHARE = 0.2
CODES_METRIC = "codes"  # evaluation rows that record each column's code count (domain size)
MIN_HOLDOUT_ROWS = 50


@dataclass(frozen=True)
class EvaluatedSample:
    """The synthesis result, its evaluation rows (column, metric, score) and the split sizes."""

    result: SynthesisResult
    evaluation: pl.DataFrame
    train_rows: int
    holdout_rows: int


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
) -> EvaluatedSample:
    """Synthesize ``real`` (data columns only) at ``privacy``'s settings and evaluate it.

    Public domain knowledge comes from the catalog: ``privacy.bounds``, ``privacy.categories``
    and the category lists of ``col in (...)`` quality ``rules``.
    """
    train, holdout = split_holdout(real, seed=seed)
    result = synthesize(
        train,
        profile=profile,
        epsilon=privacy.epsilon,
        delta=privacy.delta,
        preprocess_share=privacy.preprocess_share,
        exclude=exclude,
        synthesizer=privacy.synthesizer,
        rows=privacy.sample_rows if privacy.sample_rows is not None else real.height,
        bounds={k: (float(v[0]), float(v[1])) for k, v in privacy.bounds.items()},
        categories=declared_categories(rules) | dict(privacy.categories),
        seed=seed,
    )
    evaluation = evaluate(train, holdout, result.sample, result.columns, seed=seed)
    codes = pl.DataFrame(
        [(c, CODES_METRIC, float(k)) for c, k in (result.cardinalities or {}).items()],
        schema=evaluation.schema,
        orient="row",
    )
    evaluation = pl.concat([evaluation, codes])
    return EvaluatedSample(result, evaluation, train.height, holdout.height)
