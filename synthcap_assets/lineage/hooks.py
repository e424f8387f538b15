"""The hooks that make every asset and check run an OpenLineage run (Dagster wiring).

``@emits_lineage`` (under ``@dg.asset``) and ``@emits_check_lineage`` (under ``@dg.asset_check``)
wrap the compute function and give it a ``lineage: LineageResource`` parameter: START when the
body begins, COMPLETE (or FAIL with the error and its stack) when it ends. An asset's inputs and
outputs are what it actually read and wrote (see ``recording``); a check's input is the dataset
it checked, carrying the check's outcome as a ``dataQualityAssertions`` facet.

Why our own hooks and not ``dagster-openlineage``: that package reads Dagster's event log, so it
cannot see which partitions a step actually read, skips ``nominalTime`` for multi-partition keys
and emits no data-quality facets; here the step itself knows all of that.

Lineage never fails an asset: delivery problems are queued by the resource, and any error while
building an event is logged on the step and swallowed.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg
import polars as pl

from synthcap_assets.lineage import events, facets, quality_facets
from synthcap_assets.lineage.delta_files import partition_files
from synthcap_assets.lineage.recording import (
    ACTIVE,
    FOLDER_OF_ASSET,
    ColumnLineage,
    Recorder,
    asset_partition,
    asset_table,
)
from synthcap_assets.partitions import source_and_day
from synthcap_resources.catalog import CatalogError, CatalogResource
from synthcap_resources.lakehouse import LakehouseResource, WriteResult
from synthcap_resources.lineage import LineageResource, lake_namespace
from synthcap_resources.write_retry import retries_lost_writes


def _with_lineage_param(compute: Callable[..., Any]) -> inspect.Signature:
    signature = inspect.signature(compute)
    if "lineage" in signature.parameters:
        raise TypeError(f"{compute.__name__} already takes a 'lineage' parameter")
    extra = inspect.Parameter("lineage", inspect.Parameter.KEYWORD_ONLY, annotation=LineageResource)
    return signature.replace(parameters=[*signature.parameters.values(), extra])


class _Emitter:
    """What an asset or check run shares: its run context, namespace and a safe emit."""

    def __init__(self, context: Any, lineage: LineageResource, resources: Mapping[str, Any]):
        self.context = context
        self.lineage = lineage
        lakehouse = resources.get("lakehouse")
        self.lakehouse = lakehouse if isinstance(lakehouse, LakehouseResource) else None
        self.catalog = resources.get("catalog")
        self.namespace = lake_namespace(self.lakehouse.root if self.lakehouse else lineage.lake)
        self.source, self.day = source_and_day(context)

    def run_context(self, job_name: str, job_type: str, description: str | None):
        return events.RunContext(
            namespace=self.lineage.namespace,
            job_name=job_name,
            job_type=job_type,
            dagster_job=self.context.run.job_name,
            dagster_run_id=self.context.run.run_id,
            day=self.day,
            description=description,
        )

    def emit(self, build: Callable[[], dict[str, Any]]) -> None:
        if not self.lineage.transports:
            return
        try:
            delivery = self.lineage.emit(build())
        except Exception as exc:  # lineage must never fail the data it describes
            self.context.log.error(f"lineage event not emitted: {type(exc).__name__}: {exc}")
            return
        if delivery.errors:
            self.context.log.warning(
                f"lineage delivery failed ({delivery.errors}); queued on disk: {delivery.queued}"
            )

    def source_spec(self):
        """The catalog spec of the run's source, if the run has the catalog and it parses."""
        if not isinstance(self.catalog, CatalogResource):
            return None
        try:
            return self.catalog.get(self.source)
        except CatalogError:
            return None


class _AssetRun(_Emitter):
    def __init__(self, context, lineage, resources, profile_output: bool) -> None:
        super().__init__(context, lineage, resources)
        self.asset = context.asset_key.to_user_string()
        self.description = context.assets_def.descriptions_by_key.get(context.asset_key)
        self.ctx = self.run_context(self.asset, events.ASSET_JOB, self.description)
        self.profile_output = profile_output

    def start(self) -> None:
        table = asset_table(self.asset, self.source)
        partition = asset_partition(self.asset, self.source, self.day)
        self.emit(
            lambda: events.run_event(
                "START", self.ctx, outputs=[events.planned_output(self.namespace, table, partition)]
            )
        )

    def finish(self, recorder: Recorder, error: BaseException | None) -> None:
        self.emit(lambda: self._finished(recorder, error))

    def _finished(self, recorder: Recorder, error: BaseException | None) -> dict[str, Any]:
        inputs = [events.input_dataset(ns, read) for ns, read in self._reads(recorder)]
        outputs = [
            events.output_dataset(self.namespace, self._write(recorder, written, df))
            for written, df in recorder.writes
        ]
        state = "FAIL" if error is not None else "COMPLETE"
        return events.run_event(state, self.ctx, inputs=inputs, outputs=outputs, error=error)

    def _reads(self, recorder: Recorder) -> list[tuple[str, events.DatasetRead]]:
        """(namespace, read) of every input; a profile's metrics go on the raw table it read."""
        profiled = recorder.writes[0][1] if self.profile_output and recorder.writes else None
        raw_folder = f"{FOLDER_OF_ASSET['raw_capture']}/"
        reads = []
        for read in recorder.reads:
            extra = {}
            if (
                profiled is not None
                and read.namespace is None
                and read.table.startswith(raw_folder)
            ):
                extra["dataQualityMetrics"] = quality_facets.data_quality_metrics_facet(profiled)
            dataset = events.DatasetRead(read.table, read.partition, extra)
            reads.append((read.namespace or self.namespace, dataset))
        return reads

    def _write(self, recorder: Recorder, written: WriteResult, df: pl.DataFrame):
        files = partition_files(self.lakehouse, written) if self.lakehouse else None
        main = written.table == asset_table(self.asset, self.source)
        spec = self.source_spec() if main and self.asset in FOLDER_OF_ASSET else None
        documentation = self.description if main else None
        if spec is not None:
            about = f"**{spec.title}**\n\n{spec.description}".strip()
            raw = self.asset == "raw_capture"
            documentation = about if raw else f"{self.description}\n\n{about}"
        lineage = recorder.column_lineage.get(written.table)
        return events.DatasetWrite(
            table=written.table,
            partition=written.partition,
            columns=facets.frame_columns(df),
            version=written.version,
            rows=written.rows,
            size=files.bytes if files else None,
            files=files.files if files else None,
            documentation=documentation,
            owner=(spec.owner or None) if spec is not None else None,
            column_lineage=self._column_lineage(lineage) if lineage else None,
        )

    def _column_lineage(self, lineage: ColumnLineage):
        return facets.column_lineage_facet(
            lineage.derived_from,
            self.namespace,
            lineage.input_table,
            lineage.description,
            masking=lineage.masking,
            same_name_is_identity=lineage.same_name_is_identity,
        )


class _CheckRun(_Emitter):
    def __init__(self, context, lineage, resources) -> None:
        super().__init__(context, lineage, resources)
        self.check_spec = context.check_specs[0]
        asset = self.check_spec.asset_key.to_user_string()
        job = f"{asset}.{self.check_spec.name}"
        self.ctx = self.run_context(job, events.CHECK_JOB, self.check_spec.description)
        self.table = asset_table(asset, self.source)
        self.partition = asset_partition(asset, self.source, self.day)

    def _checked(self, input_facets: Mapping[str, Any] | None = None):
        read = events.DatasetRead(self.table, self.partition, dict(input_facets or {}))
        return events.input_dataset(self.namespace, read)

    def start(self) -> None:
        self.emit(lambda: events.run_event("START", self.ctx, inputs=[self._checked()]))

    def finish(self, result: Any, error: BaseException | None) -> None:
        self.emit(lambda: self._finished(result, error))

    def _finished(self, result: Any, error: BaseException | None) -> dict[str, Any]:
        if error is not None or not isinstance(result, dg.AssetCheckResult):
            state = "FAIL" if error is not None else "COMPLETE"
            return events.run_event(state, self.ctx, inputs=[self._checked()], error=error)
        outcome = quality_facets.CheckOutcome(
            name=self.check_spec.name,
            success=bool(result.passed),
            severity="error" if self.check_spec.blocking else "warn",
            description=result.description,
        )
        assertions = {"dataQualityAssertions": quality_facets.assertions_facet([outcome])}
        return events.run_event(
            "COMPLETE",
            self.ctx,
            inputs=[self._checked(assertions)],
            run_facets={"testRun": quality_facets.run_tests_facet([outcome])},
        )


def _begin(context: Any, make: Callable[[], Any]) -> Any:
    """The run's tracker, or None (logged) when this run cannot be described."""
    try:
        return make()
    except Exception as exc:  # lineage must never fail the data it describes
        context.log.error(f"lineage not recorded for this run: {type(exc).__name__}: {exc}")
        return None


def emits_lineage(fn: Callable[..., Any] | None = None, *, profile_output: bool = False):
    """Make an asset's runs OpenLineage runs; put it right under ``@dg.asset``.

    ``profile_output``: the asset writes a profile of the raw table it read, published as that
    input's ``dataQualityMetrics``.
    """

    def decorate(compute: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(compute)
        def wrapper(context, *args, lineage: LineageResource, **kwargs):
            run = _begin(context, lambda: _AssetRun(context, lineage, kwargs, profile_output))
            if run is None:
                return compute(context, *args, **kwargs)
            run.start()
            recorder = Recorder()
            token = ACTIVE.set(recorder)
            try:
                result = compute(context, *args, **kwargs)
            except BaseException as exc:
                run.finish(recorder, exc)
                raise
            finally:
                ACTIVE.reset(token)
            run.finish(recorder, None)
            return result

        wrapper.__signature__ = _with_lineage_param(compute)
        # The one place a lost write race becomes a Dagster retry, for every synthcap asset.
        return retries_lost_writes(wrapper)

    return decorate(fn) if fn is not None else decorate


def emits_check_lineage(compute: Callable[..., Any]) -> Callable[..., Any]:
    """Make a check's runs OpenLineage runs whose input, the checked dataset, carries the
    check's outcome; put it right under ``@dg.asset_check``."""

    @functools.wraps(compute)
    def wrapper(context, *args, lineage: LineageResource, **kwargs):
        run = _begin(context, lambda: _CheckRun(context, lineage, kwargs))
        if run is None:
            return compute(context, *args, **kwargs)
        run.start()
        try:
            result = compute(context, *args, **kwargs)
        except BaseException as exc:
            run.finish(None, exc)
            raise
        run.finish(result, None)
        return result

    wrapper.__signature__ = _with_lineage_param(compute)
    return wrapper
