"""What every template may use, registered app-wide: how amounts, dates and counts
are written, and ``url_with`` for links that change the query string."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Flask
from markupsafe import Markup

from web.common import is_htmx, url_with


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


def init_app(app: Flask) -> None:
    app.add_template_filter(yuan, "yuan")
    app.add_template_filter(cn_date, "cn_date")
    app.add_template_filter(cn_time, "cn_time")
    app.add_template_filter(count, "count")
    app.add_template_global(url_with, "url_with")
    app.add_template_global(is_htmx, "is_htmx")
