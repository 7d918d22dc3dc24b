"""The work bulletin and grading pages on a small phone (360 and 390 px) and on a
desktop, held to the rules of the other public pages (tests/e2e/test_phone_layout):
every control a 44 px touch target, numbers on one line, tables as cards below
600 px, nothing wider than the screen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from domain import gradings
from domain.sample_reports import load_sample_bulletins
from extensions import db
from models import Bulletin
from tests.builders import case_row, credit_code, load
from tests.conftest import FIXED_TODAY
from tests.e2e.support import served_site
from tests.e2e.test_phone_layout import MEASURE, TARGETS

REPORT_TARGETS = TARGETS + ", .year-links a, .bulletin-filter select, .bulletin-filter button"


@pytest.fixture
def report_site(tmp_path: Path) -> Iterator[tuple[str, int]]:
    bulletin_ids = []

    def fill(app: Flask) -> None:
        load("cases", [case_row()])
        load_sample_bulletins()
        bulletin_ids.append(db.session.scalar(select(Bulletin.id).where(Bulletin.year == 2020)))
        rows = [
            {"enterprise_name": f"兰州示例{n}号建筑工程有限公司", "credit_code": credit_code(300 + n), "grade": "ABC"[n % 3],
             "graded_on": FIXED_TODAY.replace(month=1, day=5)}
            for n in range(30)
        ]  # fmt: skip
        for year in (2024, 2025):
            run = gradings.create_run(year=year, rows=rows, authority="局", district_codes=app.config["DISTRICT_CODES"])
            gradings.publish(run, None, four_eyes=False)
        db.session.commit()

    with served_site(tmp_path, fill) as (url, _app):
        yield url, bulletin_ids[0]


@pytest.mark.parametrize("width", [360, 390, 1280])
def test_report_pages_fit_and_are_easy_to_touch(report_site, browser, width):
    url, bulletin_id = report_site
    page = browser.new_page(viewport={"width": width, "height": 844 if width < 600 else 800})
    for path in ("/bulletins", f"/bulletins/{bulletin_id}", "/gradings", "/gradings?year=2024"):
        page.goto(url + path)
        page.wait_for_load_state("networkidle")
        found = page.evaluate(MEASURE, REPORT_TARGETS)
        assert found["small"] == [], (path, found["small"])
        assert found["broken"] == [], (path, found["broken"])
        assert found["navOutside"] == 0 and found["overflow"] <= 0, (path, found["overflow"])
        if width < 600:
            assert set(found["rows"]) <= {"block"}, (path, "tables become cards")
        else:
            assert set(found["rows"]) <= {"table-row"}, path
    page.close()


def test_the_year_filter_works_without_javascript(report_site, browser):
    url, _ = report_site
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(url + "/bulletins")
    page.select_option("#bulletin-year", "2019")
    page.click(".bulletin-filter button")
    page.wait_for_load_state()
    assert "year=2019" in page.url
    assert page.locator("table.records tbody tr").count() == 1
    context.close()


@pytest.mark.parametrize("width", [390, 1280])
def test_axe_finds_no_serious_or_critical_violation(report_site, browser, width):
    from axe_playwright_python.sync_playwright import Axe

    url, bulletin_id = report_site
    axe = Axe()
    page = browser.new_page(viewport={"width": width, "height": 844 if width < 600 else 800})
    problems = []
    for path in ("/bulletins", f"/bulletins/{bulletin_id}", "/gradings?year=2024"):
        page.goto(url + path)
        page.wait_for_load_state("networkidle")
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(
                    (path, violation["impact"], violation["id"], [n["target"] for n in violation["nodes"]][:3])
                )
    page.close()
    assert problems == []
