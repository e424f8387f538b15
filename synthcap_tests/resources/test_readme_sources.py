"""The README's catalog examples for the file and http_api kinds are valid specs, and the
presets expand to what their APIs need."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from synthcap_resources.catalog import CatalogError, parse_spec

README = Path(__file__).resolve().parents[2] / "README.md"


def _examples(kind: str) -> list[str]:
    text = README.read_text()
    section = text.split(f"\n### {kind}\n", 1)[1].split("\n### ", 1)[0].split("\n## ", 1)[0]
    return re.findall(r"```yaml\n(.*?)```", section, flags=re.S)


@pytest.mark.parametrize("kind", ["file", "http_api"])
def test_readme_examples_parse(kind: str, tmp_path: Path) -> None:
    examples = _examples(kind)
    assert examples, f"no YAML example under ### {kind}"
    for example in examples:
        source_id = re.search(r"^id: (\w+)$", example, flags=re.M).group(1)
        path = tmp_path / f"{source_id}.yaml"
        path.write_text(example)
        spec = parse_spec(path)
        assert spec.kind == kind


def test_presets_expand(tmp_path: Path) -> None:
    specs = {}
    for example in _examples("http_api"):
        source_id = re.search(r"^id: (\w+)$", example, flags=re.M).group(1)
        (tmp_path / f"{source_id}.yaml").write_text(example)
        specs[source_id] = parse_spec(tmp_path / f"{source_id}.yaml").http_api
    edgar, fred, gdp = specs["apple_facts"], specs["dgs10"], specs["gdp"]
    assert edgar.base_url == "https://data.sec.gov" and edgar.rate_limit_per_second == 10
    assert edgar.rate_limit_group == "sec.gov" and edgar.records_format == "edgar_facts"
    assert fred.auth.type == "api_key_query" and fred.auth.env == {"key": "FRED_API_KEY"}
    assert fred.pagination.type == "offset" and fred.params["series_id"] == "{series_id}"
    assert gdp.records_path == "1" and gdp.pagination.path == "0.pages"


def test_edgar_preset_requires_a_contact_address(tmp_path: Path) -> None:
    example = _examples("http_api")[0].replace(
        '"Example Corp data-team@example.com"', '"Example Corp"'
    )
    (tmp_path / "apple_facts.yaml").write_text(example)
    with pytest.raises(CatalogError, match="requires a User-Agent with a contact e-mail"):
        parse_spec(tmp_path / "apple_facts.yaml")
