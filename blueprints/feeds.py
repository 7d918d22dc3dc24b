"""Atom feeds: new batches and changes (/feeds/…), and the .atom twin of every
list page, from the same query and filters as the page (``domain.queries``).
Everything is read from the public records at request time, so a record that is
taken down is in no feed from that moment."""

from __future__ import annotations

from flask import Blueprint, current_app, request, url_for

from domain import feeds, queries
from web.atom import feed, site_title
from web.common import page_args, paginate, url_with
from web.public_data import batch_filters, case_filters, listing_filters, public_urls

bp = Blueprint("feeds", __name__)


def _batch_entries(batches) -> list[feeds.Entry]:
    urls = public_urls()
    counts = queries.public_record_counts(batches)
    return [feeds.batch_entry(batch, urls.batch(batch), counts.get(batch.id, 0)) for batch in batches]


@bp.get("/feeds/batches.atom")
def batches_feed():
    batches = queries.latest_batches(limit=feeds.FEED_SIZE)
    return feed(
        title=site_title("新公布的批次"),
        subtitle=f"{current_app.config['AUTHORITY_NAME']}新公布的重大劳动保障违法案件和失信联合惩戒对象名单批次",
        self_path=url_for("feeds.batches_feed"),
        page_path=url_for("public.batches"),
        entries=_batch_entries(batches),
    )


@bp.get("/feeds/changes.atom")
def changes_feed():
    return feed(
        title=site_title("更正、撤回与停止公开"),
        subtitle="已公布信息的更正、撤回、提前移出、撤销、恢复列入和期限届满。已停止公开的记录只列出编号和原因。",
        self_path=url_for("feeds.changes_feed"),
        page_path=url_for("public.home"),
        entries=feeds.change_entries(public_urls()),
    )


@bp.get("/cases.atom")
def cases_atom():
    filters = case_filters()
    urls = public_urls()
    page, per_page = page_args()
    results = paginate(queries.case_statement(filters), page, per_page)
    return feed(
        title=site_title("重大劳动保障违法案件", filters),
        subtitle="与列表页相同的筛选条件和顺序",
        self_path=url_with("feeds.cases_atom", page=request.args.get("page") or None),
        page_path=url_with("public.cases"),
        entries=[feeds.case_entry(case, urls.case(case)) for case in results.items],
    )


@bp.get("/listings.atom")
def listings_atom():
    filters = listing_filters()
    urls = public_urls()
    page, per_page = page_args()
    results = paginate(queries.listing_statement(filters), page, per_page)
    return feed(
        title=site_title("失信联合惩戒对象名单", filters),
        subtitle="目前仍在期限内的单位，与列表页相同的筛选条件和顺序",
        self_path=url_with("feeds.listings_atom", page=request.args.get("page") or None),
        page_path=url_with("public.listings"),
        entries=[feeds.listing_entry(listing, urls.listing(listing)) for listing in results.items],
    )


@bp.get("/batches.atom")
def batches_atom():
    filters = batch_filters()
    results = paginate(queries.batch_statement(filters))
    return feed(
        title=site_title("公布批次", filters),
        subtitle="与列表页相同的筛选条件和顺序",
        self_path=url_with("feeds.batches_atom", page=request.args.get("page") or None),
        page_path=url_with("public.batches"),
        entries=_batch_entries(results.items),
    )
