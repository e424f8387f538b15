"""The report's charts, written as SVG without matplotlib (reports/charts.py), read back as XML
and checked against independent references on random data: numpy's histograms and the values
given (bar lengths, step heights), matplotlib's DejaVu Sans metrics (no label outside the
chart) and matplotlib's RdBu_r colour map (heat map cells)."""

from __future__ import annotations

import datetime as dt
import math
import re
import string
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from synthcap_assets.reports import charts

NS = "{http://www.w3.org/2000/svg}"
RNG_SEEDS = (0, 1, 2)


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def _size(root: ET.Element) -> tuple[float, float]:
    _, _, width, height = (float(v) for v in root.get("viewBox").split())
    return width, height


def _dejavu_width(text: str, size: float) -> float:
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    prop = FontProperties(family="DejaVu Sans")
    # Advance widths: measured between two fixed glyphs, so side bearings cancel.
    with_text = TextPath((0, 0), f"x{text}x", size=size, prop=prop).get_extents().width
    return with_text - TextPath((0, 0), "xx", size=size, prop=prop).get_extents().width


def _texts_inside(root: ET.Element) -> None:
    """Every unrotated label lies inside the chart, by the font's real widths."""
    width, height = _size(root)
    for text in root.iter(f"{NS}text"):
        if text.get("transform"):
            continue
        x, y = float(text.get("x")), float(text.get("y"))
        size = float(text.get("font-size", charts.FONT))
        real = _dejavu_width(text.text or "", size) * (
            charts.BOLD if text.get("font-weight") == "bold" else 1.0
        )
        anchor = text.get("text-anchor", "start")
        left = {"start": x, "middle": x - real / 2, "end": x - real}[anchor]
        assert left >= -0.5 and left + real <= width + 0.5, (text.text, left, real, width)
        assert size * 0.7 <= y <= height, (text.text, y)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_text_width_is_never_narrower_than_dejavu_sans(seed: int) -> None:
    rng = np.random.default_rng(seed)
    alphabet = string.ascii_letters + string.digits + string.punctuation + " …"
    for _ in range(40):
        text = "".join(rng.choice(list(alphabet), int(rng.integers(1, 25))))
        real = _dejavu_width(text, 10.0)
        assert real <= charts.text_width(text, 10.0) + 1e-6, text
        assert charts.text_width(text, 10.0) <= 1.45 * real + 4, text


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_histogram_steps_follow_numpy_counts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.lognormal(3, 1, 500)
    counts, edges = np.histogram(values, bins=int(rng.integers(5, 30)))
    root = _parse(charts.histogram('a <col> & "x"', edges.tolist(), counts.tolist()))
    title = next(t.text for t in root.iter(f"{NS}text") if t.get("font-weight") == "bold")
    assert title == 'a <col> & "x"'  # escaped in the SVG, the same text read back
    path = next(p for p in root.iter(f"{NS}path") if p.get("fill") == charts.TODAY)
    base = float(re.match(r"M[\d.]+ ([\d.]+)", path.get("d")).group(1))
    tops = [base - float(v) for v in re.findall(r"V([\d.]+)H", path.get("d"))]
    assert len(tops) == counts.size
    scale = max(tops) / counts.max()
    np.testing.assert_allclose(np.array(tops), counts * scale, atol=0.11)
    xs = [float(v) for v in re.findall(r"H([\d.]+)", path.get("d"))]
    widths = np.diff([float(re.match(r"M([\d.]+)", path.get("d")).group(1)), *xs])
    np.testing.assert_allclose(widths, np.diff(edges) * widths.sum() / np.ptp(edges), atol=0.11)
    _texts_inside(root)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_bars_are_as_long_as_their_values_first_on_top(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    values = rng.uniform(0, 100, n)
    labels = ["".join(rng.choice(list(string.ascii_lowercase + "_WM"), 16)) for _ in range(n)]
    root = _parse(charts.bars("scores", labels, values.tolist(), xlabel="score", limit=100))
    rects = [r for r in root.iter(f"{NS}rect") if r.get("fill") == charts.TODAY]
    assert len(rects) == n
    widths = np.array([float(r.get("width")) for r in rects])
    ys = [float(r.get("y")) for r in rects]
    assert ys == sorted(ys)  # first value on top
    plot = widths.max() / values.max()  # px per unit, the same for every bar
    np.testing.assert_allclose(widths, values * plot, atol=0.06)
    _texts_inside(root)


def test_grouped_shares_draw_both_groups_and_a_legend() -> None:
    rng = np.random.default_rng(7)
    first, second = rng.dirichlet(np.ones(6)), rng.dirichlet(np.ones(6))
    labels = [f"category {i}" for i in range(6)]
    svg = charts.grouped_shares("t", labels, first.tolist(), second.tolist(), ("real", "synth"))
    root = _parse(svg)
    for color, shares in ((charts.TODAY, first), (charts.YESTERDAY, second)):
        widths = [float(r.get("width")) for r in root.iter(f"{NS}rect") if r.get("fill") == color]
        bars = np.array(widths[:-1]) if len(widths) == 7 else np.array(widths)  # legend swatch
        assert bars.size == 6
        np.testing.assert_allclose(bars / bars.max(), shares / shares.max(), atol=0.01)
    assert {"real", "synth"} <= {t.text for t in root.iter(f"{NS}text")}
    _texts_inside(root)


@pytest.mark.parametrize("dates", [False, True])
def test_overlaid_and_real_vs_synthetic_stay_inside(dates: bool) -> None:
    rng = np.random.default_rng(3)
    start = (dt.date(2026, 1, 1) - dt.date(1970, 1, 1)).days if dates else 0.0
    a, b = rng.normal(start + 50, 20, 300), rng.normal(start + 60, 25, 300)
    first, second = np.histogram(a, 12), np.histogram(b, 15)
    svg = charts.overlaid_histograms(
        "x: today vs yesterday",
        (first[1].tolist(), first[0].tolist()),
        (second[1].tolist(), second[0].tolist()),
        dates=dates,
    )
    _texts_inside(_parse(svg))
    _texts_inside(_parse(charts.real_vs_synthetic("x: real vs synthetic", a, b)))


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (dt.date(2026, 11, 1), dt.date(2026, 11, 20)),
        (dt.date(2025, 3, 5), dt.date(2026, 2, 1)),
        (dt.date(1959, 1, 1), dt.date(2009, 7, 1)),
    ],
)
def test_date_ticks_are_dates_of_the_span_in_order(first: dt.date, last: dt.date) -> None:
    epoch = dt.date(1970, 1, 1)
    low, high = float((first - epoch).days), float((last - epoch).days)
    values, labels, years = charts._date_ticks(low, high)
    assert 2 <= len(values) <= charts.TICKS + 1
    assert values == sorted(values) and all(low <= v <= high for v in values)
    for value, label in zip(values, labels, strict=True):
        day = epoch + dt.timedelta(days=int(value))
        assert label in (f"{day:%b %d}", f"{day:%b}", f"{day:%Y}"), label
    assert str(first.year) in years or years == ""


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_nice_ticks_are_round_evenly_spaced_and_inside(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(50):
        low = float(rng.normal(0, 10.0 ** rng.integers(-3, 7)))
        high = low + float(10 ** rng.uniform(-4, 7))
        ticks = charts.nice_ticks(low, high)
        slack = (high - low) * 1e-8  # a tick a rounding error outside the span is on its edge
        assert 2 <= len(ticks) <= 2 * charts.TICKS
        assert all(low - slack <= t <= high + slack for t in ticks)
        steps = np.diff(ticks)
        scale = max(abs(ticks[0]), abs(ticks[-1]))  # float spacing at the ticks' magnitude
        np.testing.assert_allclose(steps, steps[0], rtol=1e-6, atol=1e-13 * scale)
        step = (ticks[-1] - ticks[0]) / (len(ticks) - 1)
        mantissa = step / 10 ** math.floor(math.log10(step))
        tolerance = 1e-9 + 1e-13 * scale / step
        assert min(abs(mantissa - m) for m in (1, 2, 2.5, 5, 10)) < tolerance
        labels = [charts.tick_text(t, step) for t in ticks]
        assert len(set(labels)) == len(ticks), labels  # every tick told apart
        for tick, label in zip(ticks, labels, strict=True):
            assert abs(float(label) - tick) <= step * 0.01 + 1e-13 * scale, (tick, label)


@pytest.mark.parametrize("n", [2, 5, 12])
def test_heatmap_cells_take_matplotlibs_rdbu_r_colours(n: int) -> None:
    from matplotlib import colormaps

    rng = np.random.default_rng(11)
    columns = [f"column_{i}" for i in range(n)]
    real = np.corrcoef(rng.normal(size=(n, 40)))
    synthetic = np.corrcoef(rng.normal(size=(n, 40)))
    root = _parse(charts.correlation_heatmaps(columns, real, synthetic))
    cells = [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert len(cells) == 2 * n * n
    titles = [t for t in root.iter(f"{NS}text") if t.get("font-weight") == "bold"]
    ends = [
        (float(t.get("x")) - w / 2, float(t.get("x")) + w / 2)
        for t in titles
        for w in [charts.BOLD * _dejavu_width(t.text, 11.0)]
    ]
    assert ends[0][1] < ends[1][0]  # the two titles do not meet
    bar = next(r for r in root.iter(f"{NS}rect") if r.get("fill") == "url(#rdbu)")
    assert float(bar.get("x")) > max(float(c.get("x")) + float(c.get("width")) for c in cells)
    cmap = colormaps["RdBu_r"]
    for cell, value in zip(cells, [*real.ravel(), *synthetic.ravel()], strict=True):
        got = np.array([int(cell.get("fill")[k : k + 2], 16) for k in (1, 3, 5)])
        expected = np.array(cmap((value + 1) / 2)[:3]) * 255
        assert np.abs(got - expected).max() <= 3, (value, got, expected)
    _texts_inside(root)
