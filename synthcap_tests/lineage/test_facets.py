"""Facets and events, built from seeded random data and checked against numpy and the spec."""

from __future__ import annotations

import copy
import datetime as dt
import uuid

import jsonschema
import numpy as np
import polars as pl
import pytest
from openlineage.client.serde import Serde

from synthcap_assets.features.build import build_features, feature_lineage
from synthcap_assets.lineage import events, facets, quality_facets
from synthcap_assets.profile.stats import profile_frame
from synthcap_tests.lineage.schemas import validate_event

DAY = dt.date(2026, 11, 16)
NS = "file:///lake"


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    """Numbers with nulls and NaN, integers, dates and text, seeded."""
    rng = np.random.default_rng(7)
    n = 300
    price = rng.lognormal(3, 0.5, n)
    price[rng.choice(n, 20, replace=False)] = np.nan
    return pl.DataFrame(
        {
            "price": price,
            "qty": rng.integers(0, 1_000, n),
            "day": [DAY - dt.timedelta(days=int(d)) for d in rng.integers(0, 90, n)],
            "city": rng.choice(["Oslo", "Lima", "Pune", None], n).tolist(),
        }
    )


def _finite(series: pl.Series) -> np.ndarray:
    if series.dtype == pl.Date:
        series = series.cast(pl.Int32)
    values = series.cast(pl.Float64).to_numpy()
    return values[np.isfinite(values)]


def test_data_quality_metrics_match_numpy(frame: pl.DataFrame) -> None:
    facet = Serde.to_dict(quality_facets.data_quality_metrics_facet(profile_frame(frame)))
    assert facet["rowCount"] == frame.height
    metrics = facet["columnMetrics"]
    assert set(metrics) == set(frame.columns)
    for name in ("price", "qty", "day"):
        values = _finite(frame[name])
        got = metrics[name]
        assert got["nullCount"] == frame.height - values.size
        assert got["distinctCount"] == np.unique(values).size
        assert got["count"] == values.size
        assert got["min"] == pytest.approx(values.min(), rel=1e-12)
        assert got["max"] == pytest.approx(values.max(), rel=1e-12)
        for q in quality_facets.PUBLISHED_QUANTILES:
            assert got["quantiles"][str(q)] == pytest.approx(np.quantile(values, q), rel=1e-9)
    city = metrics["city"]
    assert city["nullCount"] == frame["city"].null_count() > 0
    assert city["distinctCount"] == 3
    assert "min" not in city and city["quantiles"] == {}


def test_column_lineage_of_built_features() -> None:
    rng = np.random.default_rng(11)
    days = [DAY - dt.timedelta(days=i) for i in range(30)]
    close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (2, 30)), axis=1))
    raw = pl.DataFrame(
        {
            "ticker": ["AAA"] * 30 + ["BBB"] * 30,
            "date": days * 2,
            "open": close.ravel() * rng.uniform(0.98, 1.02, 60),
            "high": close.ravel() * 1.03,
            "low": close.ravel() * 0.97,
            "close": close.ravel(),
            "volume": rng.integers(1_000, 9_000, 60),
        }
    )
    features = build_features(raw, domain="financial", time_column="date", entity_column="ticker")
    derived = feature_lineage(raw.columns, features)
    facet = Serde.to_dict(
        facets.column_lineage_facet(derived, NS, "raw/prices", "feature extraction")
    )
    fields = facet["fields"]
    assert set(fields) == set(features.columns)
    (close_z,) = fields["close__z"]["inputFields"]
    assert (close_z["namespace"], close_z["name"], close_z["field"]) == (NS, "raw/prices", "close")
    assert close_z["transformations"] == [
        {
            "type": "DIRECT",
            "subtype": "TRANSFORMATION",
            "description": "feature extraction",
            "masking": False,
        }
    ]
    assert fields["ticker"]["inputFields"][0]["transformations"][0]["subtype"] == "IDENTITY"
    for output, spec in fields.items():
        assert {f["field"] for f in spec["inputFields"]} == set(derived[output])
        assert {f["field"] for f in spec["inputFields"]} <= set(raw.columns)


def test_synthesis_lineage_is_masking_and_never_identity() -> None:
    facet = Serde.to_dict(
        facets.column_lineage_facet(
            {"close": ["close"]},
            NS,
            "raw/prices",
            "DP synthesis (MST)",
            masking=True,
            same_name_is_identity=False,
        )
    )
    (transformation,) = facet["fields"]["close"]["inputFields"][0]["transformations"]
    assert transformation["subtype"] == "TRANSFORMATION" and transformation["masking"] is True
    assert transformation["description"] == "DP synthesis (MST)"


def test_nominal_time_is_the_partition_day_in_utc() -> None:
    facet = Serde.to_dict(facets.nominal_time_facet(dt.date(2026, 12, 31)))
    assert facet["nominalStartTime"] == "2026-12-31T00:00:00Z"
    assert facet["nominalEndTime"] == "2027-01-01T00:00:00Z"


def test_run_ids_are_stable_per_dagster_run_and_job() -> None:
    dagster_run = str(uuid.uuid4())
    first = events.lineage_run_id(dagster_run, "profile")
    assert first == events.lineage_run_id(dagster_run, "profile")
    assert first != events.lineage_run_id(dagster_run, "quality_report")
    assert first != events.lineage_run_id(str(uuid.uuid4()), "profile")
    assert uuid.UUID(first).version == 5


def _context(job: str = "profile", job_type: str = events.ASSET_JOB) -> events.RunContext:
    return events.RunContext(
        namespace="synthcap",
        job_name=job,
        job_type=job_type,
        dagster_job="daily_partition_job",
        dagster_run_id=str(uuid.uuid4()),
        day=DAY,
        description="A profile.",
    )


def _complete_event(frame: pl.DataFrame, ctx: events.RunContext | None = None) -> dict:
    outcome = quality_facets.CheckOutcome("not_empty", True, "error", "600 rows")
    read = events.DatasetRead(
        "raw/prices",
        {"_date": DAY.isoformat()},
        {
            "dataQualityMetrics": quality_facets.data_quality_metrics_facet(profile_frame(frame)),
            "dataQualityAssertions": quality_facets.assertions_facet([outcome]),
        },
    )
    write = events.DatasetWrite(
        table="reports/profile",
        partition={"source": "prices", "date": DAY.isoformat()},
        columns=facets.frame_columns(frame),
        version=3,
        rows=frame.height,
        size=12_345,
        files=1,
        documentation="The profile.",
        owner="team:data",
        column_lineage=facets.column_lineage_facet({"price": ["price"]}, NS, "raw/prices", "x"),
    )
    return events.run_event(
        "COMPLETE",
        ctx or _context(),
        inputs=[events.input_dataset(NS, read)],
        outputs=[events.output_dataset(NS, write)],
        run_facets={"testRun": quality_facets.run_tests_facet([outcome])},
    )


def test_every_kind_of_event_validates(frame: pl.DataFrame) -> None:
    ctx = _context()
    start = events.run_event(
        "START", ctx, outputs=[events.planned_output(NS, "reports/profile", {"date": "x"})]
    )
    validate_event(start)
    complete = _complete_event(frame, ctx)
    validate_event(complete)
    assert complete["outputs"][0]["facets"]["version"]["datasetVersion"] == "3"
    assert complete["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == frame.height
    assert complete["run"]["facets"]["parent"]["run"]["runId"] == ctx.dagster_run_id


def _explode() -> None:
    raise ValueError("boom")


def test_fail_event_carries_the_error_and_its_stack() -> None:
    try:
        _explode()
    except ValueError as exc:
        event = events.run_event("FAIL", _context(), error=exc)
    validate_event(event)
    error = event["run"]["facets"]["errorMessage"]
    assert error["message"] == "ValueError: boom" and error["programmingLanguage"] == "python"
    assert "_explode" in error["stackTrace"]


def test_a_file_input_has_no_partition_subset() -> None:
    dataset = Serde.to_dict(
        events.input_dataset("file", events.DatasetRead("/data/prices.csv", {}))
    )
    assert dataset["inputFacets"] == {} and dataset["name"] == "/data/prices.csv"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("outputs", 0, "outputFacets", "outputStatistics", "rowCount"), "many"),
        (("run", "facets", "nominalTime", "nominalStartTime"), "yesterday"),
        (("inputs", 0, "inputFacets", "subset", "inputCondition", "type"), "partitions"),
        (("run", "runId"), "not-a-uuid"),
        (("outputs", 0, "facets", "mystery"), {"_producer": "x:y", "_schemaURL": "x:y"}),
    ],
)
def test_the_validator_rejects_broken_events(frame: pl.DataFrame, path, value) -> None:
    event = copy.deepcopy(_complete_event(frame))
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises((jsonschema.ValidationError, AssertionError)):
        validate_event(event)
