"""A text source's readiness facts from the bundled support tickets, against pandas: corpus
size, exact-duplicate share and the PII share the privacy report holds for the text column."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from synthcap_assets.capture.conform import conform
from synthcap_assets.privacy.pii import detect_pii
from synthcap_assets.synthesis.outcome import SAMPLE, Outcome, Verdict
from synthcap_assets.synthesis.readiness import readiness
from synthcap_assets.synthesis.readiness_inputs import text_facts
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR, load_catalog
from synthcap_resources.sources.files import read_source_file

DAY = dt.date(2026, 11, 16)


@pytest.fixture(scope="module")
def tickets():
    spec = load_catalog(BUNDLED_SOURCES_DIR)["support_tickets"]
    frame = conform(read_source_file(spec, DAY), spec.declared_schema, "test")
    return spec, frame


def test_corpus_facts_match_pandas(tickets) -> None:
    spec, frame = tickets
    privacy = detect_pii(frame, hints=spec.pii, partition_date=DAY)
    facts = text_facts(spec, frame, privacy)
    texts = frame.to_pandas()[spec.text_column].dropna().str.strip()
    texts = texts[texts.str.len() > 0]
    assert facts.column == "utterance" and facts.texts == len(texts) > 300
    assert facts.duplicate_share == pytest.approx(1 - texts.nunique() / len(texts))
    row = privacy.filter(pl.col("column") == "utterance").row(0, named=True)
    assert facts.pii_share == pytest.approx(row["match_share"] or 0.0)
    assert 0 < facts.pii_share < 0.5  # about a tenth of the tickets carry PII


def test_a_text_source_row_names_what_is_ready_and_what_is_not(tickets) -> None:
    spec, frame = tickets
    facts = text_facts(spec, frame, None)
    assert facts.pii_share is None  # no privacy report: not claimed
    sample = Outcome(
        status=SAMPLE,
        dropped={"utterance": "free text", "ticket_id": "identifier"},
        sample_rows=frame.height,
        synthesized=["channel", "intent", "priority"],
        counted_columns=["channel", "intent", "priority", "created_at", "ticket_id"],
        utility=0.6,
        utility_floor=0.5,
        verdict=Verdict([], [], []),
    )
    result = readiness(
        quality_score=99.0,
        quality_threshold=80.0,
        direct_identifiers=[],
        k_anonymity=None,
        unique_share=None,
        drifted_columns=[],
        compared_columns=0,
        utility=None,
        rows=frame.height,
        epsilon=1.0,
        synthesized_columns=3,
        synthesis=sample,
        text=facts,
    )
    assert f"corpus: {facts.texts} texts in utterance" in result.ready
    assert "label and structured columns synthesized: channel, intent, priority" in result.ready
    assert any("free text (utterance) is not modelled" in r for r in result.not_ready)
    assert text_facts(spec.model_copy(update={"domain": "tabular"}), frame, None) is None
