"""The 劳动保障守法诚信等级评价 for the public: counts per grade and district and, as
``GONGSHI_PUBLISH_GRADES`` allows, the A-list or every grade, with CSV/JSON twins
from the same data (``domain.gradings``)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from domain import exporting, gradings
from domain.exporting import stream
from web.common import named_attachment, paginate, render, url_with
from web.report_data import grading_grade_arg, published_grading_or_404

bp = Blueprint("gradings", __name__)


@bp.get("/gradings")
def index():
    run = published_grading_or_404()
    config = current_app.config
    allowed = gradings.visible_grades(config)
    grade = grading_grade_arg(allowed or gradings.GRADES)
    csv_url = url_with("gradings.index_csv", page=None, per_page=None)
    json_url = url_with("gradings.index_json", page=None, per_page=None)
    response = render(
        "gradings/index.html",
        "gradings/_results.html" if allowed else "gradings/index.html",
        title=f"{run.year}年度劳动保障守法诚信等级评价",
        run=run,
        years=gradings.published_years(),
        counts=gradings.counts(run),
        districts=gradings.district_counts(run, config["DISTRICTS"]),
        allowed=allowed,
        grade=grade,
        results=paginate(gradings.results_statement(run, allowed, grade)) if allowed else None,
        setting=gradings.setting(config),
        setting_label=gradings.SETTING_LABELS[gradings.setting(config)],
        grade_labels=gradings.GRADE_LABELS,
        csv_url=csv_url,
        json_url=json_url,
    )
    response.headers["Link"] = (
        f'<{csv_url}>; rel="alternate"; type="text/csv", <{json_url}>; rel="alternate"; type="application/json"'
    )
    return response


@bp.get("/gradings.json")
def index_json():
    """The API's answer with every result the setting allows (not one page)."""
    run = published_grading_or_404()
    config = current_app.config
    allowed = gradings.visible_grades(config)
    grade = grading_grade_arg(allowed or gradings.GRADES)
    results = [gradings.result_dict(r) for r in stream(gradings.results_statement(run, allowed, grade))]
    head = {**gradings.year_dict(run, config["DISTRICTS"], config), "years": gradings.published_years()}
    return jsonify({**head, "total": len(results), "results": results})


CSV_HEADER = ("年度", "单位名称", "统一社会信用代码", "等级", "等级含义", "区县", "评定日期")


@bp.get("/gradings.csv")
def index_csv():
    """The named results the setting allows; under ``counts`` the counts per district."""
    run = published_grading_or_404()
    config = current_app.config
    allowed = gradings.visible_grades(config)
    if allowed:
        grade = grading_grade_arg(allowed)
        header: tuple[str, ...] = CSV_HEADER
        rows = (
            [
                run.year,
                result.enterprise_name,
                result.credit_code,
                result.grade,
                result.grade_label,
                result.district or gradings.NO_DISTRICT,
                result.graded_on.isoformat(),
            ]
            for result in stream(gradings.results_statement(run, allowed, grade))
        )
    else:
        header = ("年度", "区县", "A级", "B级", "C级", "合计")
        rows = (
            [run.year, row.district, row.A, row.B, row.C, row.total]
            for row in gradings.district_counts(run, config["DISTRICTS"])
        )
    # through the one safe writer, streamed
    data = exporting.table_csv_chunks(list(header), rows)
    parts = [f"{run.year}年", *([f"{grade}级"] if allowed and grade else [])]
    return named_attachment(
        data, "text/csv; charset=utf-8", kind="等级评价", kind_ascii="gradings", parts=parts, extension="csv"
    )
