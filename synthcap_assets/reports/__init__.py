"""The visual report per (source, date): one self-contained HTML page of charts drawn from the
report tables, written beside them in the lake by the readiness run and by ``synthcap report``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg

from synthcap_resources.lakehouse import LakehouseResource
from synthcap_resources.report_files import report_url, reports_enabled, write_report_file

if TYPE_CHECKING:
    import polars as pl

__all__ = ["report_metadata", "write_report"]


def write_report(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    descriptions: dict[str, str] | None = None,
    known: Mapping[str, pl.DataFrame | None] | None = None,
) -> str:
    """Build and write the report of (source, day); returns its path or URI. ``known``: tables
    already read (``inputs.read_inputs``), not read again."""
    # The page builder loads on the first report, not when the definitions load.
    from synthcap_assets.reports.build import build_report
    from synthcap_assets.reports.inputs import read_inputs

    html = build_report(read_inputs(lakehouse, source, day, descriptions, known))
    return write_report_file(lakehouse, source, day, html)


def report_metadata(
    lakehouse: LakehouseResource,
    source: str,
    day: dt.date,
    descriptions: dict[str, str] | None = None,
    log: logging.Logger | Any | None = None,
    known: Mapping[str, pl.DataFrame | None] | None = None,
) -> dict[str, dg.MetadataValue]:
    """Write the report and return its path (and URL, when served) as metadata entries.

    A report is a view, never a gate: any failure to draw or write it is logged and named in
    the metadata (``report_error``), and the run goes on. ``known``: as for ``write_report``.
    """
    if not reports_enabled():
        return {}
    try:
        uri = write_report(lakehouse, source, day, descriptions, known)
    except Exception as exc:  # noqa: BLE001 - a view must never fail the answer it shows
        message = f"{source} {day}: the visual report was not written: {type(exc).__name__}: {exc}"
        if log is not None:
            log.warning(message)
        return {"report_error": dg.MetadataValue.text(message)}
    metadata = {"report": dg.MetadataValue.path(uri)}
    url = report_url(source, day)
    if url:
        metadata["report_url"] = dg.MetadataValue.url(url)
    return metadata
