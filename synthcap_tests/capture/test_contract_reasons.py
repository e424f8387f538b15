"""The contract's quarantine on random deliveries against a row-by-row reference written in
plain Python: which rows go, in which order, and the reason text of each."""

from __future__ import annotations

import random

import polars as pl
import pytest

from synthcap_assets.capture.contracts import Contract, apply_contract

CONTRACT = Contract({"n": "int", "name": "str", "gone": "float"}, not_null=("name",))


def _delivery(rng: random.Random, rows: int) -> pl.DataFrame:
    numbers = [rng.choice([str(rng.randrange(100)), "x1", None]) for _ in range(rows)]
    names = [rng.choice(["a", "b", None]) if rng.random() < 0.3 else "ok" for _ in range(rows)]
    return pl.DataFrame({"n": numbers, "name": names}, schema={"n": pl.Utf8, "name": pl.Utf8})


def _expected(df: pl.DataFrame, removed: bool) -> list[tuple[int, str]]:
    out = []
    for i, (number, name) in enumerate(df.iter_rows()):
        why = []
        if number is not None and not number.strip().lstrip("-").isdigit():
            why.append(f"column 'n': {number!r} is not a valid int")
        if name is None:
            why.append("column 'name' is null")
        if removed:
            why.append("column 'gone' is missing")
        if why:
            out.append((i + 1, "; ".join(why)))
    return out


@pytest.mark.parametrize("mode", ["freeze", "discard_rows"])
def test_quarantined_rows_and_reasons_match_a_row_by_row_reference(mode: str) -> None:
    rng = random.Random(5)
    for rows in (0, 1, 50, 3_000):
        df = _delivery(rng, rows)
        present = Contract({"n": "int", "name": "str"}, not_null=("name",))
        for contract, removed in ((CONTRACT, True), (present, False)):
            out = apply_contract(df, contract, mode, "src")
            expected = _expected(df, removed)
            assert list(zip(out.rejected["_row"], out.rejected["_reason"], strict=True)) == expected
            assert out.rejected.columns == ["n", "name", "_reason", "_row"]
            assert out.rows.height == rows - len(expected)
            kept = {i for i, _ in expected}
            assert out.rows["name"].to_list() == [
                name for i, name in enumerate(df["name"].to_list(), start=1) if i not in kept
            ]
