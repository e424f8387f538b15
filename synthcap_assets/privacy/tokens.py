"""Keyed tokens (HMAC-SHA256) for personal values: stable pseudonyms and erasure lists that
never store the value itself.

A token is ``HMAC-SHA256(key, value)`` in lowercase base32 (52 letters and digits 2-7: no
long digit runs, so a token never looks like a card or phone number to the PII scanners).
Without the key, tokens cannot be reversed by hashing a dictionary of likely values (emails,
phone numbers), which a plain hash allows. The
key comes from the environment variable named by the catalog (``privacy.tokenize_salt_env``,
default ``SYNTHCAP_TOKEN_SALT``); set it in production and keep it out of the lake. Without it
a fixed development key is used, which protects nothing against someone who reads this file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import polars as pl

DEFAULT_KEY_ENV = "SYNTHCAP_TOKEN_SALT"
DEVELOPMENT_KEY = "synthcap-development-key"


def token_key(env: str = DEFAULT_KEY_ENV) -> bytes:
    """The tokenization key from ``env`` (a development key when unset)."""
    return os.environ.get(env, DEVELOPMENT_KEY).encode()


def token(value: str, key: bytes) -> str:
    """The base32 HMAC-SHA256 of ``value`` under ``key``."""
    digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().rstrip("=").lower()


def tokenize(series: pl.Series, key: bytes) -> pl.Series:
    """Each value's token (values compared as text; null stays null), hashing each distinct
    value once."""
    text = series.cast(pl.String, strict=False)
    uniques = text.drop_nulls().unique().to_list()
    mapping = {v: token(v, key) for v in uniques}
    return text.replace_strict(mapping, default=None, return_dtype=pl.String).rename(series.name)
