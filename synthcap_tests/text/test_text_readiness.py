"""A text source's readiness facts from the text stages, against the corpus built alone."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from synthcap_assets.capture.conform import conform
from synthcap_assets.synthesis.readiness import readiness
from synthcap_assets.synthesis.readiness_inputs import text_facts
from synthcap_assets.text.corpus import clean_corpus
from synthcap_assets.text.day import dedup_params
from synthcap_assets.text.facts import document_facts
from synthcap_assets.text.signals import QualityRules
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR, load_catalog
from synthcap_resources.sources.files import read_source_file

DAY = dt.date(2026, 11, 17)


def test_text_readiness_facts_match_the_corpus() -> None:
    spec = load_catalog(BUNDLED_SOURCES_DIR)["multilingual_messages"]
    frame = conform(read_source_file(spec, DAY), spec.declared_schema, "test")
    facts = text_facts(spec, frame, None)
    docs, _ = document_facts(
        frame["message"],
        rules=QualityRules.from_overrides(spec.text.filter_params),
        dedup=dedup_params(spec),
    )
    corpus = clean_corpus(frame, "message", docs, languages=spec.text.languages,
                          gates=spec.text.filters)  # fmt: skip
    assert facts.corpus_documents == corpus.height > 100
    assert facts.near_duplicate_share == pytest.approx(docs["near_duplicate"].mean())
    assert facts.near_duplicate_share >= 8 / frame.height  # the planted near duplicates
    assert facts.language_purity == 1.0  # all five languages are allowed
    passing = docs.filter(
        pl.col("gopher_quality").is_null() & pl.col("gopher_repetition").is_null()
    )
    assert facts.pass_rate == pytest.approx(passing.height / frame.height)
    result = readiness(
        quality_score=95.0, quality_threshold=80.0, direct_identifiers=[], k_anonymity=None,
        unique_share=None, drifted_columns=[], compared_columns=0, utility=None,
        rows=frame.height, epsilon=1.0, synthesized_columns=2, text=facts,
    )  # fmt: skip
    assert f"clean corpus (before earlier days' duplicates): {corpus.height}" in result.ready
    assert any(r.startswith("near duplicates: ") for r in result.ready)
