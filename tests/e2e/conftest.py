"""A public site with data, served on a free port for the browser tests of the
public pages (the publishing flow builds its own, empty one)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from domain import clock
from extensions import db
from tests.builders import case_row, credit_code, listing_row, load
from tests.conftest import FIXED_TODAY
from tests.e2e.test_publish_flow import browser, free_port  # noqa: F401  (browser: a fixture for these tests too)

LISTED = "兰州鼎盛劳务有限公司"  # credit_code(2), in force
EXPIRED = "兰州示例到期劳务有限公司"  # credit_code(77), expired on 2026-01-10


@dataclass
class PublicSite:
    url: str
    app: Flask


@pytest.fixture
def public_site(tmp_path: Path, monkeypatch) -> Iterator[PublicSite]:
    """A case, a listing in force and an expired listing, on a free port."""
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
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield PublicSite(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


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
def list_site(tmp_path: Path, monkeypatch) -> Iterator[str]:
    """Twelve cases in four districts and two years, on a free port."""
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
        load("cases", case_rows())
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
