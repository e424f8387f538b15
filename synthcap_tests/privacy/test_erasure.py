"""Right to erasure: a closed predicate grammar, rows gone from every readable version and
file, derived partitions dropped, an audit row that does not keep the erased values, and the
erasure list keeping the rows out of later captures."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from synthcap_assets.cli import main
from synthcap_assets.privacy.erasure import (
    ERASURES_TABLE,
    ErasureError,
    erase,
    parse_predicate,
    without_erased,
)
from synthcap_resources.lakehouse import (
    LakehouseResource,
    features_table,
    raw_table,
    synthetic_table,
)

COLUMNS = ["customer_id", "email", "name", "orders"]
DAYS = (dt.date(2026, 11, 16), dt.date(2026, 11, 17))
SECRET = "kate.o'brien@example.org"
KEY = b"test-key"


@pytest.mark.parametrize(
    ("text", "sql"),
    [
        ("email = 'a@b.org'", "\"email\" = 'a@b.org'"),
        ("name == 'O''Brien' and orders >= 3", "\"name\" = 'O''Brien' AND \"orders\" >= 3"),
        ("customer_id in (1, 2,3)", '"customer_id" in (1, 2, 3)'),
        ("orders < -1.5 AND email != 'x'", '"orders" < -1.5 AND "email" != \'x\''),
    ],
)
def test_predicates_are_rebuilt_from_their_tokens(text: str, sql: str) -> None:
    assert parse_predicate(text, COLUMNS).sql() == sql


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("email = 'x'; drop table raw", "cannot read"),
        ("email = 'x' or 1 = 1", "expected 'and'"),
        ("1 = 1", "expected a column name"),
        ("password = 'x'", "unknown column 'password'"),
        ("email = name", "expected a literal"),
        ("email like '%'", "expected an operator"),
        ("email in ('a', 'b'", "ends too early"),
        ("", "empty"),
        ("email = 'a' and", "ends too early"),
    ],
)
def test_anything_outside_the_grammar_is_refused(text: str, message: str) -> None:
    with pytest.raises(ErasureError, match=message):
        parse_predicate(text, COLUMNS)


def test_the_polars_expression_matches_like_sql_and_never_on_null() -> None:
    df = pl.DataFrame({"email": ["a", None, "c"], "orders": [1, 5, None]})
    both = parse_predicate("email != 'c' and orders < 3", ["email", "orders"])
    assert df.select(both.expr()).to_series().to_list() == [True, False, False]


def _frame(day: dt.date, emails: list[str]) -> pl.DataFrame:
    n = len(emails)
    return pl.DataFrame(
        {
            "customer_id": list(range(n)),
            "email": emails,
            "name": [f"Person {i}" for i in range(n)],
            "orders": [i % 4 for i in range(n)],
            "_date": [day] * n,
        }
    )


@pytest.fixture
def lake(tmp_path: Path) -> LakehouseResource:
    lakehouse = LakehouseResource(root=str(tmp_path / "lake"))
    for day, emails in zip(
        DAYS, (["a@x.org", SECRET, "c@x.org"], ["d@x.org", "e@x.org"]), strict=True
    ):
        raw = _frame(day, emails)
        lakehouse.write_partition(raw_table("shop"), raw, {"_date": day})
        lakehouse.write_partition(raw_table("shop"), raw, {"_date": day})  # a second version
        derived = raw.select("orders", "_date")
        lakehouse.write_partition(features_table("shop"), derived, {"_date": day})
        lakehouse.write_partition(synthetic_table("shop"), derived, {"_date": day})
    return lakehouse


def _files_mentioning(folder: Path, value: str) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.suffix == ".parquet":
            text = json.dumps(pq.read_table(path).to_pylist(), default=str)
        elif path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
        else:
            continue
        if value in text or value.replace("'", "''") in text:
            found.append(str(path))
    return found


def test_erasure_leaves_no_trace_under_time_travel(lake: LakehouseResource) -> None:
    uri = lake.uri(raw_table("shop"))
    assert _files_mentioning(Path(uri), SECRET)  # the value is there before
    result = erase(lake, "shop", f"email = '{SECRET.replace(chr(39), chr(39) * 2)}'", "dpo", KEY)
    assert result.rows_removed == {
        raw_table("shop"): 1,
        features_table("shop"): 3,  # the whole day, which was computed from the row
        synthetic_table("shop"): 3,
    }
    assert result.partitions == [str(DAYS[0])]
    raw = lake.read_table(raw_table("shop"))
    assert raw.height == 4 and SECRET not in raw["email"].to_list()
    assert lake.read_table(features_table("shop"))["_date"].unique().to_list() == [DAYS[1]]
    # Every version that can still be opened lacks the row; no file keeps it.
    table = DeltaTable(uri)
    for version in range(table.version() + 1):
        try:
            old = DeltaTable(uri, version=version).to_pyarrow_table()
        except Exception:  # noqa: BLE001 - purged versions cannot be opened at all
            continue
        assert SECRET not in old.column("email").to_pylist(), version
    assert _files_mentioning(Path(uri), SECRET) == []
    assert _files_mentioning(Path(lake.uri("")), SECRET) == []  # the audit row included


def test_the_audit_row_records_who_what_and_how_many_with_tokens(
    lake: LakehouseResource,
) -> None:
    erase(lake, "shop", "email = 'c@x.org' and orders >= 0", "dpo", KEY)
    (row,) = lake.read_table(ERASURES_TABLE).to_dicts()
    assert row["who"] == "dpo" and row["source"] == "shop" and row["raw_rows_removed"] == 1
    assert row["predicate"].startswith("email = #") and row["predicate"].endswith("orders >= 0")
    assert "c@x.org" not in row["predicate"]
    assert json.loads(row["rows_removed"])[raw_table("shop")] == 1
    assert row["erased_at"] is not None and row["partitions"] == [str(DAYS[0])]


def test_later_captures_keep_erased_rows_out(lake: LakehouseResource) -> None:
    erase(lake, "shop", "email in ('a@x.org', 'd@x.org')", "dpo", KEY)
    recaptured = _frame(DAYS[0], ["a@x.org", "b@x.org"]).drop("_date")
    kept, removed = without_erased(lake, "shop", recaptured, KEY)
    assert removed == 1 and kept["email"].to_list() == ["b@x.org"]
    # Another key cannot match the tokens (and so cannot test guesses against the list).
    assert without_erased(lake, "shop", recaptured, b"other")[1] == 0
    # A source without erasures, or rows lacking the column, pass unchanged.
    assert without_erased(lake, "other", recaptured, KEY)[1] == 0
    assert without_erased(lake, "shop", recaptured.drop("email"), KEY)[1] == 0


def test_the_cli_erases_and_refuses_bad_predicates(lake: LakehouseResource, capsys) -> None:
    root = lake.root
    assert main(["erase", "--lake", root, "--source", "shop", "--where", "orders = 1"]) == 0
    assert "raw/shop: 2 rows removed" in capsys.readouterr().out
    code = main(["erase", "--lake", root, "--source", "shop", "--where", "1=1; --"])
    assert code == 2 and "erasure refused" in capsys.readouterr().err
    assert main(["erase", "--lake", root, "--source", "nope", "--where", "x = 1"]) == 2


def test_a_recapture_after_erasure_keeps_the_rows_out(tmp_path: Path) -> None:
    import dagster as dg

    from synthcap_assets.capture.assets import raw_capture
    from synthcap_assets.definitions import build_resources
    from synthcap_assets.partitions import SOURCE_DIMENSION, partition_key
    from synthcap_tests.conftest import copy_bundled

    lake = str(tmp_path / "lake")
    sources = copy_bundled(tmp_path / "sources", "customers")
    lakehouse = LakehouseResource(root=lake)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(SOURCE_DIMENSION, ["customers"])

        def capture() -> pl.DataFrame:
            dg.materialize(
                [raw_capture],
                partition_key=partition_key("customers", DAYS[0]),
                instance=instance,
                resources=build_resources(lake, str(sources)),
            )
            return lakehouse.read_table(raw_table("customers"))

        first = capture()
        email = first["email"][7]
        assert (
            erase(lakehouse, "customers", f"email = '{email}'", "dpo").rows_removed[
                raw_table("customers")
            ]
            == 1
        )
        again = capture()  # the same file, captured anew
    assert again.height == first.height - 1 and email not in again["email"].to_list()
