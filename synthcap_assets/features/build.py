"""Feature-set construction: pick the feature families a source's domain calls for.

Capture metadata columns and ``exclude``d (PII) columns never reach the output, and no feature
is computed from their values. The one use made of an excluded entity or time column is to
order and group rows, so that per-entity lags do not mix entities; their values are not
output. Every feature is named after the column it comes from (``<col>__<suffix>``), except
the financial indicators listed in :data:`~.timeseries.FINANCIAL_SOURCES`; this is what
:func:`feature_lineage` reads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import polars as pl

from synthcap_assets.columns import META_COLUMNS, data_columns
from synthcap_assets.features.generic import SEPARATOR, generic_features, is_numeric
from synthcap_assets.features.text import text_features
from synthcap_assets.features.timeseries import (
    FINANCIAL_SOURCES,
    financial_features,
    find_ohlcv,
    series_features,
    sort_series,
)

__all__ = ["DOMAINS", "build_features", "feature_lineage"]

DOMAINS = ("tabular", "timeseries", "financial", "text")


def _check_arguments(
    df: pl.DataFrame, domain: str, named: dict[str, str | None], max_categories: int
) -> None:
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; use one of {', '.join(DOMAINS)}")
    if max_categories < 1:
        raise ValueError(f"max_categories must be at least 1, got {max_categories}")
    for role, column in named.items():
        if column is not None and column not in data_columns(df):
            raise ValueError(
                f"{role} {column!r} is not a data column of the frame "
                f"(columns: {', '.join(data_columns(df)) or 'none'})"
            )
    if domain == "text" and named["text_column"] is None:
        raise ValueError("domain 'text' needs a text_column: set text_column in the source spec")


def build_features(
    df: pl.DataFrame,
    *,
    domain: str,
    exclude: Sequence[str] = (),
    time_column: str | None = None,
    entity_column: str | None = None,
    text_column: str | None = None,
    max_categories: int = 20,
    passthrough: Sequence[str] = (),
) -> pl.DataFrame:
    """Model-ready features of ``df`` for ``domain`` (tabular, timeseries, financial or text).

    Output columns: ``entity_column`` and ``time_column`` as keys (unless excluded), then the
    generic features (:mod:`.generic`) of every other usable column, then for timeseries and
    financial the per-entity series features (:mod:`.timeseries`) of each numeric column, for
    financial the OHLCV indicators, and for text the text features (:mod:`.text`) of
    ``text_column``. ``passthrough`` columns (tokenized identifiers) are copied as they are,
    after the keys. Timeseries and financial rows come sorted by (entity, time); otherwise the
    input order is kept. Raises ``ValueError`` for an unknown domain, a named column the frame
    lacks, a text domain without ``text_column``, or two features that would share a name.
    """
    named = {"time_column": time_column, "entity_column": entity_column, "text_column": text_column}
    _check_arguments(df, domain, named, max_categories)
    banned = set(exclude) | set(META_COLUMNS)
    series_like = domain in ("timeseries", "financial")
    work = sort_series(df, entity_column, time_column) if series_like else df

    keys = [c for c in dict.fromkeys((entity_column, time_column)) if c and c not in banned]
    keys += [c for c in passthrough if c in df.columns and c not in banned and c not in keys]
    usable = [c for c in data_columns(df) if c not in banned and c not in set(passthrough)]
    # The entity and the text are identifiers/raw content, not values to scale or one-hot.
    generic_inputs = [c for c in usable if c not in (entity_column, text_column)]
    calendar_only = [time_column] if time_column else []
    features = generic_features(
        work, generic_inputs, max_categories=max_categories, calendar_only=calendar_only
    )

    if series_like:
        numeric = [
            c
            for c in usable
            if c not in (entity_column, time_column) and is_numeric(work.schema[c])
        ]
        features += series_features(work, numeric, entity_column)
    if domain == "financial":
        ohlcv = find_ohlcv([c for c in usable if is_numeric(work.schema[c])])
        indicators = financial_features(work, ohlcv, entity_column)
        # The per-entity volume score replaces the pooled one of the generic family.
        replaced = {s.name for s in indicators}
        features = [s for s in features if s.name not in replaced] + indicators
    if domain == "text" and text_column not in banned:
        features += text_features(work, text_column)

    columns = [work[c] for c in keys] + features
    duplicates = sorted(n for n, count in Counter(s.name for s in columns).items() if count > 1)
    if duplicates:
        raise ValueError(
            f"features {duplicates} would be produced twice; rename the input columns "
            "whose names clash with generated feature names"
        )
    return pl.DataFrame(columns) if columns else pl.DataFrame(height=work.height)


def feature_lineage(df_columns: Sequence[str], features: pl.DataFrame) -> dict[str, list[str]]:
    """Output feature column -> the input column(s) it derives from.

    Key columns map to themselves, ``<col>__<suffix>`` to ``col`` (the longest input name that
    fits), the financial indicators to their OHLCV inputs. Raises ``ValueError`` for a feature
    that derives from none of ``df_columns`` (the wrong input columns were given).
    """
    inputs = list(df_columns)
    ohlcv = find_ohlcv(inputs)
    lineage: dict[str, list[str]] = {}
    for feature in features.columns:
        sources = FINANCIAL_SOURCES.get(feature)
        if sources is not None and all(s in ohlcv for s in sources):
            lineage[feature] = [ohlcv[s] for s in sources]
        elif feature in inputs:
            lineage[feature] = [feature]
        else:
            parents = [c for c in inputs if feature.startswith(f"{c}{SEPARATOR}")]
            if not parents:
                raise ValueError(
                    f"feature {feature!r} derives from none of the input columns "
                    f"{inputs}; pass the columns of the frame the features were built from"
                )
            lineage[feature] = [max(parents, key=len)]
    return lineage
