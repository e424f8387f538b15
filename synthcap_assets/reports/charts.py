"""Charts of the visual report, drawn with matplotlib as inline SVG (pure: data in, SVG out).

SVG keeps the report one self-contained file that needs no JavaScript and no network, and a
histogram of a day's column is a few kilobytes of paths (text stays text: ``svg.fonttype``
``none``). Every function returns the ``<svg>`` element as a string.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display: the report is written by runs and by the CLI

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

STYLE = {
    "svg.fonttype": "none",
    "font.size": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
}
TODAY, YESTERDAY, REAL, SYNTHETIC = "#1f77b4", "#ff7f0e", "#1f77b4", "#d62728"
SMALL = (3.4, 2.1)


def _svg(fig: plt.Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    # The RDF <metadata> block names namespaces only; dropped, it saves bytes per chart.
    return re.sub(r"<metadata>.*?</metadata>", "", text[text.index("<svg") :], flags=re.S)


def _figure(size: tuple[float, float] = SMALL) -> tuple[plt.Figure, plt.Axes]:
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=size)
    return fig, ax


def _label(value: str, width: int = 18) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def _date_axis(ax: plt.Axes) -> None:
    """Dates on the x axis: the profiles keep dates and datetimes as days since 1970-01-01,
    which is matplotlib's own date epoch."""
    locator = mdates.AutoDateLocator(maxticks=5)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def histogram(
    title: str, edges: Sequence[float], counts: Sequence[int], *, dates: bool = False
) -> str:
    """A column's histogram from its profile (equal-width bins); ``dates``: edges are days
    since 1970-01-01."""
    with plt.rc_context(STYLE):
        fig, ax = _figure()
        edges_a = np.asarray(edges, dtype=np.float64)
        ax.stairs(np.asarray(counts, dtype=np.float64), edges_a, fill=True, color=TODAY, alpha=0.8)
        if dates:
            _date_axis(ax)
        ax.set_title(_label(title, 40))
        ax.set_ylabel("rows")
        return _svg(fig)


def bars(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    xlabel: str = "rows",
    limit: float | None = None,
    color: str = TODAY,
) -> str:
    """Horizontal bars, first label on top (top values, dimension scores, breakdowns)."""
    with plt.rc_context(STYLE):
        height = max(1.6, 0.22 * len(labels) + 0.8)
        fig, ax = _figure((SMALL[0], height))
        ys = np.arange(len(labels))[::-1]
        ax.barh(ys, [0.0 if v is None else v for v in values], color=color, alpha=0.85)
        ax.set_yticks(ys, [_label(str(v)) for v in labels])
        ax.set_xlabel(xlabel)
        if limit is not None:
            ax.set_xlim(0, limit)
        ax.set_title(_label(title, 40))
        return _svg(fig)


def _density(edges: np.ndarray, counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    widths = np.diff(edges)
    safe = np.where(widths > 0, widths, 1.0)
    return counts / (total * safe) if total > 0 else counts


def overlaid_histograms(
    title: str,
    first: tuple[Sequence[float], Sequence[int]],
    second: tuple[Sequence[float], Sequence[int]],
    labels: tuple[str, str] = ("today", "yesterday"),
    *,
    dates: bool = False,
) -> str:
    """Two days' histograms of one column as densities over each other (each on its own
    bins, as the profiles store them)."""
    with plt.rc_context(STYLE):
        fig, ax = _figure()
        for (edges, counts), label, color in zip(
            (first, second), labels, (TODAY, YESTERDAY), strict=True
        ):
            e = np.asarray(edges, dtype=np.float64)
            c = np.asarray(counts, dtype=np.float64)
            ax.stairs(_density(e, c), e, label=label, color=color, linewidth=1.5)
        if dates:
            _date_axis(ax)
        ax.set_title(_label(title, 40))
        ax.set_ylabel("density")
        ax.legend(frameon=False)
        return _svg(fig)


def grouped_shares(
    title: str,
    labels: Sequence[str],
    first: Sequence[float],
    second: Sequence[float],
    names: tuple[str, str],
    colors: tuple[str, str] = (TODAY, YESTERDAY),
) -> str:
    """Two share vectors over the same categories as side-by-side bars."""
    with plt.rc_context(STYLE):
        height = max(1.6, 0.3 * len(labels) + 0.8)
        fig, ax = _figure((SMALL[0], height))
        ys = np.arange(len(labels))[::-1]
        ax.barh(ys + 0.2, first, height=0.4, label=names[0], color=colors[0])
        ax.barh(ys - 0.2, second, height=0.4, label=names[1], color=colors[1])
        ax.set_yticks(ys, [_label(str(v)) for v in labels])
        ax.set_xlabel("share of rows")
        ax.set_title(_label(title, 40))
        ax.legend(frameon=False, fontsize=7)
        return _svg(fig)


def real_vs_synthetic(title: str, real: np.ndarray, synthetic: np.ndarray, bins: int = 30) -> str:
    """A numeric column's real and synthetic values as densities on shared bins."""
    values = np.concatenate([real, synthetic])
    low, high = float(np.min(values)), float(np.max(values))
    if not math.isfinite(low) or not math.isfinite(high) or low == high:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    with plt.rc_context(STYLE):
        fig, ax = _figure()
        for data, label, color in ((real, "real", REAL), (synthetic, "synthetic", SYNTHETIC)):
            counts, _ = np.histogram(data, bins=edges)
            ax.stairs(
                _density(edges, counts.astype(np.float64)),
                edges,
                label=label,
                color=color,
                linewidth=1.5,
            )
        ax.set_title(_label(title, 40))
        ax.set_ylabel("density")
        ax.legend(frameon=False)
        return _svg(fig)


def correlation_heatmaps(columns: Sequence[str], real: np.ndarray, synthetic: np.ndarray) -> str:
    """Pairwise correlation matrices of real and synthetic rows side by side (-1 … 1)."""
    size = 2.2 + 0.25 * len(columns)
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(2 * size + 0.8, size))
        names = [_label(c, 12) for c in columns]
        image = None
        for ax, matrix, label in zip(axes, (real, synthetic), ("real", "synthetic"), strict=True):
            image = ax.imshow(matrix, vmin=-1, vmax=1, cmap="RdBu_r")
            ax.set_xticks(range(len(names)), names, rotation=60, ha="right")
            ax.set_yticks(range(len(names)), names)
            ax.set_title(f"{label} correlations")
        fig.colorbar(image, ax=axes, shrink=0.8)
        return _svg(fig)
