"""The public read-only JSON API (/api/v1). Lists share their queries and filters
with the HTML pages (``domain.queries``, ``web.public_data``) and their
serializers with the .json twins (``domain.serializers``); search lives in
``blueprints.search``."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request, url_for

from domain import gradings, queries, serializers, verdict
from domain.visibility import GONE_LABELS, gone_reason, is_record_public
from models import Case, Listing
from search_index import SORTS
from web.common import paginate
from web.public_data import (
    batch_filters,
    case_filters,
    listing_filters,
    public_batch_or_abort,
    public_urls,
    statistics_answer,
)
from web.report_data import bulletin_list_payload, bulletin_payload, grading_payload, published_grading_or_404

bp = Blueprint("api", __name__)


@bp.record_once
def readable_chinese(state) -> None:
    # JSON answers carry Chinese as UTF-8 rather than \uXXXX escapes, and keys in
    # the order of the data dictionary (id, url, name first), so the raw output of
    # the API and the .json downloads is readable.
    state.app.json.ensure_ascii = False
    state.app.json.sort_keys = False


@bp.after_request
def open_to_all(response):
    # Public data, no key, no cookies: any site may read it.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _gone(reason: str):
    return jsonify({"error": {"status": 410, "reason": reason, "message": GONE_LABELS[reason]}}), 410


def _record(model, record_id: int):
    record = queries.find(model, record_id)
    if record is None:
        abort(404)
    if is_record_public(record):
        return jsonify(serializers.record_dict(record, public_urls()))
    reason = gone_reason(record)
    if reason is None:
        abort(404)
    return _gone(reason)


@bp.get("/")
def index():
    def link(endpoint: str, **values) -> str:
        return url_for(endpoint, _external=True, **values)

    paging = {"page": "页码，从1开始", "per_page": "每页条数（最多100）"}
    return jsonify(
        {
            "name": "劳动保障监察信息公示 开放数据接口",
            "version": "v1",
            "description": "只读、公开、无需密钥。列表接口返回 {total, page, per_page, results}；每条记录含 id 和 url（公开网页地址）。仅包含当前依法公开的记录。",
            "endpoints": [
                {
                    "path": "/api/v1/cases",
                    "url": link("api.cases"),
                    "params": {
                        **paging,
                        "year": "决定年份",
                        "district": "区县",
                        "type": "违法类型",
                        "batch": "批次编号",
                        "campaign": "专项行动编号",
                        "police": "是否移送公安机关：1或0",
                        "sort": "|".join(queries.CASE_SORTS),
                    },
                },
                {"path": "/api/v1/cases/<id>", "description": "一个案件；已撤回的返回410"},
                {
                    "path": "/api/v1/listings",
                    "url": link("api.listings"),
                    "params": {
                        **paging,
                        "year": "列入年份",
                        "district": "区县",
                        "batch": "批次编号",
                        "campaign": "专项行动编号",
                        "sort": "|".join(queries.LISTING_SORTS),
                    },
                },
                {"path": "/api/v1/listings/<id>", "description": "一条失信名单；期满、移出、撤销或撤回的返回410"},
                {
                    "path": "/api/v1/enterprises/<credit_code>",
                    "description": "一个单位及其全部公开记录；listed_now：截至 as_of（当天）是否在失信联合惩戒对象名单中；"
                    "grading：最近一个年度的守法诚信等级（按本市公开范围，不公开时为 null）；"
                    "没有公开记录的返回404（listed_now 为 false），代码有误的返回400并指出哪一位有误",
                },
                {
                    "path": "/api/v1/batches",
                    "url": link("api.batches"),
                    "params": {**paging, "kind": "cases|listings", "year": "年度"},
                },
                {"path": "/api/v1/batches/<id>", "description": "一个批次及其公开记录（分页）"},
                {
                    "path": "/api/v1/bulletins",
                    "url": link("api.bulletins"),
                    "params": {**paging, "year": "通报年份"},
                    "description": "已发布的工作通报",
                },
                {
                    "path": "/api/v1/gradings",
                    "url": link("api.gradings"),
                    "params": {
                        **paging,
                        "year": "评价年度（不填：最近一个已发布的年度）",
                        "grade": "A|B|C（只在公开范围内）",
                    },
                    "description": "劳动保障守法诚信等级评价：counts（A、B、C各多少户）、districts（各区县分等级户数）和 results"
                    "（按本市公开范围：A级名单或全部；只公开数量时为空）；不公开时返回404",
                },
                {
                    "path": "/api/v1/bulletins/<id>",
                    "description": "一份工作通报：各项指标、上年同期数（previous）、同比增减百分比（change_pct，两位小数）"
                    "和越低越好的指标中下降的个数（declines）；上年同期没有通报时 previous 和 change_pct 为 null",
                },
                {
                    "path": "/api/v1/statistics",
                    "url": link("api.statistics_figures"),
                    "description": "公布情况统计：按批次所属年度计算，已撤回的记录不计入；返回 period（范围与截至日期）、"
                    "figures（案件批次、案件数、涉案单位、移送公安、涉及人数与金额、罚款；名单批次、名单条数、单位户数、目前在列）"
                    "和 breakdowns（按年度、区县、违法类型、行业）",
                    "params": {
                        "year": "年度",
                        "from_year": "起始年度",
                        "to_year": "截止年度（均不填：历年累计）",
                        "campaign": "专项行动编号（只统计该专项行动的记录）",
                    },
                },
                {
                    "path": "/api/v1/search",
                    "url": link("search.search_json"),
                    "description": "全文搜索，只含当前依法公开的记录；搜索词有误时返回400和说明",
                    "params": {
                        **paging,
                        "q": (
                            '搜索词：空格分隔的词须同时出现；"短语"按原样查找；A OR B（或 A 或 B）任一即可；'
                            "-词 排除；名称: 人员: 文号: 代码: 限定字段；18位统一社会信用代码精确查找"
                            "（校验位不符时 notice 说明应为哪一位）；代码中任意6位以上也能找到；"
                            "5.89万元 等金额按原样查找"
                        ),
                        "kind": "cases|listings",
                        "district": "区县",
                        "year": "年份",
                        "type": "违法类型",
                        "campaign": "专项行动编号",
                        "sort": "不填：按匹配位置（名称、人员、文号或代码、事实），同档新的在前；"
                        + "|".join(key for key in SORTS if key),
                    },
                },
            ],
            "downloads": {
                "cases_csv": link("public.cases_csv"),
                "listings_csv": link("public.listings_csv"),
                "batches_csv": link("public.batches_csv"),
            },
            "documentation": link("discovery.api_docs"),
        }
    )


@bp.get("/cases")
def cases():
    urls = public_urls()
    results = paginate(queries.case_statement(case_filters()))
    return jsonify(serializers.page_dict(results, lambda case: serializers.case_dict(case, urls)))


@bp.get("/cases/<int:id>")
def case(id: int):
    return _record(Case, id)


@bp.get("/listings")
def listings():
    urls = public_urls()
    results = paginate(queries.listing_statement(listing_filters()))
    return jsonify(serializers.page_dict(results, lambda listing: serializers.listing_dict(listing, urls)))


@bp.get("/listings/<int:id>")
def listing(id: int):
    return _record(Listing, id)


@bp.get("/enterprises/<credit_code>")
def enterprise(credit_code: str):
    answer = verdict.for_code(credit_code)
    if answer.status == verdict.INVALID:
        return jsonify({"error": {"status": 400, "message": answer.problem, "position": answer.position}}), 400
    found = queries.enterprise_view(answer.code) if answer.is_code else None
    if found is None:
        # No enterprise page for it (nothing public, or a 15-digit 注册号): so
        # that a client need not guess what the 404 means, say whether it is
        # on the list as of today.
        return jsonify(
            {
                "error": {
                    "status": 404,
                    "message": "本站没有该单位的公开记录" if not answer.known else "请使用统一社会信用代码查询",
                },
                "credit_code": answer.code,
                "listed_now": answer.listed_now,
                "as_of": answer.as_of.isoformat(),
            }
        ), 404
    url = url_for("public.enterprise", credit_code=found.code, _external=True)
    body = serializers.enterprise_dict(found.code, url, found.latest, found.cases, found.listings, public_urls())
    grade = gradings.latest_grade(found.code, current_app.config)  # as GONGSHI_PUBLISH_GRADES allows
    grading = {"year": grade.year, **gradings.result_dict(grade)} if grade else None
    return jsonify({**body, "listed_now": answer.listed_now, "as_of": answer.as_of.isoformat(), "grading": grading})


@bp.get("/batches")
def batches():
    return jsonify(serializers.batch_page_dict(paginate(queries.batch_statement(batch_filters())), public_urls()))


@bp.get("/batches/<int:id>")
def batch(id: int):
    found = public_batch_or_abort(id)
    records = paginate(queries.batch_record_statement(found))
    return jsonify(serializers.batch_detail_dict(found, records, public_urls()))


@bp.get("/bulletins")
def bulletins():
    return jsonify(bulletin_list_payload())


@bp.get("/bulletins/<int:id>")
def bulletin(id: int):
    return jsonify(bulletin_payload(id))


@bp.get("/statistics")
def statistics_figures():
    """The figures of a year (``year``), a range (``from_year``, ``to_year``) or all
    years, of every record or of one campaign's (``campaign``), from the same
    ``domain.statistics`` as the /statistics page."""
    return jsonify(statistics_answer(request.args))


@bp.get("/gradings", endpoint="gradings")
def grading_results():
    return jsonify(grading_payload(published_grading_or_404()))
