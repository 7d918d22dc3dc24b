"""Accessibility, measured: an axe-core audit (axe-playwright-python) of every public
page in Chromium at phone and desktop size, with no serious or critical violation;
sortable column headings say how the list is sorted; a new result count is announced."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models import Batch, Case, Listing
from tests.builders import credit_code
from tests.e2e.conftest import EXPIRED

BLOCKING = ("serious", "critical")


def public_pages(app) -> list[str]:
    """Every kind of public page, with real ids (404 and 410 pages included)."""
    with app.app_context():
        case = db.session.scalar(select(Case))
        listed = db.session.scalar(select(Listing).where(Listing.enterprise_name != EXPIRED))
        expired = db.session.scalar(select(Listing).where(Listing.enterprise_name == EXPIRED))
        batch = db.session.scalar(select(Batch))
        ids = (case.id, listed.id, expired.id, batch.id)
    case_id, listing_id, expired_id, batch_id = ids
    return [
        "/",
        "/cases",
        f"/cases/{case_id}",
        "/listings",
        f"/listings/{listing_id}",
        f"/listings/{expired_id}",  # 410: taken down
        "/batches",
        f"/batches/{batch_id}",
        f"/enterprises/{credit_code(2)}",
        "/search",
        "/search?q=%E5%85%B0%E5%B7%9E",
        "/search?q=%E5%85%B0",  # too short: a message
        f"/check?q={credit_code(2)}",
        "/check?q=91620100MA000000I1",  # an invalid code
        "/hotlines",
        "/about",
        "/api",
        "/objections",
        "/objections/lookup",
        f"/objections/new/cases/{case_id}",
        "/statistics",
        "/bulletins",
        "/gradings",
        "/no-such-page",  # 404
    ]


@pytest.mark.parametrize(
    "viewport", [{"width": 390, "height": 844}, {"width": 1280, "height": 800}], ids=["phone", "desktop"]
)
def test_axe_finds_no_serious_or_critical_violation_on_any_public_page(public_site, browser, viewport):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    page = browser.new_page(viewport=viewport)
    problems = []
    for path in public_pages(public_site.app):
        page.goto(public_site.url + path)
        page.wait_for_load_state("networkidle")
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [node["target"] for node in violation["nodes"]][:3]
                problems.append((path, violation["impact"], violation["id"], targets))
    page.close()
    assert problems == []


def test_sorted_column_headings_carry_aria_sort(public_site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(public_site.url + "/cases")
    assert page.locator("thead th[aria-sort]").count() == 1
    assert page.locator('thead th[aria-sort="descending"]').inner_text().startswith("决定日期")
    page.locator("thead").get_by_role("link", name="涉及金额").click()
    page.wait_for_url("**sort=-amount*")
    page.wait_for_load_state("networkidle")
    assert page.locator('thead th[aria-sort="descending"]').inner_text().startswith("涉及金额")
    assert page.locator("thead a[aria-sort]").count() == 0  # on the heading, not the link
    page.close()


def test_a_new_result_count_is_announced(list_site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(list_site + "/cases")
    announcer = page.locator("#live-count")
    assert announcer.get_attribute("aria-live") == "polite" and announcer.get_attribute("role") == "status"
    assert announcer.inner_text() == ""  # the first count is read with the page
    page.locator("#f-district").select_option("城关区")
    page.wait_for_url("**district=*")
    expect(announcer).to_contain_text("共")  # (no wait_for_function: the CSP forbids eval)
    assert announcer.inner_text().startswith("共 3 件案件")
    assert page.locator("#live-count").count() == 1  # the same live region, filled again

    page.goto(list_site + "/search")
    page.locator("#q").type("建筑")
    expect(page.locator("#live-count")).to_contain_text("共找到")
    assert "“建筑”共找到 6 条" in page.locator("#live-count").inner_text()
    page.close()
