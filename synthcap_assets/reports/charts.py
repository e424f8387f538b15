"""Charts of the visual report as inline SVG, written directly (pure: data in, SVG out).

SVG keeps the report one self-contained file that needs no JavaScript and no network. The
charts are few and simple (step histograms, horizontal bars, two heat maps), so they are
written here as SVG elements with a fixed layout instead of being drawn by matplotlib: its
``savefig(bbox_inches="tight")`` drew every figure twice, and even drawn once a figure cost
about 50 ms, most of the readiness run's time (13 charts a report). Margins come from the
labels' lengths (``text_width``, a conservative estimate for a sans-serif font), so no label
is clipped. Every function returns the ``<svg>`` element as a string; labels are escaped.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence

import numpy as np

TODAY, YESTERDAY, REAL, SYNTHETIC = "#1f77b4", "#ff7f0e", "#1f77b4", "#d62728"
WIDTH, HEIGHT = 340.0, 210.0  # a small chart, in SVG user units (CSS pixels)
FONT = 10.0  # tick labels; titles are 11, bold
TICKS = 5
# ColorBrewer's RdBu (as matplotlib's "RdBu_r" interpolates it), from -1 (blue) to +1 (red).
RDBU_R = (
    *("#053061", "#2166ac", "#4393c3", "#92c5de", "#d1e5f0", "#f7f7f7"),
    *("#fddbc7", "#f4a582", "#d6604d", "#b2182b", "#67001f"),
)
BOLD = 1.1  # bold text is up to a tenth wider than regular


# Character widths in ems, each class rounded up to its widest member in DejaVu Sans (the
# first font the charts ask for, and wider than Arial, the next); anything else 1 em.
_WIDTHS = {
    **dict.fromkeys("'ijlIJ,. /:;\\|", 0.34),
    **dict.fromkeys("f-r()[]t!", 0.41),
    **dict.fromkeys('"*_`–szc?o', 0.55),
    **dict.fromkeys("abdeghknpquvxy0123456789LFPTYESs${}", 0.64),
    **dict.fromkeys("KAVXZBRCUNHDGOQ&", 0.8),
}


def text_width(text: str, size: float = FONT) -> float:
    """The width ``text`` takes at ``size`` (regular weight), estimated on the wide side from
    per-character widths, so that margins made from it never clip a label."""
    return size * sum(_WIDTHS.get(ch, 1.0) for ch in text)


def _label(value: str, width: int = 18) -> str:
    return value if len(value) <= width else value[: width - 1] + "…"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _f(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def nice_ticks(low: float, high: float, count: int = TICKS) -> list[float]:
    """About ``count`` round ticks (1, 2, 2.5 or 5 times a power of ten) within [low, high]."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low] if math.isfinite(low) else []
    raw = (high - low) / max(count - 1, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * 0.999)
    first = math.ceil(low / step - 1e-9)
    ticks = [(first + i) * step for i in range(int((high - low) / step + 1e-9) + 2)]
    return [0.0 if abs(t) < step * 1e-9 else t for t in ticks if t <= high + step * 1e-9]


def tick_text(value: float, step: float) -> str:
    """A tick's label: as many decimals as its step needs (0.25 has two), in scientific
    notation with as many digits as tell ticks apart when very large or very small."""
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or step < 1e-4:
        digits = math.floor(math.log10(abs(value))) - math.floor(math.log10(step)) + 2
        return f"{value:.{min(max(digits, 1), 12)}g}"
    decimals = 0
    while decimals < 6 and abs(round(step, decimals) - step) > step * 1e-6:
        decimals += 1
    return f"{value:.{decimals}f}"


def _date_ticks(low: float, high: float) -> tuple[list[float], list[str], str]:
    """Ticks, their labels and the axis label (the years) for days since 1970-01-01."""
    epoch = dt.date(1970, 1, 1)
    first, last = (epoch + dt.timedelta(days=int(math.floor(v))) for v in (low, high))
    span = max(high - low, 1.0)
    years = f"{first.year}" if first.year == last.year else f"{first.year}–{last.year}"
    if span <= 62:
        step = next(s for s in (1, 2, 7, 14, 31) if span / s <= TICKS)
        ticks = [v for v in range(math.ceil(low), math.floor(high) + 1) if v % step == 0]
        return (
            [float(v) for v in ticks],
            [f"{epoch + dt.timedelta(days=v):%b %d}" for v in ticks],
            years,
        )
    months_span = span / 30.4
    if months_span <= 5 * 12:
        step = next(s for s in (1, 2, 3, 6, 12) if months_span / s <= TICKS)
        ticks, labels = [], []
        month = first.year * 12 + first.month  # the first of the next month on
        while True:
            year, m = divmod(month, 12)
            day = dt.date(year, m + 1, 1)
            value = float((day - epoch).days)
            if value > high:
                break
            if value >= low and m % step == 0:
                ticks.append(value)
                labels.append(f"{day:%b}" if step < 12 else f"{day:%Y}")
            month += 1
        return ticks, labels, (years if step < 12 else "")
    yticks = nice_ticks(first.year, last.year + 1)
    values = [float((dt.date(int(y), 1, 1) - epoch).days) for y in yticks if 1 <= y <= 9999]
    kept = [(v, f"{int(y)}") for v, y in zip(values, yticks, strict=False) if low <= v <= high]
    return [v for v, _ in kept], [t for _, t in kept], ""


class _Chart:
    """One chart: a canvas, one plot area with a left and a bottom axis, and its elements."""

    def __init__(self, width: float = WIDTH, height: float = HEIGHT) -> None:
        self.width, self.height = width, height
        self.parts: list[str] = []

    def text(self, x: float, y: float, value: str, **attrs: object) -> None:
        extra = "".join(f' {k.replace("_", "-")}="{_e(v)}"' for k, v in attrs.items())
        self.parts.append(f'<text x="{_f(x)}" y="{_f(y)}"{extra}>{_e(value)}</text>')

    def title(self, value: str) -> None:
        """The title, centred, in a smaller size where it would be wider than the chart."""
        text = _label(value, 40)
        size = min(11.0, 11.0 * (self.width - 8) / (BOLD * text_width(text, 11.0) or 1.0))
        self.text(
            self.width / 2, 15, text, text_anchor="middle", font_size=_f(size), font_weight="bold"
        )

    def legend(self, entries: Sequence[tuple[str, str]], y: float = 30) -> None:
        """Swatches and names in a row under the title, right-aligned (never over the data)."""
        x = self.width - 8
        for name, color in reversed(entries):
            x -= text_width(name, 9)
            self.text(x, y, name, font_size=9)
            x -= 14
            self.parts.append(
                f'<rect x="{_f(x)}" y="{_f(y - 8)}" width="10" height="8" fill="{color}"/>'
            )
            x -= 10

    def svg(self) -> str:
        w, h = _f(self.width), _f(self.height)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Arial, sans-serif" '
            f'font-size="{_f(FONT)}"><rect width="{w}" height="{h}" fill="#fff"/>'
            + "".join(self.parts)
            + "</svg>"
        )


class _Plot:
    """The plot area of a chart and its data-to-canvas mapping (y grows upwards)."""

    def __init__(
        self,
        chart: _Chart,
        box: tuple[float, float, float, float],
        xs: tuple[float, float],
        ys: tuple[float, float],
    ) -> None:
        self.chart = chart
        self.left, self.top, self.right, self.bottom = box
        self.x0, self.x1 = xs if xs[1] > xs[0] else (xs[0] - 0.5, xs[0] + 0.5)
        self.y0, self.y1 = ys if ys[1] > ys[0] else (ys[0], ys[0] + 1.0)

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0) * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y0) / (self.y1 - self.y0) * (self.bottom - self.top)

    def axes(
        self, xticks: Sequence[tuple[float, str]], yticks: Sequence[tuple[float, str]]
    ) -> None:
        left, top, right, b = self.left, self.top, self.right, self.bottom
        lines = [f"M{_f(left)} {_f(top)}V{_f(b)}H{_f(right)}"]
        for value, text in xticks:
            x = self.x(value)
            lines.append(f"M{_f(x)} {_f(b)}v3.5")
            self.chart.text(x, b + 14, text, text_anchor="middle")
        for value, text in yticks:
            y = self.y(value)
            lines.append(f"M{_f(left)} {_f(y)}h-3.5")
            self.chart.text(left - 6, y + 3.5, text, text_anchor="end")
        self.chart.parts.append(
            f'<path d="{"".join(lines)}" stroke="#000" stroke-width="0.8" fill="none"/>'
        )

    def stairs(self, edges: np.ndarray, heights: np.ndarray, color: str, *, fill: bool) -> None:
        base = _f(self.y(max(self.y0, 0.0)))
        steps = [f"M{_f(self.x(edges[0]))} {base}"]
        for i, h in enumerate(heights):
            y = _f(self.y(h))
            steps.append(f"V{y}H{_f(self.x(edges[i + 1]))}")
        steps.append(f"V{base}")
        style = (
            f'fill="{color}" fill-opacity="0.8" stroke="none"'
            if fill
            else f'fill="none" stroke="{color}" stroke-width="1.5"'
        )
        self.chart.parts.append(f'<path d="{"".join(steps)}" {style}/>')


def _value_ticks(low: float, high: float) -> list[tuple[float, str]]:
    ticks = nice_ticks(low, high)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    return [(t, tick_text(t, step)) for t in ticks]


def _finite(values: Sequence[float | None]) -> np.ndarray:
    array = np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.where(np.isfinite(array), array, 0.0)


def _step_chart(
    title: str,
    series: Sequence[tuple[np.ndarray, np.ndarray, str, str]],
    ylabel: str,
    *,
    dates: bool,
    fill: bool,
) -> str:
    """Step histograms (edges, heights, name, color) over one x axis; a legend for several."""
    chart = _Chart()
    chart.title(title)
    legend = len(series) > 1
    lows = [float(e[0]) for e, h, _, _ in series if e.size > 1]
    highs = [float(e[-1]) for e, h, _, _ in series if e.size > 1]
    x_low, x_high = (min(lows), max(highs)) if lows else (0.0, 1.0)
    top = max([float(h.max()) for _, h, _, _ in series if h.size] + [0.0]) * 1.05 or 1.0
    yticks = _value_ticks(0.0, top)
    if dates:
        values, labels, xlabel = _date_ticks(x_low, x_high)
        xticks = list(zip(values, labels, strict=True))
    else:
        xticks, xlabel = _value_ticks(x_low, x_high), ""
    left = 22 + max(text_width(t) for _, t in yticks) + 6
    right = WIDTH - max(10.0, text_width(xticks[-1][1]) / 2 + 2 if xticks else 10.0)
    bottom = HEIGHT - 22 - (14 if xlabel else 0)
    plot = _Plot(chart, (left, 40 if legend else 26, right, bottom), (x_low, x_high), (0.0, top))
    for edges, heights, _, color in series:
        if edges.size > 1:
            plot.stairs(edges, heights, color, fill=fill)
    plot.axes(xticks, yticks)
    chart.text(
        12,
        (plot.top + bottom) / 2,
        ylabel,
        text_anchor="middle",
        transform=f"rotate(-90 12 {_f((plot.top + bottom) / 2)})",
    )
    if xlabel:
        chart.text((left + right) / 2, HEIGHT - 6, xlabel, text_anchor="middle")
    if legend:
        chart.legend([(name, color) for _, _, name, color in series])
    return chart.svg()


def histogram(
    title: str, edges: Sequence[float], counts: Sequence[int], *, dates: bool = False
) -> str:
    """A column's histogram from its profile (equal-width bins); ``dates``: edges are days
    since 1970-01-01."""
    series = [(_finite(edges), _finite(counts), "rows", TODAY)]
    return _step_chart(title, series, "rows", dates=dates, fill=True)


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
    series = []
    for (edges, counts), label, color in zip(
        (first, second), labels, (TODAY, YESTERDAY), strict=True
    ):
        e, c = _finite(edges), _finite(counts)
        series.append((e, _density(e, c), label, color))
    return _step_chart(title, series, "density", dates=dates, fill=False)


def real_vs_synthetic(title: str, real: np.ndarray, synthetic: np.ndarray, bins: int = 30) -> str:
    """A numeric column's real and synthetic values as densities on shared bins."""
    values = np.concatenate([real, synthetic])
    low, high = float(np.min(values)), float(np.max(values))
    if not math.isfinite(low) or not math.isfinite(high) or low == high:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    series = []
    for data, label, color in ((real, "real", REAL), (synthetic, "synthetic", SYNTHETIC)):
        counts, _ = np.histogram(data, bins=edges)
        series.append((edges, _density(edges, counts.astype(np.float64)), label, color))
    return _step_chart(title, series, "density", dates=False, fill=False)


def _bar_chart(
    title: str,
    labels: Sequence[str],
    groups: Sequence[tuple[np.ndarray, str, str]],
    xlabel: str,
    limit: float | None,
    row: float,
) -> str:
    """Horizontal bars, one row per label (first on top), one bar per group in each row."""
    names = [_label(str(v)) for v in labels]
    legend = len(groups) > 1
    chart = _Chart(height=max(160.0, row * len(names) + 80))
    chart.title(title)
    values = np.concatenate([g for g, _, _ in groups]) if groups else np.zeros(0)
    high = limit if limit is not None else (float(values.max()) * 1.05 if values.size else 1.0)
    low = min(0.0, float(values.min()) if values.size else 0.0)
    xticks = _value_ticks(low, high or 1.0)
    left = 8 + max([text_width(n) for n in names] + [0.0]) + 6
    right = WIDTH - max(10.0, text_width(xticks[-1][1]) / 2 + 2)
    bottom = chart.height - 22 - (14 if xlabel else 0)
    plot = _Plot(
        chart,
        (left, 40 if legend else 26, right, bottom),
        (low, high or 1.0),
        (-0.5, len(names) - 0.5),
    )
    band = 0.8 / len(groups) if groups else 0.8
    for g, (series, _, color) in enumerate(groups):
        for i, value in enumerate(series):
            center = len(names) - 1 - i + (len(groups) - 1) / 2 * band - g * band
            x0, x1 = sorted((plot.x(0.0), plot.x(min(value, plot.x1))))
            y = plot.y(center + band / 2)
            chart.parts.append(
                f'<rect x="{_f(x0)}" y="{_f(y)}" width="{x1 - x0:.2f}" '
                f'height="{_f(plot.y(center - band / 2) - y)}" fill="{color}" fill-opacity="0.85"/>'
            )
    yticks = [(len(names) - 1 - i, n) for i, n in enumerate(names)]
    plot.axes(xticks, yticks)
    if xlabel:
        chart.text((left + right) / 2, chart.height - 6, xlabel, text_anchor="middle")
    if legend:
        chart.legend([(name, color) for _, name, color in groups])
    return chart.svg()


def bars(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    xlabel: str = "rows",
    limit: float | None = None,
    color: str = TODAY,
) -> str:
    """Horizontal bars, first label on top (top values, dimension scores, breakdowns); a
    missing value draws no bar."""
    return _bar_chart(title, labels, [(_finite(values), "", color)], xlabel, limit, 22)


def grouped_shares(
    title: str,
    labels: Sequence[str],
    first: Sequence[float],
    second: Sequence[float],
    names: tuple[str, str],
    colors: tuple[str, str] = (TODAY, YESTERDAY),
) -> str:
    """Two share vectors over the same categories as side-by-side bars."""
    groups = [(_finite(first), names[0], colors[0]), (_finite(second), names[1], colors[1])]
    return _bar_chart(title, labels, groups, "share of rows", None, 30)


def _color(value: float) -> str:
    """``value`` in [-1, 1] on RdBu_r, interpolated between its 11 colors."""
    position = (min(max(value, -1.0), 1.0) + 1.0) / 2.0 * (len(RDBU_R) - 1)
    i = min(int(position), len(RDBU_R) - 2)
    share = position - i
    a, b = (np.array([int(c[k : k + 2], 16) for k in (1, 3, 5)]) for c in RDBU_R[i : i + 2])
    r, g, bl = np.rint(a + (b - a) * share).astype(int)
    return f"#{r:02x}{g:02x}{bl:02x}"


def correlation_heatmaps(columns: Sequence[str], real: np.ndarray, synthetic: np.ndarray) -> str:
    """Pairwise correlation matrices of real and synthetic rows side by side (-1 … 1), with a
    color bar; each cell's value is its tooltip."""
    names = [_label(c, 12) for c in columns]
    n = len(names)
    cell = 18.0
    label = max([text_width(s) for s in names] + [0.0])
    side = n * cell
    titles = ("real correlations", "synthetic correlations")
    wide = [BOLD * text_width(t, 11.0) for t in titles]  # each centred over its matrix
    top, left = 26.0, max(8 + label + 6, wide[0] / 2 - side / 2 + 4)
    # The second matrix repeats the row labels; the titles must not meet over few columns.
    gap = max(14 + label + 6, (wide[0] + wide[1]) / 2 + 8 - side)
    drop = label * math.sin(math.radians(60)) + 14  # x labels rotated 60 degrees
    bar_x = left + 2 * side + gap + 8  # the colour bar, right of the second matrix
    width = max(bar_x + 14 + text_width("-0.5") + 6, left + 1.5 * side + gap + wide[1] / 2 + 4)
    chart = _Chart(width=width, height=top + side + drop + 8)
    for k, (matrix, title) in enumerate(zip((real, synthetic), titles, strict=True)):
        x0 = left + k * (side + gap)
        chart.text(x0 + side / 2, 15, title, text_anchor="middle", font_size=11, font_weight="bold")
        values = np.nan_to_num(np.asarray(matrix, dtype=np.float64))
        for i in range(n):
            for j in range(n):
                chart.parts.append(
                    f'<rect x="{_f(x0 + j * cell)}" y="{_f(top + i * cell)}" width="{_f(cell)}" '
                    f'height="{_f(cell)}" fill="{_color(values[i, j])}">'
                    f"<title>{_e(columns[i])} × {_e(columns[j])}: {values[i, j]:.2f}</title></rect>"
                )
        for i, name in enumerate(names):
            chart.text(x0 - 4, top + (i + 0.5) * cell + 3.5, name, text_anchor="end")
            # Column labels under the matrix, rotated; their ends sit under their columns.
            x, y = x0 + i * cell + cell / 2 + 3, top + side + 6
            chart.text(x, y, name, text_anchor="end", transform=f"rotate(-60 {_f(x)} {_f(y)})")
    stops = "".join(
        f'<stop offset="{i / (len(RDBU_R) - 1):.2f}" stop-color="{c}"/>'
        for i, c in enumerate(reversed(RDBU_R))
    )
    chart.parts.append(
        f'<defs><linearGradient id="rdbu" x1="0" y1="0" x2="0" y2="1">{stops}</linearGradient>'
        f'</defs><rect x="{_f(bar_x)}" y="{_f(top)}" width="10" height="{_f(side)}" '
        'fill="url(#rdbu)" stroke="#000" stroke-width="0.5"/>'
    )
    for value in (-1.0, -0.5, 0.0, 0.5, 1.0):
        y = top + (1 - (value + 1) / 2) * side
        chart.text(bar_x + 14, y + 3.5, tick_text(value, 0.5))
    return chart.svg()
