"""The ``huggingface`` connector: one split of a dataset on the Hugging Face Hub, as the Hub
serves its files (Parquet or JSON Lines), at a pinned revision.

A read makes the Hub's own three kinds of request, through the ``http_api`` session (rate
limit shared through Redis, retries on 429/5xx, hishel cache for anonymous reads):

1. ``GET /api/datasets/<id>/revision/<revision>``: the commit the revision points at now.
   Everything below reads that commit, so a branch that moves during the read cannot mix
   two versions; the commit lands with every row (``hf_revision``) and in the cursor.
2. ``GET /api/datasets/<id>/tree/<commit>?recursive=true``: the file listing, paged by the
   ``Link: rel="next"`` header; the split's data files are picked from it: the spec's
   ``data_files`` globs, else the card's ``configs`` (the Hub reports them with the revision),
   else the Hub's naming conventions (see :func:`split_files`).
3. ``GET /datasets/<id>/resolve/<commit>/<path>``: each file (the Hub redirects to its
   storage; the redirect is followed).

A token from the environment (``token_env``, default ``HF_TOKEN``) is sent as a bearer token
when set, for gated and private sets; such reads are not cached (the cache would hold what
the token opened). The Hub's address is the spec's ``endpoint``, else ``HF_ENDPOINT`` (the
variable huggingface_hub itself reads), else huggingface.co.

A file is captured once: the cursor maps each file (path and blob id) to the day it was
captured, so the next day's read of an unchanged revision finds nothing new
(:class:`EmptySourceError`), a new commit captures only its new or changed files, and a
re-run of a day reads that day's files again (the partition is replaced, never doubled).

huggingface_hub is not used: its client keeps its own cache folder, retries and (no) rate
limit, outside the lake-wide limits every other source obeys; the three requests above are
the whole protocol a read needs.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import polars as pl

from synthcap_resources.catalog import SourceSpec
from synthcap_resources.sources.base import (
    CaptureBatch,
    DateWindow,
    EmptySourceError,
    SourceReadError,
)
from synthcap_resources.sources.file_formats import FileParseError, parse_file
from synthcap_resources.sources.http_client import HttpSession, MalformedResponseError
from synthcap_resources.sources.http_spec import HttpAuthSpec
from synthcap_resources.sources.web_fetch import WebConnector, fetch
from synthcap_resources.sources.web_spec import HF_ENDPOINT, HuggingFaceSpec

ENDPOINT_ENV = "HF_ENDPOINT"
REVISION_COLUMN = "hf_revision"
FILE_COLUMN = "hf_file"
EXTENSIONS = {".parquet": "parquet", ".jsonl": "jsonl"}


@dataclass(frozen=True)
class HubFile:
    """One file of the repository listing."""

    path: str
    oid: str
    size: int

    @property
    def key(self) -> str:
        return f"{self.path}@{self.oid}"

    @property
    def format(self) -> str | None:
        return next((f for ext, f in EXTENSIONS.items() if self.path.endswith(ext)), None)


def endpoint(hf: HuggingFaceSpec) -> str:
    return (hf.endpoint or os.environ.get(ENDPOINT_ENV) or HF_ENDPOINT).rstrip("/")


def _split_pattern(split: str) -> re.Pattern[str]:
    # The split as a folder, or as a file name's first word: train/, train.jsonl,
    # train-00000-of-00002.parquet (the conventions of the Hub's data files).
    return re.compile(rf"(^|/){re.escape(split)}(/|[-._ ]|\d)")


def card_globs(info: dict[str, Any], config: str | None, split: str) -> list[str] | None:
    """The split's path globs from the dataset card's ``configs`` (as the Hub reports them in
    ``cardData``): the named config, else the one marked ``default``, named ``default`` or
    alone. ``None`` when the card declares no such config."""
    configs = (info.get("cardData") or {}).get("configs")
    if not isinstance(configs, list) or not all(isinstance(c, dict) for c in configs):
        return None
    if config is not None:
        entry = next((c for c in configs if c.get("config_name") == config), None)
    else:
        candidates = [c for c in configs if c.get("default")]
        candidates += [c for c in configs if c.get("config_name") == "default"]
        entry = candidates[0] if candidates else (configs[0] if len(configs) == 1 else None)
    if entry is None:
        return None
    files = entry.get("data_files")
    if isinstance(files, str):  # one glob: the train split
        return [files] if split == "train" else []
    globs: list[str] = []
    for item in files if isinstance(files, list) else []:
        if isinstance(item, str):
            globs += [item] if split == "train" else []
        elif isinstance(item, dict) and item.get("split") == split:
            path = item.get("path")
            globs += (
                [path] if isinstance(path, str) else [p for p in path or [] if isinstance(p, str)]
            )
    return globs


def split_files(
    files: list[HubFile], hf: HuggingFaceSpec, card: list[str] | None = None
) -> list[HubFile]:
    """The data files of ``hf``'s config and split, in one format, in path order: those the
    spec's ``data_files`` globs name, else those of the card's config (``card``, from
    :func:`card_globs`), else those the Hub's naming conventions put in the split."""
    data = [f for f in files if f.format is not None]
    globs = [g.format(config=hf.config or "default", split=hf.split) for g in hf.data_files]
    if globs or card:
        globs = globs or list(card or [])
        chosen = [f for f in data if any(fnmatch.fnmatch(f.path, g) for g in globs)]
    else:
        pattern = _split_pattern(hf.split)
        chosen = [f for f in data if pattern.search(f.path)]
        if hf.config:
            chosen = [f for f in chosen if hf.config in f.path.split("/")[:-1]]
    wanted = hf.format
    if wanted == "auto":
        wanted = "parquet" if any(f.format == "parquet" for f in chosen) else "jsonl"
    return sorted((f for f in chosen if f.format == wanted), key=lambda f: f.path)


class HuggingFaceConnector(WebConnector):
    """Reads ``huggingface`` sources; one session per read."""

    kind = "huggingface"

    def _session(self, spec: SourceSpec, where: str) -> HttpSession:
        hf: HuggingFaceSpec = self.block(spec)
        auth = None
        if os.environ.get(hf.token_env):
            auth = HttpAuthSpec(type="bearer", env={"token": hf.token_env})
        return self.session(spec.id, hf.http_api(endpoint(hf), auth), where)

    def _hint(self, hf: HuggingFaceSpec) -> str:
        if os.environ.get(hf.token_env):
            return f" (does the token in {hf.token_env} have access to {hf.dataset}?)"
        return f" (a gated or private set needs a token in {hf.token_env})"

    def resolve_revision(
        self, session: HttpSession, hf: HuggingFaceSpec
    ) -> tuple[str, dict[str, Any]]:
        """The commit ``hf.revision`` points at now, and the dataset's info at it."""
        url = f"{endpoint(hf)}/api/datasets/{hf.dataset}/revision/{quote(hf.revision, safe='')}"
        response = fetch(session, url, f"revision {hf.revision!r} of", hint=self._hint(hf))
        try:
            info = response.json()
            sha = info["sha"]
        except (ValueError, KeyError, TypeError) as exc:
            raise MalformedResponseError(
                f"{session.where}: {url} sent no commit ('sha') for revision {hf.revision!r}"
            ) from exc
        return str(sha), info

    def list_files(self, session: HttpSession, hf: HuggingFaceSpec, commit: str) -> list[HubFile]:
        """Every file of the repository at ``commit`` (all pages of the listing)."""
        url: str | None = f"{endpoint(hf)}/api/datasets/{hf.dataset}/tree/{commit}"
        params: dict[str, str] | None = {"recursive": "true", "expand": "false"}
        files: list[HubFile] = []
        while url is not None:
            response = fetch(session, url, "file listing", params, hint=self._hint(hf))
            try:
                entries = response.json()
                files.extend(
                    HubFile(e["path"], str(e.get("oid", "")), int(e.get("size", 0)))
                    for e in entries
                    if e.get("type") == "file"
                )
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise MalformedResponseError(
                    f"{session.where}: the file listing {url} is not a list of entries "
                    f"with 'type' and 'path' ({exc})"
                ) from exc
            nxt = response.links.get("next")
            url, params = (nxt["url"], None) if nxt else (None, None)
        return files

    def check(self, spec: SourceSpec) -> None:
        hf: HuggingFaceSpec = self.block(spec)
        with self._session(spec, f"source {spec.id!r}") as session:
            self.resolve_revision(session, hf)

    def read(
        self, spec: SourceSpec, window: DateWindow, cursor: dict[str, Any] | None = None
    ) -> CaptureBatch:
        """The split's files not captured on another day, as rows."""
        hf: HuggingFaceSpec = self.block(spec)
        where = window.where(spec.id)
        day = window.day.isoformat()
        captured: dict[str, str] = dict((cursor or {}).get("files", {}))
        with self._session(spec, where) as session:
            commit, info = self.resolve_revision(session, hf)
            card = card_globs(info, hf.config, hf.split)
            files = split_files(self.list_files(session, hf, commit), hf, card)
            name = f"{hf.dataset}@{commit}" + (f" config {hf.config}" if hf.config else "")
            if not files:
                raise EmptySourceError(
                    f"{where}: no Parquet or JSON Lines file of split {hf.split!r} in {name}"
                )
            if len(files) > hf.max_files:
                raise SourceReadError(
                    f"{where}: split {hf.split!r} of {name} has {len(files)} files, more than "
                    f"max_files {hf.max_files}; raise it or narrow data_files"
                )
            new = [f for f in files if captured.get(f.key, day) == day]
            if not new:
                days = sorted({captured[f.key] for f in files})
                raise EmptySourceError(
                    f"{where}: nothing new in split {hf.split!r} of {name}: its "
                    f"{len(files)} file(s) were captured on {', '.join(days)}"
                )
            frames, rejected, origins = [], [], []
            for file in new:
                url = f"{endpoint(hf)}/datasets/{hf.dataset}/resolve/{commit}/{quote(file.path)}"
                response = fetch(session, url, "data file", hint=self._hint(hf))
                parsed = _parse(response.content, file, where)
                frames.append(_provenance(parsed.rows, commit, file.path))
                if parsed.rejected is not None:
                    rejected.append(_provenance(parsed.rejected, commit, file.path))
                origins.append(f"hf://datasets/{hf.dataset}@{commit}/{file.path}")
        captured.update({f.key: day for f in new})
        return CaptureBatch(
            rows=pl.concat(frames, how="diagonal_relaxed"),
            origins=origins,
            rejected=pl.concat(rejected, how="diagonal_relaxed") if rejected else None,
            cursor={"dataset": hf.dataset, "revision": commit, "day": day, "files": captured},
        )


def _parse(content: bytes, file: HubFile, where: str):
    try:
        return parse_file(content, file.format, name=file.path, tolerant=True)
    except FileParseError as exc:
        raise SourceReadError(f"{where}: cannot parse {file.path} as {file.format}: {exc}") from exc


def _provenance(rows: pl.DataFrame, commit: str, path: str) -> pl.DataFrame:
    return rows.with_columns(
        pl.lit(commit, dtype=pl.Utf8).alias(REVISION_COLUMN),
        pl.lit(path, dtype=pl.Utf8).alias(FILE_COLUMN),
    )
