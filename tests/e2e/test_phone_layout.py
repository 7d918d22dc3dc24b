"""The public pages on a small phone (360 and 390 px) and on a desktop: every area
of the nav in sight, touch targets of at least 44 px, dates, amounts and codes on
one line, tables as cards below 600 px, nothing wider than the screen."""

from __future__ import annotations

import pytest

PAGES = [
    "/",
    "/cases?per_page=5&district=%E5%9F%8E%E5%85%B3%E5%8C%BA",
    "/listings",
    "/batches",
    "/search?q=%E5%85%B0%E5%B7%9E%E7%A4%BA%E4%BE%8B&per_page=5&year=2024",
    "/hotlines",
    "/about",
]

# Links and controls outside running text: each must be a 44 px touch target.
TARGETS = (
    ".main-nav a, .facet a, .sort-menu > summary, .sort-links a, .sort-links strong, .pagination a, .site-footer a, .chips a,"
    " .downloads a, .search-tabs a, .filter-toggle > summary, .filters select, .filters button, .check-box button"
)

MEASURE = """(targets) => {
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const small = [...document.querySelectorAll(targets)].filter(visible)
    .map((el) => [el.textContent.trim().slice(0, 12), Math.round(el.getBoundingClientRect().height)])
    .filter(([, height]) => height < 44);
  const lines = (el) => {  // the lines its text is laid out on
    const range = document.createRange(); range.selectNodeContents(el);
    const rects = [...range.getClientRects()].filter((r) => r.width > 0).sort((a, b) => a.top - b.top);
    let count = 0, bottom = -Infinity;
    for (const r of rects) {
      if (r.top >= bottom - 2) { count += 1; bottom = r.bottom; } else { bottom = Math.max(bottom, r.bottom); }
    }
    return count;
  };
  const broken = [...document.querySelectorAll('time, .num, .code')].filter(visible)
    .filter((el) => lines(el) > 1).map((el) => el.textContent.trim());
  const nav = [...document.querySelectorAll('.main-nav a')].map((el) => el.getBoundingClientRect());
  return {
    small, broken,
    navOutside: nav.filter((r) => r.left < 0 || r.right > window.innerWidth).length,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    rows: [...document.querySelectorAll('table.records tbody tr')].map((tr) => getComputedStyle(tr).display),
    wrap: [...document.querySelectorAll('table.records')].map((t) => getComputedStyle(t).overflowWrap),
  };
}"""


@pytest.mark.parametrize("width", [360, 390, 1280])
def test_public_pages_fit_and_are_easy_to_touch(list_site, browser, width):
    page = browser.new_page(viewport={"width": width, "height": 844 if width < 600 else 800})
    for path in PAGES:
        page.goto(list_site + path)
        page.wait_for_load_state("networkidle")
        toggle = page.locator(".filter-toggle")
        if toggle.count() and not toggle.evaluate("details => details.open"):
            toggle.locator("> summary").click()  # measure the facets and filters too
        found = page.evaluate(MEASURE, TARGETS)
        assert found["small"] == [], (path, found["small"])
        assert found["broken"] == [], (path, found["broken"])
        assert found["navOutside"] == 0 and found["overflow"] <= 0, path
        assert set(found["wrap"]) <= {"normal"}, path
        if width < 600:
            assert set(found["rows"]) <= {"block"}, (path, "tables become cards")
        else:
            assert set(found["rows"]) <= {"table-row"}, path
    page.close()


def test_the_nav_shows_every_area_at_360(list_site, browser):
    page = browser.new_page(viewport={"width": 360, "height": 740})
    page.goto(list_site + "/cases")
    links = page.locator(".main-nav a")
    assert links.count() >= 6
    for index in range(links.count()):
        assert links.nth(index).is_visible()
        box = links.nth(index).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["height"] >= 44
    page.close()
