"""Compliance before capture: license against the lake's allowed uses, robots.txt, audit rows.

- License: the source's SPDX expression is checked against :data:`LICENSE_USES`, a small
  table of what each known license permits. ``A OR B`` permits what either permits,
  ``A AND B`` what both permit, ``A WITH exception`` what ``A`` permits. Every use the
  lake is configured for (``SourcesResource.allowed_uses``, e.g. ``synthetic-data``) must be
  permitted; an unknown or proprietary license is refused for the uses it does not grant.
- robots.txt (``http_api`` sources with ``respect_robots``): fetched with the source's
  User-Agent and rate limit, judged by ``robots.py`` (longest match). Per RFC 9309, a 4xx
  means no restrictions; a 5xx that persists means complete disallow.
- Every decision, allowed or refused, with its reason, the license, terms URL and
  attribution, is one row appended to ``audit/compliance``. A refusal raises
  :class:`ComplianceError` before anything else is read or written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

import polars as pl

from synthcap_resources.catalog import SourceSpec
from synthcap_resources.lakehouse import LakehouseResource, WriteResult
from synthcap_resources.robots import parse_robots, product_token
from synthcap_resources.sources.base import SourceReadError, SourceUnreachableError
from synthcap_resources.sources.http_client import HttpSession

COMPLIANCE_TABLE = "audit/compliance"
USES = ("analytics", "synthetic-data", "ml-training", "commercial", "redistribution")
_ALL = frozenset(USES)
_NO_COMMERCIAL = _ALL - {"commercial"}
_NO_DERIVATIVES = frozenset({"analytics", "commercial", "redistribution"})

LICENSE_USES: dict[str, frozenset[str]] = {
    **dict.fromkeys(
        [
            "CC0-1.0",
            "PDDL-1.0",
            "Unlicense",
            "LicenseRef-PublicDomain",
            "MIT",
            "Apache-2.0",
            "BSD-2-Clause",
            "BSD-3-Clause",
            "ISC",
            "CC-BY-3.0",
            "CC-BY-4.0",
            "ODC-By-1.0",
            "OGL-UK-3.0",
            "CDLA-Permissive-1.0",
            "CDLA-Permissive-2.0",
            # Share-alike: derived data must carry the same license, but every use is open.
            "CC-BY-SA-3.0",
            "CC-BY-SA-4.0",
            "ODbL-1.0",
            "CDLA-Sharing-1.0",
        ],
        _ALL,
    ),
    **dict.fromkeys(["CC-BY-NC-3.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0"], _NO_COMMERCIAL),
    "CC-BY-ND-4.0": _NO_DERIVATIVES,
    "CC-BY-NC-ND-4.0": frozenset({"analytics"}),
    # Data licensed to us under contract: internal analytics only, nothing derived from it.
    "LicenseRef-Proprietary": frozenset({"analytics"}),
}

COMPLIANCE_SCHEMA = {
    "source": pl.Utf8,
    "date": pl.Date,
    "decided_at": pl.Datetime("us", "UTC"),
    "check": pl.Utf8,
    "decision": pl.Utf8,
    "reason": pl.Utf8,
    "license": pl.Utf8,
    "terms_url": pl.Utf8,
    "attribution": pl.Utf8,
    "uses": pl.Utf8,
}


class ComplianceError(SourceReadError):
    """A source may not be captured for the lake's uses (license, robots.txt)."""


@dataclass(frozen=True)
class Decision:
    check: str  # license | robots | retention
    allowed: bool
    reason: str
    outcome: str | None = None  # overrides allowed/refused in the table (e.g. "deleted")


def permitted_uses(expression: str) -> frozenset[str]:
    """The uses an SPDX expression permits (``OR`` binds looser than ``AND``)."""
    permitted: frozenset[str] = frozenset()
    for alternative in expression.split(" OR "):
        uses = _ALL
        for term in alternative.split(" AND "):
            license_id = term.split(" WITH ")[0].strip().removesuffix("+")
            uses = uses & LICENSE_USES.get(license_id, frozenset())
        permitted = permitted | uses
    return permitted


def license_decision(spec: SourceSpec, uses: list[str]) -> Decision:
    """Whether ``spec``'s license permits every one of ``uses``."""
    unknown = [u for u in uses if u not in USES]
    if unknown:
        return Decision(
            "license",
            False,
            f"the lake's allowed uses {unknown} are not uses synthcap knows "
            f"({', '.join(USES)}): fix SourcesResource.allowed_uses",
        )
    permitted = permitted_uses(spec.license)
    missing = [u for u in uses if u not in permitted]
    if not missing:
        return Decision("license", True, f"{spec.license} permits {', '.join(uses)}")
    known = [t for t in spec.license.replace(" OR ", " AND ").split(" AND ") if t in LICENSE_USES]
    why = (
        "permits only " + (", ".join(sorted(permitted)) or "nothing")
        if known
        else ("is not a license synthcap knows (unknown and proprietary licenses are refused)")
    )
    return Decision("license", False, f"{spec.license} {why}; refused for {', '.join(missing)}")


def robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def robots_decision(spec: SourceSpec, url: str, session: HttpSession) -> Decision:
    """Fetch robots.txt for ``url``'s host through ``session`` (an ``HttpSession``) and
    judge ``url`` for the source's User-Agent."""
    target = robots_url(url)
    try:
        response = session.get(target, {}, authed=False)
    except SourceUnreachableError as exc:
        if "answered HTTP 5" in str(exc):
            return Decision("robots", False, f"{target} keeps failing (5xx): complete disallow")
        raise
    if response.status_code >= 400:
        return Decision(
            "robots", True, f"{target} answered HTTP {response.status_code}: no restrictions"
        )
    token = product_token(spec.http_api.user_agent)
    allowed, rule = parse_robots(response.text).decide(token, url)
    if rule is None:
        return Decision("robots", True, f"no rule of {target} matches {urlsplit(url).path}")
    verb = "Allow" if rule.allow else "Disallow"
    outcome = "allows" if allowed else "disallows"
    return Decision(
        "robots",
        allowed,
        f"{target} {outcome} {urlsplit(url).path} for {token} ({verb}: {rule.pattern})",
    )


def record_decisions(
    lakehouse: LakehouseResource,
    spec: SourceSpec,
    day: dt.date,
    decisions: list[Decision],
    uses: list[str],
) -> WriteResult:
    """Append one ``audit/compliance`` row per decision."""
    now = dt.datetime.now(dt.UTC)
    rows = pl.DataFrame(
        [
            {
                "source": spec.id,
                "date": day,
                "decided_at": now,
                "check": d.check,
                "decision": d.outcome or ("allowed" if d.allowed else "refused"),
                "reason": d.reason,
                "license": spec.license,
                "terms_url": spec.terms_url,
                "attribution": spec.attribution,
                "uses": ",".join(uses),
            }
            for d in decisions
        ],
        schema=COMPLIANCE_SCHEMA,
    )
    return lakehouse.append(COMPLIANCE_TABLE, rows)
