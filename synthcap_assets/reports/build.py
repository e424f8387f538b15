"""The visual report of one (source, date) as one self-contained HTML page (pure: inputs in,
HTML out): readiness breakdown and recommendations, quality dimensions, a distribution per
column, today against yesterday for drifted columns, PII and k-anonymity, real against
synthetic marginals and pair correlations. A missing input becomes a sentence saying so.

The page is assembled from escaped strings rather than a template engine: a few fixed
sections, charts as inline SVG (``charts``), no script, so it opens from disk or over HTTP
with no network. Charts stop once the page would pass ``MAX_BYTES`` (the rest are named).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

import numpy as np
import polars as pl

from synthcap_assets.quality.dimensions import DIMENSIONS
from synthcap_assets.reports import charts
from synthcap_assets.reports.inputs import ReportInputs

MAX_BYTES = 2_000_000
TOP_CATEGORIES = 10
MAX_CORRELATION_COLUMNS = 12
# Semantic types whose values the report never lists (one value per row, or free text).
HIDDEN_VALUES = ("identifier", "text")
COMPONENTS = ("quality", "privacy", "drift", "utility", "volume")
CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:1400px}
h1{font-size:1.4rem}h2{font-size:1.15rem;border-bottom:1px solid #ccc;margin-top:2rem}
.charts{display:flex;flex-wrap:wrap;gap:.6rem}
figure.chart{margin:0;padding:.3rem;border:1px solid #e3e3e3;border-radius:4px;background:#fff}
figure.chart svg{display:block;max-width:100%;height:auto}
figcaption{font-size:.75rem;color:#555;max-width:22rem}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left}
.missing{color:#a33;font-style:italic}
.note{color:#555;font-size:.8rem;margin:.2rem 0}
.score{font-size:2rem;font-weight:bold}
"""


class _Page:
    """The page under construction: sections, and the chart budget."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.charts = 0
        self.skipped: list[str] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text.encode())

    def chart(self, name: str, svg: str, caption: str = "") -> str:
        """A figure for ``svg``, or nothing once the page budget is spent."""
        if self.size + len(svg) > MAX_BYTES - 50_000:
            self.skipped.append(name)
            return ""
        self.charts += 1
        self.size += len(svg)
        cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
        return f'<figure class="chart" data-chart="{_e(name)}">{svg}{cap}</figure>'


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _missing(text: str) -> str:
    return f'<p class="missing">{_e(text)}</p>'


def _num(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return _e(value)


def html_table(df: pl.DataFrame, columns: Sequence[str] | None = None) -> str:
    """``df`` (the named columns that exist) as an HTML table; lists joined by commas."""
    names = [c for c in (columns or df.columns) if c in df.columns]
    head = "".join(f"<th>{_e(c)}</th>" for c in names)
    rows = []
    for row in df.select(names).iter_rows():
        cells = "".join(
            f"<td>{_e(', '.join(map(str, v))) if isinstance(v, list) else _num(v)}</td>"
            for v in row
        )
        rows.append(f"<tr>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _bullets(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>" if items else ""


def _readiness(page: _Page, inputs: ReportInputs) -> str:
    row = inputs.table("readiness_score")
    if row is None or row.is_empty():
        return _missing(inputs.missing("readiness_score"))
    r = row.row(0, named=True)
    values = [r.get(c) for c in COMPONENTS]
    chart = page.chart(
        "readiness:breakdown",
        charts.bars("readiness breakdown (0-100)", COMPONENTS, values, xlabel="", limit=100),
        "a missing component is unknown and counts as 0",
    )
    status = r.get("synthesis") or "no synthesis outcome"
    return (
        f'<p class="score">{r["score"]:.1f} / 100</p><p>synthesis: {_e(status)}</p>'
        f'<div class="charts">{chart}</div>'
        f"<h3>Recommendations</h3>{_bullets(r.get('recommendations') or []) or '<p>none</p>'}"
        + (f"<h3>Unknown</h3>{_bullets(r['unknown'])}" if r.get("unknown") else "")
        + (f"<h3>Ready</h3>{_bullets(r['ready'])}" if r.get("ready") else "")
        + (f"<h3>Not ready</h3>{_bullets(r['not_ready'])}" if r.get("not_ready") else "")
    )


def _quality(page: _Page, inputs: ReportInputs) -> str:
    report = inputs.table("quality_report")
    if report is None or report.is_empty():
        return _missing(inputs.missing("quality_report"))
    table = report.filter(pl.col("column") == "*")
    dims = [d for d in DIMENSIONS if d in report.columns]
    body = ""
    if table.height:
        t = table.row(0, named=True)
        shown = [d for d in dims if t.get(d) is not None]
        body += f"<p>score {_num(t.get('score'))}</p>"
        body += (
            '<div class="charts">'
            + page.chart(
                "quality:dimensions",
                charts.bars(
                    "table dimensions (0-100)",
                    shown,
                    [100 * t[d] for d in shown],
                    xlabel="",
                    limit=100,
                ),
            )
            + "</div>"
        )
    return body + html_table(report.select("column", *dims, "score"))


def _is_date(row: dict) -> bool:
    return str(row.get("dtype") or "").startswith(("Date", "Datetime"))


def _distribution(page: _Page, row: dict, description: str, personal: set[str]) -> str:
    name = row["column"]
    total = (row.get("count") or 0) + (row.get("nulls") or 0)
    caption = (
        f"{row.get('semantic_type')}, {row.get('nulls')} nulls of {total}, "
        f"{row.get('distinct')} distinct" + (f" — {description}" if description else "")
    )
    if row.get("hist_counts"):
        svg = charts.histogram(name, row["hist_edges"], row["hist_counts"], dates=_is_date(row))
    elif name in personal or row.get("semantic_type") in HIDDEN_VALUES:
        # Values of identifiers, free text and personal data stay out of a file people share.
        return f'<p class="note">{_e(name)}: {_e(caption)}; values not shown</p>'
    elif row.get("top_counts"):
        labels = row["top_values"][:TOP_CATEGORIES]
        svg = charts.bars(f"{name}: top values", labels, row["top_counts"][:TOP_CATEGORIES])
    else:
        return ""
    return page.chart(f"distribution:{name}", svg, caption)


def _distributions(page: _Page, inputs: ReportInputs) -> str:
    profile = inputs.table("profile")
    if profile is None or profile.is_empty():
        return _missing(inputs.missing("profile"))
    personal = personal_columns(inputs)
    figures = [
        _distribution(page, row, inputs.descriptions.get(row["column"], ""), personal)
        for row in profile.iter_rows(named=True)
    ]
    notes = "".join(f for f in figures if f.startswith("<p"))
    charts_html = "".join(f for f in figures if not f.startswith("<p"))
    stats = ("column", "semantic_type", "count", "nulls", "distinct", "mean", "std", "min", "max")
    return f'<div class="charts">{charts_html}</div>{notes}' + html_table(profile, stats)


def personal_columns(inputs: ReportInputs) -> set[str]:
    """Columns whose values the report never shows: those the privacy report marks as PII or
    direct identifiers; without a privacy report, every column that is not a number or date."""
    report = inputs.table("privacy_report")
    if report is None or "pii_type" not in report.columns:
        profile = inputs.table("profile")
        if profile is None:
            return set()
        return set(profile.filter(pl.col("hist_counts").is_null())["column"].to_list())
    flagged = pl.col("pii_type").is_not_null()
    if "direct_identifier" in report.columns:
        flagged = flagged | pl.col("direct_identifier").fill_null(False)
    return set(report.filter(flagged & (pl.col("column") != "*"))["column"].to_list())


def _shares(row: dict) -> dict[str, float]:
    total = (row.get("count") or 0) or 1
    return {
        str(v): c / total
        for v, c in zip(row.get("top_values") or [], row.get("top_counts") or [], strict=False)
    }


def _drift_chart(page: _Page, column: str, today: dict, yesterday: dict) -> str:
    if today.get("hist_counts") and yesterday.get("hist_counts"):
        svg = charts.overlaid_histograms(
            f"{column}: today vs yesterday",
            (today["hist_edges"], today["hist_counts"]),
            (yesterday["hist_edges"], yesterday["hist_counts"]),
            dates=_is_date(today),
        )
    elif today.get("top_counts") or yesterday.get("top_counts"):
        now, before = _shares(today), _shares(yesterday)
        labels = sorted(set(now) | set(before), key=lambda v: -(now.get(v, 0) + before.get(v, 0)))
        labels = labels[:TOP_CATEGORIES]
        svg = charts.grouped_shares(
            f"{column}: today vs yesterday",
            labels,
            [now.get(v, 0.0) for v in labels],
            [before.get(v, 0.0) for v in labels],
            ("today", "yesterday"),
        )
    else:
        return ""
    return page.chart(f"drift:{column}", svg)


def _drift(page: _Page, inputs: ReportInputs) -> str:
    drift = inputs.table("drift_report")
    if drift is None or drift.is_empty():
        return _missing(inputs.missing("drift_report"))
    if "drifted" not in drift.columns:
        return f"<p>{_e(drift['detail'][0] if 'detail' in drift.columns else 'no reference')}</p>"
    drifted = drift.filter(pl.col("drifted").fill_null(False))["column"].to_list()
    body = f"<p>{len(drifted)} of {drift.height} columns drifted against the previous day.</p>"
    profile, previous = inputs.table("profile"), inputs.previous_profile
    if drifted and (profile is None or previous is None):
        body += _missing("the profile of today or yesterday is missing: no overlay charts")
    elif drifted:
        today = {r["column"]: r for r in profile.iter_rows(named=True)}
        before = {r["column"]: r for r in previous.iter_rows(named=True)}
        personal = personal_columns(inputs)
        shown = [c for c in drifted if c in today and c in before]
        figures = [
            _drift_chart(page, c, today[c], before[c])
            for c in shown
            if c not in personal or today[c].get("hist_counts")
        ]
        body += f'<div class="charts">{"".join(figures)}</div>'
    cols = ("column", "kind", "method", "statistic", "threshold", "psi", "drifted", "detail")
    return body + html_table(drift, cols)


def _privacy(page: _Page, inputs: ReportInputs) -> str:
    report = inputs.table("privacy_report")
    if report is None or report.is_empty():
        return _missing(inputs.missing("privacy_report"))
    columns = report.filter(pl.col("column") != "*")
    table = report.filter(pl.col("column") == "*")
    body = ""
    if table.height:
        t = table.row(0, named=True)
        facts = [
            f"k-anonymity {t.get('k_anonymity')} raw, {t.get('k_anonymity_generalized')} "
            f"generalized, over ({t.get('qi_combination_generalized') or 'no quasi-identifiers'})",
            f"unique share {_num(t.get('unique_share'))} raw, "
            f"{_num(t.get('unique_share_generalized'))} generalized",
            f"record risk: max {_num(t.get('max_record_risk'))}, mean "
            f"{_num(t.get('mean_record_risk'))}, share above 1/5 {_num(t.get('high_risk_share'))}",
        ]
        body += _bullets(facts)
    found = columns.filter(pl.col("pii_type").is_not_null())
    if found.height:
        body += (
            '<div class="charts">'
            + page.chart(
                "privacy:pii",
                charts.bars(
                    "PII: share of values matched",
                    found["column"].to_list(),
                    found["match_share"].fill_null(0.0).to_list(),
                    xlabel="share",
                    limit=1,
                ),
            )
            + "</div>"
        )
    cols = ("column", "pii_type", "detected_by", "match_share", "confidence")
    cols += ("direct_identifier", "quasi_identifier", "handling", "handling_reason")
    return body + html_table(columns, cols)


def _as_number(series: pl.Series) -> np.ndarray | None:
    """A column as float64 values (dates as years, as generalization stores them), or None."""
    if series.dtype.is_temporal():
        series = series.dt.year()
    if not series.dtype.is_numeric():
        return None
    return series.drop_nulls().cast(pl.Float64).to_numpy()


def _marginal(page: _Page, column: str, real: pl.Series, synthetic: pl.Series) -> str:
    r, s = _as_number(real), _as_number(synthetic)
    if r is not None and s is not None and r.size and s.size:
        svg = charts.real_vs_synthetic(f"{column}: real vs synthetic", r, s)
    else:
        rs = real.cast(pl.String).value_counts(normalize=True, name="share")
        ss = synthetic.cast(pl.String).value_counts(normalize=True, name="share")
        shares_r = dict(zip(rs[column].to_list(), rs["share"].to_list(), strict=True))
        shares_s = dict(zip(ss[column].to_list(), ss["share"].to_list(), strict=True))
        labels = sorted(shares_r, key=lambda v: -shares_r[v])[:TOP_CATEGORIES]
        svg = charts.grouped_shares(
            f"{column}: real vs synthetic",
            [str(v) for v in labels],
            [shares_r.get(v, 0.0) for v in labels],
            [shares_s.get(v, 0.0) for v in labels],
            ("real", "synthetic"),
            (charts.REAL, charts.SYNTHETIC),
        )
    return page.chart(f"synthetic:{column}", svg)


def _correlations(page: _Page, real: pl.DataFrame, synthetic: pl.DataFrame) -> str:
    numeric = [
        c
        for c in synthetic.columns
        if c in real.columns
        and _as_number(real[c][:1]) is not None
        and _as_number(synthetic[c][:1]) is not None
    ][:MAX_CORRELATION_COLUMNS]
    if len(numeric) < 2:
        return "<p>fewer than two numeric columns: no pair correlations to compare</p>"

    def matrix(df: pl.DataFrame) -> np.ndarray:
        cols = [df[c].dt.year() if df[c].dtype.is_temporal() else df[c] for c in numeric]
        values = pl.DataFrame(cols).drop_nulls().cast(pl.Float64).to_numpy()
        if values.shape[0] < 2:  # no complete row pair: nothing correlates
            return np.zeros((len(numeric), len(numeric)))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.nan_to_num(np.corrcoef(values, rowvar=False))

    return page.chart(
        "synthetic:correlations",
        charts.correlation_heatmaps(numeric, matrix(real), matrix(synthetic)),
        "Pearson correlation of each numeric pair",
    )


def _synthesis(page: _Page, inputs: ReportInputs) -> str:
    outcome = inputs.table("synthetic_outcome")
    if outcome is None or outcome.is_empty():
        return _missing(inputs.missing("synthetic_outcome") + ": no synthesis ran")
    o = outcome.row(0, named=True)
    body = f"<p>outcome: <b>{_e(o.get('status'))}</b>"
    body += f" — {_e(o['reason'])}" if o.get("reason") else ""
    body += f"; utility {_num(o.get('utility'))}</p>" if o.get("utility") is not None else "</p>"
    body += _bullets(o.get("actions") or [])
    if o.get("dropped"):
        left = [
            f"{d.get('column')}: {d.get('why')}" if isinstance(d, dict) else str(d)
            for d in o["dropped"]
        ]
        body += "<p>left out of the sample:</p>" + _bullets(left)
    real, synthetic = inputs.captured, inputs.synthetic
    if synthetic is None or synthetic.is_empty():
        return body + _missing(f"no synthetic sample for {inputs.source} on {inputs.day}")
    if real is None:
        return body + _missing(inputs.missing("raw_capture"))
    shared = [c for c in synthetic.columns if c in real.columns]
    figures = [_marginal(page, c, real[c].drop_nulls(), synthetic[c].drop_nulls()) for c in shared]
    return (
        body
        + f'<h3>Marginals</h3><div class="charts">{"".join(figures)}</div>'
        + f'<h3>Pair correlations</h3><div class="charts">{_correlations(page, real, synthetic)}'
        + "</div>"
    )


SECTIONS = (
    ("readiness", "Readiness", _readiness),
    ("quality", "Quality dimensions", _quality),
    ("distributions", "Distributions per column", _distributions),
    ("drift", "Drift: today against yesterday", _drift),
    ("privacy", "PII and k-anonymity", _privacy),
    ("synthesis", "Real against synthetic", _synthesis),
)


def build_report(inputs: ReportInputs, generated: dt.datetime | None = None) -> str:
    """The report page of ``inputs`` as HTML text."""
    page = _Page()
    when = (generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    title = f"synthcap report: {inputs.source} {inputs.day}"
    page.add(
        # An empty inline icon: the page asks its server for nothing but itself.
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<link rel="icon" href="data:,"><title>{_e(title)}</title>'
        f"<style>{CSS}</style></head><body><h1>{_e(title)}</h1><p>generated {when}</p>"
    )
    for anchor, heading, render in SECTIONS:
        try:
            body = render(page, inputs)
        except (KeyError, ValueError, TypeError, pl.exceptions.PolarsError) as exc:
            body = _missing(f"this section could not be drawn: {type(exc).__name__}: {exc}")
        page.add(f'<section id="{anchor}"><h2>{_e(heading)}</h2>{body}</section>')
    if page.skipped:
        page.add(_missing(f"charts left out to stay under 2 MB: {', '.join(page.skipped)}"))
    page.add("</body></html>")
    return "".join(page.parts)
