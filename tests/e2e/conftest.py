"""Fixtures of the browser tests: the browser, and the sites they drive (each
served on a free port with its own database and index; tests/e2e/support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from domain import accounts, clock
from extensions import db
from tests.builders import case_row, credit_code, listing_row, load
from tests.conftest import FIXED_TODAY
from tests.e2e.support import CHROMIUM, LAUNCH_ARGS, PASSWORD, served_site


@pytest.fixture(autouse=True)
def needs_chromium(monkeypatch) -> None:
    """Skip without a browser; every site here runs on the tests' fixed day."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (the CI installs Debian's package)")
    monkeypatch.setattr(clock, "today", lambda: FIXED_TODAY)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """An empty site with an editor (wang) and a publisher (zhao)."""

    def fill(app: Flask) -> None:
        accounts.create_user("wang", "editor", PASSWORD)
        accounts.create_user("zhao", "publisher", PASSWORD)
        db.session.commit()

    with served_site(tmp_path, fill) as (url, _app):
        yield url


LISTED = "兰州鼎盛劳务有限公司"  # credit_code(2), in force
EXPIRED = "兰州示例到期劳务有限公司"  # credit_code(77), expired on 2026-01-10


@dataclass
class PublicSite:
    url: str
    app: Flask


@pytest.fixture
def public_site(tmp_path: Path) -> Iterator[PublicSite]:
    """A case, a listing in force and an expired listing."""

    def fill(app: Flask) -> None:
        load("cases", [case_row()])
        load(
            "listings",
            [
                listing_row(),
                listing_row(
                    单位名称=EXPIRED,
                    统一社会信用代码=credit_code(77),
                    决定文书号="兰人社失信〔2023〕7号",
                    列入日期="2023-01-10",
                ),
            ],
        )

    with served_site(tmp_path, fill) as (url, app):
        yield PublicSite(url, app)


DISTRICTS = ["城关区", "七里河区", "西固区", "安宁区"]


def case_rows() -> list[dict]:
    rows = []
    for n in range(12):
        rows.append(
            case_row(
                违法主体名称=f"兰州示例{'建筑' if n % 2 else '劳务'}第{n}有限公司",
                统一社会信用代码=credit_code(100 + n),
                区县=DISTRICTS[n % 4],
                决定日期=f"{2024 + n % 2}-0{1 + n % 9}-1{n % 9}",
                文书编号=f"兰劳监〔2025〕{n}号",
            )
        )
    return rows


@pytest.fixture
def list_site(tmp_path: Path) -> Iterator[str]:
    """Twelve cases in four districts and two years."""
    with served_site(tmp_path, lambda app: load("cases", case_rows())) as (url, _app):
        yield url
