"""Server-rendered SVG charts: readable without JavaScript, with axes, labels and a legend.

Pure functions: plain numbers in, an SVG string out (every text goes through escape()).
"""

import math
from dataclasses import dataclass, field
from datetime import date
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f")
WIDTH, HEIGHT = 720, 300
MARGIN = {"left": 60, "right": 20, "top": 20, "bottom": 60}


@dataclass
class Series:
    name: str
    points: list[tuple[date, float]]
    band: list[tuple[float, float]] = field(default_factory=list)  # (low, high) per point, optional


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above value: round axis ticks."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude * (1 + 1e-12):
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float, percent: bool) -> str:
    return f"{value * 100:.1f}%" if percent else (f"{value:,.0f}" if value >= 10 else f"{value:.2g}")


def line_chart(*, title: str, series: list[Series], percent: bool = True) -> str:
    """Lines over days, with optional interval bands, y from 0."""
    days = sorted({day for s in series for day, _ in s.points})
    if not days:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="40" role="img">'
            f'<title>{escape(title)}</title><text x="10" y="25">No data yet</text></svg>'
        )
    top = max([v for s in series for _, v in s.points] + [hi for s in series for _, hi in s.band] + [0])
    y_max = _nice_max(top)
    plot_w = WIDTH - MARGIN["left"] - MARGIN["right"]
    plot_h = HEIGHT - MARGIN["top"] - MARGIN["bottom"]
    index = {day: i for i, day in enumerate(days)}

    def x(day: date) -> float:
        return MARGIN["left"] + (plot_w * index[day] / max(1, len(days) - 1))

    def y(value: float) -> float:
        return MARGIN["top"] + plot_h * (1 - min(value, y_max) / y_max)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(5):
        value = y_max * tick / 4
        parts.append(
            f'<line x1="{MARGIN["left"]}" x2="{WIDTH - MARGIN["right"]}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{MARGIN["left"] - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
            f"{escape(_fmt(value, percent))}</text>"
        )
    label_every = max(1, len(days) // 8)
    for i, day in enumerate(days):
        if i % label_every == 0 or i == len(days) - 1:
            parts.append(
                f'<text x="{x(day):.1f}" y="{HEIGHT - MARGIN["bottom"] + 16}" text-anchor="middle">'
                f"{day.strftime('%d %b')}</text>"
            )
    parts.append(
        f'<line x1="{MARGIN["left"]}" x2="{WIDTH - MARGIN["right"]}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#333"/>'
    )
    for number, s in enumerate(series):
        color = PALETTE[number % len(PALETTE)]
        if s.band and len(s.band) == len(s.points) and len(s.points) > 1:
            upper = " ".join(f"{x(d):.1f},{y(hi):.1f}" for (d, _), (_, hi) in zip(s.points, s.band, strict=True))
            lower = " ".join(
                f"{x(d):.1f},{y(lo):.1f}" for (d, _), (lo, _) in reversed(list(zip(s.points, s.band, strict=True)))
            )
            parts.append(f'<polygon points="{upper} {lower}" fill="{color}" fill-opacity="0.15" stroke="none"/>')
        path = " ".join(f"{x(d):.1f},{y(v):.1f}" for d, v in s.points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for d, v in s.points:
            parts.append(
                f'<circle cx="{x(d):.1f}" cy="{y(v):.1f}" r="2.5" fill="{color}">'
                f"<title>{escape(s.name)} {d.isoformat()}: {escape(_fmt(v, percent))}</title></circle>"
            )
        legend_x = MARGIN["left"] + 150 * number
        parts.append(f'<rect x="{legend_x}" y="{HEIGHT - 22}" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{legend_x + 16}" y="{HEIGHT - 12}">{escape(s.name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(*, title: str, groups: list[str], series: list[tuple[str, list[float]]], percent: bool = False) -> str:
    """Grouped horizontal bars: one group per funnel step (or answer), one bar per series (variant)."""
    bar_h, gap = 14, 10
    label_w = 170
    height = MARGIN["top"] + len(groups) * (len(series) * bar_h + gap) + 40
    top = max([v for _, values in series for v in values] + [0])
    x_max = _nice_max(top)
    plot_w = WIDTH - label_w - MARGIN["right"] - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
    ]
    y = MARGIN["top"]
    for g, group in enumerate(groups):
        parts.append(
            f'<text x="{label_w - 8}" y="{y + bar_h * len(series) / 2 + 4:.1f}" text-anchor="end">'
            f"{escape(group)}</text>"
        )
        for number, (name, values) in enumerate(series):
            value = values[g] if g < len(values) else 0
            width = plot_w * (value / x_max)
            color = PALETTE[number % len(PALETTE)]
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{bar_h - 2}" fill="{color}">'
                f"<title>{escape(name)}: {escape(_fmt(value, percent))}</title></rect>"
            )
            parts.append(
                f'<text x="{label_w + width + 4:.1f}" y="{y + bar_h - 4}">{escape(_fmt(value, percent))}</text>'
            )
            y += bar_h
        y += gap
    for number, (name, _values) in enumerate(series):
        legend_x = label_w + 150 * number
        color = PALETTE[number % len(PALETTE)]
        parts.append(f'<rect x="{legend_x}" y="{height - 22}" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{legend_x + 16}" y="{height - 12}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


SPARK_WIDTH, SPARK_HEIGHT = 150, 32


def sparkline(*, title: str, points: list[tuple[date, float]], percent: bool = False) -> str:
    """Small daily bars beside a table's figures, from 0 to the busiest day; each bar's <title> gives its day and
    value, so a pointer or a screen reader can read them. Days without data are given as zeros by the caller."""
    if not points:
        return ""
    top = max(max(value for _, value in points), 0)
    step = SPARK_WIDTH / len(points)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="rt-sparkline" viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}" '
        f'width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="0" x2="{SPARK_WIDTH}" y1="{SPARK_HEIGHT - 0.5}" y2="{SPARK_HEIGHT - 0.5}" stroke="#ccc"/>',
    ]
    for number, (day, value) in enumerate(points):
        height = (SPARK_HEIGHT - 2) * value / top if top > 0 else 0
        parts.append(
            f'<rect x="{number * step:.1f}" y="{SPARK_HEIGHT - height:.1f}" width="{max(step - 1, 1):.1f}" '
            f'height="{height:.1f}" fill="{PALETTE[0]}">'
            f"<title>{day.isoformat()}: {escape(_fmt(value, percent))}</title></rect>"
        )
    parts.append("</svg>")
    return "".join(parts)
