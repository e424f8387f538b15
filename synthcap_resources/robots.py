"""robots.txt per RFC 9309: group selection and longest-match Allow/Disallow rules.

Pure logic (the fetch is in ``compliance.py``). Written here instead of using the standard
library's ``urllib.robotparser`` because that parser applies the *first* rule whose path is
a prefix of the URL, in file order, so ``Disallow: /`` followed by ``Allow: /public`` blocks
``/public`` — RFC 9309 (§2.2.2) says the most specific (longest) match wins and, on a tie,
``Allow``. It also lacks ``*`` and ``$`` patterns. This module implements exactly the RFC:

- the groups whose ``user-agent`` matches the crawler's product token (case-insensitive)
  are merged; if none match, the ``*`` groups; if none, everything is allowed;
- a rule's pattern matches the path and query from the start; ``*`` matches any run of
  characters and a trailing ``$`` anchors the end;
- the longest matching pattern decides; on equal length ``Allow`` wins;
- ``/robots.txt`` itself is always allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Rule:
    allow: bool
    pattern: str

    def regex(self) -> re.Pattern[str]:
        anchored = self.pattern.endswith("$")
        body = self.pattern[:-1] if anchored else self.pattern
        text = ".*".join(re.escape(part) for part in body.split("*"))
        return re.compile(text + ("$" if anchored else ""))


@dataclass
class RobotsTxt:
    """The parsed groups of one robots.txt: user-agent tokens (lower case) -> rules."""

    groups: list[tuple[list[str], list[Rule]]] = field(default_factory=list)

    def rules_for(self, product: str) -> list[Rule]:
        token = product.lower()
        mine = [
            rules for agents, rules in self.groups if any(a != "*" and a in token for a in agents)
        ]
        if not mine:
            mine = [rules for agents, rules in self.groups if "*" in agents]
        return [rule for rules in mine for rule in rules]

    def decide(self, product: str, url: str) -> tuple[bool, Rule | None]:
        """Whether ``product`` may fetch ``url``, and the rule that decided (None: no rule)."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if target == "/robots.txt":
            return True, None
        best: Rule | None = None
        for rule in self.rules_for(product):
            if not rule.regex().match(target):
                continue
            if (
                best is None
                or len(rule.pattern) > len(best.pattern)
                or (len(rule.pattern) == len(best.pattern) and rule.allow and not best.allow)
            ):
                best = rule
        return (True if best is None else best.allow), best

    def allowed(self, product: str, url: str) -> bool:
        return self.decide(product, url)[0]


def parse_robots(text: str) -> RobotsTxt:
    """Parse robots.txt content; unknown lines (sitemap, crawl-delay, junk) are ignored."""
    robots = RobotsTxt()
    agents: list[str] = []
    rules: list[Rule] = []
    in_rules = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (s.strip() for s in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if in_rules:  # a user-agent after rules starts a new group
                robots.groups.append((agents, rules))
                agents, rules, in_rules = [], [], False
            agents.append(value.lower())
        elif key in ("allow", "disallow") and agents:
            in_rules = True
            if value:  # an empty Disallow allows everything: no rule
                rules.append(Rule(allow=key == "allow", pattern=value))
    if agents:
        robots.groups.append((agents, rules))
    return robots


def product_token(user_agent: str) -> str:
    """The crawler's product token: the User-Agent's first word, before any ``/``."""
    first = user_agent.strip().split()[0] if user_agent.strip() else ""
    return first.split("/", 1)[0]
