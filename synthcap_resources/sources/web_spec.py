"""Catalog blocks of the text sources published on the web: ``huggingface`` (a dataset split
on the Hugging Face Hub), ``edgar_filings`` (SEC EDGAR filing documents) and ``feed``
(an RSS or Atom feed).

Only the shape lives here (pydantic, no I/O); ``hf_datasets.py``, ``edgar_filings.py`` and
``feeds.py`` do the reading, each through the ``http_api`` session (``http_client.py``: rate
limit, retries, cache, User-Agent), built from :meth:`WebFetchSpec.http_api`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict, Field, model_validator

from synthcap_resources.sources.http_spec import HttpApiSpec, HttpAuthSpec

DEFAULT_USER_AGENT = "synthcap/0.1"
HF_ENDPOINT = "https://huggingface.co"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
GROUP = r"^[A-Za-z0-9_.-]+$"
# hf://datasets/<owner>/<name>@<revision>/<split> or .../<config>/<split> (revision optional).
HF_URL = re.compile(
    r"^hf://datasets/(?P<dataset>[^/@]+/[^/@]+)(?:@(?P<revision>[^/]+))?"
    r"(?:/(?P<config>[^/]+))?/(?P<split>[^/]+)$"
)


class WebFetchSpec(BaseModel):
    """How requests go out: the ``http_api`` settings of the same names."""

    model_config = ConfigDict(extra="forbid")

    user_agent: Annotated[str, Field(min_length=1)] = DEFAULT_USER_AGENT
    rate_limit_per_second: Annotated[float, Field(gt=0)] | None = None
    # Sources in one group share one limit; default: the source id.
    rate_limit_group: Annotated[str, Field(pattern=GROUP)] | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    max_retries: Annotated[int, Field(ge=0)] = 5
    backoff_seconds: Annotated[float, Field(ge=0)] = 1.0
    max_retry_after_seconds: Annotated[float, Field(ge=0)] = 120.0
    cache: bool = True

    def http_api(
        self, base_url: str, auth: HttpAuthSpec | None = None, cache: bool | None = None
    ) -> HttpApiSpec:
        """The ``http_api`` block an :class:`HttpSession` of this source is built from."""
        return HttpApiSpec(
            base_url=base_url,
            user_agent=self.user_agent,
            rate_limit_per_second=self.rate_limit_per_second,
            rate_limit_group=self.rate_limit_group,
            timeout_seconds=self.timeout_seconds,
            max_retries=self.max_retries,
            backoff_seconds=self.backoff_seconds,
            max_retry_after_seconds=self.max_retry_after_seconds,
            cache=self.cache if cache is None else cache,
            auth=auth or HttpAuthSpec(type="none"),
            respect_robots=False,
        )


class HuggingFaceSpec(WebFetchSpec):
    """One split of a dataset on the Hub, at a revision: ``url: hf://datasets/<owner>/<name>
    @<revision>/[<config>/]<split>`` or the fields ``dataset``, ``revision``, ``config``,
    ``split`` (a revision with ``/`` is URL-encoded in ``url``, ``refs%2Fconvert%2Fparquet``, as
    huggingface_hub writes it). The revision (a branch, tag or commit) is resolved to its
    commit once per read; that commit is what is read and what is recorded with the rows."""

    url: Annotated[str, Field(pattern=r"^hf://datasets/")] | None = None
    dataset: Annotated[str, Field(pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")]
    revision: Annotated[str, Field(min_length=1)] = "main"
    config: Annotated[str, Field(pattern=r"^[\w.-]+$")] | None = None
    split: Annotated[str, Field(pattern=r"^[\w.-]+$")] = "train"
    # Globs over the repository's paths ({config} and {split} filled in); default: the data
    # files whose folder or name carries the split (and the config, when one is named).
    data_files: list[str] = Field(default_factory=list)
    format: Literal["auto", "parquet", "jsonl"] = "auto"
    # The Hub's address; default: HF_ENDPOINT from the environment, else huggingface.co.
    endpoint: Annotated[str, Field(pattern=r"^https?://")] | None = None
    # Environment variable holding a token (gated or private sets); unset: anonymous.
    token_env: Annotated[str, Field(pattern=ENV_NAME)] = "HF_TOKEN"
    max_files: Annotated[int, Field(gt=0)] = 200
    rate_limit_per_second: Annotated[float, Field(gt=0)] | None = 5.0
    rate_limit_group: Annotated[str, Field(pattern=GROUP)] | None = "huggingface.co"

    @model_validator(mode="before")
    @classmethod
    def _from_url(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return data
        match = HF_URL.match(data["url"])
        if match is None:
            raise ValueError(
                f"url {data['url']!r} is not hf://datasets/<owner>/<name>@<revision>/"
                "[<config>/]<split>"
            )
        parsed = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
        clash = [k for k in parsed if k in data and data[k] != parsed[k]]
        if clash:
            raise ValueError(f"url and {clash} disagree; give each once")
        return {**parsed, **data}


class EdgarFilingsSpec(WebFetchSpec):
    """The documents of one company's filings of some form types, filed on the partition's
    day: the submissions index (data.sec.gov), each filing's SGML header index and every
    text document in it (www.sec.gov/Archives)."""

    cik: Annotated[str, Field(pattern=r"^\d{1,10}$")]
    forms: Annotated[list[str], Field(min_length=1)] = Field(default_factory=lambda: ["10-K"])
    # Globs over the documents' SGML types (10-K, EX-21.1, ...); default: every document.
    document_types: list[str] = Field(default_factory=lambda: ["*"])
    extensions: Annotated[list[str], Field(min_length=1)] = Field(
        default_factory=lambda: [".htm", ".html", ".txt"]
    )
    data_base_url: Annotated[str, Field(pattern=r"^https?://")] = "https://data.sec.gov"
    archives_base_url: Annotated[str, Field(pattern=r"^https?://")] = "https://www.sec.gov"
    user_agent: Annotated[str, Field(min_length=1)]
    # SEC fair-access policy: at most 10 requests per second, across all of sec.gov.
    rate_limit_per_second: Annotated[float, Field(gt=0)] | None = 10.0
    rate_limit_group: Annotated[str, Field(pattern=GROUP)] | None = "sec.gov"
    max_filings: Annotated[int, Field(gt=0)] = 50

    @model_validator(mode="after")
    def _contact(self) -> EdgarFilingsSpec:
        if "@" not in self.user_agent:
            raise ValueError(
                "SEC EDGAR requires a User-Agent with a contact e-mail address "
                f"(e.g. 'Example Corp admin@example.com'), got {self.user_agent!r}"
            )
        return self


class FeedSpec(WebFetchSpec):
    """An RSS or Atom feed: one row per entry, each entry id captured once across days.
    Requests are conditional (ETag, Last-Modified from the previous day's capture); the
    validators live in the lake's cursor, so no local HTTP cache is used."""

    url: Annotated[str, Field(pattern=r"^https?://")]
    # Entry ids are remembered this many days after their capture (feeds drop old entries).
    remember_days: Annotated[int, Field(gt=0, le=3650)] = 90
    cache: Literal[False] = False
