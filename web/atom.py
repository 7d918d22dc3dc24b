"""The Atom response shared by the feeds and the search page's twin: the feed
document from ``domain.feeds`` with this site's titles and absolute links."""

from __future__ import annotations

from flask import Response, current_app, request

from domain import campaigns, feeds, queries

ATOM_TYPE = "application/atom+xml; charset=utf-8"


def atom_response(body: bytes) -> Response:
    response = Response(body, content_type=ATOM_TYPE)
    # Readers poll; a takedown must reach them at their next poll, not later.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def external(path: str) -> str:
    return request.host_url.rstrip("/") + path


def site_title(kind: str, filters=None) -> str:
    config = current_app.config
    title = f"{config['CITY_NAME']}{config['SITE_NAME']}：{kind}"
    described = describe(filters) if filters is not None else ""
    return f"{title}（{described}）" if described else title


def describe(filters) -> str:
    """The active filters in words, for a feed's title."""
    words = []
    for name, value in filters.active().items():
        if name == "year":
            words.append(f"{value}年")
        elif name == "batch":
            words.append(f"批次{value}")
        elif name == "police":
            words.append("已移送公安机关" if value else "未移送公安机关")
        elif name == "kind":
            words.append(queries.BATCH_KINDS.get(value, value))
        elif name == "campaign":
            found = campaigns.get(value)
            words.append(f"专项行动{found.name if found else value}")
        else:
            words.append(str(value))
    return "、".join(words)


def feed(*, title: str, subtitle: str, self_path: str, page_path: str, entries) -> Response:
    self_url = external(self_path)
    return atom_response(
        feeds.atom(
            feed_id=self_url,
            title=title,
            subtitle=subtitle,
            self_url=self_url,
            page_url=external(page_path),
            author=current_app.config["AUTHORITY_NAME"],
            entries=entries,
        )
    )
