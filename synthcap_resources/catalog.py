"""The source catalog: one YAML file per source, validated with pydantic.

A source spec says where a source's data is, what it is allowed to be used for, what shape it
should have and how strict its gates are. ``load_catalog`` reads a folder of ``*.yaml`` files;
any invalid file fails with a :class:`CatalogError` naming the file, the field and the reason.
"""

from __future__ import annotations

import codecs
import datetime as dt
import os
import re
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from synthcap_resources.sources.database_spec import DatabaseSpec
from synthcap_resources.sources.http_spec import HttpApiSpec
from synthcap_resources.sources.stream_spec import StreamSpec
from synthcap_resources.sources.web_spec import EdgarFilingsSpec, FeedSpec, HuggingFaceSpec

# Kinds whose settings sit in a block of the same name.
BLOCK_KINDS = ("http_api", "database", "stream", "huggingface", "edgar_filings", "feed")
SOURCE_ID_PATTERN = r"^[a-z0-9_]+$"
DEFAULT_SOURCES_DIR = "sources"
BUNDLED_SCHEME = "bundled://"
BUNDLED_SOURCES_DIR = Path(__file__).resolve().parent.parent / "synthcap_assets" / "sample_sources"
# Declared column types a spec may use, and the polars type each stands for.
COLUMN_TYPES = ("str", "int", "float", "bool", "date", "datetime")
PII_TYPES = (
    "person_name",
    "email",
    "phone",
    "address",
    "birth_date",
    "card_number",
    "national_id",
    "ip_address",
    "iban",
    "zip_code",
    "other",
)


class CatalogError(ValueError):
    """A source spec is missing, unreadable or invalid; the message names file, field and cause."""


class Domain(StrEnum):
    tabular = "tabular"
    timeseries = "timeseries"
    financial = "financial"
    text = "text"


class QualitySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: Annotated[float, Field(ge=0, le=100)] = 80.0
    rules: list[str] = Field(default_factory=list)
    max_age_days: Annotated[int, Field(ge=0)] | None = None
    key_columns: list[str] = Field(default_factory=list)
    # Weights of the table-level dimensions in the overall score (missing ones weigh 1).
    weights: dict[str, Annotated[float, Field(ge=0)]] = Field(default_factory=dict)
    # Volume: the expected row count per delivery; without it, the trailing history decides.
    min_rows: Annotated[int, Field(ge=0)] | None = None
    max_rows: Annotated[int, Field(ge=1)] | None = None
    # Accuracy against a trusted reference file ({date} optional), joined on its key columns.
    reference: ReferenceSpec | None = None
    # Metric anomalies: trailing days compared and the robust z-score that fails the check.
    anomaly_window: Annotated[int, Field(ge=3, le=365)] = 14
    anomaly_z: Annotated[float, Field(gt=0)] = 4.0


class ReferenceSpec(BaseModel):
    """A trusted copy of (some of) the source's values, for the accuracy dimension."""

    model_config = ConfigDict(extra="forbid")

    location: Annotated[str, Field(min_length=1)]
    format: Literal["csv", "jsonl", "parquet"] = "csv"
    key: Annotated[list[str], Field(min_length=1)]
    columns: list[str] = Field(default_factory=list)
    tolerance: Annotated[float, Field(ge=0)] = 1e-9


class ContractSpec(BaseModel):
    """The schema contract: ``evolve`` (new columns accepted and recorded), ``freeze``
    (changes refused: the schema check fails) or ``discard_rows`` (bad rows quarantined)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["evolve", "freeze", "discard_rows"] = "evolve"
    not_null: list[str] = Field(default_factory=list)


class ColumnHandling(BaseModel):
    """What to do with one personal-data column downstream (features, synthesis)."""

    model_config = ConfigDict(extra="forbid")

    handling: Literal["drop", "tokenize", "generalize", "redact", "keep"]
    reason: str = ""

    @model_validator(mode="after")
    def _keep_needs_reason(self) -> ColumnHandling:
        if self.handling == "keep" and not self.reason.strip():
            raise ValueError("handling 'keep' of a personal-data column needs a 'reason'")
        return self


class PrivacySpec(BaseModel):
    """Differential privacy per source: epsilon and delta per synthesis, a total epsilon
    budget that the ledger spends from, the share of epsilon spent on data-derived
    preprocessing (bounds, bins, categories), public column bounds that cost nothing, and
    public category lists, per-column handling of personal data and the sensitive columns for
    l-diversity. Declared bounds and categories must be public knowledge, not read off the data:
    they are what the synthesizer may emit without spending budget to learn them."""

    model_config = ConfigDict(extra="forbid")

    epsilon: Annotated[float, Field(gt=0, le=100)] = 1.0
    delta: Annotated[float, Field(gt=0, lt=1e-3)] = 1e-9
    budget: Annotated[float, Field(gt=0, le=1000)] = 10.0
    # "source": every synthesis of the source spends from one budget (days may share people);
    # "partition": each day has its own, for deliveries whose days hold disjoint people.
    budget_scope: Literal["source", "partition"] = "source"
    preprocess_share: Annotated[float, Field(gt=0, lt=1)] = 0.3
    synthesizer: Literal["mst", "aim"] = "mst"
    sample_rows: Annotated[int, Field(ge=0)] | None = None
    bounds: dict[str, tuple[float, float]] = Field(default_factory=dict)
    categories: dict[str, list[str]] = Field(default_factory=dict)
    columns: dict[str, ColumnHandling] = Field(default_factory=dict)
    sensitive_columns: list[str] = Field(default_factory=list)
    tokenize_salt_env: str = "SYNTHCAP_TOKEN_SALT"
    # Rules every synthetic row must satisfy, in the grammar of quality.rules
    # (e.g. "dropoff >= pickup", "fare >= 0").
    constraints: list[str] = Field(default_factory=list)
    # Columns a synthesis keeps first when more are usable than max_columns allows.
    targets: list[str] = Field(default_factory=list)
    # (12 holds a codebook survey whole; MST fits it in seconds, AIM in about a minute.)
    max_columns: Annotated[int, Field(ge=2, le=64)] = 12
    # The least utility (0-1: mean of column shapes and pair trends, every source column
    # counted) a sample must reach to pass its check.
    utility_floor: Annotated[float, Field(ge=0, le=1)] = 0.5

    @model_validator(mode="after")
    def _consistent(self) -> PrivacySpec:
        if self.epsilon > self.budget:
            raise ValueError(f"epsilon {self.epsilon} exceeds the budget {self.budget}")
        for column, (low, high) in self.bounds.items():
            if not low < high:
                raise ValueError(f"bounds of {column!r}: lower {low} must be below upper {high}")
        return self


class DriftSpec(BaseModel):
    """When a column counts as drifted (defaults after Evidently's; see profile/drift.py)."""

    model_config = ConfigDict(extra="forbid")

    # None: KS / chi-square on references of at most small_reference_max rows, else
    # Wasserstein / Jensen-Shannon; or one method for every column.
    method: Literal["ks", "wasserstein", "psi", "jensenshannon", "chisquare"] | None = None
    small_reference_max: Annotated[int, Field(ge=0)] = 1000
    psi_threshold: Annotated[float, Field(gt=0)] = 0.2
    ks_pvalue: Annotated[float, Field(gt=0, lt=1)] = 0.01
    chisquare_pvalue: Annotated[float, Field(gt=0, lt=1)] = 0.01
    wasserstein: Annotated[float, Field(gt=0)] = 0.1
    jensenshannon: Annotated[float, Field(gt=0)] = 0.1


class TextSpec(BaseModel):
    """Gates of a text source's corpus (see synthcap_assets/text/): allowed languages, the
    quality filters that drop documents (datatrove's rule sets; parameters overridable), the
    near-duplicate shingles and LSH bands, and planted literals that must never reach it."""

    model_config = ConfigDict(extra="forbid")

    languages: list[str] = Field(default_factory=list)  # ISO 639-1; empty: any language
    min_language_purity: Annotated[float, Field(ge=0, le=1)] = 0.9
    max_duplicate_share: Annotated[float, Field(ge=0, le=1)] = 0.2
    min_pass_rate: Annotated[float, Field(ge=0, le=1)] = 0.5
    filters: list[
        Literal["gopher_quality", "gopher_repetition", "c4_quality", "fineweb_quality"]
    ] = Field(default_factory=list)
    filter_params: dict[str, dict[str, float | int | bool | list]] = Field(default_factory=dict)
    shingle: Literal["char", "word"] = "char"
    shingle_size: Annotated[int, Field(ge=1, le=32)] = 5
    bands: Annotated[int, Field(ge=1, le=64)] = 14
    rows: Annotated[int, Field(ge=1, le=32)] = 8
    min_jaccard: Annotated[float, Field(gt=0, le=1)] = 0.8
    canaries: list[Annotated[str, Field(min_length=4)]] = Field(default_factory=list)


class SourceSpec(BaseModel):
    """One source as its YAML file declares it."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(pattern=SOURCE_ID_PATTERN, max_length=64)]
    title: Annotated[str, Field(min_length=1)]
    description: str = ""
    kind: Literal[
        "file", "http_api", "database", "stream", "huggingface", "edgar_filings", "feed"
    ]
    # kind file: where each day's file is ('{date}' in the path, globs allowed) and its format.
    location: Annotated[str, Field(min_length=1)] | None = None
    format: Literal["csv", "jsonl", "json", "parquet", "excel", "text", "pdf"] | None = None
    http_api: HttpApiSpec | None = None
    database: DatabaseSpec | None = None
    stream: StreamSpec | None = None
    # Text published on the web (web_spec.py): a Hub dataset split, EDGAR filings, a feed.
    huggingface: HuggingFaceSpec | None = None
    edgar_filings: EdgarFilingsSpec | None = None
    feed: FeedSpec | None = None
    start_date: dt.date
    schedule: str = "0 6 * * *"
    enabled: bool = True
    license: Annotated[str, Field(min_length=1)]
    terms_url: Annotated[str, Field(pattern=r"^https?://")]
    attribution: str = ""
    # Days a captured partition may be kept; the retention job deletes older ones (None: keep).
    retention_days: Annotated[int, Field(gt=0)] | None = None
    owner: str = ""
    domain: Domain
    declared_schema: dict[str, Literal[COLUMN_TYPES]] | None = Field(default=None, alias="schema")
    time_column: str | None = None
    entity_column: str | None = None
    text_column: str | None = None
    # kind file (csv, jsonl, json, text): how the bytes are read. Undecodable input fails the
    # capture; an undeclared delimiter is sniffed.
    encoding: str = "utf-8"
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] | None = None
    decimal: Literal[".", ","] = "."
    quote: Annotated[str, Field(min_length=1, max_length=1)] = '"'
    # What a row describes: quasi-identifiers (ages, birth dates, postcodes, geography,
    # gender, event times joined with places) are sought for people only.
    subject: Literal["person", "entity", "none"] = "person"
    pii: dict[str, Literal[PII_TYPES]] = Field(default_factory=dict)
    quasi_identifiers: list[str] = Field(default_factory=list)
    # What each column means, in words: shown as the column descriptions in the Dagster UI.
    columns: dict[str, str] = Field(default_factory=dict)
    quality: QualitySpec = Field(default_factory=QualitySpec)
    contract: ContractSpec = Field(default_factory=ContractSpec)
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    drift: DriftSpec = Field(default_factory=DriftSpec)
    text: TextSpec = Field(default_factory=TextSpec)
    # Set by the loader: the YAML file this spec came from (relative locations resolve against it).
    spec_path: Path | None = Field(default=None, exclude=True)

    @field_validator("license")
    @classmethod
    def _spdx_like(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9.+-]+( (AND|OR|WITH) [A-Za-z0-9.+-]+)*", value):
            raise ValueError(f"not an SPDX license identifier or expression: {value!r}")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            return codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown text encoding: {value!r}") from None

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        # Dagster runs the schedules, so its own cron parser is the judge (not exported
        # publicly); imported here, so `synthcap sources` does not load Dagster for the rest.
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(value):
            raise ValueError(f"not a valid cron expression: {value!r}")
        return value

    @field_validator("location")
    @classmethod
    def _has_date(cls, value: str | None) -> str | None:
        if value is not None and "{date}" not in value:
            raise ValueError("must contain '{date}' so each day's file can be found")
        return value

    @model_validator(mode="after")
    def _kind_block(self) -> SourceSpec:
        """Each kind needs its own block, and only that one."""
        if self.kind == "file":
            if self.location is None or self.format is None:
                raise ValueError("a file source needs 'location' and 'format'")
        elif getattr(self, self.kind) is None:
            raise ValueError(f"a {self.kind} source needs a '{self.kind}' block")
        for other in BLOCK_KINDS:
            if other != self.kind and getattr(self, other) is not None:
                raise ValueError(f"a {self.kind} source cannot have a '{other}' block")
        return self

    @property
    def pii_columns(self) -> list[str]:
        return sorted(self.pii)

    def resolve_location(self, day: dt.date) -> str:
        """The path or URI of this source's file for ``day`` (file sources only)."""
        return self.location_template().replace("{date}", day.isoformat())

    def location_template(self) -> str:
        """The resolved path or URI of this source's files, ``{date}`` still in it."""
        if self.location is None:
            raise CatalogError(f"source {self.id!r} is a {self.kind} source and has no file")
        location = self.location
        if location.startswith(BUNDLED_SCHEME):
            return str(BUNDLED_SOURCES_DIR / location.removeprefix(BUNDLED_SCHEME))
        if "://" in location or Path(location).is_absolute():
            return location
        base = self.spec_path.parent if self.spec_path else Path.cwd()
        return str((base / location).resolve())


def sources_dir() -> Path:
    """The catalog folder: ``SYNTHCAP_SOURCES`` or ``./sources``."""
    return Path(os.environ.get("SYNTHCAP_SOURCES", DEFAULT_SOURCES_DIR))


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(top level)"
        parts.append(f"field '{field}': {item['msg']}")
    return "; ".join(parts)


# path -> (file bytes, spec): a step asks for its source's spec several times, and YAML
# parsing plus validation cost ~2 CPU-s over the demo. Keyed by the bytes, not the mtime: a
# file rewritten within the clock's tick with the same size is still read afresh.
_PARSED: dict[Path, tuple[bytes, SourceSpec]] = {}


def parse_spec(path: Path) -> SourceSpec:
    """Read and validate one YAML spec file (validated again only when its bytes changed)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CatalogError(f"{path}: cannot read source spec: {exc}") from exc
    known = _PARSED.get(path)
    if known is not None and known[0] == data:
        return known[1].model_copy()
    spec = _parse_spec(path, data)
    _PARSED[path] = (data, spec)
    return spec.model_copy()


def _parse_spec(path: Path, data: bytes) -> SourceSpec:
    try:
        raw = yaml.safe_load(data.decode())
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{path}: a source spec must be UTF-8 text: {exc}") from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise CatalogError(
            f"{path}: a source spec must be a YAML mapping, got {type(raw).__name__}"
        )
    try:
        spec = SourceSpec.model_validate(raw)
    except ValidationError as exc:
        raise CatalogError(f"{path}: {_describe(exc)}") from exc
    if spec.domain is Domain.text and not spec.text_column:
        raise CatalogError(f"{path}: field 'text_column': a text source must name its text column")
    if spec.id != path.stem:
        raise CatalogError(
            f"{path}: field 'id': {spec.id!r} must equal the file name {path.stem!r}"
        )
    _check_columns(path, spec)
    return spec.model_copy(update={"spec_path": path.resolve()})


def _check_columns(path: Path, spec: SourceSpec) -> None:
    """Columns named elsewhere in the spec must exist in the declared schema, if there is one."""
    if spec.declared_schema is None:
        return
    named: dict[str, Iterable[str]] = {
        "time_column": [spec.time_column] if spec.time_column else [],
        "entity_column": [spec.entity_column] if spec.entity_column else [],
        "text_column": [spec.text_column] if spec.text_column else [],
        "pii": spec.pii,
        "quasi_identifiers": spec.quasi_identifiers,
        "columns": spec.columns,
        "quality.key_columns": spec.quality.key_columns,
        "privacy.targets": spec.privacy.targets,
    }
    for field, columns in named.items():
        for column in columns:
            if column not in spec.declared_schema:
                raise CatalogError(
                    f"{path}: field '{field}': column {column!r} is not in the declared schema"
                )


def spec_files(folder: Path) -> list[Path]:
    """The YAML files of a catalog folder, in name order."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise CatalogError(f"{folder}: the source catalog must be a folder of YAML files")
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def load_catalog(folder: Path | None = None) -> dict[str, SourceSpec]:
    """All specs in ``folder`` (default :func:`sources_dir`), keyed by source id.

    Raises :class:`CatalogError` at the first invalid file.
    """
    specs = [parse_spec(p) for p in spec_files(folder or sources_dir())]
    return {spec.id: spec for spec in specs}


def scan_catalog(folder: Path | None = None) -> tuple[dict[str, SourceSpec], list[CatalogError]]:
    """The valid specs in ``folder`` and the errors of the invalid ones, without stopping."""
    specs: dict[str, SourceSpec] = {}
    errors: list[CatalogError] = []
    for path in spec_files(folder or sources_dir()):
        try:
            spec = parse_spec(path)
        except CatalogError as exc:
            errors.append(exc)
            continue
        specs[spec.id] = spec
    return specs, errors


def __getattr__(name: str) -> object:
    """``CatalogResource`` (a Dagster resource) lives in ``catalog_resource``, imported on first
    use so that reading the catalog (``synthcap sources``) does not load Dagster."""
    if name == "CatalogResource":
        from synthcap_resources.catalog_resource import CatalogResource

        return CatalogResource
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
