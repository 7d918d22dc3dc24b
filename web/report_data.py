"""The bureau's own figures as the web sees them (work bulletins, A/B/C gradings),
shared by their public pages and the API (a blueprint never imports another)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, url_for

from domain import bulletins, gradings
from models import Bulletin
from web.common import choice_arg, int_arg, paginate


def bulletin_url(bulletin: Bulletin) -> str:
    return url_for("bulletins.detail", id=bulletin.id, _external=True)


def bulletin_year_arg() -> int | None:
    return int_arg("year", minimum=2000, maximum=2100, label="年份")


def bulletin_page():
    return paginate(bulletins.published_statement(bulletin_year_arg()))


def bulletin_list_payload() -> dict[str, Any]:
    """The list envelope {"total", "page", "per_page", "results"} of the API and the .json twin."""
    page = bulletin_page()
    counts = bulletins.indicator_counts(page.items)
    return {
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "results": [
            bulletins.bulletin_summary_dict(item, bulletin_url(item), counts.get(item.id, 0)) for item in page.items
        ],
    }


def published_bulletin_or_404(bulletin_id: int) -> Bulletin:
    found = bulletins.find_published(bulletin_id)
    if found is None:
        abort(404)
    return found


def bulletin_payload(bulletin_id: int) -> dict[str, Any]:
    found = published_bulletin_or_404(bulletin_id)
    return bulletins.bulletin_dict(bulletins.compare(found), bulletin_url(found))


# --- gradings ------------------------------------------------------------------------------


def grading_year_arg() -> int | None:
    return int_arg("year", minimum=2000, maximum=2100, label="年度")


def grading_grade_arg(allowed: tuple[str, ...]) -> str | None:
    return choice_arg("grade", allowed, label="等级")


def published_grading_or_404():
    """The published results of the requested year (default: the latest), or a 404
    with a message when the setting publishes nothing or there are none."""
    config = current_app.config
    if not gradings.counts_public(config):
        abort(404, description="本市未向社会公开劳动保障守法诚信等级评价结果。")
    year = grading_year_arg()
    run = gradings.published_run(year)
    if run is None:
        abort(404, description=f"没有已发布的{year}年度等级评价结果。" if year else "还没有已发布的等级评价结果。")
    return run


def grading_payload(run) -> dict[str, Any]:
    """The API's answer: {"year", "counts": {"A", "B", "C"}, "districts", "results"}
    with one page of the results the setting lets the public see."""
    config = current_app.config
    allowed = gradings.visible_grades(config)
    grade = grading_grade_arg(allowed or gradings.GRADES)
    page = paginate(gradings.results_statement(run, allowed, grade))
    return {
        **gradings.year_dict(run, config["DISTRICTS"], config),
        "years": gradings.published_years(),
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "results": [gradings.result_dict(result) for result in page.items],
    }
