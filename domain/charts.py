"""Bar and line charts drawn on the server as inline SVG: they need no JavaScript,
print, and scale to a phone's width. The drawing carries no ``style`` attribute
and no script (the Content-Security-Policy allows neither): colours and fonts come
from classes in ``static/css/site.css``. Each chart is an image with a title and
a description for screen readers (``role="img"``, ``aria-labelledby``); the page
shows the same numbers in a table beside it.

The library charts we looked at write inline ``<style>`` and ``<script>`` into
their SVG (pygal) or ``style`` attributes (leather), so the few shapes needed
are drawn here."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

Number = int | float | Decimal

_ids = itertools.count(1)

WIDTH = 360  # the drawing's own units; about one CSS pixel on a phone


def _fmt(value: Number) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{Decimal(str(value)):,.2f}"


def _attrs(**attributes: object) -> str:
    return "".join(f' {name.rstrip("_").replace("_", "-")}="{escape(value)}"' for name, value in attributes.items())


def _nice_ceiling(value: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at least ``value`` (an axis maximum)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _open(kind: str, height: float, title: str, description: str) -> tuple[str, list[str]]:
    chart_id = f"chart-{next(_ids)}"
    parts = [
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {height:g}"'
        f' role="img" aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(description)}</desc>',
    ]
    return chart_id, parts


@dataclass(frozen=True)
class Bar:
    label: str
    value: Number


def bar_chart(
    title: str, bars: Sequence[Bar], unit: str = "", value_text: Callable[[Number], str] | None = None
) -> Markup:
    """Horizontal bars, one per row, its label above it (long Chinese labels such as
    违反女职工和未成年工特殊劳动保护规定 fit on a phone) and its value after it."""
    value_text = value_text or (lambda value: _fmt(value) + unit)
    row_height = 38
    height = max(1, len(bars)) * row_height + 4
    description = "；".join(f"{bar.label}：{value_text(bar.value)}" for bar in bars) or "没有数据"
    _, parts = _open("bar", height, title, description)
    if not bars:
        parts.append(
            f'<text class="chart-empty"{_attrs(x=WIDTH / 2, y=height / 2 + 5, text_anchor="middle")}>没有数据</text>'
        )
    top = max((float(bar.value) for bar in bars), default=0) or 1
    value_room = 96  # room after the longest bar for its value
    for index, bar in enumerate(bars):
        y = index * row_height
        length = (WIDTH - value_room) * float(bar.value) / top
        parts.append(f'<text class="chart-label"{_attrs(x=0, y=y + 14)}>{escape(bar.label)}</text>')
        parts.append(
            f'<rect class="chart-bar"{_attrs(x=0, y=y + 19, width=f"{max(length, 1):.1f}", height=14, rx=2)}></rect>'
        )
        parts.append(
            f'<text class="chart-value"{_attrs(x=f"{max(length, 1) + 5:.1f}", y=y + 31)}>{escape(value_text(bar.value))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number]


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> Markup:
    """Lines over a category axis (years), each point marked and labelled with
    its value; a legend names the series."""
    height = 230
    left, right, top, bottom = 34, 12, 30, 26
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    peak = max((float(v) for s in series for v in s.values), default=0)
    ceiling = _nice_ceiling(peak)
    description = "；".join(
        f"{s.name}：" + "，".join(f"{label} {_fmt(value)}{unit}" for label, value in zip(labels, s.values, strict=True))
        for s in series
    )
    _, parts = _open("line", height, title, description or "没有数据")
    # legend
    x = left
    for index, s in enumerate(series):
        parts.append(f'<rect class="chart-key series-{index}"{_attrs(x=x, y=6, width=12, height=12, rx=2)}></rect>')
        parts.append(f'<text class="chart-label"{_attrs(x=x + 16, y=16)}>{escape(s.name)}</text>')
        x += 28 + 13 * len(s.name)
    # grid and y axis: 4 or 5 divisions, whichever gives whole steps
    divisions = 4 if ceiling % 4 == 0 else 5
    for step in range(divisions + 1):
        value = ceiling * step / divisions
        y = top + plot_h - plot_h * step / divisions
        parts.append(
            f'<line class="chart-grid"{_attrs(x1=left, x2=WIDTH - right, y1=f"{y:.1f}", y2=f"{y:.1f}")}></line>'
        )
        parts.append(
            f'<text class="chart-axis"{_attrs(x=left - 4, y=f"{y + 4:.1f}", text_anchor="end")}>{_axis_number(value)}</text>'
        )
    if not labels:
        parts.append(
            f'<text class="chart-empty"{_attrs(x=WIDTH / 2, y=height / 2, text_anchor="middle")}>没有数据</text>'
        )
        parts.append("</svg>")
        return Markup("".join(parts))
    span = plot_w / len(labels)

    def x_of(i: int) -> float:
        return left + span * (i + 0.5)

    def y_of(value: Number) -> float:
        return top + plot_h - plot_h * float(value) / ceiling

    for i, label in enumerate(labels):
        parts.append(
            f'<text class="chart-axis"{_attrs(x=f"{x_of(i):.1f}", y=height - 8, text_anchor="middle")}>{escape(label)}</text>'
        )
    for index, s in enumerate(series):
        points = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in enumerate(s.values))
        parts.append(f'<polyline class="chart-line series-{index}"{_attrs(points=points)}></polyline>')
        for i, v in enumerate(s.values):
            parts.append(
                f'<circle class="chart-point series-{index}"{_attrs(cx=f"{x_of(i):.1f}", cy=f"{y_of(v):.1f}", r=3)}></circle>'
            )
            # values of the first series above their points, of the second below
            dy = -7 if index % 2 == 0 else 15
            parts.append(
                f'<text class="chart-point-value series-{index}"'
                f"{_attrs(x=f'{x_of(i):.1f}', y=f'{y_of(v) + dy:.1f}', text_anchor='middle')}>{_fmt(v)}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def _axis_number(value: float) -> str:
    if value >= 10_000:
        return f"{value / 10_000:g}万"
    return f"{value:g}"
