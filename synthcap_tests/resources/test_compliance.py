"""Compliance logic: SPDX licenses against the lake's uses, and robots.txt longest-match rules
(including the Allow-after-Disallow case that the standard library's parser gets wrong)."""

from __future__ import annotations

import urllib.robotparser
from pathlib import Path

import pytest

from synthcap_resources.catalog import parse_spec
from synthcap_resources.compliance import license_decision, permitted_uses
from synthcap_resources.robots import parse_robots, product_token
from synthcap_tests.http_fixtures import http_spec, write_spec

ALLOW_AFTER_DISALLOW = """\
User-agent: *
Disallow: /
Allow: /api/
"""


def test_allow_after_disallow_longest_match_wins() -> None:
    robots = parse_robots(ALLOW_AFTER_DISALLOW)
    assert robots.allowed("synthcap", "https://example.org/api/series?id=1")
    assert not robots.allowed("synthcap", "https://example.org/private/x")
    # The stdlib parser applies the first matching rule in file order, so it refuses /api/.
    stdlib = urllib.robotparser.RobotFileParser()
    stdlib.parse(ALLOW_AFTER_DISALLOW.splitlines())
    assert not stdlib.can_fetch("synthcap", "https://example.org/api/series?id=1")


def test_rfc9309_details() -> None:
    robots = parse_robots(
        """
        # comments and unknown lines are ignored
        Sitemap: https://example.org/sitemap.xml
        User-agent: otherbot
        Disallow: /

        User-agent: SynthCap
        User-agent: fetcher
        Disallow: /data/
        Allow: /data/public
        Disallow: /*.xml$
        Allow: /data/x
        Disallow: /data/x
        Disallow:
        """
    )
    ok = lambda path: robots.allowed("synthcap", "https://e.org" + path)  # noqa: E731
    assert not ok("/data/secret.json")
    assert ok("/data/public/file.json")  # longer Allow beats shorter Disallow
    assert ok("/data/x")  # equal length: Allow wins
    assert not ok("/feed.xml") and ok("/feed.xml?page=2")  # '$' anchors the end
    assert ok("/robots.txt") and ok("/elsewhere")
    # Another crawler falls to no group at all (no '*' group): everything allowed.
    assert robots.allowed("unknownbot", "https://e.org/data/secret.json")
    assert not robots.allowed("otherbot", "https://e.org/anything")
    assert product_token("SynthCap/0.1 (ops@example.com)") == "SynthCap"


@pytest.mark.parametrize(
    ("license_id", "uses", "allowed"),
    [
        ("CC0-1.0", ["synthetic-data", "commercial"], True),
        ("CC-BY-4.0", ["analytics", "synthetic-data"], True),
        ("CC-BY-NC-4.0", ["analytics", "synthetic-data"], True),
        ("CC-BY-NC-4.0", ["commercial"], False),
        ("CC-BY-ND-4.0", ["synthetic-data"], False),
        ("LicenseRef-Proprietary", ["synthetic-data"], False),
        ("LicenseRef-Proprietary", ["analytics"], True),
        ("LicenseRef-SomethingElse", ["analytics"], False),
        ("CC-BY-NC-4.0 OR CC-BY-4.0", ["commercial"], True),
        ("CC-BY-4.0 AND CC-BY-NC-4.0", ["commercial"], False),
        ("GPL-2.0+ WITH Classpath-exception-2.0", ["analytics"], False),
    ],
)
def test_license_decisions(tmp_path: Path, license_id: str, uses: list[str], allowed: bool):
    spec = parse_spec(
        write_spec(
            tmp_path,
            http_spec("lic", {"base_url": "http://127.0.0.1:1"}, license=license_id),
        )
    )
    decision = license_decision(spec, uses)
    assert decision.allowed is allowed
    assert license_id in decision.reason
    if not allowed:
        assert "refused for" in decision.reason


def test_share_alike_and_or_expressions() -> None:
    assert "commercial" in permitted_uses("CC-BY-SA-4.0")
    assert permitted_uses("CC-BY-NC-ND-4.0") == frozenset({"analytics"})
    assert permitted_uses("Nonsense-1.0") == frozenset()


def test_unknown_lake_use_is_refused(tmp_path: Path) -> None:
    spec = parse_spec(write_spec(tmp_path, http_spec("lic", {"base_url": "http://127.0.0.1:1"})))
    decision = license_decision(spec, ["synthetic_data"])
    assert (
        not decision.allowed and "['synthetic_data'] are not uses synthcap knows" in decision.reason
    )


def test_sources_resource_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    from synthcap_resources.sources.registry import sources_from_env

    monkeypatch.delenv("SYNTHCAP_REDIS_URL", raising=False)
    monkeypatch.delenv("SYNTHCAP_ALLOWED_USES", raising=False)
    assert sources_from_env().redis_url is None
    assert sources_from_env().allowed_uses == ["analytics", "synthetic-data"]
    monkeypatch.setenv("SYNTHCAP_REDIS_URL", "redis://:pw@127.0.0.1:6379/0")
    monkeypatch.setenv("SYNTHCAP_ALLOWED_USES", "analytics, commercial")
    monkeypatch.setenv("SYNTHCAP_STATE_DIR", "/tmp/sc-state")
    resource = sources_from_env()
    # The URL stays an env var reference (not its value) in the resource's config.
    assert resource._convert_to_config_dictionary()["redis_url"] == {"env": "SYNTHCAP_REDIS_URL"}
    assert resource.allowed_uses == ["analytics", "commercial"]
    assert resource.cache_dir == "/tmp/sc-state/http_cache"
