"""The clean corpus of a text source's day: the training-ready documents.

Kept: documents with text, not an exact or near duplicate of an earlier document of the day
(a cluster keeps its representative), not seen on an earlier day, in an allowed language (when
the catalog lists languages), passing every gating filter (``text.filters``). Their text is the
redacted text (the one redactor), their labels are the day's other columns as the privacy
handling left them, and their signals are columns named ``<text column>__<signal>`` (so the
feature lineage maps them to the text column): the document index, language and confidence,
script, sizes, each filter's failing rule (null when passing), PII types replaced, cluster
size, and the generic text features (characters, words, question mark, digits).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from synthcap_assets.features.generic import SEPARATOR
from synthcap_assets.features.text import text_features
from synthcap_assets.privacy.redact import redact_text
from synthcap_assets.text.signals import FILTERS

SIGNALS = (
    "doc",
    "language",
    "language_confidence",
    "script",
    "lines",
    "cluster_size",
    *FILTERS,
)


def kept_mask(
    facts: pl.DataFrame, languages: Sequence[str] = (), gates: Sequence[str] = ()
) -> pl.Series:
    """True for each document that enters the corpus (module doc)."""
    keep = (
        pl.col("chars").fill_null(0).gt(0)
        & ~pl.col("exact_duplicate")
        & ~pl.col("near_duplicate")
        & pl.col("seen_before").is_null()
    )
    if languages:
        keep = keep & pl.col("language").is_in(list(languages))
    for name in gates:
        keep = keep & pl.col(name).is_null()
    return facts.select(keep.alias("keep"))["keep"]


def clean_corpus(
    rows: pl.DataFrame,
    text_column: str,
    facts: pl.DataFrame,
    *,
    languages: Sequence[str] = (),
    gates: Sequence[str] = (),
    redacted: bool = False,
) -> pl.DataFrame:
    """The corpus rows of ``rows`` (handled data columns, one per document, in the order of
    ``facts``). ``redacted``: the text column is already redacted (privacy handling did it)."""
    if rows.height != facts.height:
        raise ValueError(
            f"{rows.height} rows but {facts.height} document facts for {text_column!r}: the "
            "facts must come from the same rows"
        )
    text = rows[text_column] if redacted else redact_text(rows[text_column])
    work = rows.with_columns(text.alias(text_column))
    name = f"{text_column}{SEPARATOR}"
    signals = facts.select(
        *[pl.col(c).alias(f"{name}{c}") for c in SIGNALS],
        pl.col("pii_types").list.join(",").alias(f"{name}pii_types"),
    )
    keep = kept_mask(facts, languages, gates)
    generic = pl.DataFrame(text_features(work, text_column))
    labels = [c for c in work.columns if c != text_column]
    out = pl.concat([work.select(text_column, *labels), signals, generic], how="horizontal").filter(
        keep
    )
    return out
