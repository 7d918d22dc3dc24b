"""The one way to do each web chore: htmx detection, full-page-or-fragment
rendering, typed query parameters, pagination, file downloads and query-string
building."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from flask import (
    Request,
    Response,
    current_app,
    g,
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


def url_with(endpoint: str | None = None, **changes: Any) -> str:
    """The current URL with some query parameters changed; None or "" removes one.
    Changing anything but the page goes back to page 1. Only the parameters the
    page understands (those it has read) are carried: junk in a URL is not
    repeated into every link on the page."""
    from web.edge import understood_parameters

    # Plain lists rather than a MultiDict: a search page builds some fifty links.
    understood = understood_parameters()
    if "page" not in changes:
        understood.discard("page")
    query: dict[str, list[Any]] = {}
    for name, value in request.args.items(multi=True):
        if name in understood:
            query.setdefault(name, []).append(value)
    view_args = dict(request.view_args or {})
    for name, value in changes.items():
        if name in view_args:
            view_args[name] = value
            continue
        query.pop(name, None)
        if value is None or value == "":
            continue
        query[name] = list(value) if isinstance(value, (list, tuple)) else [value]
    return _url(endpoint or request.endpoint, view_args, query)


# Query-string encoding as werkzeug's URL building does it (werkzeug.urls._urlencode).
_QUERY_SAFE = "!$'()*,/:;?@"


def _url(endpoint: str, view_args: dict[str, Any], query: dict[str, list[Any]]) -> str:
    """``url_for(endpoint, **view_args, **query)``, with the path looked up once
    per request and endpoint: routing builds the same path for every link of a
    page, and a search page has some fifty."""
    if not query or not _path_only_arguments(endpoint).isdisjoint(query) or not view_args.keys().isdisjoint(query):
        return url_for(endpoint, **view_args, **query)
    paths = g.setdefault("url_with_paths", {})
    key = (request.script_root, endpoint, *view_args.items())  # g may outlive one request in tests
    path = paths.get(key) if all(isinstance(value, (str, int)) for value in view_args.values()) else "?"
    if path is None:
        path = paths[key] = url_for(endpoint, **view_args)
    if "?" in path:  # a view argument the route does not take went into the query
        return url_for(endpoint, **view_args, **query)
    items = [(name, value) for name, values in query.items() for value in values]
    return f"{path}?{urlencode(items, safe=_QUERY_SAFE)}" if items else path


def _path_only_arguments(endpoint: str) -> frozenset[str]:
    """The names an endpoint's routes take in their path or defaults: a query
    parameter by such a name is left to url_for."""
    names = current_app.extensions.setdefault("url_with_route_names", {})
    found = names.get(endpoint)
    if found is None:
        found = names[endpoint] = frozenset(
            name
            for rule in current_app.url_map.iter_rules(endpoint)
            for name in (*rule.arguments, *(rule.defaults or {}))
        )
    return found
