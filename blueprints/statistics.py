"""The bureau's work in numbers: /statistics with its CSV and JSON twins (the JSON
twin is the /api/v1/statistics answer), all from ``domain.statistics``; charts from
``domain.charts``, each beside a table of its numbers."""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from blueprints.common import attachment, render
from domain import charts, exporting, statistics
from domain.params import choice_param

bp = Blueprint("statistics", __name__)


def _period() -> statistics.Period:
    return statistics.parse_period(request.args)


def _twins(period: statistics.Period, table: str | None = None) -> dict[str, str]:
    args = period.query_args()
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


@bp.get("/statistics")
def statistics_page():
    period = _period()
    stats = statistics.compute(period)
    trend = stats.breakdowns["year"] if period.is_all else statistics.trend(period.today)
    response = render(
        "statistics/statistics.html",
        "statistics/statistics.html",
        title="数据统计",
        stats=stats,
        period=period,
        summary=statistics.summary_sentence(stats),
        yearly=statistics.yearly_summaries(stats) if period.is_all else [],
        trend=trend,
        charts=chart_set(stats, trend),
        years=statistics.published_years(),
        labels=statistics.FIGURE_LABELS,
        breakdown_labels=statistics.BREAKDOWN_LABELS,
        twins=_twins(period),
        twins_of=lambda table: _twins(period, table),
        trend_twins=_twins(statistics.Period(None, None, period.today), "year"),
    )
    csv_link, json_link = _twins(period).values()
    response.headers["Link"] = (
        f'<{csv_link}>; rel="alternate"; type="text/csv", <{json_link}>; rel="alternate"; type="application/json"'
    )
    return response


@bp.get("/statistics.csv")
def statistics_csv():
    period = _period()
    table = choice_param(request.args, "table", "分组", statistics.BREAKDOWN_LABELS)
    stats = statistics.compute(period, breakdowns=(table,) if table else statistics.ALL_BREAKDOWNS)
    body = exporting.csv_table(statistics.CSV_HEADER, statistics.table_rows(stats, table))
    name = (
        "statistics" + "".join(f"-{value}" for value in period.query_args().values()) + (f"-{table}" if table else "")
    )
    return attachment(body, "text/csv; charset=utf-8", f"{name}.csv")


@bp.get("/statistics.json")
def statistics_json():
    response = jsonify(statistics.as_dict(statistics.compute(_period())))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
