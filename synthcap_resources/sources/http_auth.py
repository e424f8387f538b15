"""Authentication of ``http_api`` sources, with secrets read from the environment by name.

The catalog names environment variables (``auth.env``), never values; a value is read when a
request is built and never written to a log, an error message, metadata or the lake:
:func:`redact` masks an API key carried in a query string before a URL is shown anywhere.
OAuth2 client credentials: the token is fetched once per read from ``token_url``
(RFC 6749 §4.4, client id and secret sent as HTTP basic auth) and sent as a bearer token.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import httpx

from synthcap_resources.sources.base import SourceReadError
from synthcap_resources.sources.http_spec import HttpAuthSpec

MASK = "***"


class SecretMissingError(SourceReadError):
    """An environment variable that the catalog names for a secret is not set."""


class AuthRefusedError(SourceReadError):
    """The API (or its token endpoint) refused the credentials."""


@dataclass
class AppliedAuth:
    """What to add to every request: headers, query parameters, or an httpx auth."""

    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    auth: httpx.Auth | None = None


def secret(auth: HttpAuthSpec, key: str, where: str) -> str:
    """The value of the environment variable ``auth.env[key]``."""
    name = auth.env[key]
    value = os.environ.get(name)
    if not value:
        raise SecretMissingError(
            f"{where}: environment variable {name!r} (auth.env.{key}) is not set"
        )
    return value


def _oauth2_token(auth: HttpAuthSpec, client: httpx.Client, where: str) -> str:
    data = {"grant_type": "client_credentials"}
    if auth.scope:
        data["scope"] = auth.scope
    basic = httpx.BasicAuth(secret(auth, "client_id", where), secret(auth, "client_secret", where))
    try:
        response = client.post(auth.token_url, data=data, auth=basic)
    except httpx.HTTPError as exc:
        raise AuthRefusedError(
            f"{where}: token endpoint {auth.token_url} unreachable: {type(exc).__name__}"
        ) from exc
    if response.status_code != 200:
        raise AuthRefusedError(
            f"{where}: token endpoint {auth.token_url} answered HTTP {response.status_code}"
        )
    try:
        token = response.json()["access_token"]
    except (ValueError, KeyError, TypeError) as exc:
        raise AuthRefusedError(
            f"{where}: token endpoint {auth.token_url} sent no access_token"
        ) from exc
    return str(token)


def apply_auth(auth: HttpAuthSpec, client: httpx.Client, where: str) -> AppliedAuth:
    """The request additions for ``auth``; fetches an OAuth2 token when needed."""
    if auth.type == "none":
        return AppliedAuth()
    if auth.type == "api_key_header":
        return AppliedAuth(headers={auth.name: secret(auth, "key", where)})
    if auth.type == "api_key_query":
        return AppliedAuth(params={auth.name: secret(auth, "key", where)})
    if auth.type == "bearer":
        return AppliedAuth(headers={"Authorization": f"Bearer {secret(auth, 'token', where)}"})
    if auth.type == "basic":
        username, password = secret(auth, "username", where), secret(auth, "password", where)
        return AppliedAuth(auth=httpx.BasicAuth(username, password))
    token = _oauth2_token(auth, client, where)
    return AppliedAuth(headers={"Authorization": f"Bearer {token}"})


def redact(url: httpx.URL | str, auth: HttpAuthSpec) -> str:
    """``url`` with the API key of an ``api_key_query`` source masked."""
    url = httpx.URL(str(url))
    if auth.type == "api_key_query" and auth.name and auth.name in url.params:
        url = url.copy_set_param(auth.name, MASK)
    return str(url)
