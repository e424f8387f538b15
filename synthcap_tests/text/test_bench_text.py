"""``synthcap bench text`` smoke run: small corpus, datasketch as the near-duplicate peer.

datatrove needs an environment of its own made with pip (minutes, network): the full run
(``synthcap bench text``) makes it; here it is left out with ``--tools datasketch``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from synthcap_assets.bench.text import _true_jaccard, agreement
from synthcap_assets.bench.text_data import bench_corpus
from synthcap_assets.cli import main


def test_bench_text_smoke(tmp_path: Path, capsys) -> None:
    out = tmp_path / "text.json"
    assert (
        main(["bench", "text", "--rows", "800", "--tools", "datasketch", "--json", str(out)]) == 0
    )
    document = json.loads(out.read_text())
    assert document["docs"] == 800 and document["shingle_check"] is True
    assert set(document["filters"]) == {
        "gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality",
    }  # fmt: skip
    near = document["near_duplicates"]
    assert near["synthcap"]["recall"] >= 0.99 and near["synthcap"]["precision"] == 1.0
    assert near["datasketch"]["recall"] >= 0.99 and near["ratio"] > 0
    assert "datatrove" not in document["skipped"]
    assert "near duplicates: synthcap" in capsys.readouterr().out


def test_corpus_plants_pairs_on_both_sides_of_the_cut() -> None:
    texts, planted = bench_corpus(2000, seed=3)
    true = np.array(_true_jaccard(texts, planted))
    assert len(planted) == 40 and (true >= 0.9).mean() > 0.5 and (true < 0.95).any()


def test_agreement_counts_rules_on_both_sides() -> None:
    found = agreement(["a", None, "b", None], ["a", None, None, "c"])
    assert found["keep_drop"] == 0.5
    assert found["per_rule"] == {"a": 1.0, "b": 0.75, "c": 0.75}
    assert found["peer_drop_share"] == 0.5
