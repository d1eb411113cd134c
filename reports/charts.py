"""Geometry for the dashboard's charts, drawn as SVG by templates (reports/_chart_*.html).

Pure functions from numbers to coordinates: no chart library, nothing from a CDN,
nothing that runs in the browser. Every coordinate is worked out here (templates only
print them, unlocalized), and colours come from classes in static/css/app.css.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least ``value`` (1 for 0)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5):
        if value <= step * power:
            return step * power
    return 10 * power


# Round steps for an axis of seconds: seconds, minutes, hours, days.
DURATION_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
                  21600, 43200, 86400, 172800, 604800)


def axis_top(largest: float, ticks: int = 4, steps: tuple[float, ...] | None = None,
             min_step: float = 0) -> float:
    """An axis end whose ``ticks`` equal steps are round numbers: 3 → 4, 130 → 200; with
    ``steps`` (DURATION_STEPS), the first of them that covers it: 420 s → 4 × 2 min.
    ``min_step=1`` keeps counts whole: 2 → 4, not 4 × 0.5."""
    if steps:
        return ticks * next((s for s in steps if ticks * s >= largest), steps[-1])
    return ticks * max(min_step, nice_ceiling(largest / ticks))


def _count(value: float) -> str:
    return f"{value:g}"


@dataclass
class Tick:
    text: str
    x: float = 0.0
    y: float = 0.0


@dataclass
class Series:
    key: str
    label: str
    values: list[float]
    points: str = ""
    markers: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass
class LineChart:
    width: int
    height: int
    left: int
    right: int
    bottom: int
    label_y: int
    series: list[Series]
    y_ticks: list[Tick]
    x_labels: list[Tick]


def line_chart(*, labels: list[str], series: list[Series], width: int = 720, height: int = 240,
               max_labels: int = 8, tick_text: Callable[[float], str] = _count) -> LineChart:
    """One polyline per series over ``labels`` (days), on a shared y axis from zero."""
    left, right, top, bottom = 44, width - 12, 12, height - 28
    plot_w, plot_h = right - left, bottom - top
    n = len(labels)
    top_value = axis_top(max((v for s in series for v in s.values), default=0), min_step=1)

    def x(i: int) -> float:
        return round(left + (plot_w / 2 if n == 1 else plot_w * i / (n - 1)), 1)

    def y(v: float) -> float:
        return round(bottom - plot_h * v / top_value, 1)

    for s in series:
        coords = [(x(i), y(v)) for i, v in enumerate(s.values)]
        s.points = " ".join(f"{cx},{cy}" for cx, cy in coords)
        # Markers only where points can still be told apart.
        if n <= 62:
            s.markers = [(cx, cy, v) for (cx, cy), v in zip(coords, s.values, strict=True)]
    y_ticks = [Tick(text=tick_text(top_value * k / 4), x=left - 6, y=y(top_value * k / 4))
               for k in range(5)]
    every = max(1, math.ceil(n / max_labels))
    x_labels = [Tick(text=labels[i], x=x(i), y=height - 8) for i in range(0, n, every)]
    return LineChart(width=width, height=height, left=left, right=right, bottom=bottom,
                     label_y=height - 8, series=series, y_ticks=y_ticks, x_labels=x_labels)


@dataclass
class Bar:
    key: str
    label: str
    value: float | None
    text: str
    y: float = 0.0
    width: float = 0.0
    text_x: float = 0.0
    text_y: float = 0.0


@dataclass
class BarRow:
    label: str
    bars: list[Bar]
    label_y: float = 0.0


@dataclass
class BarChart:
    width: int
    height: int
    left: int
    label_x: int
    bar_height: int
    bottom: float
    rows: list[BarRow]
    ticks: list[Tick]


def bar_chart(*, rows: list[BarRow], width: int = 720, left: int = 160, bar_height: int = 14,
              tick_text: Callable[[float], str] = _count,
              steps: tuple[float, ...] | None = None, min_step: float = 0) -> BarChart:
    """Horizontal bars, one group per row (attendant), on a shared x axis from zero.

    A missing value (nothing to measure) draws no bar; its text says so. ``min_step=1``
    keeps an axis of counts whole.
    """
    right, gap, top = width - 80, 12, 4
    plot_w = right - left
    top_value = axis_top(max((b.value or 0 for r in rows for b in r.bars), default=0),
                         steps=steps, min_step=min_step)
    per_row = max((len(r.bars) for r in rows), default=1) * bar_height + gap
    y = top
    for row in rows:
        row.label_y = round(y + len(row.bars) * bar_height / 2, 1)
        for k, bar in enumerate(row.bars):
            bar.y = y + k * bar_height
            bar.width = round(plot_w * (bar.value or 0) / top_value, 1)
            bar.text_x = round(left + bar.width + 4, 1)
            bar.text_y = round(bar.y + bar_height / 2, 1)
        y += per_row
    ticks = [Tick(text=tick_text(top_value * k / 4), x=round(left + plot_w * k / 4, 1),
                  y=y + 14) for k in range(5)]
    return BarChart(width=width, height=int(y + 22), left=left, label_x=left - 8,
                    bar_height=bar_height, bottom=y, rows=rows, ticks=ticks)
