"""The synthesis step's fast paths give what the slow ones gave.

- The ledger read (``ledger.read_ledger`` keeps the rows of the last version it read): after
  own appends, another writer's append, a checkpoint, and a table removed and written again,
  it equals the table read whole with deltalake.
- MST's measurements (``engine`` ``QuickMST.measure``): the same true marginals as
  smartnoise's ``measure`` (private-pgm's projection), the same sigma, and noise whose
  distribution is the continuous Gaussian of that sigma (Kolmogorov-Smirnov against scipy).
- Distances to the closest record (``evaluate.nearest``): numpy for a day's sizes, the JAX
  kernel above them; both equal scipy's ``cdist`` minimum.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from deltalake import DeltaTable
from scipy import stats
from scipy.spatial.distance import cdist

from synthcap_assets.synthesis import evaluate, ledger
from synthcap_assets.synthesis.engine import engine, gaussian_vector
from synthcap_resources.lakehouse import LakehouseResource

DAY = dt.date(2026, 11, 16)


def _row(source: str, epsilon: float, release: str) -> pl.DataFrame:
    return ledger.spend_row(
        source,
        DAY,
        epsilon=epsilon,
        delta=1e-9,
        rho=0.01,
        rho_preprocess=0.0,
        synthesizer="mst",
        run_id="r",
        release=release,
    )


def _whole(lakehouse: LakehouseResource) -> pl.DataFrame:
    """The ledger read whole, straight from deltalake, in a fixed order."""
    table = DeltaTable(lakehouse.uri(ledger.LEDGER_TABLE)).to_pyarrow_table()
    return pl.from_arrow(table).sort("release")


def _same(lakehouse: LakehouseResource) -> None:
    got = ledger.read_ledger(lakehouse)
    assert got is not None
    assert got.sort("release").equals(_whole(lakehouse))


def test_the_ledger_read_is_the_table_after_appends_checkpoints_and_a_rewrite(
    tmp_path: Path,
) -> None:
    lakehouse = LakehouseResource(root=str(tmp_path / "lake"))
    assert ledger.read_ledger(lakehouse) is None
    rng = np.random.default_rng(0)
    for i in range(ledger.CHECKPOINT_EVERY + 3):  # past a checkpoint
        ledger.record_spend(lakehouse, _row("s", float(rng.uniform(0.01, 0.1)), f"a{i:02}"), 100)
        _same(lakehouse)
    log = Path(lakehouse.uri(ledger.LEDGER_TABLE)) / "_delta_log"
    assert list(log.glob("*.checkpoint.parquet"))
    # Another writer (another process: it shares no cache) appends; the next read sees it.
    lakehouse.append(ledger.LEDGER_TABLE, _row("t", 0.5, "foreign"))
    _same(lakehouse)
    assert ledger.decide(ledger.read_ledger(lakehouse), "t", 1.0, 0.6).allowed is False
    # The table removed and written again, up to the same version as before.
    version = DeltaTable(lakehouse.uri(ledger.LEDGER_TABLE)).version()
    shutil.rmtree(lakehouse.uri(ledger.LEDGER_TABLE))
    for i in range(version + 1):
        lakehouse.append(ledger.LEDGER_TABLE, _row("u", 0.25, f"b{i:02}"))
    assert DeltaTable(lakehouse.uri(ledger.LEDGER_TABLE)).version() == version
    _same(lakehouse)
    assert set(ledger.read_ledger(lakehouse)["source"]) == {"u"}


def test_mst_measures_smartnoises_marginals_with_gaussian_noise_of_its_sigma() -> None:
    from mbi import Dataset, Domain

    rng = np.random.default_rng(1)
    sizes = {"a": 6, "b": 9, "c": 4}
    rows = 700
    data = Dataset(
        {c: rng.integers(0, k, rows) for c, k in sizes.items()},
        Domain(list(sizes), list(sizes.values())),
    )
    cliques = [("a",), ("b",), ("c",), ("a", "b"), ("c", "b")]
    sigma = 3.0  # smartnoise divides it by each clique's weight, 1/sqrt(5) here
    model = engine().quick_mst(epsilon=1.0)
    # Noise over many repeats: each cell's noisy value minus its true count.
    noise: list[np.ndarray] = []
    for _ in range(24):
        measured = model.measure(data, cliques, sigma)
        for m, clique in zip(measured, cliques, strict=True):
            truth = np.asarray(data.project(clique).datavector(), dtype=np.float64)
            assert m.clique == clique and m.stddev == pytest.approx(sigma * np.sqrt(5))
            noise.append((np.asarray(m.noisy_measurement) - truth) / m.stddev)
    z = np.concatenate(noise)
    assert z.size == 24 * (6 + 9 + 4 + 54 + 36)
    # With 2616 draws a KS distance of 0.07 has probability below 1e-10 under N(0, 1).
    assert stats.kstest(z, "norm").statistic < 0.07
    assert abs(z.mean()) < 0.12 and abs(z.std() - 1) < 0.1


def test_gaussian_vector_is_n_0_sigma() -> None:
    draws = gaussian_vector(7.5, 4000)
    assert draws.shape == (4000,) and gaussian_vector(1.0, 0).shape == (0,)
    assert stats.kstest(draws / 7.5, "norm").statistic < 0.05


@pytest.mark.parametrize("seed", [0, 1])
def test_nearest_distances_in_numpy_and_in_the_kernel_equal_cdist(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(seed)
    reference = rng.random((int(rng.integers(50, 400)), int(rng.integers(1, 30))))
    queries = np.vstack([rng.random((120, reference.shape[1])), reference[:7]])  # 7 copies
    expected = cdist(queries, reference).min(axis=1)
    small = evaluate.nearest(queries, reference)
    np.testing.assert_allclose(small, expected, rtol=1e-12, atol=1e-12)
    assert (small[-7:] == 0).all()
    monkeypatch.setattr(evaluate, "_BLOCK_ELEMENTS", 1)  # one query row per block
    np.testing.assert_allclose(evaluate.nearest(queries, reference), expected, rtol=1e-12)
    monkeypatch.setattr(evaluate, "SMALL_WORK", 0)  # everything to the kernel
    np.testing.assert_allclose(evaluate.nearest(queries, reference), expected, rtol=1e-9)
