"""Active search and list filters in a real browser: Chinese typed through an input
method sends nothing until it is committed, typing replaces the address instead of
filling the history, a dropdown asks once per choice, Back shows every control as
it was, and the active filters are chips above the results."""

from __future__ import annotations

import pytest

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def requests_to(page, path: str) -> list[str]:
    """The URLs the page asks for under ``path`` from now on (a live list)."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if path in request.url else None)
    return seen


def settle(page, ms: int = 900) -> None:
    page.wait_for_timeout(ms)
    page.wait_for_load_state("networkidle")


def test_input_method_composition_sends_nothing_until_committed(list_site, browser):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{list_site}/search")
    page.wait_for_load_state("networkidle")
    history_before = page.evaluate("history.length")
    asked = requests_to(page, "/search?")
    box = page.locator("#q")
    box.focus()
    # A pinyin input method: the letters are composed, then 兰州 is committed.
    cdp = page.context.new_cdp_session(page)
    for text in ["l", "la", "lan", "lanz", "lanzh", "lanzho", "lanzhou"]:
        cdp.send("Input.imeSetComposition", {"text": text, "selectionStart": len(text), "selectionEnd": len(text)})
        page.wait_for_timeout(60)
    settle(page, 700)
    assert asked == [], "no request while composing"
    cdp.send("Input.insertText", {"text": "兰州"})
    settle(page)
    assert box.input_value() == "兰州"
    assert len(asked) == 1 and "q=%E5%85%B0%E5%B7%9E" in asked[0]
    assert page.url.endswith("/search?q=%E5%85%B0%E5%B7%9E")
    assert page.evaluate("history.length") == history_before, "typing replaces the address"
    assert "共找到" in page.locator("#search-results").inner_text()
    assert "请至少输入两个字" not in page.content()
    page.close()


def test_typing_replaces_the_address_and_one_character_waits(list_site, browser):
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{list_site}/search")
    page.wait_for_load_state("networkidle")
    history_before = page.evaluate("history.length")
    asked = requests_to(page, "/search?")
    page.locator("#q").type("建")
    settle(page)
    assert asked == [] and "请至少输入两个字" not in page.content()
    page.locator("#q").type("筑")
    settle(page)
    assert len(asked) == 1 and page.url.endswith("/search?q=%E5%BB%BA%E7%AD%91")
    page.locator("#q").type("第1")
    settle(page)
    assert page.evaluate("history.length") == history_before
    # Pressing 搜索 is a deliberate step: that one goes into the history.
    page.get_by_role("button", name="搜索").click()
    settle(page)
    assert page.evaluate("history.length") == history_before + 1
    page.close()


def test_back_restores_every_filter_control(list_site, browser):
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{list_site}/cases")
    district, year = page.locator("#f-district"), page.locator("#f-year")
    district.select_option("城关区")
    page.wait_for_url("**/cases?district=*")
    year.select_option("2024")
    page.wait_for_url("**year=2024*")
    settle(page, 300)
    assert "共 <strong>" in page.content()

    page.go_back()
    page.wait_for_url(lambda url: "year=" not in url and "district=" in url)
    settle(page, 300)
    assert district.input_value() == "城关区" and year.input_value() == ""
    page.go_back()
    page.wait_for_url(lambda url: url.endswith("/cases"))
    settle(page, 300)
    assert district.input_value() == "" and year.input_value() == ""
    page.go_forward()
    page.wait_for_url(lambda url: "district=" in url and "year=" not in url)
    settle(page, 300)
    assert district.input_value() == "城关区" and year.input_value() == ""
    page.go_forward()
    page.wait_for_url("**year=2024*")
    settle(page, 300)
    assert district.input_value() == "城关区" and year.input_value() == "2024"
    assert page.locator("#results .chips").inner_text().count("✕") == 2
    page.close()


def test_back_restores_the_search_box_and_its_filters(list_site, browser):
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{list_site}/search")
    page.locator("#q").type("兰州示例")
    page.wait_for_url("**q=*")
    settle(page)
    page.locator("#search-facets").get_by_role("link", name="城关区").click()
    page.wait_for_url("**district=*")
    settle(page, 300)
    page.locator("#q").fill("")
    page.locator("#q").type("建筑")
    settle(page)
    assert "q=%E5%BB%BA%E7%AD%91" in page.url and "district=" in page.url
    page.go_back()  # the typing replaced its entry: back to 兰州示例 without a district
    page.wait_for_url(lambda url: "district=" not in url)
    settle(page, 300)
    assert page.locator("#q").input_value() == "兰州示例"
    page.close()


def test_a_dropdown_asks_once_per_choice_not_per_arrow_key(list_site, browser):
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{list_site}/cases")
    page.wait_for_load_state("networkidle")
    history_before = page.evaluate("history.length")
    asked = requests_to(page, "/cases?")
    page.locator("#f-district").focus()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
        page.wait_for_timeout(100)
    assert asked == []
    page.keyboard.press("Enter")
    settle(page, 400)
    assert len(asked) == 1 and "district=" in asked[0]
    assert page.evaluate("history.length") == history_before + 1
    # Moving on and pausing applies the choice too, once.
    for _ in range(2):
        page.keyboard.press("ArrowDown")
    settle(page, 1500)
    assert len(asked) == 2
    page.keyboard.press("Tab")
    settle(page, 300)
    assert len(asked) == 2 and page.evaluate("history.length") == history_before + 2
    page.close()


def test_active_filters_are_removable_chips_with_and_without_javascript(list_site, browser):
    for javascript in (True, False):
        context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
        page = context.new_page()
        page.goto(f"{list_site}/cases?district=%E5%9F%8E%E5%85%B3%E5%8C%BA&year=2024")
        chips = page.locator("#results .chips")
        assert chips.is_visible()
        # the chips come before the rows
        assert chips.bounding_box()["y"] < page.locator("table.records").bounding_box()["y"]
        chips.get_by_role("link", name="城关区 ✕").click()
        page.wait_for_url(lambda url: "district=" not in url and "year=2024" in url)
        settle(page, 300)
        assert page.locator("#results .chips").inner_text().count("✕") == 1
        context.close()


def test_a_new_query_says_which_filters_still_apply(list_site, browser):
    page = browser.new_page(viewport=PHONE)
    page.goto(f"{list_site}/search?q=%E5%85%B0%E5%B7%9E%E7%A4%BA%E4%BE%8B&district=%E5%9F%8E%E5%85%B3%E5%8C%BA")
    note = page.locator(".active-filters")
    assert "只在以下条件中搜索“兰州示例”" in note.inner_text() and "城关区 ✕" in note.inner_text()
    # on a phone the chips are on the first screen, above the results
    assert note.bounding_box()["y"] < page.locator(".search-hits").bounding_box()["y"] < 844 * 2
    page.locator("#q").fill("")
    page.locator("#q").type("建筑")
    settle(page)
    note = page.locator(".active-filters")
    assert "只在以下条件中搜索“建筑”" in note.inner_text() and "城关区 ✕" in note.inner_text()
    note.get_by_role("link", name="城关区 ✕").click()
    page.wait_for_url(lambda url: "district=" not in url)
    settle(page, 300)
    assert page.locator(".active-filters").count() == 0
    page.close()


@pytest.mark.parametrize("path", ["/cases", "/search?q=%E5%BB%BA%E7%AD%91"])
def test_filters_fold_behind_one_button_on_a_phone(list_site, browser, path):
    page = browser.new_page(viewport=PHONE)
    page.goto(list_site + path)
    panel = page.locator(".filter-toggle")
    inside = panel.locator("form, nav").first
    assert not inside.is_visible()
    summary = panel.locator("> summary")
    assert summary.is_visible() and summary.bounding_box()["height"] >= 44
    # the results start on the first screen
    assert page.locator(".result-count").bounding_box()["y"] < 844
    summary.click()
    assert inside.is_visible()
    page.close()

    page = browser.new_page(viewport=DESKTOP)
    page.goto(list_site + path)
    assert page.locator(".filter-toggle").locator("form, nav").first.is_visible()
    assert not page.locator(".filter-toggle > summary").is_visible()
    page.close()
    # without JavaScript on a wide screen the panel is open too (::details-content)
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    page = context.new_page()
    page.goto(list_site + path)
    assert page.locator(".filter-toggle").locator("form, nav").first.is_visible()
    context.close()
