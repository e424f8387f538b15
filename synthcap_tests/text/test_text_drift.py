"""The text drift row against scipy on the same counts and lengths."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import ks_2samp

from synthcap_assets.kernels.drift import DriftThresholds
from synthcap_assets.profile.drift import VOCABULARY_TOP, drift_between, text_drift_row

WORDS = [f"word{i}" for i in range(300)]


def _docs(rng: np.random.Generator, n: int, skew: float) -> list[str]:
    p = np.arange(1, 301, dtype=float) ** -skew
    return [" ".join(rng.choice(WORDS, size=int(rng.integers(5, 25)), p=p / p.sum()))
            for _ in range(n)]  # fmt: skip


def _vocab(ref: list[str], cur: list[str]) -> tuple[np.ndarray, np.ndarray]:
    count = [{}, {}]
    for side, docs in enumerate((ref, cur)):
        for d in docs:
            for w in re.findall(r"\w+", d.lower()):
                count[side][w] = count[side].get(w, 0) + 1
    tokens = sorted(set(count[0]) | set(count[1]), key=lambda w: (-(count[0].get(w, 0)
                    + count[1].get(w, 0)), w))  # fmt: skip
    r = np.array([count[0].get(w, 0) for w in tokens], float)
    c = np.array([count[1].get(w, 0) for w in tokens], float)
    k = VOCABULARY_TOP
    return np.append(r[:k], r[k:].sum()), np.append(c[:k], c[k:].sum())


@pytest.mark.parametrize("skew", [1.0, 0.3])
def test_vocabulary_and_lengths_match_scipy(skew: float) -> None:
    rng = np.random.default_rng(int(skew * 10))
    ref, cur = _docs(rng, 400, 1.0), _docs(rng, 300, skew)
    row = text_drift_row("body", pl.Series(ref), pl.Series(cur), DriftThresholds())
    r, c = _vocab(ref, cur)
    assert row["jensenshannon"] == pytest.approx(jensenshannon(c, r, base=2), abs=1e-9)
    ks = ks_2samp([len(d) for d in ref], [len(d) for d in cur])
    assert row["ks_statistic"] == pytest.approx(ks.statistic, abs=1e-9)
    assert row["kind"] == "text" and row["drifted"] == (skew != 1.0)
    assert row["method"] == "text_vocabulary_js"


def test_same_source_days_do_not_drift_and_a_language_switch_does() -> None:
    rng = np.random.default_rng(3)
    en = ["Where is my parcel? It should have arrived days ago.",
          "I want a refund for the broken lamp, please.",
          "My account is locked and the reset email never comes."]  # fmt: skip
    fr = ["Où est mon colis ? Il devait arriver il y a des jours.",
          "Je veux un remboursement pour la lampe cassée.",
          "Mon compte est bloqué et l'email ne vient jamais."]  # fmt: skip
    day = lambda pool, n: pl.DataFrame({"body": [str(rng.choice(pool)) for _ in range(n)]})  # noqa: E731
    same = drift_between(day(en, 200), day(en, 200))
    assert same.row(0, named=True)["drifted"] is False
    switched = drift_between(day(fr + en, 200), day(en, 200)).row(0, named=True)
    assert switched["drifted"] and switched["method"] == "text_vocabulary_js"
    assert "language mix JS" in switched["detail"]
