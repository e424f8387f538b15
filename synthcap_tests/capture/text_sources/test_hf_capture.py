"""``raw_capture`` of ``huggingface`` sources from a loopback Hub (revision, paged tree
listing, resolve redirects to storage): the revision pinned and recorded, split and config
selected, a gated set read with the token from the environment, and nothing captured
twice. (429/5xx handling: test_text_connectors.py.)"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import polars as pl

from synthcap_resources.sources.state import latest_cursor
from synthcap_tests.capture.text_sources.servers import (
    HUB,
    Repo,
    banking77,
    capture,
    dialogues,
    raw,
    serve_hub,
    text_spec,
)

DAY = dt.date(2024, 11, 1)
SHA = "12e9a1a6ac8e2bd6fb3f4a5e2b7c3d9f0a1b2c3d"


def _spec(httpserver, url: str, **block) -> dict:
    endpoint = httpserver.url_for("/").rstrip("/")
    return text_spec("banking77", "huggingface", {"url": url, "endpoint": endpoint, **block})


def test_split_captured_at_the_pinned_commit_and_not_twice(tmp_path, httpserver) -> None:
    serve_hub(httpserver)
    spec = _spec(httpserver, "hf://datasets/PolyAI/banking77@main/train")
    ok, lake, errors = capture(tmp_path, spec, DAY)
    assert ok, errors
    rows = raw(lake, "banking77", DAY)
    expected = pl.read_ndjson(HUB / "banking77_train.jsonl")
    # Both parquet shards of the train split (the listing spans two pages), no test rows.
    assert sorted(rows["text"].to_list()) == sorted(expected["text"].to_list())
    assert rows.height == 12 and rows["label"].sum() == expected["label"].sum()
    assert set(rows["hf_revision"]) == {SHA}  # "main" resolved to its commit, recorded per row
    assert set(rows["hf_file"]) == {
        "data/train-00000-of-00002.parquet",
        "data/train-00001-of-00002.parquet",
    }
    cursor = latest_cursor(lake, "banking77")
    assert cursor["revision"] == SHA and set(cursor["files"].values()) == {DAY.isoformat()}
    # Every file was read at the commit, not at the moving branch name.
    resolves = [r.path for r, _ in httpserver.log if "/resolve/" in r.path]
    assert resolves and all(f"/resolve/{SHA}/" in p for p in resolves)

    # The next day: the same commit holds nothing new, so nothing is captured again.
    later = DAY + dt.timedelta(days=1)
    ok, lake, errors = capture(tmp_path, spec, later)
    assert not ok and "nothing new in split 'train'" in errors and "2024-11-02" in errors
    assert lake.read_partition("raw/banking77", {"_date": later}) is None

    # Re-running the first day replaces its partition with the same rows, never doubled.
    ok, lake, errors = capture(tmp_path, spec, DAY)
    assert ok, errors
    assert raw(lake, "banking77", DAY).height == 12


def test_a_new_commit_captures_only_its_changed_file(tmp_path, httpserver) -> None:
    hub = serve_hub(httpserver)
    spec = _spec(httpserver, "hf://datasets/PolyAI/banking77/train")
    assert capture(tmp_path, spec, DAY)[0]
    # A new commit on main rewrites the second shard; the first is unchanged.
    old = banking77()
    shard = "data/train-00001-of-00002.parquet"
    added = pl.DataFrame({"text": ["My card was swallowed by the ATM."], "label": [6]})
    buffer = io.BytesIO()
    pl.concat([pl.read_parquet(io.BytesIO(old.files[shard])), added]).write_parquet(buffer)
    data = buffer.getvalue()
    tree = [
        {**e, "oid": hashlib.sha1(data).hexdigest(), "size": len(data)} if e["path"] == shard else e
        for e in old.tree
    ]
    new_sha = "b" * 40
    hub.publish(Repo({**old.info, "sha": new_sha}, tree, {**old.files, shard: data}))
    later = DAY + dt.timedelta(days=1)
    ok, lake, errors = capture(tmp_path, spec, later)
    assert ok, errors
    rows = raw(lake, "banking77", later)
    assert set(rows["hf_file"]) == {shard} and set(rows["hf_revision"]) == {new_sha}
    assert rows.height == 6 and "My card was swallowed by the ATM." in rows["text"].to_list()
    assert raw(lake, "banking77", DAY).height == 12  # the first day's rows untouched


def test_gated_jsonl_config_with_token_from_env(tmp_path, httpserver, monkeypatch) -> None:
    serve_hub(httpserver, dialogues(token="hf_test_token"))
    endpoint = httpserver.url_for("/").rstrip("/")
    spec = text_spec(
        "flights",
        "huggingface",
        {"url": "hf://datasets/synthcap-fixtures/support-dialogues/flights/train"},
        text_column="utterance",
    )
    monkeypatch.setenv("HF_ENDPOINT", endpoint)  # the Hub's address, as huggingface_hub reads it
    monkeypatch.delenv("HF_TOKEN", raising=False)
    ok, _, errors = capture(tmp_path, spec, DAY)
    assert not ok
    assert "source 'flights', partition 2024-11-01" in errors and "HTTP 401" in errors
    assert "needs a token in HF_TOKEN" in errors

    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    ok, lake, errors = capture(tmp_path, spec, DAY)
    assert ok, errors
    rows = raw(lake, "flights", DAY)
    # Only the flights config's train file; its line that is not JSON is quarantined.
    assert set(rows["hf_file"]) == {"flights/train.jsonl"}
    assert rows.height == 5 and set(rows["speaker"]) == {"USER", "ASSISTANT"}
    quarantined = lake.read_table("reports/quarantine")
    assert quarantined.height == 1 and "hf_test_token" not in json.dumps(
        latest_cursor(lake, "flights")
    )
