"""Per-document facts of a text column and the day's text profile built from them.

:func:`document_facts` joins, per document: sizes (characters, words, lines), language,
script, non-printable, mojibake and profanity (:mod:`.language`), the first failing rule of
each quality filter (:mod:`.signals`), the PII types the one redactor
(:func:`synthcap_assets.privacy.redact.redact_text`) replaces in it, and the duplicate facts
(:mod:`.dedup`, on the redacted text). :func:`text_profile` turns them into tidy rows
(``column``, ``metric``, ``key``, ``value``, ``share``), every value a count or a sum, so
that days and chunks merge by addition (:func:`merge_profiles`) and shares are recomputed
from the merged counts. Length distributions are counted in power-of-two buckets (``key``
``"<=N"``, N = 1, 2, 4, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from synthcap_assets.privacy.redact import PLACEHOLDERS, redact_text
from synthcap_assets.text.dedup import DedupParams, duplicates
from synthcap_assets.text.language import language_facts
from synthcap_assets.text.signals import FILTERS, QualityRules, quality_signals

__all__ = ["document_facts", "merge_profiles", "pii_types", "text_profile"]

_BY_PLACEHOLDER = {placeholder: kind for kind, placeholder in PLACEHOLDERS.items()}
LENGTHS = ("chars", "words", "lines")


def pii_types(redacted: pl.Series) -> list[list[str]]:
    """Per document of redacted text, the PII types the redactor replaced (sorted, distinct)."""
    out = []
    for text in redacted.to_list():
        found = [] if text is None else [k for p, k in _BY_PLACEHOLDER.items() if p in text]
        out.append(sorted(set(found)))
    return out


def document_facts(
    texts: pl.Series,
    *,
    rules: QualityRules | None = None,
    dedup: DedupParams | None = None,
    history: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one row of facts per document, the day's signature rows for later days).

    Duplicates are sought in the redacted text: two messages that differ only in an email
    address are the same message, and the signatures kept for later days (shingle hashes)
    are then hashes of redacted text, never of personal data."""
    values = texts.cast(pl.String).to_list()
    redacted = redact_text(texts.cast(pl.String))
    dups, signatures = duplicates(redacted.to_list(), dedup, history)
    chars = texts.cast(pl.String).str.len_chars().cast(pl.Int64).alias("chars")
    facts = pl.concat(
        [
            dups.select("doc"),
            pl.DataFrame([chars]),
            quality_signals(values, rules),
            language_facts(values),
            pl.DataFrame(
                {"pii_types": pii_types(redacted)}, schema={"pii_types": pl.List(pl.String)}
            ),
            dups.drop("doc"),
        ],
        how="horizontal",
    )
    return facts, signatures


def _buckets(values: pl.Series) -> pl.DataFrame:
    """Counts per power-of-two bucket ``<=N`` (0 is its own bucket ``<=0``)."""
    v = values.drop_nulls().to_numpy().astype(np.float64)
    edges = np.where(v <= 0, 0, 2 ** np.ceil(np.log2(np.maximum(v, 1)))).astype(np.int64)
    keys, counts = np.unique(edges, return_counts=True)
    return pl.DataFrame({"key": [f"<={k}" for k in keys], "value": counts.astype(np.float64)})


def text_profile(facts: pl.DataFrame, column: str, gates: Sequence[str] = ()) -> pl.DataFrame:
    """Tidy profile rows of one text column's facts (module doc). ``gates``: the filters that
    decide the corpus; ``passed_filters`` counts documents passing all of them."""
    present = facts.filter(pl.col("chars").is_not_null())
    n = present.height
    rows: list[tuple[str, str, float]] = [
        ("documents", "", float(n)),
        ("null_documents", "", float(facts.height - n)),
        ("empty_documents", "", float((present["chars"] == 0).sum())),
        ("non_printable_documents", "", float((present["non_printable"] > 0).sum())),
        ("mojibake_documents", "", float(present["mojibake"].sum())),
        ("profanity_documents", "", float(present["profanity"].sum())),
        ("exact_duplicates", "", float(present["exact_duplicate"].sum())),
        ("near_duplicates", "", float(present["near_duplicate"].sum())),
        ("seen_before", "", float(present["seen_before"].is_not_null().sum())),
        ("pii_documents", "", float((present["pii_types"].list.len() > 0).sum())),
        ("language_confidence_sum", "", float(present["language_confidence"].sum())),
    ]
    for metric, key in (("language", "language"), ("script", "script")):
        for value, count in present[key].value_counts().iter_rows():
            rows.append((metric, str(value), float(count)))
    for kind, count in present["pii_types"].explode().drop_nulls().value_counts().iter_rows():
        rows.append(("pii_type", kind, float(count)))
    for name in FILTERS:
        failing = present[name].drop_nulls()
        rows.append((f"{name}_pass", "", float(n - failing.len())))
        for rule, count in failing.value_counts().iter_rows():
            rows.append((f"{name}_fail", rule, float(count)))
    gate_fail = pl.lit(False)
    for name in gates:
        gate_fail = gate_fail | pl.col(name).is_not_null()
    rows.append(("passed_filters", ",".join(gates), float(present.filter(~gate_fail).height)))
    for length in LENGTHS:
        s = present[length]
        rows.append((f"{length}_sum", "", float(s.sum() or 0)))
        rows.append((f"{length}_sum_squares", "", float((s.cast(pl.Float64) ** 2).sum() or 0)))
        rows.append((f"{length}_max", "", float(s.max() or 0)))
        for key, count in _buckets(s).iter_rows():
            rows.append((f"{length}_bucket", key, count))
    frame = pl.DataFrame(rows, schema={"metric": pl.String, "key": pl.String, "value": pl.Float64},
                         orient="row")  # fmt: skip
    return _with_shares(frame.select(pl.lit(column).alias("column"), pl.all()))


def _with_shares(frame: pl.DataFrame) -> pl.DataFrame:
    """``share`` = value ÷ documents of the same column, for counts of documents."""
    documents = frame.filter(pl.col("metric") == "documents").select(
        "column", pl.col("value").alias("_n")
    )
    countable = ~pl.col("metric").str.ends_with("_sum") & ~pl.col("metric").str.contains(
        "_sum_squares|_max|documents$"
    )
    countable = countable | pl.col("metric").is_in(
        ["null_documents", "empty_documents", "non_printable_documents", "mojibake_documents",
         "profanity_documents", "pii_documents"]
    )  # fmt: skip
    return (
        frame.drop("share", strict=False)
        .join(documents, on="column", how="left")
        .with_columns(
            pl.when(countable & (pl.col("_n") > 0))
            .then(pl.col("value") / pl.col("_n"))
            .otherwise(None)
            .alias("share")
        )
        .drop("_n")
    )


def merge_profiles(profiles: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """Profiles of several days or chunks merged: values added (maxima maxed), shares redone."""
    stacked = pl.concat([p.select("column", "metric", "key", "value") for p in profiles])
    merged = stacked.group_by("column", "metric", "key", maintain_order=True).agg(
        pl.when(pl.col("metric").first().str.ends_with("_max"))
        .then(pl.col("value").max())
        .otherwise(pl.col("value").sum())
        .alias("value")
    )
    return _with_shares(merged)


def headline(profile: pl.DataFrame) -> dict[str, float]:
    """Shares a check or the readiness score reads from one column's profile."""

    def value(metric: str, key: str | None = None) -> float:
        rows = profile.filter(pl.col("metric") == metric)
        if key is not None:
            rows = rows.filter(pl.col("key") == key)
        return float(rows["value"].sum()) if rows.height else 0.0

    n = value("documents")
    languages = profile.filter(pl.col("metric") == "language").sort("value", descending=True)
    top = float(languages["value"][0]) if languages.height else 0.0
    return {
        "documents": n,
        "duplicate_share": (value("exact_duplicates") + value("near_duplicates")) / n if n else 0.0,
        "seen_before_share": value("seen_before") / n if n else 0.0,
        "pii_share": value("pii_documents") / n if n else 0.0,
        "pass_rate": value("passed_filters") / n if n else 1.0,
        "top_language_share": top / n if n else 0.0,
    }
