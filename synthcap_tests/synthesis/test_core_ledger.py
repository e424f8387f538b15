"""Write-ahead ledger: every release is booked before its noise is drawn, so a synthesis that
fails after its domain measurements has spent, and recorded, exactly their share."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from synthcap_assets.profile.stats import profile_frame
from synthcap_assets.synthesis import synthesize as synth_module
from synthcap_assets.synthesis.dp_domain import LAST_STAGE, RANGE_STAGE
from synthcap_assets.synthesis.engine import cdp_rho_of, engine
from synthcap_assets.synthesis.ledger import (
    BudgetExceededError,
    decide,
    read_ledger,
    release_recorder,
)
from synthcap_assets.synthesis.synthesize import SynthesisError, synthesize
from synthcap_resources.catalog import PrivacySpec
from synthcap_resources.lakehouse import LakehouseResource

DAY = dt.date(2026, 11, 16)


def _frame(n: int = 1500, seed: int = 4) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, n)
    return pl.DataFrame(
        {
            "x": x,
            "y": x * 2 + rng.normal(0, 5, n),
            "kind": rng.choice(["a", "b"], n, p=[0.6, 0.4]).tolist(),
        }
    )


def _failing_engine(where: str):
    real = engine()

    if where == "build":

        def broken() -> None:
            raise ValueError("injected: the synthesizer could not be built")

        return broken

    class FailingFit(real.quick_mst):
        def fit(self, *args, **kwargs):
            raise ValueError("injected: the fit crashed")

    return lambda: dataclasses.replace(real, quick_mst=FailingFit)


@pytest.mark.parametrize("where", ["build", "fit"])
def test_a_failed_synthesis_has_booked_exactly_what_it_released(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    lakehouse = LakehouseResource(root=str(tmp_path / "lake"))
    privacy = PrivacySpec(epsilon=1.0, budget=5.0, preprocess_share=0.3)
    record = release_recorder(lakehouse, "src", DAY, privacy, run_id="run-1")
    seen: list[tuple[str, float]] = []

    def on_release(what: str, epsilon: float) -> None:
        # Write-ahead: by the time the release is announced, nothing of it is in the ledger;
        # once booked, it is there before the noise is drawn.
        before = read_ledger(lakehouse)
        record(what, epsilon)
        after = read_ledger(lakehouse)
        assert after.height == (0 if before is None else before.height) + 1
        seen.append((what, epsilon))

    monkeypatch.setattr(synth_module, "engine", _failing_engine(where))
    df = _frame()
    with pytest.raises(SynthesisError, match="injected") as failure:
        synthesize(
            df,
            profile=profile_frame(df),
            epsilon=privacy.epsilon,
            delta=privacy.delta,
            preprocess_share=privacy.preprocess_share,
            on_release=on_release,
        )
    ledger = read_ledger(lakehouse)
    domain = ledger.filter(pl.col("release").str.starts_with("domain"))
    # The domain releases: ranges and the last zoom (x, y not narrow), categories, nulls.
    assert set(domain["release"]) >= {RANGE_STAGE, LAST_STAGE}
    domain_epsilon = float(domain["epsilon"].sum())
    # Each share is its fraction of rho: here every column's domain was measured in full.
    assert domain_epsilon == pytest.approx(privacy.preprocess_share * privacy.epsilon, rel=1e-9)
    expected = domain_epsilon if where == "build" else privacy.epsilon
    assert float(ledger["epsilon"].sum()) == pytest.approx(expected, rel=1e-9)
    assert failure.value.spent_epsilon == pytest.approx(expected, rel=1e-9)
    assert [w for w, _ in seen] == ledger.sort("spent_at")["release"].to_list()
    assert ("fit: mst" in ledger["release"].to_list()) == (where == "fit")
    # The ledger keeps the budget decision's reading: rho and delta shares follow epsilon's.
    rho = cdp_rho_of(privacy.epsilon, privacy.delta / 2)
    assert ledger["rho"].to_numpy() == pytest.approx(ledger["epsilon"].to_numpy() * rho)
    assert set(ledger["source"]) == {"src"} and set(ledger["date"]) == {DAY}
    # One synthesis, several releases: the budget decision counts it once.
    assert decide(ledger, "src", privacy.budget, 1.0).syntheses == 1


def test_a_release_past_the_budget_is_refused_before_it_happens(tmp_path: Path) -> None:
    lakehouse = LakehouseResource(root=str(tmp_path / "lake"))
    privacy = PrivacySpec(epsilon=1.0, budget=1.2, preprocess_share=0.3)
    df = _frame(n=800)
    done = synthesize(
        df,
        profile=profile_frame(df),
        epsilon=1.0,
        preprocess_share=0.3,
        on_release=release_recorder(lakehouse, "src", DAY, privacy, run_id="a"),
    )
    assert read_ledger(lakehouse)["epsilon"].sum() == pytest.approx(1.0)
    assert sum(e for _, e in done.releases) == pytest.approx(1.0)
    drawn: list[str] = []
    original = synth_module.private_profile

    def watching(*args, **kwargs):
        inner = kwargs["on_measure"]
        kwargs["on_measure"] = lambda what, rho: (inner(what, rho), drawn.append(what))
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(synth_module, "private_profile", watching)
        with pytest.raises(BudgetExceededError, match="refused"):
            synthesize(
                df,
                profile=profile_frame(df),
                epsilon=1.0,
                preprocess_share=0.3,
                on_release=release_recorder(lakehouse, "src", DAY, privacy, run_id="b"),
            )
    ledger = read_ledger(lakehouse)
    # 0.2 of budget left: the first release (ranges, 0.3 * 0.6 * 2/3 of epsilon) fits, the
    # next does not, and nothing after the refusal was released.
    assert ledger.filter(pl.col("run_id") == "b").sort("spent_at")["release"].to_list() == drawn
    assert float(ledger["epsilon"].sum()) <= 1.2 + 1e-9
