"""Validation of OpenLineage events against the spec's JSON schemas, offline.

Every schema under ``synthcap_tests/fixtures/openlineage`` goes into one ``referencing`` registry
keyed by its ``$id``, so the ``$ref``s between files resolve without a network. An event is
checked against ``OpenLineage.json`` and each of its facets against the schema of that facet,
chosen by where the facet sits and its key; a facet with no known schema is an error.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "openlineage"

# (where the facet sits, its key) -> (schema file stem, $defs name)
FACET_SCHEMAS: dict[tuple[str, str], tuple[str, str]] = {
    ("run", "parent"): ("ParentRunFacet", "ParentRunFacet"),
    ("run", "nominalTime"): ("NominalTimeRunFacet", "NominalTimeRunFacet"),
    ("run", "processing_engine"): ("ProcessingEngineRunFacet", "ProcessingEngineRunFacet"),
    ("run", "errorMessage"): ("ErrorMessageRunFacet", "ErrorMessageRunFacet"),
    ("run", "testRun"): ("TestRunFacet", "TestRunFacet"),
    ("job", "jobType"): ("JobTypeJobFacet", "JobTypeJobFacet"),
    ("job", "documentation"): ("DocumentationJobFacet", "DocumentationJobFacet"),
    ("dataset", "schema"): ("SchemaDatasetFacet", "SchemaDatasetFacet"),
    ("dataset", "dataSource"): ("DatasourceDatasetFacet", "DatasourceDatasetFacet"),
    ("dataset", "storage"): ("StorageDatasetFacet", "StorageDatasetFacet"),
    ("dataset", "version"): ("DatasetVersionDatasetFacet", "DatasetVersionDatasetFacet"),
    ("dataset", "documentation"): ("DocumentationDatasetFacet", "DocumentationDatasetFacet"),
    ("dataset", "ownership"): ("OwnershipDatasetFacet", "OwnershipDatasetFacet"),
    ("dataset", "columnLineage"): ("ColumnLineageDatasetFacet", "ColumnLineageDatasetFacet"),
    ("input", "subset"): ("BaseSubsetDatasetFacet", "InputSubsetInputDatasetFacet"),
    ("input", "dataQualityMetrics"): (
        "DataQualityMetricsInputDatasetFacet",
        "DataQualityMetricsInputDatasetFacet",
    ),
    ("input", "dataQualityAssertions"): (
        "DataQualityAssertionsDatasetFacet",
        "DataQualityAssertionsDatasetFacet",
    ),
    ("output", "subset"): ("BaseSubsetDatasetFacet", "OutputSubsetOutputDatasetFacet"),
    ("output", "outputStatistics"): (
        "OutputStatisticsOutputDatasetFacet",
        "OutputStatisticsOutputDatasetFacet",
    ),
}

_FORMATS = jsonschema.FormatChecker()


@_FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parsed = dt.datetime.fromisoformat(value)  # raises on malformed text
    return "T" in value and parsed.tzinfo is not None


@_FORMATS.checks("uri", raises=ValueError)
def _uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


def _load() -> tuple[Registry, dict[str, str]]:
    files = sorted(FIXTURES.rglob("*.json"))
    contents = {path.stem: json.loads(path.read_text()) for path in files}
    registry = Registry().with_resources(
        (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012))
        for doc in contents.values()
    )
    return registry, {stem: doc["$id"] for stem, doc in contents.items()}


REGISTRY, SCHEMA_IDS = _load()


def _validator(ref: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        {"$ref": ref}, registry=REGISTRY, format_checker=_FORMATS
    )


def _facets(event: dict[str, Any]):
    yield from (("run", k, v) for k, v in (event["run"].get("facets") or {}).items())
    yield from (("job", k, v) for k, v in (event["job"].get("facets") or {}).items())
    for dataset in [*(event.get("inputs") or []), *(event.get("outputs") or [])]:
        yield from (("dataset", k, v) for k, v in (dataset.get("facets") or {}).items())
    for dataset in event.get("inputs") or []:
        yield from (("input", k, v) for k, v in (dataset.get("inputFacets") or {}).items())
    for dataset in event.get("outputs") or []:
        yield from (("output", k, v) for k, v in (dataset.get("outputFacets") or {}).items())


def validate_event(event: dict[str, Any]) -> None:
    """Raise if ``event`` breaks the spec or a facet breaks its own schema."""
    _validator(SCHEMA_IDS["OpenLineage"] + "#/$defs/RunEvent").validate(event)
    _validator(SCHEMA_IDS["OpenLineage"]).validate(event)
    for where, key, facet in _facets(event):
        if (where, key) not in FACET_SCHEMAS:
            raise AssertionError(f"{where} facet {key!r} has no schema to validate against")
        stem, name = FACET_SCHEMAS[(where, key)]
        ref = f"{SCHEMA_IDS[stem]}#/$defs/{name}"
        if facet.get("_schemaURL") != ref:
            raise AssertionError(f"{where} facet {key!r}: _schemaURL {facet.get('_schemaURL')}")
        _validator(ref).validate(facet)
