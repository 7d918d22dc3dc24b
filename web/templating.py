"""What every template may use, registered app-wide: how amounts, dates and counts
are written, ``url_with`` for links that change the query string, and
``url_for`` answered from ``path_for``'s remembered paths."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Flask
from markupsafe import Markup, escape

from web.common import is_htmx, path_for, url_with


def yuan(value: Decimal | float | int | None) -> str:
    """An amount as the bureau writes it: 41.6万元 from 10,000 up, 1.2亿元 from 10^8."""
    if value is None:
        return "—"
    amount = Decimal(str(value))
    for unit, size in (("亿元", 100_000_000), ("万元", 10_000)):
        if amount >= size:
            scaled = (amount / size).quantize(Decimal("0.01")).normalize()
            return f"{scaled:,f}{unit}"
    return f"{amount.quantize(Decimal('0.01')).normalize():,f}元"


def cn_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月{value.day}日"


def cn_time(value: dt.date | dt.datetime | None) -> Markup | str:
    """A date written as ``cn_date`` inside ``<time datetime>``, which the stylesheet
    never breaks across lines (no "2026年8月9 / 日" on a phone)."""
    if value is None:
        return "—"
    return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), cn_date(value))


def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def hx_link(
    href: str,
    label: str,
    target: str = "#results",
    rel: str | None = None,
    current: bool = False,
    cls: str | None = None,
    title: str | None = None,
    indicator: str | None = None,
) -> Markup:
    """A real link that htmx follows, swapping ``target`` and pushing the URL:
    the filter, sort, tab and facet links of the lists and the search page.
    Python rather than a macro: a search page has some fifty, and calling a
    macro cost more than building the link."""
    html = f'<a href="{escape(href)}" hx-get="{escape(href)}" hx-target="{escape(target)}" hx-swap="outerHTML" hx-push-url="true"'
    if indicator:
        html += f' hx-indicator="{escape(indicator)}"'
    if rel:
        html += f' rel="{escape(rel)}"'
    if current:
        html += ' aria-current="true"'
    if cls:
        html += f' class="{escape(cls)}"'
    if title:
        html += f' title="{escape(title)}"'
    return Markup(f"{html}>{escape(label)}</a>")


def search_link(href: str, label: str, **options: Any) -> Markup:
    """``hx_link`` into the search page's results, which show the request is on its way."""
    return hx_link(href, label, target="#search-results", indicator="#search-results", **options)


def init_app(app: Flask) -> None:
    app.add_template_filter(yuan, "yuan")
    app.add_template_filter(cn_date, "cn_date")
    app.add_template_filter(cn_time, "cn_time")
    app.add_template_filter(count, "count")
    app.add_template_global(url_with, "url_with")
    app.add_template_global(path_for, "url_for")
    app.add_template_global(hx_link, "hx_link")
    app.add_template_global(search_link, "search_link")
    app.add_template_global(is_htmx, "is_htmx")
