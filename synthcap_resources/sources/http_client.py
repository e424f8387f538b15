"""One HTTP session of an ``http_api`` source: httpx, rate limit, retries, cache, User-Agent.

- Every request waits for a slot under the source's rate limit (``ratelimit.py``), then is
  sent with the source's User-Agent and timeout.
- 429, 500, 502, 503 and 504 answers, timeouts and connection errors are retried with
  exponential backoff (tenacity), honouring ``Retry-After`` (seconds or an HTTP date) when
  the server sends one; the retries give up after ``max_retries`` with
  :class:`SourceUnreachableError`. Any other 4xx fails at once with :class:`HttpStatusError`.
- Unauthenticated sources with ``cache: true`` go through hishel's RFC 9111 cache (a SQLite
  file in the cache folder), so responses are reused exactly as far as the server's
  caching headers allow. Authenticated sources are never cached: the cache would store
  their credentials on disk.
- httpx logs every URL at INFO; an API key carried in a query string would land in the
  run logs, so its logger is held at WARNING and errors show :func:`http_auth.redact` URLs.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from synthcap_resources.sources.base import SourceReadError, SourceUnreachableError
from synthcap_resources.sources.http_auth import AppliedAuth, apply_auth, redact
from synthcap_resources.sources.http_spec import HttpApiSpec

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 60.0
logging.getLogger("httpx").setLevel(logging.WARNING)


class HttpStatusError(SourceReadError):
    """The API answered with an error status that retrying will not fix (4xx)."""


class MalformedResponseError(SourceReadError):
    """The API answered 2xx with a body that is not the JSON the spec expects."""


class _Retryable(Exception):
    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class HttpSettings:
    """Lake-wide settings of HTTP capture (from ``SourcesResource``)."""

    cache_dir: str | None = None
    redis_url: str | None = None
    state_dir: str = ".synthcap_state"


class HttpSession:
    """A client for one source's read; use as a context manager."""

    def __init__(
        self,
        api: HttpApiSpec,
        where: str,
        settings: HttpSettings,
        acquire: Callable[[], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api, self.where, self.settings = api, where, settings
        self.acquire = acquire or (lambda: None)
        self.sleep = sleep
        transport: httpx.BaseTransport = httpx.HTTPTransport()
        if api.cache and api.auth.type == "none" and settings.cache_dir:
            from hishel import SqliteStorage
            from hishel.httpx import CacheTransport

            Path(settings.cache_dir).mkdir(parents=True, exist_ok=True)
            storage = SqliteStorage(database_path=str(Path(settings.cache_dir) / "http.sqlite"))
            transport = CacheTransport(next_transport=transport, storage=storage, rfc=True)
        self.client = httpx.Client(
            headers={**api.headers, "User-Agent": api.user_agent},
            timeout=httpx.Timeout(api.timeout_seconds),
            transport=transport,
            follow_redirects=True,
        )
        self._auth: AppliedAuth | None = None

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return min(error.retry_after, self.api.max_retry_after_seconds)
        return min(self.api.backoff_seconds * 2 ** (state.attempt_number - 1), MAX_BACKOFF_SECONDS)

    def _send_once(self, url: str, params: dict[str, str], auth: AppliedAuth) -> httpx.Response:
        self.acquire()
        # Merge into the URL's own query (a next-page URL carries one); httpx's ``params=``
        # would replace it.
        target = httpx.URL(url).copy_merge_params({**params, **auth.params})
        response = self.client.get(target, headers=auth.headers, auth=auth.auth)
        if response.status_code in RETRY_STATUSES:
            response.read()
            raise _Retryable(
                response.status_code, parse_retry_after(response.headers.get("Retry-After"))
            )
        return response

    def get(
        self, url: str, params: dict[str, str] | None = None, *, authed: bool = True
    ) -> httpx.Response:
        """GET ``url`` with retries; returns the final non-retryable response (any status)."""
        if authed and self._auth is None:
            self._auth = apply_auth(self.api.auth, self.client, self.where)
        auth = self._auth if authed else AppliedAuth()
        shown = redact(httpx.URL(url).copy_merge_params(params or {}), self.api.auth)
        attempts = self.api.max_retries + 1
        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=self._wait,
            sleep=self.sleep,
            retry=retry_if_exception_type((_Retryable, httpx.TransportError)),
            reraise=True,
        )
        try:
            return retrying(self._send_once, url, params or {}, auth)
        except _Retryable as exc:
            raise SourceUnreachableError(
                f"{self.where}: {shown} answered HTTP {exc.status} {attempts} time(s); gave up"
            ) from exc
        except httpx.TimeoutException as exc:
            raise SourceUnreachableError(
                f"{self.where}: {shown} timed out after {self.api.timeout_seconds}s "
                f"({attempts} attempt(s))"
            ) from exc
        except httpx.TransportError as exc:
            raise SourceUnreachableError(
                f"{self.where}: cannot reach {shown}: {type(exc).__name__} ({attempts} attempt(s))"
            ) from exc

    def get_json(
        self, url: str, params: dict[str, str] | None = None
    ) -> tuple[Any, httpx.Response]:
        """The parsed JSON body of a 2xx answer, and the response (for its Link header)."""
        response = self.get(url, params)
        shown = redact(response.request.url, self.api.auth)
        if response.status_code >= 400:
            hint = ""
            if response.status_code in (401, 403) and self.api.auth.type != "none":
                names = sorted(self.api.auth.env.values())
                hint = f" (check the credentials named in auth.env: {names})"
            raise HttpStatusError(
                f"{self.where}: {shown} answered HTTP {response.status_code} "
                f"{response.reason_phrase}{hint}"
            )
        try:
            return response.json(), response
        except ValueError as exc:
            snippet = response.text[:80].replace("\n", " ")
            raise MalformedResponseError(
                f"{self.where}: {shown} sent malformed JSON ({exc}); body starts {snippet!r}"
            ) from exc
