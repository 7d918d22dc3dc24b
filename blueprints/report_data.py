"""The bureau's own figures as the web sees them (work bulletins, gradings),
shared by their public pages and the API (a blueprint never imports another)."""

from __future__ import annotations

from typing import Any

from flask import abort, url_for

from blueprints.common import int_arg, paginate
from domain import bulletins
from models import Bulletin


def bulletin_url(bulletin: Bulletin) -> str:
    return url_for("bulletins.detail", id=bulletin.id, _external=True)


def bulletin_year_arg() -> int | None:
    return int_arg("year", minimum=2000, maximum=2100, label="年份")


def bulletin_page():
    return paginate(bulletins.published_statement(bulletin_year_arg()))


def bulletin_list_payload() -> dict[str, Any]:
    """The list envelope {"total", "page", "per_page", "results"} of the API and the .json twin."""
    page = bulletin_page()
    return {
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "results": [bulletins.bulletin_summary_dict(item, bulletin_url(item)) for item in page.items],
    }


def published_bulletin_or_404(bulletin_id: int) -> Bulletin:
    found = bulletins.find_published(bulletin_id)
    if found is None:
        abort(404)
    return found


def bulletin_payload(bulletin_id: int) -> dict[str, Any]:
    found = published_bulletin_or_404(bulletin_id)
    return bulletins.bulletin_dict(bulletins.compare(found), bulletin_url(found))
