"""Being found: robots.txt, the sitemap (an index of files when it outgrows the
protocol's 50,000 URLs), the favicon at the address browsers ask for, and the
human-readable page of the open-data API."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    render_template,
    stream_with_context,
    url_for,
)
from markupsafe import escape

from domain import clock, queries, sitemap

bp = Blueprint("discovery", __name__)

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
STATIC_PAGES = (
    "public.home",
    "check.check",
    "public.cases",
    "public.listings",
    "public.batches",
    "search.search",
    "public.hotlines",
    "objections.guide",
    "public.about",
    "discovery.api_docs",
)
RECORD_ENDPOINTS = {
    "batches": ("public.batch", "id"),
    "cases": ("public.case", "id"),
    "listings": ("public.listing", "id"),
    "enterprises": ("public.enterprise", "credit_code"),
}


def _max_urls() -> int:
    return int(current_app.config["SITEMAP_MAX_URLS"])


def _url(loc: str, lastmod=None) -> str:
    modified = f"<lastmod>{lastmod.date().isoformat()}</lastmod>" if lastmod is not None else ""
    return f"<url><loc>{escape(loc)}</loc>{modified}</url>\n"


def _static_urls() -> Iterator[str]:
    for endpoint in STATIC_PAGES:
        yield _url(url_for(endpoint, _external=True))


def _section_urls(section: str, part: int, max_urls: int) -> Iterator[str]:
    endpoint, argument = RECORD_ENDPOINTS[section]
    # url_for once per section: record URLs differ only by their key
    marker = "918273645"
    head, tail = url_for(endpoint, **{argument: marker}, _external=True).split(marker)
    for key, lastmod in sitemap.entries(section, part, max_urls):
        yield _url(f"{head}{key}{tail}", lastmod)


def _xml(chunks: Iterator[str]) -> Response:
    response = Response(stream_with_context(chunks), content_type="application/xml; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/robots.txt")
def robots():
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /objections/new/",
        "Disallow: /objections/lookup",
        "Disallow: /objections/filed",
        f"Sitemap: {url_for('discovery.sitemap_xml', _external=True)}",
        "",
    ]
    return Response("\n".join(lines), content_type="text/plain; charset=utf-8")


@bp.get("/sitemap.xml")
def sitemap_xml():
    max_urls = _max_urls()
    total = len(STATIC_PAGES) + sum(sitemap.count(section) for section in sitemap.SECTIONS)
    if total <= max_urls:

        def whole() -> Iterator[str]:
            yield XML_HEAD + f'<urlset xmlns="{SITEMAP_NS}">\n'
            yield from _static_urls()
            for section in sitemap.SECTIONS:
                yield from _section_urls(section, 0, max_urls)
            yield "</urlset>\n"

        return _xml(whole())

    def index() -> Iterator[str]:
        yield XML_HEAD + f'<sitemapindex xmlns="{SITEMAP_NS}">\n'
        files = [("pages", 0), *sitemap.parts(max_urls)]
        for section, part in files:
            loc = url_for("discovery.sitemap_part", section=section, part=part, _external=True)
            yield f"<sitemap><loc>{escape(loc)}</loc></sitemap>\n"
        yield "</sitemapindex>\n"

    return _xml(index())


@bp.get("/sitemaps/<section>-<int:part>.xml")
def sitemap_part(section: str, part: int):
    max_urls = _max_urls()
    if section == "pages":
        if part != 0:
            abort(404)
        chunks = _static_urls()
    elif section in sitemap.SECTIONS and part < 1_000_000:
        if part * max_urls >= max(sitemap.count(section), 1):
            abort(404)
        chunks = _section_urls(section, part, max_urls)
    else:
        abort(404)

    def document() -> Iterator[str]:
        yield XML_HEAD + f'<urlset xmlns="{SITEMAP_NS}">\n'
        yield from chunks
        yield "</urlset>\n"

    return _xml(document())


@functools.cache
def _favicon_bytes(static_folder: str) -> bytes:
    return (Path(static_folder) / "favicon.ico").read_bytes()


@bp.get("/favicon.ico")
def favicon():
    # Served from memory: browsers ask for it unprompted and often drop the request
    # half-way, and a response that holds an open file can then leave it unclosed.
    response = Response(_favicon_bytes(current_app.static_folder), mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/api")
def api_docs():
    """The open-data API for people: endpoints, parameters and curl examples."""
    return render_template(
        "public/api.html",
        title="开放数据接口",
        case_sorts=queries.CASE_SORTS,
        listing_sorts=queries.LISTING_SORTS,
        base=url_for("public.home", _external=True).rstrip("/"),
        today=clock.today(),
    )
