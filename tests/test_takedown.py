"""Takedown (第45号令 第十七条, done at once): a listing leaves every public page,
export and API answer on its expiry date, and was there the day before; removed,
revoked and withdrawn records leave a 410 notice without the enterprise name."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from extensions import db
from models import Case, Listing
from tests.builders import case_row, credit_code, listing_row, load

NAME = "兰州示例到期劳务有限公司"
CODE = credit_code(77)


@pytest.fixture
def listing(app) -> Listing:
    batch = load(
        "listings",
        [
            listing_row(单位名称=NAME, 统一社会信用代码=CODE, 列入日期="2024-03-15", **{"期限（年）": "3"}),
            listing_row(决定文书号="兰人社失信〔2025〕9号"),  # another one that stays
        ],
    )
    return db.session.scalar(select(Listing).where(Listing.batch_id == batch.id, Listing.enterprise_name == NAME))


def everywhere(client, listing: Listing) -> dict[str, bool]:
    """Where the listing shows up (True) across the public site."""
    return {
        "list": NAME in client.get("/listings").text,
        "detail": client.get(f"/listings/{listing.id}").status_code == 200,
        "enterprise": client.get(f"/enterprises/{CODE}").status_code == 200,
        "batch": NAME in client.get(f"/batches/{listing.batch_id}").text,
        "csv": NAME in client.get("/listings.csv").get_data(as_text=True),
        "batch_csv": NAME in client.get(f"/batches/{listing.batch_id}.csv").get_data(as_text=True),
        "json": NAME in client.get("/listings.json").get_data(as_text=True),
        "api_list": NAME in client.get("/api/v1/listings").get_data(as_text=True),
        "api_detail": client.get(f"/api/v1/listings/{listing.id}").status_code == 200,
        "api_enterprise": client.get(f"/api/v1/enterprises/{CODE}").status_code == 200,
        "api_batch": NAME in client.get(f"/api/v1/batches/{listing.batch_id}").get_data(as_text=True),
        "home_count": "<strong>2</strong><span>目前在列的失信名单（条）" in client.get("/").text,
    }


def test_listing_vanishes_on_its_expiry_date(client, set_today, listing):
    assert listing.expires_on == dt.date(2027, 3, 15)
    set_today(dt.date(2027, 3, 14))
    assert all(everywhere(client, listing).values()), everywhere(client, listing)

    set_today(dt.date(2027, 3, 15))
    assert not any(everywhere(client, listing).values()), everywhere(client, listing)
    detail = client.get(f"/listings/{listing.id}")
    assert detail.status_code == 410
    assert "期限已届满" in detail.text and NAME not in detail.text
    api = client.get(f"/api/v1/listings/{listing.id}")
    assert api.status_code == 410
    assert api.get_json()["error"]["reason"] == "expired"
    assert client.get(f"/enterprises/{CODE}").status_code == 404
    # the other listing of the batch stays
    assert "兰州鼎盛劳务有限公司" in client.get("/listings").text


@pytest.mark.parametrize(
    "status, fields, label",
    [
        ("removed", {"removed_on": dt.date(2026, 10, 1), "removal_reason": "信用修复"}, "提前移出"),
        ("revoked", {"revoked_on": dt.date(2026, 10, 1), "revocation_reason": "文书被撤销"}, "撤销"),
        ("withdrawn", {"withdrawn_at": dt.datetime(2026, 10, 1, 8), "withdrawal_reason": "误发"}, "撤回"),
    ],
)
def test_removed_revoked_or_withdrawn_listing_is_gone(client, listing, status, fields, label):
    listing.status = status
    for name, value in fields.items():
        setattr(listing, name, value)
    db.session.commit()
    assert not any(everywhere(client, listing).values())
    page = client.get(f"/listings/{listing.id}")
    assert page.status_code == 410
    assert label in page.text and "2026年10月1日" in page.text
    assert NAME not in page.text and CODE not in page.text
    api = client.get(f"/api/v1/listings/{listing.id}")
    assert api.status_code == 410 and api.get_json()["error"]["reason"] == status


def test_withdrawn_case_leaves_a_410_notice_and_every_list(client, app):
    batch = load("cases", [case_row(违法主体名称=NAME, 统一社会信用代码=CODE), case_row(文书编号="兰劳监〔2025〕2号")])
    case = db.session.scalar(select(Case).where(Case.batch_id == batch.id, Case.enterprise_name == NAME))
    assert client.get(f"/cases/{case.id}").status_code == 200
    case.status = "withdrawn"
    case.withdrawn_at = dt.datetime(2026, 11, 1, 9)
    case.withdrawal_reason = f"{NAME}的案件信息有误"
    db.session.commit()

    page = client.get(f"/cases/{case.id}")
    assert page.status_code == 410
    assert "该信息已撤回" in page.text
    assert NAME not in page.text and CODE not in page.text  # not even through the reason
    api = client.get(f"/api/v1/cases/{case.id}")
    assert api.status_code == 410
    assert api.get_json() == {"error": {"status": 410, "reason": "withdrawn", "message": "该信息已撤回"}}
    for url in (
        "/cases",
        "/cases.csv",
        "/cases.json",
        "/api/v1/cases",
        f"/batches/{batch.id}",
        f"/batches/{batch.id}.csv",
    ):
        assert NAME not in client.get(url).get_data(as_text=True), url
    assert client.get(f"/enterprises/{CODE}").status_code == 404
    assert client.get(f"/api/v1/enterprises/{CODE}").status_code == 404


def test_withdrawn_batch_is_410(client, app):
    batch = load("cases", [case_row()])
    batch.status = "withdrawn"
    db.session.execute(
        Case.__table__.update()
        .where(Case.batch_id == batch.id)
        .values(status="withdrawn", withdrawn_at=dt.datetime(2026, 11, 2))
    )
    db.session.commit()
    assert client.get(f"/batches/{batch.id}").status_code == 410
    assert client.get(f"/api/v1/batches/{batch.id}").status_code == 410
    assert client.get(f"/batches/{batch.id}.csv").status_code == 410
    assert f"/batches/{batch.id}" not in client.get("/batches").text
    assert client.get("/api/v1/batches").get_json()["total"] == 0
