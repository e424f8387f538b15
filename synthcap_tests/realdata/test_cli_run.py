"""What a new user sees from ``synthcap materialize`` on the real-data catalog: a line per
(source, date), a non-zero exit because some partitions fail (the malformed files), each
failure named, and the readiness rows at the end."""

from __future__ import annotations

from synthcap_tests.realdata.conftest import RealLake
from synthcap_tests.realdata.malformed_sources import MALFORMED


def test_materialize_reports_every_partition_and_fails_loudly(realdata_lake: RealLake) -> None:
    (run,) = realdata_lake.runs
    text = " ".join(run.output.split())
    assert run.returncode != 0, "partitions failed (malformed files) but the exit status was 0"
    planted = realdata_lake.planted
    for source in [*planted.days, *MALFORMED]:
        for day in planted.dates("iris"):
            assert f"{source} {day.isoformat()}" in text, (source, day, run.output[-2000:])
    for source in ("latin1_default", "semicolon_declared_comma"):
        assert f"failed: {source}" in text, source
    assert "readiness" in text.lower() or "score" in text, run.output[-2000:]
