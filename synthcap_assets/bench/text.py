"""``synthcap bench text``: quality filters against datatrove, near duplicates against
datasketch, on the same generated documents in one run.

Corpus: :func:`synthcap_assets.bench.text_data.bench_corpus` (default 100k English
web-page-like documents; every filter drops 10–50% of them; 2% planted near-duplicate copies).

- Filters: each datatrove class (Gopher quality, Gopher repetition, C4 quality, FineWeb
  quality, datatrove 0.10 with its spaCy tokenizer) against ours (:mod:`synthcap_assets.text.
  signals`), each timed alone over every document with its own tokenization. Agreement: keep/
  drop per filter, and per rule the share of documents on which both say "fails this rule" or
  both say it does not. datatrove runs in an environment of its own (``.bench_envs/datatrove``,
  ``SYNTHCAP_BENCH_ENVS`` moves it), made with pip the first time: its pins clash with ours.
- Near duplicates: character 5-gram shingles of the normalized text, 14 bands × 8 rows,
  candidates confirmed by exact Jaccard ≥ 0.8, for ours (:func:`synthcap_assets.text.dedup.
  duplicates`: hashing, MinHash JAX kernel, banding, confirmation, clusters) and for
  datasketch's ``MinHash.bulk`` + ``MinHashLSH`` (insertion session, one query per document) on
  the same shingles. Recall: planted pairs of Jaccard ≥ 0.9 found; precision: confirmed pairs
  whose Jaccard over the shingle strings (Python sets, independent of either tool's hashing)
  reaches 0.8. synthcap runs twice: ``synthcap_cold_seconds`` includes compiling the JAX
  kernels for the corpus's shape bucket (once per bucket; JAX's disk cache keeps them across
  processes), ``synthcap_seconds`` is the second, compiled run.

``ratio`` is synthcap's documents per second over the peer's (for near duplicates
``peer_seconds / synthcap_seconds`` on the same documents): above 1 means synthcap is faster.
``--peer-docs N`` gives datatrove the first N documents only (at 100k documents its spaCy
filters take hours on a shared 2-core machine); its rate and the agreement are then over those
N, said in ``datatrove_docs``. A peer
that cannot run (no network for pip, datasketch missing) is reported under ``skipped``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from synthcap_assets.bench.text_data import bench_corpus
from synthcap_assets.bench.ydata_env import BenchEnvError, ensure_env, env_dir
from synthcap_assets.text.dedup import DedupParams, duplicates, normalize, shingle_hashes
from synthcap_assets.text.signals import FILTERS, QualityRules, words_of

DEFAULT_DOCS = 100_000
PEER_REQUIREMENTS = ("datatrove>=0.10,<0.11", "spacy>=3.7,<4", "regex>=2023.0")
PEER_SCRIPT = Path(__file__).with_name("text_peer.py")
TARGETS = {"filters": 2.0, "near_duplicates": 5.0, "agreement": 0.99, "recall": 0.99}


class TextBenchError(BenchEnvError):
    """A peer's environment could not be made or its run failed; the message says which."""


def peer_python() -> Path:
    """The datatrove environment's interpreter, made (or remade) when missing or stale."""
    return ensure_env(env_dir("datatrove"), PEER_REQUIREMENTS)


def ours_filters(texts: list[str]) -> dict[str, dict]:
    """Our four filters, each timed alone (its own tokenization), with per-document verdicts."""
    rules = QualityRules()
    out = {}
    for name in FILTERS:
        rule = getattr(rules, name)
        start = time.perf_counter()
        verdicts = [rule.check(t, words_of(t)) for t in texts]
        out[name] = {"seconds": time.perf_counter() - start, "verdicts": verdicts}
    return out


def datatrove_filters(texts: list[str]) -> dict[str, dict]:
    python = peer_python()
    with tempfile.TemporaryDirectory(prefix="synthcap_text_bench_") as tmp:
        docs, out = Path(tmp) / "docs.jsonl", Path(tmp) / "out.json"
        docs.write_text("\n".join(json.dumps(t) for t in texts), encoding="utf-8")
        done = subprocess.run(
            [str(python), str(PEER_SCRIPT), str(docs), str(out)], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise TextBenchError(f"datatrove filters failed:\n{done.stderr[-2000:]}")
        return json.loads(out.read_text())


def agreement(ours: list[str | None], theirs: list[str | None]) -> dict:
    """Keep/drop agreement and, per rule either side used, agreement on "fails this rule"."""
    a, b = np.array(ours, dtype=object), np.array(theirs, dtype=object)
    keep = float(np.mean((a == None) == (b == None)))  # noqa: E711
    rules = sorted({r for r in (*ours, *theirs) if r is not None})
    per_rule = {r: float(np.mean((a == r) == (b == r))) for r in rules}
    drop = {r: float(np.mean(b == r)) for r in rules}
    return {
        "keep_drop": keep,
        "per_rule": per_rule,
        "min_rule": min(per_rule.values(), default=1.0),
        "peer_drop_share": float(np.mean(b != None)),  # noqa: E711
        "peer_rule_share": drop,
    }


def _grams(text: str) -> set[str]:
    t = normalize(text)
    return {t[i : i + 5] for i in range(len(t) - 4)} if len(t) >= 5 else {t}


def _true_jaccard(texts: list[str], pairs) -> list[float]:
    out = []
    for i, j in pairs:
        a, b = _grams(texts[i]), _grams(texts[j])
        out.append(len(a & b) / len(a | b) if a | b else 0.0)
    return out


def ours_near(texts: list[str], params: DedupParams) -> tuple[float, set[tuple[int, int]]]:
    """Seconds of the whole near-duplicate step and the pairs it put in one cluster, as
    (first, later) of each cluster member with its representative."""
    start = time.perf_counter()
    facts, _ = duplicates(texts, params)
    seconds = time.perf_counter() - start
    cluster = facts["cluster"].to_numpy()
    pairs = {(int(c), int(i)) for i, c in enumerate(cluster) if c != i}
    return seconds, pairs


def datasketch_near(texts: list[str], params: DedupParams) -> tuple[float, set[tuple[int, int]]]:
    """datasketch: MinHash.bulk over the same shingles, MinHashLSH with the same bands, a
    query per document, candidates confirmed by exact Jaccard of the shingle sets."""
    from datasketch import MinHash, MinHashLSH

    start = time.perf_counter()
    shingles = [[g.encode() for g in _grams(t)] for t in texts]
    perms = params.bands * params.rows
    hashes = MinHash.bulk(shingles, num_perm=perms, seed=params.seed)
    lsh = MinHashLSH(num_perm=perms, params=(params.bands, params.rows))
    with lsh.insertion_session() as session:
        for i, h in enumerate(hashes):
            session.insert(i, h, check_duplication=False)
    sets = [set(s) for s in shingles]
    confirmed = set()
    for i, h in enumerate(hashes):
        for j in lsh.query(h):
            if j <= i:
                continue
            union = len(sets[i] | sets[j])
            if union and len(sets[i] & sets[j]) / union >= params.min_jaccard:
                confirmed.add((i, j))
    return time.perf_counter() - start, confirmed


def _recall(found: set[tuple[int, int]], planted: np.ndarray, true: list[float]) -> dict:
    wanted = [(int(a), int(b)) for (a, b), j in zip(planted, true, strict=True) if j >= 0.9]
    hits = sum((a, b) in found or (b, a) in found for a, b in wanted)
    return {"planted_pairs_jaccard_0_9": len(wanted), "found": hits,
            "recall": hits / len(wanted) if wanted else 1.0}  # fmt: skip


def _clustered(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Every pair inside the same cluster (cluster given as member -> representative)."""
    members: dict[int, set[int]] = {}
    for rep, doc in pairs:
        members.setdefault(rep, {rep}).add(doc)
    return {(a, b) for group in members.values() for a in group for b in group if a < b}


def run_text_bench(
    docs: int = DEFAULT_DOCS,
    seed: int = 0,
    tools: list[str] | None = None,
    peer_docs: int | None = None,
) -> dict:
    """The benchmark document (module doc); ``tools`` limits the peers (datatrove,
    datasketch); ``peer_docs`` runs datatrove on the first that many documents only (its
    documents per second and the agreement are then over those)."""
    peers = set(tools or ("datatrove", "datasketch"))
    peer_docs = min(peer_docs or docs, docs)
    texts, planted = bench_corpus(docs, seed)
    params = DedupParams()
    document: dict = {
        "docs": docs,
        "chars": sum(len(t) for t in texts),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "targets": TARGETS,
        "skipped": {},
    }
    ours = ours_filters(texts)
    filters = {
        name: {"synthcap_seconds": r["seconds"], "synthcap_docs_per_s": docs / r["seconds"]}
        for name, r in ours.items()
    }
    if "datatrove" in peers:
        try:
            theirs = datatrove_filters(texts[:peer_docs])
        except BenchEnvError as exc:
            document["skipped"]["datatrove"] = str(exc)[:500]
        else:
            document["datatrove_docs"] = peer_docs
            for name in FILTERS:
                peer = theirs[name]
                peer_rate = peer_docs / peer["seconds"]
                verdicts = ours[name]["verdicts"][:peer_docs]
                filters[name].update(
                    datatrove_seconds=peer["seconds"],
                    datatrove_docs_per_s=peer_rate,
                    ratio=filters[name]["synthcap_docs_per_s"] / peer_rate,
                    agreement=agreement(verdicts, peer["verdicts"]),
                )
    document["filters"] = filters
    cold, _ = ours_near(texts, params)  # compiles the kernels for these shapes (then cached)
    seconds, pairs = ours_near(texts, params)
    ours_pairs = _clustered(pairs)
    true = _true_jaccard(texts, planted)
    near = {
        "synthcap_seconds": seconds,
        "synthcap_cold_seconds": cold,
        "synthcap": _recall(ours_pairs, planted, true),
    }
    confirmed_true = _true_jaccard(texts, sorted(ours_pairs)[:20000])
    near["synthcap"]["precision"] = (
        float(np.mean(np.array(confirmed_true) >= params.min_jaccard)) if confirmed_true else 1.0
    )
    near["synthcap"]["pairs"] = len(ours_pairs)
    if "datasketch" in peers:
        try:
            ds_seconds, ds_pairs = datasketch_near(texts, params)
        except ImportError as exc:
            document["skipped"]["datasketch"] = f"datasketch is not installed: {exc}"
        else:
            near["datasketch_seconds"] = ds_seconds
            near["ratio"] = ds_seconds / seconds
            near["datasketch"] = _recall(ds_pairs, planted, true)
            near["datasketch"]["pairs"] = len(ds_pairs)
    document["near_duplicates"] = near
    document["shingle_check"] = _shingle_check(texts[:200])
    return document


def _shingle_check(texts: list[str]) -> bool:
    """Our hashed shingle sets have the sizes of the Python string sets (no collisions)."""
    sh = shingle_hashes([normalize(t) for t in texts])
    return all(sh.of(i).size == len(_grams(t)) for i, t in enumerate(texts))


def format_table(document: dict) -> str:
    lines = [
        f"text benchmark: {document['docs']:,} documents, {document['chars']:,} characters",
        f"{'filter':<20}{'synthcap doc/s':>15}{'datatrove doc/s':>16}{'ratio':>7}"
        f"{'keep/drop':>10}{'min rule':>9}{'dropped':>9}",
    ]
    for name, r in document["filters"].items():
        a, nan = r.get("agreement", {}), float("nan")
        lines.append(
            f"{name:<20}{r['synthcap_docs_per_s']:>15,.0f}"
            f"{r.get('datatrove_docs_per_s', nan):>16,.0f}{r.get('ratio', nan):>7.1f}"
            f"{a.get('keep_drop', nan):>10.4f}{a.get('min_rule', nan):>9.4f}"
            f"{a.get('peer_drop_share', nan):>9.1%}"
        )
    if document.get("datatrove_docs", document["docs"]) < document["docs"]:
        lines.append(
            f"datatrove ran on the first {document['datatrove_docs']:,} documents (rate and "
            "agreement over those)"
        )
    n = document["near_duplicates"]
    lines.append(
        f"near duplicates: synthcap {n['synthcap_seconds']:.2f} s (recall "
        f"{n['synthcap']['recall']:.4f}, precision {n['synthcap']['precision']:.4f})"
        + (
            f", datasketch {n['datasketch_seconds']:.2f} s (recall "
            f"{n['datasketch']['recall']:.4f}), ratio {n['ratio']:.1f}"
            if "datasketch_seconds" in n
            else ""
        )
    )
    for tool, why in document["skipped"].items():
        lines.append(f"skipped {tool}: {why.splitlines()[0]}")
    return "\n".join(lines)


def run_from_args(args: argparse.Namespace, console) -> int:
    """``synthcap bench text [--rows N] [--peer-docs N] [--tools ...] [--json PATH]``."""
    document = run_text_bench(
        args.rows or DEFAULT_DOCS, tools=args.tools, peer_docs=getattr(args, "peer_docs", None)
    )
    console.print(format_table(document), highlight=False)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(document, indent=2))
        console.print(f"wrote {args.json}")
    return 0
