"""The real publishing flow in a real browser: an editor uploads a spreadsheet and
submits it, a publisher publishes it, and the public site and its search show it.

Headless Chromium from the operating system's packages, driven by Playwright's
Python client (``playwright install`` is not needed)."""

from __future__ import annotations

import re
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from config import LANZHOU_DISTRICTS
from domain import accounts, clock
from domain.importing import ImportSettings, check_file
from extensions import db
from tests.conftest import FIXED_TODAY, example_file

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (the CI installs Debian's package)")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "correct-horse-battery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def site(tmp_path: Path, monkeypatch) -> Iterator[str]:
    """The application served on a free port, with its own database and index."""
    monkeypatch.setattr(clock, "today", lambda: FIXED_TODAY)
    app = create_app(
        {
            "SECRET_KEY": "e2e",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
            "SEARCH_INDEX_DIR": str(tmp_path / "index"),
            "SAMPLE_DATA": False,
        }
    )
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        db.create_all()
        accounts.create_user("wang", "editor", PASSWORD)
        accounts.create_user("zhao", "publisher", PASSWORD)
        db.session.commit()
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/admin/")


def test_editor_uploads_publisher_publishes_public_sees_it(site, browser):
    upload = example_file("cases-example.xlsx")
    report = check_file(upload.read_bytes(), upload.name, "cases", ImportSettings(LANZHOU_DISTRICTS, authority=""))
    names = [record["enterprise_name"] for record in report.records]
    assert names
    page = browser.new_page(viewport={"width": 1280, "height": 800})

    # The editor uploads the spreadsheet: it becomes a draft, which is not public.
    log_in(page, site, "wang")
    page.get_by_role("link", name="上传新批次").first.click()
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
