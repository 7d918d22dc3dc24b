"""The real publishing flow in a real browser: an editor uploads a spreadsheet and
submits it, a publisher publishes it, and the public site and its search show it."""

from __future__ import annotations

import re

from config import LANZHOU_DISTRICTS
from domain.importing import ImportSettings, check_file
from tests.conftest import example_file
from tests.e2e.support import log_in


def test_editor_uploads_publisher_publishes_public_sees_it(site, browser):
    upload = example_file("cases-example.xlsx")
    report = check_file(upload.read_bytes(), upload.name, "cases", ImportSettings(LANZHOU_DISTRICTS, authority=""))
    names = [record["enterprise_name"] for record in report.records]
    assert names
    page = browser.new_page(viewport={"width": 1280, "height": 800})

    # The editor uploads the spreadsheet: it becomes a draft, which is not public.
    log_in(page, site, "wang")
    page.get_by_role("link", name="上传新批次").first.click()
    # Wait for the page's load event: htmx only listens once it has started.
    page.wait_for_url("**/admin/batches/upload")
    # The title is built from kind, year and number: changing the kind suggests
    # that kind's next number and shows the title as it will be published.
    page.get_by_label("类别").select_option("listings")
    page.locator(".title-preview").get_by_text("失信联合惩戒对象名单").wait_for()
    page.get_by_label("类别").select_option("cases")
    page.locator(".title-preview").get_by_text("重大劳动保障违法案件").wait_for()
    page.get_by_label("年份").fill("2026")
    page.get_by_label("批次号（第几批）").fill("1")
    page.get_by_label("文件（.xlsx 或 .csv）").set_input_files(str(upload))
    page.get_by_role("button", name="检查并保存为草稿").click()
    page.get_by_text(f"已保存为草稿批次（{len(names)}条）").wait_for()
    batch_url = page.url
    assert "/admin/batches/" in batch_url
    assert page.get_by_role("link", name=names[0]).count() == 1
    outsider = browser.new_page()
    outsider.goto(f"{site}/cases")
    assert names[0] not in outsider.content()
    outsider.close()
    page.get_by_role("button", name="提交审核").click()
    page.get_by_text("已提交审核").wait_for()
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{site}/admin/login")

    # A publisher reviews and publishes.
    log_in(page, site, "zhao")
    page.get_by_role("link", name="审核", exact=True).click()
    page.get_by_role("link", name="2026年第一批").click()
    page.get_by_role("button", name=re.compile(r"^确认发布 \d+ 条$")).click()
    page.get_by_text("公众现在可以看到").wait_for()
    page.get_by_role("link", name=names[0]).click()
    public_link = page.get_by_role("link", name="公开链接 ↗")
    case_url = public_link.get_attribute("href")

    # The public sees it on its page and finds it by name.
    public = browser.new_page(viewport={"width": 390, "height": 844})
    response = public.goto(f"{site}{case_url}")
    assert response.status == 200
    assert public.get_by_role("heading", name=names[0]).count() == 1
    public.goto(f"{site}/search?q={names[0]}")
    assert public.locator(f'a[href="{case_url}"]').count() >= 1
    public.goto(f"{site}/cases")
    assert names[0] in public.content()
