"""The public disclosure site: lists with filters (full page or htmx fragment),
record pages (410 notice once taken down), enterprise and batch pages, and the
CSV/JSON/XLSX twins of every list, all from the queries in ``domain.queries``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, request, stream_with_context, url_for
from sqlalchemy import Select, func, select

from blueprints.common import Page, is_htmx, page_args, paginate, render, url_with
from domain import clock, exporting, queries
from domain.validation import normalize_credit_code
from domain.visibility import GONE_LABELS, gone_reason, is_record_public
from domain.vocabulary import VIOLATION_TYPES
from extensions import db
from models import Batch, Case, Hotline, Listing
from models.listing import REGIME_2017, REGIME_2022

bp = Blueprint("public", __name__)
bp.add_app_template_global(url_with, "url_with")

CSV_ROWS_PER_FETCH = 1000


# --- formatting for templates -------------------------------------------------------------


@bp.app_template_filter("yuan")
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


@bp.app_template_filter("cn_date")
def cn_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return "—"
    return f"{value.year}年{value.month}月{value.day}日"


@bp.app_template_filter("count")
def count(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


# --- URLs and serialisation shared with the API ----------------------------------------------


def case_url(case: Case) -> str:
    return url_for("public.case", id=case.id, _external=True)


def listing_url(listing: Listing) -> str:
    return url_for("public.listing", id=listing.id, _external=True)


def batch_url(batch: Batch) -> str:
    return url_for("public.batch", id=batch.id, _external=True)


def case_json(case: Case) -> dict[str, Any]:
    return exporting.case_to_dict(case, case_url(case))


def listing_json(listing: Listing) -> dict[str, Any]:
    return exporting.listing_to_dict(listing, listing_url(listing))


def batch_json(batch: Batch, record_count: int | None = None) -> dict[str, Any]:
    return exporting.batch_to_dict(batch, batch_url(batch), record_count)


def record_json(record: Case | Listing) -> dict[str, Any]:
    return case_json(record) if isinstance(record, Case) else listing_json(record)


def page_payload(page, serialize) -> dict[str, Any]:
    """The list shape of the brief: {"total", "page", "per_page", "results"}."""
    return {
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "results": [serialize(item) for item in page.items],
    }


def batch_page_payload(page) -> dict[str, Any]:
    counts = queries.public_record_counts(page.items)
    return page_payload(page, lambda b: batch_json(b, counts.get(b.id, 0)))


def batch_detail_payload(batch: Batch) -> dict[str, Any]:
    """A batch and one page of its public records."""
    results = paginate_records(queries.batch_record_statement(batch))
    count = queries.public_record_counts([batch]).get(batch.id, 0)
    return {**batch_json(batch, count), **page_payload(results, record_json)}


def paginate_records(statement: Select) -> Page:
    """``paginate`` for record lists, as a deferred join: the page's ids are
    picked from the indexes alone (sorting only ids and sort keys), then just
    those rows are loaded. A listing list sorted by date otherwise reads and sorts
    every row in force before keeping twenty."""
    page, per_page = page_args()
    model = statement.column_descriptions[0]["entity"]
    only_ids = statement.with_only_columns(model.id)
    total = db.session.scalar(select(func.count()).select_from(only_ids.order_by(None).subquery())) or 0
    ids = list(db.session.scalars(only_ids.limit(per_page).offset((page - 1) * per_page)))
    rows = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
    return Page(items=[rows[i] for i in ids], total=total, page=page, per_page=per_page)


def case_filters() -> queries.CaseFilters:
    return queries.parse_case_filters(request.args, current_app.config["DISTRICTS"])


def listing_filters() -> queries.ListingFilters:
    return queries.parse_listing_filters(request.args, current_app.config["DISTRICTS"])


def batch_filters() -> queries.BatchFilters:
    return queries.parse_batch_filters(request.args)


def find(model, record_id: int):
    """A row by id; ids beyond the integer column are simply not found."""
    if record_id > queries.MAX_ID:
        return None
    return db.session.get(model, record_id)


# --- helpers for list pages -------------------------------------------------------------------


def _clean_url() -> str | None:
    """A GET form sends empty fields (``?year=&district=``); the clean, shareable
    URL without them, or None when the URL is already clean."""
    empty = [name for name, value in request.args.items(multi=True) if not value.strip()]
    if not empty:
        return None
    return url_with(**dict.fromkeys(empty), page=request.args.get("page") or None)


def _with_alternates(response, csv_endpoint: str, json_endpoint: str):
    """Datasette-style: the data of this page is also at .csv and .json."""
    csv_link = url_with(csv_endpoint, page=None, per_page=None)
    json_link = url_with(json_endpoint, page=request.args.get("page") or None)
    response.headers["Link"] = (
        f'<{csv_link}>; rel="alternate"; type="text/csv", <{json_link}>; rel="alternate"; type="application/json"'
    )
    return response


FILTER_LABELS = {"year": "{}年", "district": "{}", "type": "{}", "kind": "{}"}


def _chips(filters, batch_options=()) -> list[tuple[str, str]]:
    """Each active filter as (label, URL of this page without it); a batch chip
    shows the batch's title when it is one of the choices."""
    batch_titles = {batch.id: batch.title for batch in batch_options}
    chips = []
    for name, value in filters.active().items():
        if name == "batch":
            label = batch_titles.get(value, f"批次 {value}")
        elif name == "police":
            label = "已移送公安机关" if value else "未移送公安机关"
        elif name == "kind":
            label = queries.BATCH_KINDS[value]
        else:
            label = FILTER_LABELS[name].format(value)
        chips.append((label, url_with(**{name: None})))
    return chips


def _list_page(full: str, fragment: str, csv_endpoint: str, json_endpoint: str, **context):
    clean_url = _clean_url()
    if clean_url is not None and not is_htmx():
        return redirect(clean_url, code=302)
    context["chips"] = _chips(context["filters"], context.get("batch_options", ()))
    context["clear_url"] = url_for(request.endpoint)
    # After a sort or chip link the filter form is refreshed out of band; not after
    # its own change, so the control being used keeps its focus.
    context["filters_oob"] = is_htmx() and request.headers.get("HX-Trigger") != "filter-form"
    context["csv_url"] = url_with(csv_endpoint, page=None, per_page=None)
    context["json_url"] = url_with(json_endpoint, page=request.args.get("page") or None)
    response = render(full, fragment, **context)
    if clean_url is not None:  # htmx pushes this URL into the address bar instead
        response.headers["HX-Push-Url"] = clean_url
    return _with_alternates(response, csv_endpoint, json_endpoint)


def record_urls(endpoint: str):
    """URLs for a whole download: url_for once, not once per row (record URLs
    differ only by their id)."""
    marker = 918273645
    head, tail = url_for(endpoint, id=marker, _external=True).split(str(marker))
    return lambda record: f"{head}{record.id}{tail}"


def _csv_response(fields, statement: Select, url_of, filename: str) -> Response:
    """Stream the whole filtered set, a thousand rows per fetch, so a 100,000-row
    download never sits in memory."""

    def generate():
        records = db.session.scalars(statement.execution_options(yield_per=CSV_ROWS_PER_FETCH))
        yield from exporting.csv_chunks(fields, records, url_of)

    response = Response(stream_with_context(generate()), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _json_response(payload: dict[str, Any]):
    response = jsonify(payload)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _gone(record: Case | Listing, reason: str):
    """The notice left at a taken-down record's permalink (never the enterprise name)."""
    if isinstance(record, Case):
        kind_label, when = "重大劳动保障违法案件", record.withdrawn_at
    else:
        kind_label = "失信联合惩戒对象名单"
        when = {
            "withdrawn": record.withdrawn_at,
            "removed": record.removed_on,
            "revoked": record.revoked_on,
            "expired": record.expires_on,
        }.get(reason)
    return render(
        "public/gone.html",
        "public/gone.html",
        status=410,
        title="信息已停止公开",
        kind_label=kind_label,
        record_id=record.id,
        reason=reason,
        message=GONE_LABELS[reason],
        when=when,
    )


def _record_or_gone(model, record_id: int):
    record = find(model, record_id)
    if record is None:
        abort(404)
    if is_record_public(record):
        return record, None
    reason = gone_reason(record)
    if reason is None:  # a draft, or not yet in force: it never was public
        abort(404)
    return record, _gone(record, reason)


# --- pages ----------------------------------------------------------------------------------------


@bp.get("/")
def home():
    return render(
        "public/home.html",
        "public/home.html",
        title="首页",
        figures=queries.headline_figures(),
        batches=queries.latest_batches(),
        counts=None,
    )


@bp.get("/cases")
def cases():
    filters = case_filters()
    return _list_page(
        "public/cases.html",
        "public/_case_results.html",
        "public.cases_csv",
        "public.cases_json",
        title="重大劳动保障违法案件",
        filters=filters,
        results=paginate_records(queries.case_statement(filters)),
        years=queries.case_years(),
        violation_types=VIOLATION_TYPES,
        sorts=queries.CASE_SORTS,
        batch_options=queries.batch_choices("cases"),
    )


@bp.get("/cases.csv")
def cases_csv():
    return _csv_response(
        exporting.CASE_FIELDS, queries.case_statement(case_filters()), record_urls("public.case"), "cases.csv"
    )


@bp.get("/cases.json")
def cases_json():
    filters = case_filters()
    return _json_response(page_payload(paginate_records(queries.case_statement(filters)), case_json))


@bp.get("/cases/<int:id>")
def case(id: int):
    record, gone = _record_or_gone(Case, id)
    if gone is not None:
        return gone
    other_cases, listings = queries.enterprise_records(record.credit_code, record.enterprise_id)
    return render(
        "public/case.html",
        "public/case.html",
        title=record.enterprise_name,
        case=record,
        other_cases=[c for c in other_cases if c.id != record.id],
        listings=listings,
    )


@bp.get("/listings")
def listings():
    filters = listing_filters()
    return _list_page(
        "public/listings.html",
        "public/_listing_results.html",
        "public.listings_csv",
        "public.listings_json",
        title="失信联合惩戒对象名单",
        filters=filters,
        results=paginate_records(queries.listing_statement(filters)),
        years=queries.listing_years(),
        sorts=queries.LISTING_SORTS,
        batch_options=queries.batch_choices("listings"),
    )


@bp.get("/listings.csv")
def listings_csv():
    statement = queries.listing_statement(listing_filters())
    return _csv_response(exporting.LISTING_FIELDS, statement, record_urls("public.listing"), "listings.csv")


@bp.get("/listings.json")
def listings_json():
    filters = listing_filters()
    return _json_response(page_payload(paginate_records(queries.listing_statement(filters)), listing_json))


@bp.get("/listings/<int:id>")
def listing(id: int):
    record, gone = _record_or_gone(Listing, id)
    if gone is not None:
        return gone
    cases_of, listings_of = queries.enterprise_records(record.credit_code, record.enterprise_id)
    return render(
        "public/listing.html",
        "public/listing.html",
        title=record.enterprise_name,
        listing=record,
        cases=cases_of,
        other_listings=[item for item in listings_of if item.id != record.id],
        regime_2017=REGIME_2017,
        regime_2022=REGIME_2022,
    )


def enterprise_view(credit_code: str):
    """The enterprise as published in its latest public record, and all its public
    records; None when nothing about it is public (e.g. its only listing expired)."""
    code = normalize_credit_code(credit_code)
    if not code or len(code) > 18:
        return None
    cases_of, listings_of = queries.enterprise_records(code, None)
    latest = queries.latest_record(cases_of, listings_of)
    if latest is None:
        return None
    return code, latest, cases_of, listings_of


@bp.get("/enterprises/<credit_code>")
def enterprise(credit_code: str):
    found = enterprise_view(credit_code)
    if found is None:
        abort(404)
    code, latest, cases_of, listings_of = found
    if code != credit_code:
        return redirect(url_for("public.enterprise", credit_code=code), code=301)
    return render(
        "public/enterprise.html",
        "public/enterprise.html",
        title=latest.enterprise_name,
        code=code,
        latest=latest,
        cases=cases_of,
        listings=listings_of,
    )


@bp.get("/batches")
def batches():
    filters = batch_filters()
    page, per_page = page_args()
    results = paginate(queries.batch_statement(filters), page, per_page)
    return _list_page(
        "public/batches.html",
        "public/_batch_results.html",
        "public.batches_csv",
        "public.batches_json",
        title="公布批次",
        filters=filters,
        results=results,
        counts=queries.public_record_counts(results.items),
        years=queries.batch_years(),
        kinds=queries.BATCH_KINDS,
    )


@bp.get("/batches.csv")
def batches_csv():
    return _csv_response(
        exporting.BATCH_FIELDS, queries.batch_statement(batch_filters()), record_urls("public.batch"), "batches.csv"
    )


@bp.get("/batches.json")
def batches_json():
    filters = batch_filters()
    page, per_page = page_args()
    return _json_response(batch_page_payload(paginate(queries.batch_statement(filters), page, per_page)))


def public_batch_or_abort(batch_id: int) -> Batch:
    batch = queries.public_batch(batch_id) if batch_id <= queries.MAX_ID else None
    if batch is None:
        stored = find(Batch, batch_id)
        if stored is not None and stored.status == "withdrawn":
            abort(410, description="该批次已撤回，依法停止公开。")
        abort(404)
    return batch


def _batch_export_parts(batch: Batch):
    if batch.kind == "cases":
        return exporting.CASE_FIELDS, record_urls("public.case")
    return exporting.LISTING_FIELDS, record_urls("public.listing")


@bp.get("/batches/<int:id>")
def batch(id: int):
    found = public_batch_or_abort(id)
    results = paginate_records(queries.batch_record_statement(found))
    response = render(
        "public/batch.html",
        "public/_batch_records.html",
        title=found.title,
        batch=found,
        results=results,
        csv_url=url_for("public.batch_csv", id=found.id),
        json_url=url_for("public.batch_json", id=found.id),
        xlsx_url=url_for("public.batch_xlsx", id=found.id),
    )
    return _with_alternates(response, "public.batch_csv", "public.batch_json")


@bp.get("/batches/<int:id>.csv")
def batch_csv(id: int):
    found = public_batch_or_abort(id)
    fields, url_of = _batch_export_parts(found)
    return _csv_response(fields, queries.batch_record_statement(found), url_of, f"batch-{found.id}.csv")


@bp.get("/batches/<int:id>.json", endpoint="batch_json")
def batch_json_twin(id: int):
    return _json_response(batch_detail_payload(public_batch_or_abort(id)))


@bp.get("/batches/<int:id>.xlsx")
def batch_xlsx(id: int):
    found = public_batch_or_abort(id)
    fields, url_of = _batch_export_parts(found)
    records = db.session.scalars(queries.batch_record_statement(found).execution_options(yield_per=CSV_ROWS_PER_FETCH))
    data = exporting.xlsx_bytes(fields, records, url_of, found.title)
    response = Response(data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response.headers["Content-Disposition"] = f'attachment; filename="batch-{found.id}.xlsx"'
    return response


@bp.get("/hotlines")
def hotlines():
    rows = db.session.scalars(select(Hotline).order_by(Hotline.position, Hotline.id)).all()
    return render("public/hotlines.html", "public/hotlines.html", title="举报投诉电话", hotlines=rows)


@bp.get("/about")
def about():
    return render(
        "public/about.html",
        "public/about.html",
        title="关于本站",
        case_fields=exporting.CASE_FIELDS,
        listing_fields=exporting.LISTING_FIELDS,
        batch_fields=exporting.BATCH_FIELDS,
        today=clock.today(),
    )
