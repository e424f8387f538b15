"""``synthcap bench profile --scale`` at smoke size: the table written as several Delta files,
every tool run from those files in its own process (synthcap through the per-file reader),
the rows and the plot written; a tool that cannot run says why in its row; the split bench's
estimate (``bench.scale_split``; its smoke run is ``-m slow``)."""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from synthcap_assets.bench.data import NUMERIC_COLUMNS
from synthcap_assets.bench.scale import (
    CANNOT_RUN,
    SCALE_TOOLS,
    failure_cause,
    format_scale,
    plot_scale,
    run_scale_bench,
    run_tool,
    write_delta,
)
from synthcap_assets.bench.scale_split import estimate_seconds, format_split, run_split_bench


def test_scale_smoke_runs_every_tool_from_delta_files(tmp_path: Path) -> None:
    document = run_scale_bench((12_000,), root=tmp_path, file_rows=4_000)
    assert [r["tool"] for r in document["results"]] == list(SCALE_TOOLS)
    for row in document["results"]:
        assert "error" not in row, row
        assert row["rows"] == 12_000 and row["files"] == 3
        assert row["seconds"] > 0 and row["peak_mb"] >= 0
        assert {"moments", "quantiles", "distinct"} <= set(row["families"])
    png = plot_scale(document, tmp_path / "scale.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_delta_table_holds_the_rows_chunk_by_chunk(tmp_path: Path) -> None:
    uri = write_delta(10_000, root=tmp_path, file_rows=3_000)
    assert len(list(Path(uri).glob("*.parquet"))) == 4
    frame = pl.read_delta(uri)
    assert frame.height == 10_000
    assert frame.select(NUMERIC_COLUMNS).null_count().to_numpy().sum() > 0  # nulls kept
    assert write_delta(10_000, root=tmp_path, file_rows=3_000) == uri  # reused
    assert np.isfinite(frame["x0"].drop_nulls().to_numpy()).all()


def test_a_tool_that_cannot_run_gets_its_cause_in_the_row(tmp_path: Path) -> None:
    # A run past its time limit is stopped and named (the child is killed, nothing waits).
    row = run_tool("synthcap", str(tmp_path / "absent"), timeout=0.01)
    assert row == {"tool": "synthcap", "error": f"{CANNOT_RUN}: did not finish within 0 s"}
    killed = failure_cause(-signal.SIGKILL, "")
    assert killed.startswith("killed by SIGKILL") and "out-of-memory" in killed
    trace = "Traceback (most recent call last):\n  ...\nMemoryError: cannot allocate 8 GiB\n"
    assert failure_cause(1, trace) == "MemoryError: cannot allocate 8 GiB"
    assert failure_cause(3, "") == "exit status 3"
    document = {"file_rows": 1, "results": [{**row, "rows": 10, "files": 1}]}
    assert f"{CANNOT_RUN}: did not finish" in format_scale(document)


def test_split_estimate_schedules_longest_first() -> None:
    tasks = [5.0, 4.0, 3.0, 3.0, 1.0]
    assert estimate_seconds(tasks, 0.5, 1) == pytest.approx(16.5)
    assert estimate_seconds(tasks, 0.5, 2) == pytest.approx(8.5)  # {5, 3} {4, 3, 1}
    assert estimate_seconds(tasks, 0.0, 8) == pytest.approx(5.0)


@pytest.mark.slow
def test_split_bench_smoke(tmp_path: Path) -> None:
    """Both modes at smoke size (spawns a 2-process LocalCluster: ~1-3 min; ``-m slow``)."""
    document = run_split_bench(12_000, 2, root=tmp_path, file_rows=4_000)
    single, dask = document["results"]
    assert single["files"] == dask["files"] == 3 and len(dask["peak_mb_per_worker"]) == 2
    assert single["seconds"] > 0 and dask["seconds"] > 0
    assert "estimated seconds on k workers" in format_split(document)
