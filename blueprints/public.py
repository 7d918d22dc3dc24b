"""The public disclosure site: lists with filters (full page or htmx fragment),
record pages (410 notice once taken down), enterprise and batch pages, and the
CSV/JSON/XLSX twins of every list, all from the queries in ``domain.queries``."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from sqlalchemy import Select, select

from domain import campaigns, clock, exporting, gradings, queries, serializers, statistics, verdict
from domain.visibility import GONE_LABELS, gone_reason, is_record_public
from domain.vocabulary import VIOLATION_TYPES
from extensions import db
from models import Batch, Case, Hotline, Listing
from models.listing import REGIME_2017, REGIME_2022
from web.common import download, is_htmx, paginate, render, url_with
from web.public_data import batch_filters, case_filters, listing_filters, public_batch_or_abort, public_urls

bp = Blueprint("public", __name__)

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
    json_link = url_with(json_endpoint, page=None, per_page=None)
    response.headers["Link"] = (
        f'<{csv_link}>; rel="alternate"; type="text/csv", <{json_link}>; rel="alternate"; type="application/json"'
    )
    if request.endpoint in ATOM_TWINS:
        atom_link = url_with(ATOM_TWINS[request.endpoint], page=request.args.get("page") or None)
        response.headers["Link"] += f', <{atom_link}>; rel="alternate"; type="application/atom+xml"'
    return response


# Each list page's feed (blueprints.feeds), built from the same query.
ATOM_TWINS = {
    "public.cases": "feeds.cases_atom",
    "public.listings": "feeds.listings_atom",
    "public.batches": "feeds.batches_atom",
}

FILTER_LABELS = {"year": "{}年", "district": "{}", "type": "{}", "kind": "{}"}

# A download's kind in its file name, and the ASCII fallback name.
DOWNLOAD_KINDS = {
    "cases": ("违法案件", "cases"),
    "listings": ("失信名单", "listings"),
    "batches": ("公布批次", "batches"),
}


def _filter_labels(filters, batch_options=()) -> list[tuple[str, str]]:
    """Each active filter as (parameter, words): "2026年", "城关区", a batch's title."""
    batch_titles = {batch.id: batch.title for batch in batch_options}
    labels = []
    for name, value in filters.active().items():
        if name == "batch":
            label = batch_titles.get(value, f"批次 {value}")
        elif name == "police":
            label = "已移送公安机关" if value else "未移送公安机关"
        elif name == "kind":
            label = queries.BATCH_KINDS[value]
        elif name == "campaign":
            found = campaigns.get(value)
            label = f"专项行动：{found.name}" if found else f"专项行动 {value}"
        else:
            label = FILTER_LABELS[name].format(value)
        labels.append((name, label))
    return labels


def _chips(filters, batch_options=()) -> list[tuple[str, str]]:
    """Each active filter as (label, URL of this page without it); a batch chip
    shows the batch's title when it is one of the choices."""
    return [(label, url_with(**{name: None})) for name, label in _filter_labels(filters, batch_options)]


def _download_parts(filters, batch_kind: str | None = None) -> list[str]:
    """The words of a download's file name for its filters."""
    options = queries.batch_choices(batch_kind) if batch_kind and getattr(filters, "batch", None) else ()
    return [label for _, label in _filter_labels(filters, options)]


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
    context["xlsx_url"] = url_with(csv_endpoint.replace("_csv", "_xlsx"), page=None, per_page=None)
    context["json_url"] = url_with(json_endpoint, page=None, per_page=None)
    context["atom_url"] = url_with(ATOM_TWINS[request.endpoint], page=request.args.get("page") or None)
    response = render(full, fragment, **context)
    if clean_url is not None:  # htmx pushes this URL into the address bar instead
        response.headers["HX-Push-Url"] = clean_url
    return _with_alternates(response, csv_endpoint, json_endpoint)


def _records_download(fmt: str, kind: str, statement: Select, fields, url_of, parts, **extra) -> Response:
    """The download of a list: every row of ``statement``, read in pages."""
    kind_label, kind_ascii = DOWNLOAD_KINDS[kind]
    return download(
        fmt,
        kind=kind_label,
        kind_ascii=kind_ascii,
        parts=parts,
        fields=fields,
        records=exporting.stream(statement),
        url_of=url_of,
        total=exporting.count_rows(statement),
        **extra,
    )


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
    record = queries.find(model, record_id)
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
        figures=statistics.home_figures(),
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
        results=paginate(queries.case_statement(filters)),
        years=queries.case_years(),
        violation_types=VIOLATION_TYPES,
        sorts=queries.CASE_SORTS,
        batch_options=queries.batch_choices("cases"),
        campaign_options=campaigns.choices(),
    )


@bp.get("/cases.csv", endpoint="cases_csv", defaults={"fmt": "csv"})
@bp.get("/cases.xlsx", endpoint="cases_xlsx", defaults={"fmt": "xlsx"})
@bp.get("/cases.json", endpoint="cases_json", defaults={"fmt": "json"})
def cases_download(fmt: str):
    """Every case matching the page's filters (the API pages; this does not)."""
    filters = case_filters()
    statement = queries.case_statement(filters)
    parts = _download_parts(filters, "cases")
    return _records_download(fmt, "cases", statement, serializers.CASE_FIELDS, public_urls().case, parts)


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
        results=paginate(queries.listing_statement(filters)),
        years=queries.listing_years(),
        sorts=queries.LISTING_SORTS,
        batch_options=queries.batch_choices("listings"),
        campaign_options=campaigns.choices(),
    )


@bp.get("/listings.csv", endpoint="listings_csv", defaults={"fmt": "csv"})
@bp.get("/listings.xlsx", endpoint="listings_xlsx", defaults={"fmt": "xlsx"})
@bp.get("/listings.json", endpoint="listings_json", defaults={"fmt": "json"})
def listings_download(fmt: str):
    """Every listing in force matching the page's filters."""
    filters = listing_filters()
    statement = queries.listing_statement(filters)
    parts = _download_parts(filters, "listings")
    return _records_download(fmt, "listings", statement, serializers.LISTING_FIELDS, public_urls().listing, parts)


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


@bp.get("/enterprises/<credit_code>")
def enterprise(credit_code: str):
    found = queries.enterprise_view(credit_code)
    if found is None:
        # Nothing public about it (or not a code): the verdict says so, as a 404.
        answer = verdict.for_code(credit_code)
        return render(
            "check/check.html",
            "check/check.html",
            status=404,
            title="查询：" + (answer.code or credit_code)[:30],
            q=answer.code or "",
            query=verdict.parse_lookup(answer.code or credit_code),
            verdicts=[answer],
            candidates=[],
            total=0,
            message=None,
            share_url=None,
            queried_at=clock.now(),
        )
    if found.code != credit_code:
        return redirect(url_for("public.enterprise", credit_code=found.code), code=301)
    return render(
        "public/enterprise.html",
        "public/enterprise.html",
        title=found.latest.enterprise_name,
        code=found.code,
        latest=found.latest,
        cases=found.cases,
        listings=found.listings,
        verdict=verdict.for_code(found.code),
        grading=gradings.latest_grade(found.code, current_app.config),
        share_url=url_for("public.enterprise", credit_code=found.code, _external=True),
        queried_at=clock.now(),
    )


@bp.get("/batches")
def batches():
    filters = batch_filters()
    results = paginate(queries.batch_statement(filters))
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


@bp.get("/batches.csv", endpoint="batches_csv", defaults={"fmt": "csv"})
@bp.get("/batches.xlsx", endpoint="batches_xlsx", defaults={"fmt": "xlsx"})
@bp.get("/batches.json", endpoint="batches_json", defaults={"fmt": "json"})
def batches_download(fmt: str):
    """Every public batch matching the filters; in JSON each with its public record count."""
    filters = batch_filters()
    statement = queries.batch_statement(filters)
    urls = public_urls()
    extra = {}
    if fmt == "json":  # batches are few: their counts in one query
        counts = queries.public_record_counts(list(db.session.scalars(statement)))
        extra["serialize"] = lambda batch: serializers.batch_dict(batch, urls, counts.get(batch.id, 0))
    parts = _download_parts(filters)
    return _records_download(fmt, "batches", statement, serializers.BATCH_FIELDS, urls.batch, parts, **extra)


def _batch_export_parts(batch: Batch):
    urls = public_urls()
    if batch.kind == "cases":
        return serializers.CASE_FIELDS, urls.case
    return serializers.LISTING_FIELDS, urls.listing


@bp.get("/batches/<int:id>")
def batch(id: int):
    found = public_batch_or_abort(id)
    results = paginate(queries.batch_record_statement(found))
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


@bp.get("/batches/<int:id>.csv", endpoint="batch_csv", defaults={"fmt": "csv"})
@bp.get("/batches/<int:id>.xlsx", endpoint="batch_xlsx", defaults={"fmt": "xlsx"})
@bp.get("/batches/<int:id>.json", endpoint="batch_json", defaults={"fmt": "json"})
def batch_download(id: int, fmt: str):
    """Every public record of one batch; the JSON starts with the batch itself."""
    found = public_batch_or_abort(id)
    fields, url_of = _batch_export_parts(found)
    head = {"batch": serializers.batch_dict(found, public_urls())} if fmt == "json" else None
    return _records_download(
        fmt,
        found.kind,
        queries.batch_record_statement(found),
        fields,
        url_of,
        [found.title],
        sheet_title=found.title,
        head=head,
    )


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
        case_fields=serializers.CASE_FIELDS,
        listing_fields=serializers.LISTING_FIELDS,
        batch_fields=serializers.BATCH_FIELDS,
        today=clock.today(),
    )
