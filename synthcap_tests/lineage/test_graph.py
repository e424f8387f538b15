"""The lineage graph and the ``synthcap lineage`` command on hand-made events."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from openlineage.client.serde import Serde

from synthcap_assets.cli import main
from synthcap_assets.lineage import events, facets
from synthcap_assets.lineage.graph import column_edges, table_edges, table_name, walk
from synthcap_resources.lineage import LineageResource

NS = "file:///lake"


def _complete(
    job: str,
    inputs: list[str],
    outputs: dict[str, dict[str, list[str]]],
    partition: dict[str, str] | None = None,
) -> dict:
    """A COMPLETE event of ``job``; ``outputs`` maps each output to its column lineage."""
    ctx = events.RunContext(
        "synthcap", job, events.ASSET_JOB, "j", str(uuid.uuid4()), dt.date.today()
    )
    outs = []
    for name, lineage in outputs.items():
        written = partition or {"date": "2026-11-16"}
        out = Serde.to_dict(events.planned_output(NS, name, written))
        if lineage:
            facet = facets.column_lineage_facet(lineage, NS, inputs[0], f"by {job}")
            out["facets"] = {"columnLineage": Serde.to_dict(facet)}
        outs.append(out)
    event = events.run_event(
        "COMPLETE",
        ctx,
        inputs=[events.input_dataset(NS, events.DatasetRead(i, {})) for i in inputs],
    )
    event["outputs"] = outs
    return event


@pytest.fixture
def recorded() -> list[dict]:
    return [
        _complete("raw_capture", ["/data/a.csv"], {"raw/a": {}}),
        _complete("profile", ["raw/a"], {"reports/profile": {}}),
        _complete(
            "feature_set", ["raw/a", "reports/privacy_report"], {"features/a": {"x__z": ["x"]}}
        ),
        _complete("synthetic_sample", ["raw/a", "reports/profile"], {"synthetic/a": {"x": ["x"]}}),
        events.run_event(  # a START adds no edges
            "START",
            events.RunContext(
                "synthcap", "drift", events.ASSET_JOB, "j", str(uuid.uuid4()), dt.date.today()
            ),
            inputs=[events.input_dataset(NS, events.DatasetRead("raw/a", {}))],
        ),
    ]


def test_table_names_from_paths_and_sql_names() -> None:
    assert table_name("raw/a") == "raw/a"
    assert table_name("feature_set__market_prices") == "features/market_prices"
    assert table_name("synthetic_sample__a_b") == "synthetic/a_b"
    assert table_name("profile") == "reports/profile"
    assert table_name("audit__compliance") == "audit/compliance"


def test_walks_are_breadth_first_each_node_once(recorded: list[dict]) -> None:
    edges = table_edges(recorded)
    down = walk("raw/a", edges, upstream=False)
    assert [(s.depth, s.node, s.edge.how) for s in down] == [
        (1, "features/a", "feature_set"),
        (1, "reports/profile", "profile"),
        (1, "synthetic/a", "synthetic_sample"),
    ]
    up = walk("synthetic/a", edges, upstream=True)
    assert [(s.depth, s.node) for s in up] == [
        (1, "raw/a"),
        (1, "reports/profile"),
        (2, "/data/a.csv"),
    ]
    assert walk("reports/privacy_report", edges, upstream=True) == []


def test_column_edges_come_from_column_lineage(recorded: list[dict]) -> None:
    edges = {(e.source, e.target, e.how) for e in column_edges(recorded)}
    assert edges == {
        ("raw/a.x", "features/a.x__z", "by feature_set"),
        ("raw/a.x", "synthetic/a.x", "copied"),  # same name: an identity by default
    }


def test_a_walk_within_a_source_ignores_other_sources_in_shared_reports() -> None:
    recorded = []
    for src in ("a", "b"):
        report = {"source": src, "date": "2026-11-16"}
        recorded += [
            _complete("privacy_report", [f"raw/{src}"], {"reports/privacy_report": {}}, report),
            _complete(
                "feature_set", [f"raw/{src}", "reports/privacy_report"], {f"features/{src}": {}}
            ),
        ]
    edges = table_edges(recorded)
    from_a = [s.node for s in walk("raw/a", edges, upstream=False, scope="a")]
    assert from_a == ["features/a", "reports/privacy_report"]
    into_b = [s.node for s in walk("features/b", edges, upstream=True, scope="b")]
    assert into_b == ["raw/b", "reports/privacy_report"]
    shared = [s.node for s in walk("reports/privacy_report", edges, upstream=False)]
    assert shared == ["features/a", "features/b"]
    # the edges out of raw/a are a's own, so the walk takes on a's scope by itself
    assert [s.node for s in walk("raw/a", edges, upstream=False)] == from_a


def _write(tmp_path: Path, recorded: list[dict]) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in recorded) + '\n{"torn')
    return path


def test_the_command_through_synthcap_main(tmp_path: Path, recorded, capsys) -> None:
    path = _write(tmp_path, recorded)
    assert main(["lineage", "raw/a", "--events", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == ["raw/a", "upstream:", "  /data/a.csv  [raw_capture]"]
    assert "  synthetic/a  [synthetic_sample]" in out.split("downstream:")[1]
    assert main(["lineage", "raw/a", "--column", "x", "--events", str(path)]) == 0
    out = capsys.readouterr().out
    assert "  features/a.x__z  [by feature_set]" in out
    assert main(["lineage", "raw/a", "--column", "nope", "--events", str(path)]) == 1
    assert "no recorded lineage for column 'raw/a.nope'" in capsys.readouterr().err
    assert main(["lineage", "raw/a", "--lake", str(tmp_path / "empty")]) == 2
    assert "no lineage events at" in capsys.readouterr().err


def test_flush_delivers_what_is_queued(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("SYNTHCAP_LINEAGE_TRANSPORTS", "file")
    lake = str(tmp_path / "lake")
    queued = LineageResource(
        lake=lake, transports=["file", "http"], url="http://127.0.0.1:9", retries=0
    )
    event = _complete("profile", ["raw/a"], {"reports/profile": {}})
    assert queued.emit(event).queued == {"http": 1}
    assert main(["lineage", "--flush", "--lake", lake]) == 0
    assert "delivered 0 queued events" in capsys.readouterr().out  # only 'file' is configured
    monkeypatch.setenv("SYNTHCAP_LINEAGE_TRANSPORTS", "http")
    monkeypatch.setenv("SYNTHCAP_LINEAGE_URL", "http://127.0.0.1:9")
    assert main(["lineage", "--flush", "--lake", lake]) == 1
    assert "http: 1 still queued" in capsys.readouterr().out
