"""The bureau's work in numbers: /statistics and each special campaign's page
/campaigns/<id>, with their CSV and JSON twins (the JSON twin is the
/api/v1/statistics answer), all from ``domain.statistics``; charts from
``domain.charts``, each beside a table of its numbers."""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request, url_for

from domain import campaigns, charts, exporting, statistics
from domain.params import choice_param
from models import Campaign
from web.common import named_attachment, render
from web.public_data import campaign_arg, statistics_answer

bp = Blueprint("statistics", __name__)


def _twins(period: statistics.Period, table: str | None = None, campaign: Campaign | None = None) -> dict[str, str]:
    args: dict[str, object] = dict(period.query_args())
    if campaign is not None:
        args["campaign"] = campaign.id
    return {
        "csv": url_for("statistics.statistics_csv", **args, **({"table": table} if table else {})),
        "json": url_for("statistics.statistics_json", **args),
    }


def chart_set(stats: statistics.Statistics, trend: list[dict]) -> dict[str, object]:
    """The charts of a statistics page, by breakdown name."""
    label = stats.period.label
    years = [str(row["name"]) for row in trend]
    drawn: dict[str, object] = {
        "year": charts.line_chart(
            "历年公布情况",
            years,
            [
                charts.Series("重大违法案件（起）", [row["cases"] for row in trend]),
                charts.Series("失信名单（条）", [row["listings"] for row in trend]),
            ],
        )
    }
    for name in ("district", "violation_type", "industry", "campaign"):
        rows = stats.breakdowns.get(name)
        if rows is None:
            continue
        drawn[name] = charts.bar_chart(
            f"{label}重大违法案件：按{statistics.BREAKDOWN_LABELS[name]}",
            [charts.Bar(str(row["name"]), row["cases"]) for row in rows if row["cases"]],
            unit="起",
        )
    return drawn


def _page(campaign: Campaign | None):
    period = statistics.parse_period(request.args)
    campaign_id = campaign.id if campaign else None
    names = (
        statistics.ALL_BREAKDOWNS
        if campaign is None
        else tuple(n for n in statistics.ALL_BREAKDOWNS if n != "campaign")
    )
    stats = statistics.compute(period, names, campaign_id)
    if period.is_all:
        trend = stats.breakdowns["year"]
    else:
        trend = statistics.compute(statistics.Period(None, None, period.today), ("year",), campaign_id).breakdowns[
            "year"
        ]
    endpoint = "statistics.campaign" if campaign else "statistics.statistics_page"
    fixed = {"id": campaign.id} if campaign else {}
    twins = _twins(period, campaign=campaign)
    response = render(
        "statistics/statistics.html",
        "statistics/statistics.html",
        title=campaign.name if campaign else "数据统计",
        campaign=campaign,
        stats=stats,
        period=period,
        summary=statistics.summary_sentence(stats),
        yearly=statistics.yearly_summaries(stats) if period.is_all else [],
        trend=trend,
        charts=chart_set(stats, trend),
        years=statistics.published_years(),
        labels=statistics.FIGURE_LABELS,
        breakdown_labels=statistics.BREAKDOWN_LABELS,
        twins=twins,
        twins_of=lambda table: _twins(period, table, campaign),
        trend_twins=_twins(statistics.Period(None, None, period.today), "year", campaign),
        page_url=lambda **args: url_for(endpoint, **fixed, **args),
        list_args={"campaign": campaign.id} if campaign else {},
        all_campaigns=campaigns.all_campaigns() if campaign is None else [],
    )
    response.headers["Link"] = (
        f'<{twins["csv"]}>; rel="alternate"; type="text/csv", <{twins["json"]}>; rel="alternate"; type="application/json"'
    )
    return response


@bp.get("/statistics")
def statistics_page():
    campaign = campaign_arg(request.args)
    return _page(campaign)


@bp.get("/campaigns/<int:id>")
def campaign(id: int):
    found = campaigns.get(id)
    if found is None:
        abort(404)
    return _page(found)


@bp.get("/statistics.csv")
def statistics_csv():
    period = statistics.parse_period(request.args)
    found = campaign_arg(request.args)
    table = choice_param(request.args, "table", "分组", statistics.BREAKDOWN_LABELS)
    stats = statistics.compute(period, (table,) if table else statistics.ALL_BREAKDOWNS, found.id if found else None)
    body = exporting.csv_table(statistics.CSV_HEADER, statistics.table_rows(stats, table))
    parts = [
        *([found.name] if found is not None else []),
        period.label,
        *([statistics.BREAKDOWN_LABELS[table]] if table else []),
    ]
    return named_attachment(
        body, "text/csv; charset=utf-8", kind="数据统计", kind_ascii="statistics", parts=parts, extension="csv"
    )


@bp.get("/statistics.json")
def statistics_json():
    response = jsonify(statistics_answer(request.args))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
