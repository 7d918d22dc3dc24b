"""Work bulletins (工作通报) for the public: the list of published bulletins and
each bulletin beside the same months of the previous year, with CSV/JSON twins
from the same data (``domain.bulletins``)."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, jsonify, url_for

from domain import bulletins, charts, exporting
from domain.exporting import stream
from web.common import named_attachment, render, url_with
from web.report_data import (
    bulletin_page,
    bulletin_payload,
    bulletin_url,
    bulletin_year_arg,
    published_bulletin_or_404,
)

bp = Blueprint("bulletins", __name__)


def _alternates(response, csv_link: str, json_link: str):
    response.headers["Link"] = (
        f'<{csv_link}>; rel="alternate"; type="text/csv", <{json_link}>; rel="alternate"; type="application/json"'
    )
    return response


def _csv(header, rows, parts: list[str]):
    """A small CSV for Excel through the one safe writer: text kept from running
    as a formula, numbers (−18.78) as they are."""
    return named_attachment(
        exporting.csv_table(list(header), rows),
        "text/csv; charset=utf-8",
        kind="工作通报",
        kind_ascii="bulletins",
        parts=parts,
        extension="csv",
    )


@bp.get("/bulletins")
def index():
    year = bulletin_year_arg()
    csv_url = url_with("bulletins.index_csv", page=None, per_page=None)
    json_url = url_with("bulletins.index_json", page=None, per_page=None)
    response = render(
        "bulletins/index.html",
        "bulletins/_results.html",
        title="工作通报",
        year=year,
        results=bulletin_page(),
        years=bulletins.published_years(),
        csv_url=csv_url,
        json_url=json_url,
        period_label=bulletins.period_label,
    )
    return _alternates(response, csv_url, json_url)


@bp.get("/bulletins.json")
def index_json():
    """Every published bulletin matching the filter, as the downloads give every
    matching record (the API pages; this does not)."""
    items = list(stream(bulletins.published_statement(bulletin_year_arg())))
    counts = bulletins.indicator_counts(items)
    return jsonify(
        {
            "total": len(items),
            "results": [
                bulletins.bulletin_summary_dict(item, bulletin_url(item), counts.get(item.id, 0)) for item in items
            ],
        }
    )


LIST_HEADER = ("编号", "标题", "年份", "起始月", "截止月", "期间", "发布日期", "网址")


@bp.get("/bulletins.csv")
def index_csv():
    year = bulletin_year_arg()
    rows = (
        (
            item.id,
            item.title,
            item.year,
            item.month_from,
            item.month_to,
            bulletins.period_label(item.year, item.month_from, item.month_to),
            item.published_on.isoformat() if item.published_on else "",
            bulletin_url(item),
        )
        for item in stream(bulletins.published_statement(year))
    )
    return _csv(LIST_HEADER, rows, [f"{year}年"] if year else [])


@bp.get("/bulletins/<int:id>")
def detail(id: int):
    found = published_bulletin_or_404(id)
    comparison = bulletins.compare(found)
    csv_url = url_for("bulletins.detail_csv", id=found.id)
    json_url = url_for("bulletins.detail_json", id=found.id)
    declined = [row for row in comparison.rows if row.lower_is_better and row.declined]
    chart = (
        charts.bar_chart(
            f"与{comparison.previous_label}相比下降的指标（降幅）",
            [charts.Bar(row.name, -row.change_pct) for row in declined],
            value_text=lambda value: f"下降{Decimal(str(value)):.2f}%",
        )
        if declined
        else None
    )
    response = render(
        "bulletins/detail.html",
        "bulletins/detail.html",
        title=found.title,
        bulletin=found,
        comparison=comparison,
        period=bulletins.period_label(found.year, found.month_from, found.month_to),
        summary=bulletins.summary_sentence(comparison),
        chart=chart,
        fmt=bulletins.format_value,
        revisions=bulletins.revisions(found),
        csv_url=csv_url,
        json_url=json_url,
    )
    return _alternates(response, csv_url, json_url)


@bp.get("/bulletins/<int:id>.json")
def detail_json(id: int):
    return jsonify(bulletin_payload(id))


@bp.get("/bulletins/<int:id>.csv")
def detail_csv(id: int):
    found = published_bulletin_or_404(id)
    rows = bulletins.csv_rows(bulletins.compare(found))
    period = bulletins.period_label(found.year, found.month_from, found.month_to)
    return _csv(bulletins.CSV_HEADER, rows, [period, f"{found.id}"])
