"""Pure builders of OpenLineage facets from what synthcap knows: frame schemas, Delta writes,
partitions, runs and column lineage (data quality facets are in ``quality_facets``).

Each function returns an openlineage-python facet object (so field names and ``_schemaURL``s are
the library's, generated from the spec); nothing here reads a file or talks to a server.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import traceback
from collections.abc import Mapping, Sequence

import polars as pl
from openlineage.client.facet_v2 import (
    base_subset_dataset,
    column_lineage_dataset,
    dataset_version_dataset,
    datasource_dataset,
    documentation_dataset,
    documentation_job,
    error_message_run,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    ownership_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
    storage_dataset,
)


@functools.cache  # importlib.metadata scans the installed distributions, twice per event
def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


PRODUCER = f"urn:synthcap:lineage:{_version('synthcap')}"


def utc_midnight(day: dt.date) -> str:
    """``day``'s start in UTC as ISO 8601 (``2026-11-16T00:00:00Z``)."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def schema_facet(columns: Sequence[tuple[str, str]]) -> schema_dataset.SchemaDatasetFacet:
    """The columns written, in order, with their polars types."""
    return schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(
                name=name, type=dtype, ordinal_position=i, fields=None
            )
            for i, (name, dtype) in enumerate(columns, start=1)
        ],
        producer=PRODUCER,
    )


def frame_columns(df: pl.DataFrame) -> list[tuple[str, str]]:
    """``df``'s (name, type) pairs, as :func:`schema_facet` takes them."""
    return [(name, str(dtype)) for name, dtype in df.schema.items()]


def datasource_facet(namespace: str) -> datasource_dataset.DatasourceDatasetFacet:
    return datasource_dataset.DatasourceDatasetFacet(
        name=namespace, uri=namespace, producer=PRODUCER
    )


def storage_facet() -> storage_dataset.StorageDatasetFacet:
    return storage_dataset.StorageDatasetFacet(
        storageLayer="delta", fileFormat="parquet", producer=PRODUCER
    )


def version_facet(version: int) -> dataset_version_dataset.DatasetVersionDatasetFacet:
    """The Delta table version a write committed."""
    return dataset_version_dataset.DatasetVersionDatasetFacet(
        datasetVersion=str(version), producer=PRODUCER
    )


def documentation_facet(text: str) -> documentation_dataset.DocumentationDatasetFacet:
    return documentation_dataset.DocumentationDatasetFacet(
        description=text, contentType="text/markdown", producer=PRODUCER
    )


def job_documentation_facet(text: str) -> documentation_job.DocumentationJobFacet:
    return documentation_job.DocumentationJobFacet(
        description=text, contentType="text/markdown", producer=PRODUCER
    )


def ownership_facet(owner: str) -> ownership_dataset.OwnershipDatasetFacet:
    """The catalog's ``owner`` of a source's tables."""
    return ownership_dataset.OwnershipDatasetFacet(
        owners=[ownership_dataset.Owner(name=owner, type="MAINTAINER")], producer=PRODUCER
    )


def output_statistics_facet(
    rows: int, size: int | None, files: int | None
) -> output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet:
    return output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
        rowCount=rows, size=size, fileCount=files, producer=PRODUCER
    )


def _partition_condition(
    partition: Mapping[str, str],
) -> base_subset_dataset.PartitionSubsetCondition:
    identifier = "/".join(f"{column}={value}" for column, value in partition.items())
    return base_subset_dataset.PartitionSubsetCondition(
        partitions=[
            base_subset_dataset.Partition(dimensions=dict(partition), identifier=identifier)
        ]
    )


def input_subset_facet(
    partition: Mapping[str, str],
) -> base_subset_dataset.InputSubsetInputDatasetFacet:
    """The Delta partition read (column -> value), as the spec's partition subset condition."""
    return base_subset_dataset.InputSubsetInputDatasetFacet(
        inputCondition=_partition_condition(partition), producer=PRODUCER
    )


def output_subset_facet(
    partition: Mapping[str, str],
) -> base_subset_dataset.OutputSubsetOutputDatasetFacet:
    """The Delta partition written (column -> value), as the spec's partition subset condition."""
    return base_subset_dataset.OutputSubsetOutputDatasetFacet(
        outputCondition=_partition_condition(partition), producer=PRODUCER
    )


def nominal_time_facet(day: dt.date) -> nominal_time_run.NominalTimeRunFacet:
    """The partition's day: from its start (UTC) to the next day's start."""
    return nominal_time_run.NominalTimeRunFacet(
        nominalStartTime=utc_midnight(day),
        nominalEndTime=utc_midnight(day + dt.timedelta(days=1)),
        producer=PRODUCER,
    )


def processing_engine_facet() -> processing_engine_run.ProcessingEngineRunFacet:
    """Dagster and its version; the adapter is openlineage-python, which builds every event."""
    return processing_engine_run.ProcessingEngineRunFacet(
        name="dagster",
        version=_version("dagster"),
        openlineageAdapterVersion=_version("openlineage-python"),
        producer=PRODUCER,
    )


def parent_facet(
    namespace: str, dagster_job: str, dagster_run_id: str
) -> parent_run.ParentRunFacet:
    """The Dagster run that ran this step: the parent, and the root, of every asset's run."""
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=dagster_run_id),
        job=parent_run.Job(namespace=namespace, name=dagster_job),
        root=parent_run.Root(
            run=parent_run.RootRun(runId=dagster_run_id),
            job=parent_run.RootJob(namespace=namespace, name=dagster_job),
        ),
        producer=PRODUCER,
    )


def error_facet(exc: BaseException) -> error_message_run.ErrorMessageRunFacet:
    """The exception that failed the run, with its Python stack trace."""
    return error_message_run.ErrorMessageRunFacet(
        message=f"{type(exc).__name__}: {exc}",
        programmingLanguage="python",
        stackTrace="".join(traceback.format_exception(exc)),
        producer=PRODUCER,
    )


def job_type_facet(job_type: str) -> job_type_job.JobTypeJobFacet:
    """A batch job of the Dagster integration: ``ASSET`` or ``ASSET_CHECK``."""
    return job_type_job.JobTypeJobFacet(
        processingType="BATCH", integration="DAGSTER", jobType=job_type, producer=PRODUCER
    )


def column_lineage_facet(
    derived_from: Mapping[str, Sequence[str]],
    input_namespace: str,
    input_name: str,
    description: str,
    *,
    masking: bool = False,
    same_name_is_identity: bool = True,
) -> column_lineage_dataset.ColumnLineageDatasetFacet:
    """Output column -> the input columns it derives from, all of one input dataset.

    A column copied under its own name is an ``IDENTITY`` when ``same_name_is_identity``; every
    other one a ``TRANSFORMATION`` described by ``description``.
    """
    fields = {}
    for output, inputs in derived_from.items():
        copied = same_name_is_identity and list(inputs) == [output]
        transformation = column_lineage_dataset.Transformation(
            type="DIRECT",
            subtype="IDENTITY" if copied else "TRANSFORMATION",
            description="copied" if copied else description,
            masking=masking,
        )
        fields[output] = column_lineage_dataset.Fields(
            inputFields=[
                column_lineage_dataset.InputField(
                    namespace=input_namespace,
                    name=input_name,
                    field=column,
                    transformations=[transformation],
                )
                for column in inputs
            ]
        )
    return column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields, producer=PRODUCER)
