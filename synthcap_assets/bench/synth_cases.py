"""The tables ``synthcap bench synth`` runs on: the bundled sample sources and real tables that
ship inside installed packages (no network).

Each case is a frame (PII columns dropped as the pipeline drops them), its profile, the privacy
settings synthcap gets (epsilon comes from the bench), the public domain knowledge a catalog
would declare (``bounds``, ``categories``: the bundled specs' own; for the real tables, limits
from each table's codebook or physics, written here, never read off the rows) and the columns
counted in utility (every column but the PII and the free text a text source keeps out).

Real tables: ``vega_datasets.local_data`` seattle-weather (1461 rows), seattle-temps (8759),
cars (406), airports (3376); statsmodels' fair (6366) and anes96 (944).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
import polars as pl

from synthcap_assets.capture.conform import conform
from synthcap_assets.privacy.pii import detect_pii, pii_columns
from synthcap_assets.profile.stats import profile_frame
from synthcap_assets.synthesis.dp_domain import declared_categories
from synthcap_resources.catalog import BUNDLED_SOURCES_DIR, Domain, PrivacySpec, load_catalog
from synthcap_resources.sources.files import read_source_file


class BenchCaseError(ValueError):
    """A bench table is unknown or cannot be loaded; the message names it and why."""


@dataclass(frozen=True)
class Case:
    """One bench table: rows, profile, privacy settings, public domain knowledge, the columns
    utility counts, and where it comes from."""

    name: str
    frame: pl.DataFrame
    profile: pl.DataFrame
    privacy: PrivacySpec
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    categories: dict[str, list[str]] = field(default_factory=dict)
    counted: list[str] = field(default_factory=list)
    origin: str = "bundled"


def _vega(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        from vega_datasets import local_data

        return getattr(local_data, name)()

    return load


def _statsmodels(name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        import statsmodels.api as sm

        return getattr(sm.datasets, name).load_pandas().data

    return load


# name -> (loader, public bounds, public categories, datetime columns that are whole days)
REAL_TABLES: dict[str, tuple[Callable[[], pd.DataFrame], dict, dict, list[str]]] = {
    "seattle_weather": (
        _vega("seattle_weather"),
        {"precipitation": (0, 120), "temp_max": (-20, 45), "temp_min": (-25, 35), "wind": (0, 25)},
        {"weather": ["drizzle", "fog", "rain", "snow", "sun"]},
        ["date"],
    ),
    "seattle_temps": (_vega("seattle_temps"), {"temp": (-20, 120)}, {}, []),  # Fahrenheit
    "cars": (
        _vega("cars"),
        {
            "Miles_per_Gallon": (0, 60),
            "Cylinders": (2, 12),
            "Displacement": (50, 500),
            "Horsepower": (40, 250),
            "Weight_in_lbs": (1500, 5500),
            "Acceleration": (5, 30),
        },
        {"Origin": ["Europe", "Japan", "USA"]},
        ["Year"],
    ),
    "airports": (_vega("airports"), {"latitude": (-90, 90), "longitude": (-180, 180)}, {}, []),
    "fair": (
        _statsmodels("fair"),
        {
            "rate_marriage": (1, 5),
            "age": (17.5, 42),
            "yrs_married": (0.5, 23),
            "children": (0, 5.5),
            "religious": (1, 4),
            "educ": (9, 20),
            "occupation": (1, 6),
            "occupation_husb": (1, 6),
        },
        # The codebook's levels (statsmodels' NOTE) and Fair's (1978) interval coding of age,
        # years married and children (e.g. 17.5 = under 20, 5.5 = five or more).
        {
            "rate_marriage": ["1", "2", "3", "4", "5"],
            "age": ["17.5", "22", "27", "32", "37", "42"],
            "yrs_married": ["0.5", "2.5", "6", "9", "13", "16.5", "23"],
            "children": ["0", "1", "2", "3", "4", "5.5"],
            "religious": ["1", "2", "3", "4"],
            "educ": ["9", "12", "14", "16", "17", "20"],
            "occupation": ["1", "2", "3", "4", "5", "6"],
            "occupation_husb": ["1", "2", "3", "4", "5", "6"],
        },
        [],
    ),
    "anes96": (
        _statsmodels("anes96"),
        {
            "TVnews": (0, 7),
            "selfLR": (1, 7),
            "ClinLR": (1, 7),
            "DoleLR": (1, 7),
            "PID": (0, 6),
            "age": (18, 100),
            "educ": (1, 7),
            "income": (1, 24),
        },
        {},
        [],
    ),
}


def _without_pii(frame: pl.DataFrame, hints=None, quasi=(), hinted=()) -> pl.DataFrame:
    pii = detect_pii(frame, hints=hints or {}, quasi_identifiers=list(quasi))
    return frame.drop(sorted(set(pii_columns(pii)) | set(hinted)))


def bundled_case(source: str, rows: int | None = None) -> Case:
    """A bundled source's first sample day, capture-conformed, PII columns dropped."""
    specs = load_catalog(BUNDLED_SOURCES_DIR)
    if source not in specs:
        raise BenchCaseError(f"bench table {source!r}: not a bundled source ({sorted(specs)})")
    spec = specs[source]
    frame = conform(read_source_file(spec, spec.start_date), spec.declared_schema, "bench")
    frame = _without_pii(frame, spec.pii, spec.quasi_identifiers, spec.pii_columns)
    if rows is not None:
        frame = frame.head(rows)
    text = [spec.text_column] if spec.domain is Domain.text and spec.text_column else []
    return Case(
        name=source,
        frame=frame,
        profile=profile_frame(frame),
        privacy=spec.privacy,
        bounds={k: (float(v[0]), float(v[1])) for k, v in spec.privacy.bounds.items()},
        categories=declared_categories(spec.quality.rules) | dict(spec.privacy.categories),
        counted=[c for c in frame.columns if c not in text],
    )


def real_case(name: str, rows: int | None = None) -> Case:
    """A real table shipped inside an installed package, PII columns dropped."""
    if name not in REAL_TABLES:
        raise BenchCaseError(f"bench table {name!r}: not a real table ({sorted(REAL_TABLES)})")
    load, bounds, categories, days = REAL_TABLES[name]
    try:
        frame = pl.from_pandas(load())
    except (ImportError, OSError, ValueError) as exc:
        raise BenchCaseError(f"bench table {name!r}: cannot load it: {exc}") from exc
    frame = frame.with_columns([pl.col(c).cast(pl.Date) for c in days])
    frame = _without_pii(frame)
    if rows is not None:
        frame = frame.head(rows)
    return Case(
        name=name,
        frame=frame,
        profile=profile_frame(frame),
        privacy=PrivacySpec(),
        bounds={k: (float(lo), float(hi)) for k, (lo, hi) in bounds.items() if k in frame.columns},
        categories={k: v for k, v in categories.items() if k in frame.columns},
        counted=list(frame.columns),
        origin="real",
    )


def load_case(name: str, rows: int | None = None) -> Case:
    """A bundled source or a real table, by name."""
    return real_case(name, rows) if name in REAL_TABLES else bundled_case(name, rows)


def all_tables() -> list[str]:
    """Every bench table: the bundled sources, then the real ones."""
    return sorted(load_catalog(BUNDLED_SOURCES_DIR)) + list(REAL_TABLES)
