"""The source catalog: valid specs load; invalid ones name the file, the field and the cause."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from synthcap_resources.catalog import (
    BUNDLED_SOURCES_DIR,
    CatalogError,
    CatalogResource,
    load_catalog,
    parse_spec,
    scan_catalog,
)

BASE = yaml.safe_load((BUNDLED_SOURCES_DIR / "market_prices.yaml").read_text())


def _write(folder: Path, name: str, spec: dict | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(spec if isinstance(spec, str) else yaml.safe_dump(spec))
    return path


def test_bundled_catalog_is_valid_and_covers_every_domain() -> None:
    specs = load_catalog(BUNDLED_SOURCES_DIR)
    assert len(specs) >= 4
    assert {s.domain.value for s in specs.values()} >= {
        "tabular",
        "timeseries",
        "financial",
        "text",
    }
    for spec in specs.values():
        assert Path(spec.resolve_location(spec.start_date)).is_file()


@pytest.mark.parametrize(
    ("change", "field", "cause"),
    [
        ({"privacy": {"epsilon": -1}}, "privacy.epsilon", "greater than 0"),
        ({"kind": "ftp"}, "kind", "'file'"),
        ({"license": "not a license!"}, "license", "SPDX"),
        ({"schedule": "every day"}, "schedule", "cron"),
        ({"location": "data/prices.csv"}, "location", "{date}"),
        ({"domain": "audio"}, "domain", "tabular"),
        ({"start_date": "yesterday"}, "start_date", "date"),
        ({"quality": {"threshold": 120}}, "quality.threshold", "less than or equal to 100"),
        ({"surprise": 1}, "surprise", "Extra inputs"),
        ({"time_column": "when"}, "time_column", "not in the declared schema"),
    ],
)
def test_invalid_spec_names_file_field_and_cause(
    tmp_path: Path, change: dict, field: str, cause: str
) -> None:
    path = _write(tmp_path, "market_prices", {**BASE, **change})
    with pytest.raises(CatalogError) as error:
        parse_spec(path)
    message = str(error.value)
    assert str(path) in message
    assert f"'{field}" in message
    assert cause in message


def test_missing_required_field(tmp_path: Path) -> None:
    spec = {k: v for k, v in BASE.items() if k != "license"}
    with pytest.raises(CatalogError, match=r"field 'license': Field required"):
        parse_spec(_write(tmp_path, "market_prices", spec))


def test_id_must_be_a_slug_and_match_the_file_name(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"field 'id'.*pattern"):
        parse_spec(_write(tmp_path, "Bad-Id", {**BASE, "id": "Bad-Id"}))
    with pytest.raises(CatalogError, match=r"field 'id'.*must equal the file name"):
        parse_spec(_write(tmp_path, "other", BASE))


def test_broken_yaml_is_named(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not valid YAML"):
        parse_spec(_write(tmp_path, "x", "id: [unclosed"))
    with pytest.raises(CatalogError, match="must be a YAML mapping"):
        parse_spec(_write(tmp_path, "y", "- just\n- a list\n"))


def test_scan_keeps_valid_specs_beside_an_invalid_one(tmp_path: Path) -> None:
    _write(tmp_path, "market_prices", BASE)
    _write(tmp_path, "broken", {**BASE, "id": "broken", "privacy": {"epsilon": 0}})
    specs, errors = scan_catalog(tmp_path)
    assert list(specs) == ["market_prices"]
    assert len(errors) == 1 and "broken.yaml" in str(errors[0])
    with pytest.raises(CatalogError):
        load_catalog(tmp_path)
    # Getting one source parses only its own file.
    assert CatalogResource(folder=str(tmp_path)).get("market_prices").id == "market_prices"
    with pytest.raises(CatalogError, match="not in the catalog"):
        CatalogResource(folder=str(tmp_path)).get("nope")


def test_locations_resolve_per_day(tmp_path: Path) -> None:
    path = _write(tmp_path, "market_prices", {**BASE, "location": "files/{date}.csv"})
    spec = parse_spec(path)
    assert spec.resolve_location(dt.date(2026, 1, 2)) == str(tmp_path / "files" / "2026-01-02.csv")
    absolute = parse_spec(_write(tmp_path, "market_prices", {**BASE, "location": "/d/{date}.csv"}))
    assert absolute.resolve_location(dt.date(2026, 1, 2)) == "/d/2026-01-02.csv"
    bundled = load_catalog(BUNDLED_SOURCES_DIR)["market_prices"]
    assert bundled.resolve_location(dt.date(2026, 11, 16)).startswith(str(BUNDLED_SOURCES_DIR))


def test_text_source_must_name_its_text_column(tmp_path: Path) -> None:
    raw = yaml.safe_load((BUNDLED_SOURCES_DIR / "support_tickets.yaml").read_text())
    raw.pop("text_column")
    with pytest.raises(CatalogError, match="field 'text_column'"):
        parse_spec(_write(tmp_path, "support_tickets", raw))


def test_parsed_specs_are_reused_until_the_file_changes(tmp_path: Path) -> None:
    path = _write(tmp_path, "market_prices", {**BASE, "location": "files/a{date}.csv"})
    first = parse_spec(path)
    again = parse_spec(path)
    assert again == first and again is not first  # a copy of the cached spec
    # Rewritten at once with the same size: the bytes differ, so the spec is read afresh.
    _write(tmp_path, "market_prices", {**BASE, "location": "files/b{date}.csv"})
    assert parse_spec(path).location == "files/b{date}.csv"
    # A file that became invalid fails at once, not from the cache.
    _write(tmp_path, "market_prices", "id: [unclosed")
    with pytest.raises(CatalogError, match="not valid YAML"):
        parse_spec(path)
