"""Catalog block of an ``http_api`` source: a declarative REST endpoint.

Only the shape lives here (pydantic, no I/O); ``http_api.py`` does the reading.

A ``preset`` fills in what a well-known API always needs (base URL, path, record shape,
pagination, auth, window parameters, rate limit), so the catalog file only names what
varies: the series, company or indicator (``vars``) and the User-Agent. Anything the YAML
sets itself wins over the preset's value.

Templates: ``path`` and ``params`` values may use ``{name}`` for an entry of ``vars``;
``window_params`` values may use ``{start:%Y-%m-%d}``, ``{end:...}`` (exclusive),
``{last_day:...}`` (inclusive end) and ``{day:...}`` of the partition's window.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PRESET_NAMES = ("sec_edgar_companyfacts", "sec_edgar_submissions", "fred", "world_bank")

# SEC fair-access policy: at most 10 requests per second per user, across all of sec.gov.
_EDGAR_COMMON: dict[str, Any] = {
    "base_url": "https://data.sec.gov",
    "rate_limit_per_second": 10,
    "rate_limit_group": "sec.gov",
    "user_agent_requires_contact": True,
}

PRESETS: dict[str, dict[str, Any]] = {
    # https://www.sec.gov/edgar/sec-api-documentation: every XBRL fact of one company.
    "sec_edgar_companyfacts": {
        **_EDGAR_COMMON,
        "path": "/api/xbrl/companyfacts/CIK{cik}.json",
        "records_format": "edgar_facts",
        "window_field": "filed",
    },
    # The company's filing history: ``filings.recent`` holds parallel arrays, one per field.
    "sec_edgar_submissions": {
        **_EDGAR_COMMON,
        "path": "/submissions/CIK{cik}.json",
        "records_path": "filings.recent",
        "records_format": "columns",
        "window_field": "filingDate",
    },
    # https://fred.stlouisfed.org/docs/api/fred/series_observations.html
    "fred": {
        "base_url": "https://api.stlouisfed.org",
        "path": "/fred/series/observations",
        "params": {"series_id": "{series_id}", "file_type": "json"},
        "records_path": "observations",
        "pagination": {
            "type": "offset",
            "param": "offset",
            "size_param": "limit",
            "page_size": 100000,
            "path": "count",
        },
        "auth": {"type": "api_key_query", "name": "api_key", "env": {"key": "FRED_API_KEY"}},
        "window_params": {
            "observation_start": "{start:%Y-%m-%d}",
            "observation_end": "{last_day:%Y-%m-%d}",
        },
        "rate_limit_per_second": 2,
        "null_values": ["."],  # FRED's marker for a missing observation (e.g. a holiday)
    },
    # https://datahelpdesk.worldbank.org/knowledgebase/articles/898581: body is [meta, records].
    "world_bank": {
        "base_url": "https://api.worldbank.org/v2",
        "path": "/country/{country}/indicator/{indicator}",
        "params": {"format": "json"},
        "records_path": "1",
        "pagination": {
            "type": "page_number",
            "param": "page",
            "size_param": "per_page",
            "page_size": 1000,
            "path": "0.pages",
        },
        "window_params": {"date": "{day:%Y}"},
    },
}


class HttpAuthSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["none", "api_key_header", "api_key_query", "bearer", "basic", "oauth2_client"]
    # Names of environment variables holding the secrets; secrets never live in the catalog.
    # Keys: ``key`` (api keys), ``token`` (bearer), ``username``/``password`` (basic),
    # ``client_id``/``client_secret`` (oauth2_client).
    env: dict[str, str] = Field(default_factory=dict)
    name: str | None = None  # header or query parameter name for api keys
    token_url: str | None = None  # oauth2 client credentials
    scope: str | None = None

    @model_validator(mode="after")
    def _needs(self) -> HttpAuthSpec:
        required = {
            "api_key_header": ("key",),
            "api_key_query": ("key",),
            "bearer": ("token",),
            "basic": ("username", "password"),
            "oauth2_client": ("client_id", "client_secret"),
        }.get(self.type, ())
        missing = [k for k in required if k not in self.env]
        if missing:
            raise ValueError(f"auth {self.type} needs env var names for {missing}")
        if self.type in ("api_key_header", "api_key_query") and not self.name:
            raise ValueError(f"auth {self.type} needs 'name' (the header or parameter)")
        if self.type == "oauth2_client" and not self.token_url:
            raise ValueError("auth oauth2_client needs 'token_url'")
        return self


class HttpPaginationSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["none", "page_number", "offset", "cursor", "link_header", "next_url"] = "none"
    param: str | None = None  # page / offset / cursor query parameter
    size_param: str | None = None
    page_size: Annotated[int, Field(gt=0)] | None = None
    # Where the total (offset: record count, page_number: page count), the next cursor or the
    # next URL sits in the body (dotted path; list indexes are numbers).
    path: str | None = None
    start: int = 1  # first page number (page_number)
    max_pages: Annotated[int, Field(gt=0)] = 1000

    @model_validator(mode="after")
    def _needs(self) -> HttpPaginationSpec:
        if self.type in ("page_number", "offset", "cursor") and not self.param:
            raise ValueError(f"pagination {self.type} needs 'param'")
        if self.type in ("cursor", "next_url") and not self.path:
            raise ValueError(f"pagination {self.type} needs 'path' (where the next one is)")
        return self


class HttpApiSpec(BaseModel):
    """Where and how to call the API for one day's window."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal[PRESET_NAMES] | None = None
    vars: dict[str, str] = Field(default_factory=dict)
    base_url: Annotated[str, Field(pattern=r"^https?://")]
    path: str = ""
    params: dict[str, str] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    records_path: str | None = None  # dotted path to the records in the body
    # rows: a list of objects; columns: an object of parallel arrays; edgar_facts: SEC's
    # nested facts -> one row per (taxonomy, concept, unit, fact).
    records_format: Literal["rows", "columns", "edgar_facts"] = "rows"
    # Keep only records whose field (a date or datetime) falls in the window (APIs without
    # window parameters).
    window_field: str | None = None
    # Scalar values that mean "missing" in this API's records (FRED writes "."): become nulls.
    null_values: list[str] = Field(default_factory=list)
    pagination: HttpPaginationSpec = Field(default_factory=HttpPaginationSpec)
    auth: HttpAuthSpec = Field(default_factory=lambda: HttpAuthSpec(type="none"))
    # Query parameters that carry the window (see module docstring for the placeholders).
    window_params: dict[str, str] = Field(default_factory=dict)
    user_agent: Annotated[str, Field(min_length=1)]
    user_agent_requires_contact: bool = False
    rate_limit_per_second: Annotated[float, Field(gt=0)] | None = None
    # Sources in one group share one limit (e.g. every SEC endpoint); default: the source id.
    rate_limit_group: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")] | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    max_retries: Annotated[int, Field(ge=0)] = 5
    backoff_seconds: Annotated[float, Field(ge=0)] = 1.0  # first retry wait; doubles each time
    max_retry_after_seconds: Annotated[float, Field(ge=0)] = 120.0
    cache: bool = True
    respect_robots: bool = True

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """Fill the preset's defaults under what the catalog sets (nested blocks merge)."""
        if not isinstance(data, dict) or not data.get("preset"):
            return data
        defaults = PRESETS.get(data["preset"])
        if defaults is None:
            return data  # the Literal check reports the unknown name
        merged = copy.deepcopy(defaults)
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
        return merged

    @model_validator(mode="after")
    def _contact_and_vars(self) -> HttpApiSpec:
        if self.user_agent_requires_contact and "@" not in self.user_agent:
            raise ValueError(
                f"{self.preset or 'this API'} requires a User-Agent with a contact e-mail "
                f"address (e.g. 'Example Corp admin@example.com'), got {self.user_agent!r}"
            )
        for where, template in [("path", self.path), *self.params.items()]:
            try:
                template.format(**self.vars)
            except KeyError as exc:
                raise ValueError(
                    f"{where} uses {{{exc.args[0]}}} but 'vars' has no {exc.args[0]!r}"
                ) from exc
        return self
