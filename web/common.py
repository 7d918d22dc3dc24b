"""The one way to do each web chore: htmx detection, full-page-or-fragment
rendering, typed query parameters, pagination, file downloads and query-string
building."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from flask import (
    Request,
    Response,
    current_app,
    has_request_context,
    make_response,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from sqlalchemy import Select, func, select

from domain import clock, exporting
from domain.params import choice_param, int_param
from domain.serializers import to_dict
from extensions import db

# --- htmx ------------------------------------------------------------------------


def is_htmx(req: Request | None = None) -> bool:
    """An htmx request that wants a fragment. A history-restore request (the
    browser lost its cached page) must get the full page."""
    req = req or request
    return req.headers.get("HX-Request") == "true" and req.headers.get("HX-History-Restore-Request") != "true"


def render(full_template: str, fragment_template: str, status: int = 200, **context: Any):
    """Same URL, full page or fragment, from the same context."""
    template = fragment_template if is_htmx() else full_template
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


# --- query parameters --------------------------------------------------------------


# Thin wrappers over ``domain.params`` (the one parser) reading ``request.args``;
# a bad value raises ``ParameterError``, answered 400 in Chinese by web.errors.


def int_arg(name: str, *, minimum: int, maximum: int, label: str | None = None) -> int | None:
    return int_param(request.args, name, label or name, minimum, maximum)


def choice_arg(name: str, choices: Sequence[str], *, label: str | None = None) -> str | None:
    return choice_param(request.args, name, label or name, choices)


def page_args() -> tuple[int, int]:
    """``page`` and ``per_page``, clamped rather than refused: a stale or edited
    link still shows something."""
    config = current_app.config

    def clamp(name: str, default: int, high: int) -> int:
        try:
            value = int(request.args.get(name, default))
        except (TypeError, ValueError):
            return default
        return max(1, min(value, high))

    per_page = clamp("per_page", config["PER_PAGE_DEFAULT"], config["PER_PAGE_MAX"])
    page = clamp("page", 1, 1_000_000)
    return page, per_page


# --- pagination --------------------------------------------------------------------


@dataclass
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if not self.total else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)

    def window(self, around: int = 2) -> Iterator[int | None]:
        """Page numbers to link, with None for a gap: 1 … 4 5 [6] 7 8 … 20."""
        last = self.pages
        shown = {1, last, *range(self.page - around, self.page + around + 1)}
        previous = 0
        for number in sorted(n for n in shown if 1 <= n <= last):
            if number - previous > 1:
                yield None
            yield number
            previous = number


def paginate(statement: Select, page: int | None = None, per_page: int | None = None) -> Page:
    """One page of a select of one model, with an honest total; ``page`` and
    ``per_page`` default to the request's (``page_args``).

    A deferred join: the page's ids are picked from the indexes alone (sorting
    only ids and sort keys), then just those rows are loaded. A listing list
    sorted by date otherwise reads and sorts every row in force to keep twenty."""
    if page is None or per_page is None:
        page, per_page = page_args()
    model = statement.column_descriptions[0]["entity"]
    only_ids = statement.with_only_columns(model.id)
    total = db.session.scalar(select(func.count()).select_from(only_ids.order_by(None).subquery())) or 0
    ids = list(db.session.scalars(only_ids.limit(per_page).offset((page - 1) * per_page)))
    rows = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))} if ids else {}
    return Page(items=[rows[i] for i in ids], total=total, page=page, per_page=per_page)


# --- downloads ---------------------------------------------------------------------


def attachment(
    body: bytes | Iterable[bytes], content_type: str, filename: str, ascii_filename: str | None = None
) -> Response:
    """A file to save: bytes, or an iterable of chunks streamed as they are made
    (with the request context kept, so the database session stays usable).
    A Chinese file name goes in ``filename*`` (RFC 5987/6266), with an ASCII
    ``filename`` for clients that do not read it."""
    if not isinstance(body, bytes):
        body = stream_with_context(body)
    response = Response(body, content_type=content_type)
    fallback = ascii_filename or filename
    disposition = f'attachment; filename="{fallback}"'
    if filename != fallback or not filename.isascii():
        disposition += f"; filename*=UTF-8''{quote(filename, safe='')}"
    response.headers["Content-Disposition"] = disposition
    return response


def named_attachment(
    body: bytes | Iterable[bytes],
    content_type: str,
    *,
    kind: str,
    kind_ascii: str,
    parts: Sequence[str],
    extension: str,
) -> Response:
    """A file to save under a name with the city, the kind, the filters (``parts``)
    and the date, e.g. ``兰州-失信名单-城关区-20261203.csv``."""
    name, fallback = exporting.file_names(
        current_app.config["CITY_NAME"], kind, kind_ascii, parts, clock.today(), extension
    )
    return attachment(body, content_type, name, fallback)


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOWNLOAD_FORMATS = ("csv", "xlsx", "json")


def download(
    fmt: str,
    *,
    kind: str,
    kind_ascii: str,
    parts: Sequence[str],
    fields: tuple,
    records: Iterable[Any],
    url_of: Callable[[Any], str],
    total: int,
    sheet_title: str | None = None,
    head: dict[str, Any] | None = None,
    serialize: Callable[[Any], dict[str, Any]] | None = None,
) -> Response:
    """Every matching record (never one page of them) as CSV, XLSX or JSON, under
    a name with the city, the kind, the filters (``parts``) and the date. CSV and
    JSON are streamed as they are read, so a 100,000-row download never sits in
    memory; the JSON starts with ``total`` and ``as_of``."""
    named = functools.partial(named_attachment, kind=kind, kind_ascii=kind_ascii, parts=parts, extension=fmt)
    if fmt == "csv":
        response = named(exporting.csv_chunks(fields, records, url_of), "text/csv; charset=utf-8")
    elif fmt == "xlsx":
        response = named(exporting.xlsx_bytes(fields, records, url_of, sheet_title or kind), XLSX_TYPE)
    elif fmt == "json":
        opening = {"total": total, "as_of": clock.today().isoformat(), **(head or {})}
        serialize = serialize or (lambda record: to_dict(fields, record, url_of(record)))
        response = named(exporting.json_chunks(opening, records, serialize), "application/json; charset=utf-8")
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:  # pragma: no cover - the routes only allow DOWNLOAD_FORMATS
        raise ValueError(fmt)
    return response


# --- links -------------------------------------------------------------------------


def path_for(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` for a link inside the site, remembered per
    application and path prefix: every page links to the same header, footer and
    static files, a search page to twenty records and some fifty variants of
    itself, and routing built each of those paths afresh. Anything else
    (``_external``, a relative endpoint, a value that is not a plain string or
    number, no request) goes to ``url_for``."""
    if (
        endpoint[:1] == "."
        or not has_request_context()
        or not all(name[:1] != "_" and type(value) in (str, int) for name, value in values.items())
    ):
        return url_for(endpoint, **values)
    return _links().path(endpoint, values)


def url_with(endpoint: str | None = None, **changes: Any) -> str:
    """The current URL with some query parameters changed; None or "" removes one.
    Changing anything but the page goes back to page 1. Only the parameters the
    page understands (those it has read) are carried: junk in a URL is not
    repeated into every link on the page."""
    return _links().url_with(endpoint, changes)


_PATHS_KEPT = 20_000

# Query-string encoding as werkzeug's URL building does it (werkzeug.urls._urlencode).
_QUERY_SAFE = "!$'()*,/:;?@"


@functools.lru_cache(maxsize=4096)
def _query_item(name: str, value: str) -> str:
    """``name=value`` encoded: the same few parameters recur in every link of a page."""
    return f"{quote_plus(name, safe=_QUERY_SAFE)}={quote_plus(value, safe=_QUERY_SAFE)}"


class _Links:
    """What the links of one request are built from, read once: a search page
    builds some fifty, and each look at ``request`` or ``current_app`` through
    their proxies cost more than building the link."""

    def __init__(self, req: Request, understood: set[str]) -> None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        self.read: set[str] = getattr(req.args, "read", set())
        self.read_count = len(self.read)
        self.endpoint = req.endpoint
        self.view_args = req.view_args or {}
        self.script_root = req.script_root
        self.paths: dict[tuple, str] = app.extensions.setdefault("path_for", {})
        self.route_names: dict[str, frozenset[str]] = app.extensions.setdefault("url_with_route_names", {})
        self.url_map = app.url_map
        # Plain lists rather than a MultiDict, grouped by name as url_for does.
        self.query: dict[str, list[str]] = {}
        for name, value in req.args.items(multi=True):
            if name in understood:
                self.query.setdefault(name, []).append(value)

    def path(self, endpoint: str, values: dict[str, Any]) -> str:
        key = (self.script_root, endpoint, *values.items())
        path = self.paths.get(key)
        if path is None:
            if len(self.paths) >= _PATHS_KEPT:  # record pages are many: start afresh rather than grow
                self.paths.clear()
            path = self.paths[key] = url_for(endpoint, **values)
        return path

    def url_with(self, endpoint: str | None, changes: dict[str, Any]) -> str:
        query = {name: values for name, values in self.query.items() if name != "page" or "page" in changes}
        view_args = self.view_args
        for name, value in changes.items():
            if name in view_args:
                view_args = {**view_args, name: value}
                continue
            query.pop(name, None)
            if value is None or value == "":
                continue
            query[name] = list(value) if isinstance(value, (list, tuple)) else [value]
        endpoint = endpoint or self.endpoint
        plain = all(type(value) in (str, int) for value in view_args.values())
        if not query:
            return self.path(endpoint, view_args) if plain else url_for(endpoint, **view_args)
        if (
            not plain
            or not self._path_only_arguments(endpoint).isdisjoint(query)
            or not view_args.keys().isdisjoint(query)
        ):
            return url_for(endpoint, **view_args, **query)
        path = self.path(endpoint, view_args)
        if "?" in path:  # a view argument the route does not take went into the query
            return url_for(endpoint, **view_args, **query)
        return (
            path + "?" + "&".join(_query_item(name, str(value)) for name, values in query.items() for value in values)
        )

    def _path_only_arguments(self, endpoint: str) -> frozenset[str]:
        """The names an endpoint's routes take in their path or defaults: a query
        parameter by such a name is left to url_for."""
        found = self.route_names.get(endpoint)
        if found is None:
            found = self.route_names[endpoint] = frozenset(
                name for rule in self.url_map.iter_rules(endpoint) for name in (*rule.arguments, *(rule.defaults or {}))
            )
        return found


def _links() -> _Links:
    """This request's ``_Links``, made again once the page has read another
    query parameter (the set of those read only grows)."""
    from web.edge import understood_parameters

    req = request._get_current_object()  # type: ignore[attr-defined]
    links = req.__dict__.get("_links")
    if links is None or len(links.read) != links.read_count:
        links = req.__dict__["_links"] = _Links(req, understood_parameters())
    return links
