"""OpenLineage run events for synthcap's asset and check runs, built from plain descriptions.

One OpenLineage job per asset (``<asset>``) and per check (``<asset>.<check>``) in the job
namespace (``synthcap``); its run id is a UUIDv5 of the Dagster run id and the job name, so the
same step always yields the same run id and a re-emitted event is recognisably the same event.
Every run names the Dagster run as its parent. Pure: events come out as JSON-ready dicts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import InputDatasetFacet, RunFacet, column_lineage_dataset
from openlineage.client.serde import Serde

from synthcap_assets.lineage import facets

RUN_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:synthcap:lineage:run")
ASSET_JOB = "ASSET"
CHECK_JOB = "ASSET_CHECK"


def lineage_run_id(dagster_run_id: str, job_name: str) -> str:
    """The OpenLineage run id of ``job_name`` within Dagster run ``dagster_run_id``."""
    return str(uuid.uuid5(RUN_ID_NAMESPACE, f"{dagster_run_id}/{job_name}"))


def event_time(when: dt.datetime | None = None) -> str:
    """``when`` (default now) as ISO 8601 UTC with milliseconds."""
    moment = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class RunContext:
    """Which job ran, in which Dagster run, for which partition day."""

    namespace: str
    job_name: str
    job_type: str
    dagster_job: str
    dagster_run_id: str
    day: dt.date
    description: str | None = None

    @property
    def run_id(self) -> str:
        return lineage_run_id(self.dagster_run_id, self.job_name)


@dataclass(frozen=True)
class DatasetWrite:
    """One partition write, with what lineage says about it."""

    table: str
    partition: Mapping[str, str]
    columns: Sequence[tuple[str, str]]
    version: int
    rows: int
    size: int | None
    files: int | None
    documentation: str | None = None
    owner: str | None = None
    column_lineage: column_lineage_dataset.ColumnLineageDatasetFacet | None = None


@dataclass(frozen=True)
class DatasetRead:
    """One partition read, with any input facets (data quality metrics, assertions)."""

    table: str
    partition: Mapping[str, str]
    input_facets: Mapping[str, InputDatasetFacet] = field(default_factory=dict)


def input_dataset(namespace: str, read: DatasetRead) -> InputDataset:
    """A dataset read: its partition (if it has one) and any input facets."""
    subset = {"subset": facets.input_subset_facet(read.partition)} if read.partition else {}
    return InputDataset(
        namespace=namespace, name=read.table, inputFacets={**subset, **read.input_facets}
    )


def planned_output(namespace: str, table: str, partition: Mapping[str, str]) -> OutputDataset:
    """The output a run is about to write, as its START event names it."""
    return OutputDataset(
        namespace=namespace,
        name=table,
        outputFacets={"subset": facets.output_subset_facet(partition)},
    )


def output_dataset(namespace: str, write: DatasetWrite) -> OutputDataset:
    """A written partition with its schema, source, storage, version, docs, owner, lineage."""
    dataset_facets: dict[str, Any] = {
        "schema": facets.schema_facet(write.columns),
        "dataSource": facets.datasource_facet(namespace),
        "storage": facets.storage_facet(),
        "version": facets.version_facet(write.version),
    }
    if write.documentation:
        dataset_facets["documentation"] = facets.documentation_facet(write.documentation)
    if write.owner:
        dataset_facets["ownership"] = facets.ownership_facet(write.owner)
    if write.column_lineage is not None:
        dataset_facets["columnLineage"] = write.column_lineage
    return OutputDataset(
        namespace=namespace,
        name=write.table,
        facets=dataset_facets,
        outputFacets={
            "subset": facets.output_subset_facet(write.partition),
            "outputStatistics": facets.output_statistics_facet(write.rows, write.size, write.files),
        },
    )


def run_event(
    state: str,
    ctx: RunContext,
    *,
    inputs: Sequence[InputDataset] = (),
    outputs: Sequence[OutputDataset] = (),
    error: BaseException | None = None,
    run_facets: Mapping[str, RunFacet] | None = None,
    when: dt.datetime | None = None,
) -> dict[str, Any]:
    """A START, COMPLETE or FAIL event of ``ctx``'s run, serialized."""
    facets_of_run: dict[str, RunFacet] = {
        "parent": facets.parent_facet(ctx.namespace, ctx.dagster_job, ctx.dagster_run_id),
        "nominalTime": facets.nominal_time_facet(ctx.day),
        "processing_engine": facets.processing_engine_facet(),
        **(run_facets or {}),
    }
    if error is not None:
        facets_of_run["errorMessage"] = facets.error_facet(error)
    job_facets: dict[str, Any] = {"jobType": facets.job_type_facet(ctx.job_type)}
    if ctx.description:
        job_facets["documentation"] = facets.job_documentation_facet(ctx.description)
    event = RunEvent(
        eventType=RunState(state),
        eventTime=event_time(when),
        run=Run(runId=ctx.run_id, facets=facets_of_run),
        job=Job(namespace=ctx.namespace, name=ctx.job_name, facets=job_facets),
        inputs=list(inputs),
        outputs=list(outputs),
        producer=facets.PRODUCER,
    )
    return Serde.to_dict(event)
