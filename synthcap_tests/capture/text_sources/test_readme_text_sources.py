"""The README's catalog examples of the text kinds (huggingface, edgar_filings, feed) are
valid specs, one per kind, and say what the connectors will request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from synthcap_resources.catalog import parse_spec

README = Path(__file__).resolve().parents[3] / "README.md"


def _examples(kind: str) -> list[str]:
    text = README.read_text()
    section = text.split(f"\n### {kind}\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.S)


@pytest.mark.parametrize("kind", ["huggingface", "edgar_filings", "feed"])
def test_readme_example_parses(kind: str, tmp_path: Path) -> None:
    (example,) = _examples(kind)
    source_id = re.search(r"^id: (\w+)$", example, flags=re.M).group(1)
    path = tmp_path / f"{source_id}.yaml"
    path.write_text(example)
    spec = parse_spec(path)
    assert spec.kind == kind and spec.domain == "text" and spec.text_column == "text"
    block = getattr(spec, kind)
    if kind == "huggingface":
        assert (block.dataset, block.revision, block.split) == ("PolyAI/banking77", "main", "train")
        assert block.rate_limit_group == "huggingface.co"
    elif kind == "edgar_filings":
        assert block.cik == "320193" and block.forms == ["10-K", "10-K/A"]
        assert block.rate_limit_per_second == 10 and block.rate_limit_group == "sec.gov"
    else:
        assert block.url.startswith("https://") and block.rate_limit_group == "sec.gov"
