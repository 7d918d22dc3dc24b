"""The strict Content-Security-Policy in a real browser: the main pages raise no
CSP violation (nor any script error), and htmx still swaps results in place."""

from __future__ import annotations

from tests.builders import credit_code
from tests.e2e.support import log_in

PAGES = [
    "/",
    "/cases",
    "/listings",
    "/batches",
    "/search?q=建筑",
    f"/check?q={credit_code(2)}",
    f"/enterprises/{credit_code(2)}",
    "/hotlines",
    "/about",
    "/api",
    "/objections",
    "/objections/lookup",
    "/statistics",
    "/bulletins",
    "/gradings",
    "/admin/login",
    "/nowhere",
]


def watch(page) -> list[str]:
    """Console errors (a CSP violation is one) and uncaught script errors."""
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_main_pages_raise_no_csp_violation(public_site, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    problems = watch(page)
    for path in PAGES:
        response = page.goto(public_site.url + path)
        assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
    csp = [text for text in problems if "Content Security Policy" in text or "Refused to" in text]
    assert csp == []
    # the only console errors allowed are the failed loads of the 404 page itself
    assert [text for text in problems if "404" not in text] == []
    page.close()


def test_htmx_still_swaps_results_under_the_policy(public_site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems = watch(page)
    page.goto(public_site.url + "/cases")
    page.wait_for_function("window.htmx !== undefined")
    marker = page.evaluate(
        "() => { document.body.dataset.loadedOnce = 'yes'; return document.body.dataset.loadedOnce; }"
    )
    with page.expect_request(lambda request: request.headers.get("hx-request") == "true") as fragment:
        page.locator("#filter-form select[name=district]").select_option("城关区")
    assert "district=" in fragment.value.url
    page.wait_for_url("**/cases?district=*")
    # swapped in place: the page was not reloaded
    assert page.evaluate("() => document.body.dataset.loadedOnce") == marker
    assert [text for text in problems if "Content Security Policy" in text or "Refused to" in text] == []
    page.close()


def test_staff_pages_raise_no_csp_violation(site, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    problems = watch(page)
    log_in(page, site, "zhao")
    for path in (
        "/admin/",
        "/admin/batches",
        "/admin/batches/upload",
        "/admin/review",
        "/admin/listings",
        "/admin/password",
    ):
        response = page.goto(site + path)
        assert response is not None and response.status == 200, path
        page.wait_for_load_state("load")
    assert problems == []
    page.close()
