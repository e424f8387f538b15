"""Where file sources land: local folders and ``s3://`` buckets, listed and read alike.

A location may hold glob characters (``landing/orders/{date}/*.csv``); :func:`list_files`
expands it into the files present with their size and modification time, which is what the
landing sensor and the captured-files table compare. S3 is reached through dagster-aws's
``S3Resource`` (boto3's credentials chain: env vars, profile, instance role;
``AWS_ENDPOINT_URL`` for S3-compatible servers), so no secret passes through the catalog.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from synthcap_resources.sources.base import FileEntry

GLOB_CHARS = re.compile(r"[*?\[]")


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


@lru_cache(maxsize=4)
def _s3_client(endpoint_url: str | None, region: str | None) -> Any:
    from dagster_aws.s3 import S3Resource

    return S3Resource(endpoint_url=endpoint_url, region_name=region).get_client()


def s3_client() -> Any:
    """A boto3 S3 client configured from the environment (see module docstring)."""
    return _s3_client(
        os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None,
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None,
    )


def _list_s3(pattern: str) -> list[FileEntry]:
    bucket, key_pattern = split_s3(pattern)
    match = GLOB_CHARS.search(key_pattern)
    prefix = key_pattern[: match.start()] if match else key_pattern
    client = s3_client()
    found: list[FileEntry] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            # fnmatch's '*' crosses '/', so compare segment by segment like a local glob.
            if key.count("/") == key_pattern.count("/") and fnmatch.fnmatchcase(key, key_pattern):
                found.append(
                    FileEntry(
                        path=f"s3://{bucket}/{key}",
                        size=int(item["Size"]),
                        mtime=item["LastModified"].timestamp(),
                    )
                )
    return sorted(found, key=lambda e: e.path)


def _list_local(pattern: str) -> list[FileEntry]:
    paths = sorted(glob.glob(pattern)) if GLOB_CHARS.search(pattern) else [pattern]
    entries = []
    for path in paths:
        target = Path(path)
        if target.is_file():
            stat = target.stat()
            entries.append(FileEntry(path=str(target), size=stat.st_size, mtime=stat.st_mtime))
    return entries


def list_files(pattern: str) -> list[FileEntry]:
    """The files matching ``pattern`` (a path or glob, local or ``s3://``), in path order."""
    return _list_s3(pattern) if is_s3(pattern) else _list_local(pattern)


def read_bytes(path: str) -> bytes:
    """The content of one file, local or ``s3://``."""
    if is_s3(path):
        bucket, key = split_s3(path)
        return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
    return Path(path).read_bytes()


def date_pattern(location: str) -> re.Pattern[str]:
    """A regex matching paths of ``location`` (with ``{date}`` and globs), capturing the date."""
    out = []
    for part in re.split(r"(\{date\}|\*\*|\*|\?)", location):
        if part == "{date}":
            out.append(r"(?P<date>\d{4}-\d{2}-\d{2})")
        elif part == "**":
            out.append(r".*")
        elif part == "*":
            out.append(r"[^/]*")
        elif part == "?":
            out.append(r"[^/]")
        else:
            out.append(re.escape(part))
    return re.compile("^" + "".join(out) + "$")
