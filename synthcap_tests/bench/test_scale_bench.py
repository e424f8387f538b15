"""``synthcap bench profile --scale`` at smoke size: the table written as several Delta files,
every tool run from those files in its own process (synthcap through the per-file reader),
the rows and the plot written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from synthcap_assets.bench.data import NUMERIC_COLUMNS
from synthcap_assets.bench.scale import SCALE_TOOLS, plot_scale, run_scale_bench, write_delta


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
