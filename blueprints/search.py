"""The search page (/search) and its JSON twin (/api/v1/search): parse the
parameters, ask search_index, render. One URL answers the full page or, to htmx,
the results fragment with the facet counts swapped out of band."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, make_response, request

from domain import campaigns, feeds, serializers
from domain.params import ParameterError
from domain.vocabulary import VIOLATION_TYPES
from models import Case, Listing
from search_index import SORTS, Filters, Outcome, QueryError
from search_index import search as run_search
from search_index.analysis import warm_up
from search_index.query import KIND_LABELS, KIND_PARAMS
from web.atom import feed, site_title
from web.common import Page, choice_arg, download, int_arg, is_htmx, page_args, path_for, render, url_with
from web.errors import error_response
from web.highlight import docno_matches, highlight, highlight_whole, snippet
from web.public_data import public_urls

bp = Blueprint("search", __name__)


@bp.after_request
def _served_by(response):
    # For benchmarks (GONGSHI_SERVED_BY_HEADER=1): proof that every worker answered.
    if current_app.config.get("SERVED_BY_HEADER"):
        response.headers["X-Served-By"] = str(os.getpid())
    return response


@bp.record_once
def _load_suggestions(state) -> None:
    # In every web process at start: the first search with no match (which asks
    # for "did you mean") is then no slower than the others.
    warm_up()


def _filters() -> Filters:
    kind = choice_arg("kind", tuple(KIND_PARAMS), label="类别")
    district = request.args.get("district", "").strip() or None
    if district is not None and len(district) > 50:
        raise ParameterError("参数“区县”无效")
    return Filters(
        kind=KIND_PARAMS[kind] if kind else None,
        district=district,
        year=int_arg("year", minimum=1949, maximum=2200, label="年份"),
        vtype=choice_arg("type", VIOLATION_TYPES, label="违法类型"),
        campaign=int_arg("campaign", minimum=1, maximum=2**31 - 1, label="专项行动"),
    )


def _search(page: int | None = None, per_page: int | None = None) -> tuple[Outcome | None, str | None]:
    """The search of this request: its page, or the ``page`` of ``per_page`` asked for."""
    filters = _filters()
    sort = choice_arg("sort", [key for key in SORTS if key], label="排序")
    if page is None or per_page is None:
        page, per_page = page_args()
    try:
        outcome = run_search(
            request.args.get("q", ""), filters, page, per_page, districts=current_app.config["DISTRICTS"], sort=sort
        )
    except QueryError as problem:
        return None, str(problem)
    return outcome, None


def _searched(page: int | None = None, per_page: int | None = None) -> Outcome:
    """The search of a twin (JSON, Atom, a download): a bad query is a 400."""
    outcome, error = _search(page, per_page)
    if error:
        raise ParameterError(error)
    assert outcome is not None
    if not outcome.index_ready:
        abort(_unavailable(outcome))
    if outcome.mode == "too_short":
        raise ParameterError(outcome.message or "搜索词太短")
    return outcome


def _unavailable(outcome: Outcome):
    """No usable search index on this machine: a 503 that says why (never an
    empty result)."""
    body, code = error_response(503, outcome.message)
    response = make_response(body, code)
    response.headers["Retry-After"] = "60"
    return response


DOWNLOAD_PAGE = 500


def _every_record(first: Outcome) -> Iterator[Case | Listing]:
    """Every record of a search, in its order, a page of ``DOWNLOAD_PAGE`` at a time."""
    outcome, page = first, 1
    while True:
        yield from (hit.record for hit in outcome.hits)
        if not outcome.hits or page * DOWNLOAD_PAGE >= outcome.total:
            return
        page += 1
        outcome, error = _search(page, DOWNLOAD_PAGE)
        if outcome is None:  # pragma: no cover - the first page parsed the same query
            raise ParameterError(error or "")


def _filter_words(filters: Filters) -> list[tuple[str, str]]:
    """The active filters as (parameter, words): 失信名单, 城关区, 2026年, a 违法类型,
    专项行动：<its name>."""
    words = []
    if filters.kind:
        words.append(("kind", KIND_LABELS[filters.kind]))
    if filters.district:
        words.append(("district", filters.district))
    if filters.year:
        words.append(("year", f"{filters.year}年"))
    if filters.vtype:
        words.append(("type", filters.vtype))
    if filters.campaign:
        found = campaigns.get(filters.campaign)
        words.append(("campaign", f"专项行动：{found.name}" if found else f"专项行动 {filters.campaign}"))
    return words


def _download_parts(outcome: Outcome) -> list[str]:
    """The file name's words: what was searched, then the filters."""
    searched = [outcome.q.strip()[:30]] if outcome.q.strip() else []
    return searched + [label for _, label in _filter_words(outcome.filters)]


MARKED = ("enterprise_name", "legal_representative", "responsible_persons", "credit_code", "document_no", "facts")


def _marks(outcome: Outcome, record: Case | Listing, names: tuple[str, ...] = MARKED) -> dict[str, Any]:
    """Highlighted (HTML-escaped) text of one result: the fields ``names``."""
    parts = outcome.highlight_terms
    marks: dict[str, Any] = {}
    if "enterprise_name" in names:
        marks["enterprise_name"] = highlight(record.enterprise_name, parts)
    if "legal_representative" in names:
        marks["legal_representative"] = highlight(record.legal_representative or "", parts)
    if "responsible_persons" in names:
        others = record.responsible_persons if isinstance(record, Listing) else []
        marks["responsible_persons"] = [highlight(p, parts) for p in others if p != record.legal_representative]
    if "credit_code" in names:
        code = record.credit_code or record.reg_no or ""
        marks["credit_code"] = highlight_whole(code, True) if outcome.mode == "code" else highlight(code, parts)
    if "document_no" in names:
        marks["document_no"] = highlight_whole(record.document_no, docno_matches(record.document_no, parts))
    if "facts" in names:
        if isinstance(record, Listing):
            facts = record.reason
        else:
            facts = " ".join(t for t in (record.facts, record.handling) if t)
        marks["facts"] = snippet(facts, parts)
    return marks


def _url(record: Case | Listing) -> str:
    return path_for("public.listing" if isinstance(record, Listing) else "public.case", id=record.id)


@bp.get("/search")
def search():
    outcome, error = _search()
    page = None
    hits = []
    if outcome is not None:
        page = Page(items=outcome.hits, total=outcome.total, page=outcome.page, per_page=outcome.per_page)
        hits = [(hit, _marks(outcome, hit.record), _url(hit.record)) for hit in outcome.hits]
    q = request.args.get("q", "")
    title = f"搜索：{q[:30]}" if q.strip() else "搜索"
    chips = [(label, url_with(**{name: None})) for name, label in _filter_words(_filters())]
    return render(
        "search/search.html",
        "search/_results.html",
        status=400 if error else (503 if outcome is not None and not outcome.index_ready else 200),
        title=title,
        q=q,
        sorts=SORTS,
        outcome=outcome,
        error=error,
        results=page,
        hits=hits,
        chips=chips,
        oob=is_htmx(),
    )


@bp.get("/search.csv", endpoint="search_csv", defaults={"fmt": "csv"})
@bp.get("/search.xlsx", endpoint="search_xlsx", defaults={"fmt": "xlsx"})
@bp.get("/search.json", endpoint="search_download_json", defaults={"fmt": "json"})
def search_download(fmt: str):
    """Every result of the search (the API pages; this does not), in the page's order."""
    outcome = _searched(1, DOWNLOAD_PAGE)  # a bad parameter is a 400 before any row
    return download(
        fmt,
        kind="搜索结果",
        kind_ascii="search",
        parts=_download_parts(outcome),
        fields=serializers.SEARCH_FIELDS,
        records=_every_record(outcome),
        url_of=public_urls().record,
        total=outcome.total,
        head={"q": outcome.q},
    )


@bp.get("/api/v1/search")
def search_json():
    outcome = _searched()
    urls = public_urls()
    results = []
    for hit in outcome.hits:
        record = hit.record
        marks = _marks(outcome, record, ("enterprise_name", "facts"))
        item: dict[str, Any] = {
            "kind": hit.kind,
            "id": record.id,
            "url": urls.record(record),
            "enterprise_name": record.enterprise_name,
            "credit_code": record.credit_code or record.reg_no,
            "legal_representative": record.legal_representative,
            "district": record.district,
            "document_no": record.document_no,
            "score": hit.score,
            "highlights": {
                "enterprise_name": str(marks["enterprise_name"]),
                "facts": str(marks["facts"]),
            },
        }
        if isinstance(record, Case):
            item["violation_types"] = record.violation_type_list
            item["decided_on"] = record.decided_on.isoformat()
        else:
            item["responsible_persons"] = record.responsible_persons
            item["listed_on"] = record.listed_on.isoformat()
            item["expires_on"] = record.expires_on.isoformat()
        if outcome.partial:
            item["partial_match"] = True
        results.append(item)
    answer: dict[str, Any] = {
        "q": outcome.q,
        "total": outcome.total,
        "page": outcome.page,
        "per_page": outcome.per_page,
        "sort": outcome.sort or "",
        "results": results,
    }
    if outcome.notice:
        answer["notice"] = outcome.notice
    if outcome.suggestions:
        answer["suggestions"] = outcome.suggestions
    return jsonify(answer)


@bp.get("/search.atom")
def search_atom():
    """The search as a feed: the same query, filters and order as /search."""
    outcome = _searched()
    urls = public_urls()
    entries = []
    for hit in outcome.hits:
        record = hit.record
        url = urls.record(record)
        entries.append(feeds.case_entry(record, url) if isinstance(record, Case) else feeds.listing_entry(record, url))
    q = request.args.get("q", "").strip()
    return feed(
        title=site_title(f"搜索“{q[:30]}”" if q else "搜索"),
        subtitle="与搜索页相同的搜索词、筛选条件和顺序",
        self_path=url_with("search.search_atom", page=request.args.get("page") or None),
        page_path=url_with("search.search", page=request.args.get("page") or None),
        entries=entries,
    )
