"""The malformed landing files of issue 11 (items 1-3) as catalog sources of the suite.

The files come from ``synthcap_tests/capture/malformed.py`` (its module constants say what a
correct reader gets); this module only places them under the suite's data folder, dated on
the suite's days, and writes a spec per source. ``MALFORMED`` maps each source id to the
outcome the README documents for it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

from synthcap_tests.capture import malformed
from synthcap_tests.realdata.tables import START, Planted

DAY2 = START + dt.timedelta(days=1)
# source id -> (writer, extra spec fields, documented outcome)
MALFORMED: dict[str, tuple[str, dict, str]] = {
    "latin1_default": ("latin1", {}, "capture fails naming line and byte offset; nothing lands"),
    "latin1_declared": ("latin1", {"encoding": "latin-1"}, "names land intact"),
    "semicolon_sniffed": ("semicolon", {"decimal": ","}, "four columns, amount 12.5"),
    "semicolon_declared_comma": (
        "semicolon",
        {"delimiter": ","},
        "capture fails naming ';'; nothing lands",
    ),
    "retyped": ("retyped", {}, "day 2 fails naming amount, a row and the value; nothing lands"),
    "ragged": ("ragged", {}, "lines 3 and 5 quarantined, the others land"),
}


def _spec(source: str, folder: Path, extra: dict) -> dict:
    return {
        "id": source,
        "title": f"Malformed landing file: {source}",
        "kind": "file",
        "location": str(folder / "{date}.csv"),
        "format": "csv",
        "start_date": START.isoformat(),
        "license": "CC0-1.0",
        "terms_url": "https://creativecommons.org/publicdomain/zero/1.0/",
        "domain": "tabular",
        "subject": "none",
        **extra,
    }


def write_malformed(data_dir: Path, planted: Planted) -> list[str]:
    """Write every malformed source; returns their ids. Only ``retyped`` has a second day:
    the others' second day has no file (a capture that fails as documented, nothing lands)."""
    for source, (kind, extra, _) in MALFORMED.items():
        folder = data_dir / source
        if kind == "latin1":
            malformed.write_latin1_csv(folder, START)
        elif kind == "semicolon":
            malformed.write_bom_semicolon_csv(folder, START)
        elif kind == "ragged":
            malformed.write_ragged_csv(folder, START)
        else:
            malformed.write_retyped_days(folder, START, DAY2)
        spec = _spec(source, folder, extra)
        (planted.sources / f"{source}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
        planted.specs[source] = spec
    return list(MALFORMED)
