"""The connector registry and ``SourcesResource``: the one door from capture to every source.

``SourcesResource`` carries the lake-wide capture settings (Redis for shared rate limits,
the uses the lake's data is for, the HTTP cache folder) and hands ``raw_capture`` the
connector of a source's kind, the compliance decision and the capture state kept in the
lake. Connectors of other kinds are imported on first use, so a kind whose optional driver
is missing only fails the sources of that kind.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import Field

from synthcap_resources.catalog import SourceSpec
from synthcap_resources.compliance import (
    ComplianceError,
    Decision,
    license_decision,
    record_decisions,
    robots_decision,
)
from synthcap_resources.lakehouse import LakehouseResource
from synthcap_resources.sources.base import Connector, SourceReadError
from synthcap_resources.sources.http_client import HttpSettings

REDIS_URL_ENV = "SYNTHCAP_REDIS_URL"
ALLOWED_USES_ENV = "SYNTHCAP_ALLOWED_USES"  # comma list, e.g. "analytics,synthetic-data"
STATE_DIR_ENV = "SYNTHCAP_STATE_DIR"
DEFAULT_USES = ["analytics", "synthetic-data"]
DEFAULT_STATE_DIR = str(Path(tempfile.gettempdir()) / "synthcap")

# kind -> "module:Class"; every class is built with no argument except the HTTP_KINDS.
CONNECTORS = {
    "file": "synthcap_resources.sources.files:FileConnector",
    "http_api": "synthcap_resources.sources.http_api:HttpApiConnector",
    "database": "synthcap_resources.sources.database:DatabaseConnector",
    "stream": "synthcap_resources.sources.stream:StreamConnector",
    "huggingface": "synthcap_resources.sources.hf_datasets:HuggingFaceConnector",
    "edgar_filings": "synthcap_resources.sources.edgar_filings:EdgarFilingsConnector",
    "feed": "synthcap_resources.sources.feeds:FeedConnector",
}
# Kinds whose connector is built with the lake's HTTP settings (cache, Redis, state folder).
HTTP_KINDS = ("http_api", "huggingface", "edgar_filings", "feed")


class UnknownKindError(SourceReadError):
    """No connector is registered for a source kind, or its module cannot be imported."""


def load_connector_class(kind: str) -> type:
    """The connector class registered for ``kind`` (imported now)."""
    if kind not in CONNECTORS:
        raise UnknownKindError(f"no connector for kind {kind!r} (known: {sorted(CONNECTORS)})")
    module_name, _, class_name = CONNECTORS[kind].partition(":")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UnknownKindError(
            f"the {kind} connector {CONNECTORS[kind]} cannot be loaded: {exc}"
        ) from exc


class SourcesResource(dg.ConfigurableResource):
    """How sources are reached: connectors by kind, rate limits, cache, compliance."""

    # Shared rate limits across processes and hosts; None: a local (per-host) limiter.
    redis_url: str | None = None
    # What the lake's data is used for; every source's license must permit each of these.
    allowed_uses: list[str] = Field(default_factory=lambda: list(DEFAULT_USES))
    # HTTP cache (hishel) and local rate-limit state.
    cache_dir: str = str(Path(DEFAULT_STATE_DIR) / "http_cache")
    state_dir: str = DEFAULT_STATE_DIR

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            cache_dir=self.cache_dir, redis_url=self.redis_url, state_dir=self.state_dir
        )

    def connector(self, kind: str) -> Connector:
        """A connector for sources of ``kind``."""
        cls = load_connector_class(kind)
        if kind in HTTP_KINDS:
            return cls(self.http_settings())
        return cls()

    def check_compliance(
        self, spec: SourceSpec, day: dt.date, lakehouse: LakehouseResource
    ) -> list[Decision]:
        """License and robots.txt decisions for capturing ``spec`` on ``day``, each recorded
        in ``audit/compliance``; raises :class:`ComplianceError` when one refuses."""
        decisions = [license_decision(spec, self.allowed_uses)]
        if decisions[0].allowed and spec.kind == "http_api" and spec.http_api.respect_robots:
            from synthcap_resources.sources.http_api import HttpApiConnector, endpoint

            where = f"source {spec.id!r}, partition {day.isoformat()}"
            connector = HttpApiConnector(self.http_settings())
            with connector.session(spec, where) as session:
                decisions.append(robots_decision(spec, endpoint(spec.http_api), session))
        record_decisions(lakehouse, spec, day, decisions, self.allowed_uses)
        refused = [d for d in decisions if not d.allowed]
        if refused:
            raise ComplianceError(
                f"source {spec.id!r}, partition {day.isoformat()}: capture refused by "
                + "; ".join(f"{d.check}: {d.reason}" for d in refused)
            )
        return decisions


def sources_from_env(**overrides: Any) -> SourcesResource:
    """``SourcesResource`` from the environment: Redis from ``SYNTHCAP_REDIS_URL`` (as a
    ``dg.EnvVar``, so the URL and any password in it stay out of run config and the UI),
    ``SYNTHCAP_ALLOWED_USES`` and ``SYNTHCAP_STATE_DIR`` (HTTP cache and local limiter)."""
    settings: dict[str, Any] = {}
    if os.environ.get(REDIS_URL_ENV):
        settings["redis_url"] = dg.EnvVar(REDIS_URL_ENV)
    if os.environ.get(ALLOWED_USES_ENV):
        uses = os.environ[ALLOWED_USES_ENV].split(",")
        settings["allowed_uses"] = [u.strip() for u in uses if u.strip()]
    if os.environ.get(STATE_DIR_ENV):
        state = os.environ[STATE_DIR_ENV]
        settings.update(state_dir=state, cache_dir=str(Path(state) / "http_cache"))
    return SourcesResource(**{**settings, **overrides})
