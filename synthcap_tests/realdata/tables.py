"""Real tables that ship inside installed packages, split into days, with a catalog spec each.

Every table comes from ``vega_datasets.local_data`` or ``statsmodels.api.datasets`` (no
network). ``write_suite`` writes ``data/<id>/<date>.csv`` (one file per day) and
``sources/<id>.yaml`` (the catalog spec) under a folder and returns what it planted, so tests
can compare the lake with pandas/scipy on exactly the rows each day held.

The tables differ on purpose:

========================  ======  ====================================================
source                    rows    what it stresses
========================  ======  ====================================================
``iris``                  150     tiny, heavy ties (one decimal), a 3-class label
``cars``                  406     car-model ``Name`` (high cardinality, not a person),
                                  missing values, a date column (``Year``)
``airports``              3376    high-cardinality strings, missing city/state, geography
``sf_temps``              8759    more than 8k rows, hourly timestamps
``seattle_weather``       1461    dates, tied/outlier-heavy precipitation; the last day
                                  carries a planted shift (``temp_max`` + 1 std, half
                                  the ``sun`` days relabelled ``rain``)
``la_riots``              63      people: names, age, gender, geography (quasi-identifiers)
``fair``                  6366    survey of people: age, ties, outlier-heavy ``affairs``
``notes``                 400     free text with planted PII of five types (see ``PII_SHARES``)
========================  ======  ====================================================

In the CI run each table is cut to ``max_rows`` (a random subset) and split into two days that
are random halves; the slow run uses the full tables and more days.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
import yaml
from vega_datasets import local_data

START = dt.date(2026, 11, 1)
SEED = 20261206
VEGA_TERMS = "https://github.com/vega/vega-datasets/blob/main/SOURCES.md"
VEGA_LICENSE = "BSD-3-Clause"  # the vega-datasets collection; airports/NOAA data are public domain
STATSMODELS_TERMS = "https://www.statsmodels.org/stable/datasets/index.html"


@dataclass(frozen=True)
class RealTable:
    """One real table and how it enters the catalog."""

    id: str
    title: str
    load: Callable[[], pd.DataFrame]
    license: str
    terms_url: str
    attribution: str
    domain: str = "tabular"
    subject: str = "entity"
    max_rows: int | None = None
    spec: dict = field(default_factory=dict)
    # Numeric columns shifted by one (whole-table) std on the last day, and categorical
    # columns whose values are re-weighted there: {column: (from_value, to_value, share)}.
    shift_numeric: tuple[str, ...] = ()
    reweight: dict[str, tuple[str, str, float]] = field(default_factory=dict)


def _cars() -> pd.DataFrame:
    df = local_data.cars()
    df["Year"] = df["Year"].dt.date
    return df


def _seattle_weather() -> pd.DataFrame:
    df = local_data.seattle_weather()
    df["date"] = df["date"].dt.date
    return df


def _la_riots() -> pd.DataFrame:
    df = local_data.la_riots()
    df["death_date"] = df["death_date"].dt.date
    return df


def _fair() -> pd.DataFrame:
    return sm.datasets.fair.load_pandas().data


# Planted PII in the text table: type -> share of rows (disjoint rows, one type each).
PII_SHARES: dict[str, float] = {
    "email": 0.10,
    "phone": 0.08,
    "card_number": 0.06,
    "iban": 0.05,
    "person_name": 0.04,
}
NOTES_ROWS = 400


def luhn_complete(digits: str) -> str:
    """``digits`` with the Luhn check digit appended."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return digits + str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return total % 10 == 0


def iban_complete(country: str, bban: str) -> str:
    """A valid IBAN (ISO 13616 mod-97 check digits) for ``country`` and ``bban``."""
    moved = bban + country + "00"
    number = int("".join(str(int(c, 36)) for c in moved))
    return f"{country}{98 - number % 97:02d}{bban}"


def iban_valid(iban: str) -> bool:
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def planted_notes(rng: np.random.Generator) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Free-text notes about real airports, with PII planted in known rows.

    Returns the frame (``note``, ``topic``) and, per PII type, the boolean mask of rows that
    hold it. Names come from the real ``la-riots`` table; phone numbers are valid US numbers
    (area codes of real airports' states), cards Luhn-valid, IBANs mod-97-valid.
    """
    airports = local_data.airports().dropna(subset=["city"])
    people = local_data.la_riots()
    picks = airports.sample(NOTES_ROWS, random_state=int(rng.integers(2**31)))
    topics = rng.choice(["delay", "baggage", "parking", "lounge"], NOTES_ROWS)
    base = [
        f"{topic} at {name} ({city}): the queue moved slowly and staff were helpful."
        for topic, name, city in zip(topics, picks["name"], picks["city"], strict=True)
    ]
    order = rng.permutation(NOTES_ROWS)
    masks: dict[str, np.ndarray] = {}
    start = 0
    for kind, share in PII_SHARES.items():
        count = round(share * NOTES_ROWS)
        rows = order[start : start + count]
        start += count
        mask = np.zeros(NOTES_ROWS, dtype=bool)
        mask[rows] = True
        masks[kind] = mask
        for row in rows:
            person = people.iloc[int(rng.integers(len(people)))]
            first = re.sub(r"[^A-Za-z]", "", str(person["first_name"]).split()[0])
            last = re.sub(r"[^A-Za-z]", "", str(person["last_name"]))
            if kind == "email":
                extra = f"Reply to {first.lower()}.{last.lower()}@example.org please."
            elif kind == "phone":
                number = f"{rng.integers(200, 999)} {rng.integers(1000, 9999)}"
                extra = f"Call me back on +1 206 {number}."
            elif kind == "card_number":
                card = luhn_complete("4" + "".join(map(str, rng.integers(0, 10, 14))))
                extra = f"Refund to card {card[:4]} {card[4:8]} {card[8:12]} {card[12:]}."
            elif kind == "iban":
                bban = "".join(map(str, rng.integers(0, 10, 18)))
                extra = f"Wire the refund to {iban_complete('DE', bban)} today."
            else:
                extra = f"Hello, my name is {first} {last} and I was on that flight."
            base[row] = f"{base[row]} {extra}"
    return pd.DataFrame({"note": base, "topic": topics}), masks


TABLES: tuple[RealTable, ...] = (
    RealTable(
        id="iris",
        title="Iris flowers (Fisher 1936, vega-datasets)",
        load=local_data.iris,
        license=VEGA_LICENSE,
        terms_url=VEGA_TERMS,
        attribution="R. A. Fisher (1936), via vega-datasets",
        subject="none",
        spec={"privacy": {"constraints": ["petalLength >= petalWidth"]}},
    ),
    RealTable(
        id="cars",
        title="Car specifications (Donoho & Ramos 1982, vega-datasets)",
        load=_cars,
        license=VEGA_LICENSE,
        terms_url=VEGA_TERMS,
        attribution="Donoho and Ramos (1982), StatLib, via vega-datasets",
        spec={"privacy": {"constraints": ["Horsepower > 0", "Weight_in_lbs > 0"]}},
    ),
    RealTable(
        id="airports",
        title="US airports (ourairports.com, public domain, vega-datasets)",
        load=local_data.airports,
        license="LicenseRef-PublicDomain",
        terms_url=VEGA_TERMS,
        attribution="ourairports.com via vega-datasets",
        max_rows=800,
    ),
    RealTable(
        id="sf_temps",
        title="San Francisco hourly temperatures 2010 (NOAA, vega-datasets)",
        load=local_data.sf_temps,
        license="LicenseRef-PublicDomain",
        terms_url="https://www.weather.gov/disclaimer",
        attribution="NOAA via vega-datasets",
        domain="timeseries",
        subject="none",
        max_rows=2400,
        spec={"time_column": "date"},
    ),
    RealTable(
        id="seattle_weather",
        title="Seattle daily weather 2012-2015 (NOAA, vega-datasets)",
        load=_seattle_weather,
        license="LicenseRef-PublicDomain",
        terms_url="https://www.weather.gov/disclaimer",
        attribution="NOAA via vega-datasets",
        subject="none",
        spec={"privacy": {"constraints": ["temp_max >= temp_min", "precipitation >= 0"]}},
        shift_numeric=("temp_max",),
        reweight={"weather": ("sun", "rain", 0.5)},
    ),
    RealTable(
        id="la_riots",
        title="Deaths in the 1992 Los Angeles riots (LA Times, vega-datasets)",
        load=_la_riots,
        license=VEGA_LICENSE,
        terms_url=VEGA_TERMS,
        attribution="Los Angeles Times Data Desk via vega-datasets",
        subject="person",
    ),
    RealTable(
        id="fair",
        title="Extramarital affairs survey (Fair 1978, statsmodels)",
        load=_fair,
        # statsmodels: "Included with permission of the author", shipped under its BSD-3-Clause.
        license="BSD-3-Clause",
        terms_url=STATSMODELS_TERMS,
        attribution='Fair, R. (1978) "A Theory of Extramarital Affairs", via statsmodels',
        subject="person",
        max_rows=1600,
        spec={"privacy": {"constraints": ["yrs_married <= age", "affairs >= 0"]}},
    ),
)


@dataclass
class Planted:
    """What ``write_suite`` wrote: per source its spec and each day's rows."""

    root: Path
    full: bool = False
    days: dict[str, dict[dt.date, pd.DataFrame]] = field(default_factory=dict)
    specs: dict[str, dict] = field(default_factory=dict)
    pii_masks: dict[dt.date, dict[str, np.ndarray]] = field(default_factory=dict)
    shifted: dict[str, RealTable] = field(default_factory=dict)

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    def dates(self, source: str) -> list[dt.date]:
        return sorted(self.days[source])


def split_days(df: pd.DataFrame, n_days: int, rng: np.random.Generator) -> list[pd.DataFrame]:
    """Random, disjoint, near-equal parts of ``df`` (each a random sample of the table)."""
    order = rng.permutation(len(df))
    return [df.iloc[np.sort(part)].reset_index(drop=True) for part in np.array_split(order, n_days)]


def _reweighted(day: pd.DataFrame, table: RealTable, whole: pd.DataFrame, rng) -> pd.DataFrame:
    day = day.copy()
    for column in table.shift_numeric:
        day[column] = day[column] + whole[column].std()
    for column, (source_value, target_value, share) in table.reweight.items():
        hits = np.flatnonzero((day[column] == source_value).to_numpy())
        moved = rng.choice(hits, size=round(share * len(hits)), replace=False)
        day.loc[day.index[moved], column] = target_value
    return day


def spec_for(table: RealTable, data_dir: Path) -> dict:
    spec = {
        "id": table.id,
        "title": table.title,
        "kind": "file",
        "location": str(data_dir / table.id / "{date}.csv"),
        "format": "csv",
        "start_date": START.isoformat(),
        "license": table.license,
        "terms_url": table.terms_url,
        "attribution": table.attribution,
        "domain": table.domain,
        "subject": table.subject,
    }
    for key, value in table.spec.items():
        spec[key] = value
    return spec


def write_suite(
    root: Path, n_days: int = 2, full: bool = False, tables: tuple[RealTable, ...] = TABLES
) -> Planted:
    """Write every table's day files and specs under ``root``; return what was planted.
    Each table draws from its own seeded generator, so changing one leaves the others as
    they were."""
    planted = Planted(root=root, full=full)
    data_dir = root / "data"
    planted.sources.mkdir(parents=True, exist_ok=True)
    for i, table in enumerate(tables):
        rng = np.random.default_rng([SEED, i])
        whole = table.load()
        if table.max_rows is not None and not full and len(whole) > table.max_rows:
            whole = whole.sample(table.max_rows, random_state=SEED).reset_index(drop=True)
        parts = split_days(whole, n_days, rng)
        if table.shift_numeric or table.reweight:
            parts[-1] = _reweighted(parts[-1], table, whole, rng)
            planted.shifted[table.id] = table
        _write(planted, table.id, spec_for(table, data_dir), parts, data_dir)
    rng = np.random.default_rng([SEED, len(tables)])
    notes_days = [planted_notes(rng) for _ in range(n_days)]
    notes_table = RealTable(
        id="notes",
        title="Airport feedback notes with planted PII (airports + la-riots names)",
        load=lambda: notes_days[0][0],
        license=VEGA_LICENSE,
        terms_url=VEGA_TERMS,
        attribution="Built from vega-datasets airports and la-riots",
        domain="text",
        subject="person",
        spec={"text_column": "note"},
    )
    parts = [frame for frame, _ in notes_days]
    _write(planted, "notes", spec_for(notes_table, data_dir), parts, data_dir)
    planted.pii_masks = {
        START + dt.timedelta(days=i): masks for i, (_, masks) in enumerate(notes_days)
    }
    return planted


def _write(
    planted: Planted, source: str, spec: dict, parts: list[pd.DataFrame], data_dir: Path
) -> None:
    folder = data_dir / source
    folder.mkdir(parents=True, exist_ok=True)
    planted.days[source] = {}
    for i, part in enumerate(parts):
        day = START + dt.timedelta(days=i)
        part.to_csv(folder / f"{day.isoformat()}.csv", index=False)
        planted.days[source][day] = part
    (planted.sources / f"{source}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    planted.specs[source] = spec
