"""The blacklist check in a real browser, on a phone and on a desktop: a person
types a code into the box on the home page and reads the verdict card."""

from __future__ import annotations

import re

import pytest

from tests.builders import credit_code
from tests.conftest import FIXED_TODAY
from tests.e2e.conftest import EXPIRED, LISTED

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def ask(page, base: str, typed: str) -> str:
    """Type into the home page's box and submit; the verdict card's text."""
    page.goto(base + "/")
    page.get_by_role("searchbox").fill(typed)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**/check?q=*")
    return page.locator(".verdict").first.inner_text()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_verdict_card_for_each_kind_of_code(public_site, browser, viewport):
    site = public_site.url
    page = browser.new_page(viewport=viewport)
    as_of = f"截至{FIXED_TODAY.year}年{FIXED_TODAY.month}月{FIXED_TODAY.day}日"

    # Listed: the term, and the links elsewhere. Typed in lower case with spaces.
    code = credit_code(2)
    card = ask(page, site, f"{code[:6].lower()} {code[6:]}")
    assert f"{as_of}，该单位在兰州市人社局公布的失信联合惩戒对象名单中" in card
    assert LISTED in card and "届满日期" in card and "2028年6月30日" in card
    assert page.url.endswith(f"/check?q={code}")
    assert page.get_by_role("link", name="信用中国").get_attribute("href") == "https://www.creditchina.gov.cn/"
    assert page.get_by_role("link", name="国家企业信用信息公示系统").count() == 1

    # Expired: not on the list, and nothing of the expired listing is shown.
    card = ask(page, site, credit_code(77))
    assert f"{as_of}，该单位不在兰州市人社局公布的失信联合惩戒对象名单中" in card
    assert EXPIRED not in page.content() and "兰人社失信〔2023〕7号" not in page.content()
    assert "未找到≠无失信记录" in card

    # Valid, never heard of: the same answer, and where else to look.
    card = ask(page, site, credit_code(4242))
    assert "该单位不在" in card and "本站没有该单位的公开记录" in card

    # Invalid: which character is wrong, marked.
    card = ask(page, site, "91620100MA000000I1")
    assert "代码有误" in card and "第17位“I”是不允许的字符" in card
    assert page.locator(".code-typed mark").inner_text() == "I"

    # The card fits the screen: no sideways scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.close()


def test_verdict_prints_as_a_dated_page(public_site, browser):
    site = public_site.url
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{site}/check?q={credit_code(2)}")
    page.emulate_media(media="print")
    assert not page.locator(".main-nav").is_visible()
    assert not page.locator("form.check-box").is_visible()
    assert page.locator(".verdict-meta").inner_text().startswith("查询时间：")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) == 1  # one page
    page.close()
