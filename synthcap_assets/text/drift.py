"""Drift of a text column between two days: vocabulary, language mix and lengths.

The deciding rule and the row it fills are described in :mod:`synthcap_assets.profile.drift`,
which builds the row; the statistics are the kernels' (``kernels.drift``), on token counts
(polars), languages (:mod:`.language`) and document lengths.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from synthcap_assets.kernels.drift import (
    DriftThresholds,
    categorical_statistics,
    numeric_statistics,
)
from synthcap_assets.text.language import language_of

VOCABULARY_TOP = 50
OTHER_TOKENS = "other tokens"


def _token_counts(reference: pl.Series, current: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Counts of the ``VOCABULARY_TOP`` most frequent tokens of both days, plus the rest."""
    counts = [
        s.str.to_lowercase().str.extract_all(r"\w+").explode().drop_nulls().alias("token")
        .value_counts(name="n")
        for s in (reference, current)
    ]  # fmt: skip
    joined = (
        counts[0]
        .join(counts[1], on="token", how="full", coalesce=True, suffix="_cur")
        .fill_null(0)
        .with_columns((pl.col("n") + pl.col("n_cur")).alias("pooled"))
        .sort(["pooled", "token"], descending=[True, False])
    )
    ref, cur = joined["n"].to_numpy().astype(float), joined["n_cur"].to_numpy().astype(float)
    top = VOCABULARY_TOP
    return np.append(ref[:top], ref[top:].sum()), np.append(cur[:top], cur[top:].sum())


def _language_counts(reference: pl.Series, current: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    found = [pl.Series([language_of(v)[0] for v in s]) for s in (reference, current)]
    labels = sorted(set(found[0].unique()) | set(found[1].unique()))
    return tuple(np.array([float((f == x).sum()) for x in labels]) for f in found)  # type: ignore[return-value]


def text_drift(
    reference: pl.Series, current: pl.Series, t: DriftThresholds
) -> tuple[str, dict[str, object]]:
    """The deciding method and the drift-row fields of a text column (module doc); both series
    non-null strings."""
    vocab = categorical_statistics(*_token_counts(reference, current), t.js_base)
    languages = categorical_statistics(*_language_counts(reference, current), t.js_base)
    lengths = numeric_statistics(
        reference.str.len_chars().cast(pl.Float64).to_numpy(),
        current.str.len_chars().cast(pl.Float64).to_numpy(),
        js_base=t.js_base,
    )[0]
    verdicts = [
        ("text_vocabulary_js", vocab["jensenshannon"], t.jensenshannon,
         vocab["jensenshannon"] > t.jensenshannon
         and vocab["chisquare_pvalue"] < t.chisquare_pvalue),
        ("text_language_js", languages["jensenshannon"], t.jensenshannon,
         languages["jensenshannon"] > t.jensenshannon
         and languages["chisquare_pvalue"] < t.chisquare_pvalue),
        ("text_length_wasserstein", lengths["wasserstein"], t.wasserstein,
         lengths["wasserstein"] > t.wasserstein and lengths["ks_pvalue"] < t.ks_pvalue),
    ]  # fmt: skip
    method, statistic, threshold, drifted = next((v for v in verdicts if v[3]), verdicts[0])
    detail = (
        f"{method} {statistic:.3g} vs threshold {threshold:g}: "
        f"{'drifted' if drifted else 'stable'}; vocabulary JS {vocab['jensenshannon']:.3g} "
        f"(top {VOCABULARY_TOP} tokens + {OTHER_TOKENS}), language mix JS "
        f"{languages['jensenshannon']:.3g}, length KS {lengths['ks']:.3g} "
        f"(p={lengths['ks_pvalue']:.2g}), Wasserstein/std {lengths['wasserstein']:.3g}; "
        f"median chars {reference.str.len_chars().median():.0f} -> "
        f"{current.str.len_chars().median():.0f}"
    )
    return method, {
        "statistic": statistic,
        "threshold": threshold,
        "drifted": drifted,
        "reference_rows": reference.len(),
        "current_rows": current.len(),
        "psi": vocab["psi"],
        "ks_statistic": lengths["ks"],
        "ks_pvalue": lengths["ks_pvalue"],
        "wasserstein": lengths["wasserstein"],
        "jensenshannon": vocab["jensenshannon"],
        "chi2_statistic": vocab["chisquare"],
        "chi2_pvalue": vocab["chisquare_pvalue"],
        "detail": detail,
    }
