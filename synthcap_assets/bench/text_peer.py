"""datatrove's side of ``synthcap bench text``, run by the peer environment's Python.

Standalone on purpose (stdlib and datatrove only): ``synthcap bench text`` runs it with the
interpreter of the environment it made for datatrove, whose pins clash with synthcap's.
Usage: ``python text_peer.py DOCS.jsonl OUT.json``; each filter class runs over every
document on its own (its own tokenization, as a datatrove pipeline step would), timed; the
output holds per class the seconds and per document the failing rule (null when kept).
"""

import json
import sys
import time


def main(docs_path: str, out_path: str) -> None:
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    with open(docs_path, encoding="utf-8") as f:
        texts = [json.loads(line) for line in f]
    classes = {
        "gopher_quality": GopherQualityFilter,
        "gopher_repetition": GopherRepetitionFilter,
        "c4_quality": C4QualityFilter,
        "fineweb_quality": FineWebQualityFilter,
    }
    out = {}
    for name, cls in classes.items():
        step = cls()
        step.filter(Document(text="Warm up the tokenizer. It loads once.", id="warm"))
        verdicts = []
        start = time.perf_counter()
        for i, text in enumerate(texts):
            kept = step.filter(Document(text=text, id=str(i)))
            verdicts.append(None if kept is True else (kept[1] if kept else "dropped"))
        out[name] = {"seconds": time.perf_counter() - start, "verdicts": verdicts}
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
