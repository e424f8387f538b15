"""Sensors: register a dynamic ``source`` partition for every new source in the catalog."""

import dagster as dg

from synthcap_assets.partitions import SOURCE_DIMENSION, source_partitions
from synthcap_resources.catalog import CatalogResource


@dg.sensor(minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def catalog_sensor(
    context: dg.SensorEvaluationContext, catalog: CatalogResource
) -> dg.SensorResult:
    """Adds a ``source`` partition for each valid catalog file not yet registered; reports
    invalid files by name, field and cause without blocking the valid ones."""
    specs, errors = catalog.scan()
    for error in errors:
        context.log.error(str(error))
    known = set(context.instance.get_dynamic_partitions(SOURCE_DIMENSION))
    new = sorted(set(specs) - known)
    if not new:
        reason = "no new sources"
        if errors:
            reason += f"; {len(errors)} invalid spec(s): " + " | ".join(str(e) for e in errors)
        return dg.SensorResult(skip_reason=dg.SkipReason(reason))
    context.log.info(f"registering sources: {', '.join(new)}")
    return dg.SensorResult(dynamic_partitions_requests=[source_partitions.build_add_request(new)])
