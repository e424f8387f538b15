"""Where the visual reports live: one HTML file per (source, date) beside the report tables
(``<lake>/reports/html/<source>/<date>.html``), and the HTTP URL ``synthcap ui`` serves them at.

Local lakes are written with an atomic rename; an ``s3://`` (or other pyarrow-supported) lake
through ``pyarrow.fs`` with credentials from the environment, as the Delta tables use them.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pyarrow.fs as pafs

from synthcap_resources.lakehouse import LakehouseResource

REPORTS_FOLDER = "reports/html"
# Set by `synthcap ui` to the base URL its report server answers at; unset: no URL.
REPORTS_URL_ENV = "SYNTHCAP_REPORTS_URL"
# "off" skips writing the report in readiness runs (e.g. tests that do not look at it).
REPORTS_ENV = "SYNTHCAP_REPORTS"


class ReportFileError(OSError):
    """The report file could not be written or read; the message names the path and cause."""


def reports_enabled() -> bool:
    """Whether readiness runs write the visual report (``SYNTHCAP_REPORTS`` is not ``off``)."""
    return os.environ.get(REPORTS_ENV, "on").strip().lower() not in ("off", "0", "false", "no")


def report_path(source: str, day: dt.date) -> str:
    """The report's path relative to the lake root."""
    return f"{REPORTS_FOLDER}/{source}/{day.isoformat()}.html"


def report_url(source: str, day: dt.date) -> str | None:
    """The report's HTTP URL when a report server is configured (``SYNTHCAP_REPORTS_URL``)."""
    base = os.environ.get(REPORTS_URL_ENV, "").strip().rstrip("/")
    return f"{base}/{source}/{day.isoformat()}.html" if base else None


def reports_root(lakehouse: LakehouseResource) -> Path:
    """The local folder holding the reports (local lakes only)."""
    if not lakehouse.is_local:
        raise ReportFileError(f"the lake {lakehouse.root} is not local: no report folder to serve")
    return Path(lakehouse.uri(REPORTS_FOLDER))


def write_report_file(lakehouse: LakehouseResource, source: str, day: dt.date, html: str) -> str:
    """Write the report of (source, day); returns its path or URI."""
    uri = lakehouse.uri(report_path(source, day))
    data = html.encode("utf-8")
    try:
        if lakehouse.is_local:
            path = Path(uri)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".html.partial")
            partial.write_bytes(data)
            partial.replace(path)
        else:
            fs, where = pafs.FileSystem.from_uri(uri)
            with fs.open_output_stream(where) as out:
                out.write(data)
    except (OSError, ValueError) as exc:  # pyarrow's IO errors are OSError, bad URIs ValueError
        raise ReportFileError(f"{source} {day}: cannot write the report to {uri}: {exc}") from exc
    return uri
