"""The JSON API of the brief: list shape, record shape, filters, errors as JSON."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from domain import serializers
from extensions import db
from models import Case, Listing
from tests.builders import credit_code
from tests.test_public import case_id, seed

LIST_KEYS = {"total", "page", "per_page", "results"}


@pytest.fixture
def data(app):
    return seed()


def test_index_describes_the_endpoints(client, app):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    paths = {endpoint["path"] for endpoint in response.get_json()["endpoints"]}
    assert {
        "/api/v1/cases",
        "/api/v1/cases/<id>",
        "/api/v1/listings",
        "/api/v1/listings/<id>",
        "/api/v1/enterprises/<credit_code>",
        "/api/v1/batches",
        "/api/v1/batches/<id>",
        "/api/v1/search",
    } <= paths


def test_case_list_shape(client, data):
    body = client.get("/api/v1/cases?per_page=2").get_json()
    assert set(body) == LIST_KEYS
    assert body["total"] == 3 and body["page"] == 1 and body["per_page"] == 2
    assert len(body["results"]) == 2
    record = body["results"][0]
    assert list(record) == [field.key for field in serializers.CASE_FIELDS]
    assert record["url"] == f"http://localhost/cases/{record['id']}"
    assert record["enterprise_name"] == "兰州示例西固化工有限公司"
    assert record["violation_types"] == ["违法使用童工"]
    assert record["revision"] == 1 and record["revised_at"] is None


def test_case_record(client, data):
    case = db.session.get(Case, case_id("兰州恒达建筑工程有限公司"))
    case.revision = 2
    case.revised_at = dt.datetime(2026, 3, 5, 9, 30, 12, 345)
    case.correction_note = "更正涉及金额"
    db.session.commit()
    response = client.get(f"/api/v1/cases/{case.id}")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    record = response.get_json()
    assert record == {
        "id": case.id,
        "url": f"http://localhost/cases/{case.id}",
        "enterprise_name": "兰州恒达建筑工程有限公司",
        "credit_code": credit_code(1),
        "reg_no": None,
        "legal_representative": "王某",
        "address": "兰州市城关区示例路1号",
        "district": "城关区",
        "industry": "建筑业",
        "violation_types": ["拖欠劳动报酬"],
        "facts": "拖欠张某等12名农民工工资共计20万元。",
        "handling": "责令限期支付，逾期未支付，已移送公安机关。",
        "workers_involved": 12,
        "amount_involved": 200000.0,
        "fine_amount": None,
        "transferred_to_police": True,
        "decided_on": "2025-03-01",
        "document_no": "兰城劳监指〔2025〕1号",
        "authority": None,
        "batch_id": data["first"].id,
        "batch_title": "2025年第一批",
        "published_on": "2025-07-01",
        "revision": 2,
        "revised_at": "2026-03-05T09:30:12",
        "correction_note": "更正涉及金额",
    }


def test_listing_list_and_record(client, data):
    body = client.get("/api/v1/listings?sort=-amount").get_json()
    assert set(body) == LIST_KEYS and body["total"] == 2
    first = body["results"][0]
    assert first["enterprise_name"] == "兰州恒达建筑工程有限公司"
    assert first["responsible_persons"] == ["王某"]
    assert first["listed_on"] == "2024-01-15" and first["expires_on"] == "2027-01-15"
    assert first["regime"] == "2022" and first["term_years"] == 3
    assert first["url"] == f"http://localhost/listings/{first['id']}"
    detail = client.get(f"/api/v1/listings/{first['id']}").get_json()
    assert detail == first


@pytest.mark.parametrize(
    "query, names",
    [
        ("?district=安宁区", ["兰州示例安宁物流有限公司"]),
        ("?year=2025&sort=amount", ["兰州恒达建筑工程有限公司", "兰州示例西固化工有限公司"]),
        ("?type=未依法缴纳社会保险费", ["兰州示例安宁物流有限公司"]),
        ("?police=1", ["兰州恒达建筑工程有限公司"]),
        ("?per_page=1&page=3", ["兰州示例安宁物流有限公司"]),
        ("?page=50", []),
    ],
)
def test_case_list_filters_are_those_of_the_page(client, data, query, names):
    body = client.get("/api/v1/cases" + query).get_json()
    assert [r["enterprise_name"] for r in body["results"]] == names


def test_page_and_per_page_are_clamped(client, data):
    body = client.get("/api/v1/cases?page=abc&per_page=5000").get_json()
    assert body["page"] == 1 and body["per_page"] == 100


@pytest.mark.parametrize(
    "url, fragment",
    [
        ("/api/v1/cases?year=abc", "年份"),
        ("/api/v1/cases?district=朝阳区", "区县"),
        ("/api/v1/cases?sort=x", "排序"),
        ("/api/v1/listings?batch=-1", "批次"),
        ("/api/v1/batches?kind=x", "类别"),
        ("/cases.json?police=x", "是否移送公安机关"),
    ],
)
def test_bad_parameters_are_400_json(client, data, url, fragment):
    response = client.get(url)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and fragment in error["message"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases/987654",
        "/api/v1/cases/99999999999999999999",
        "/api/v1/cases/abc",
        "/api/v1/listings/987654",
        "/api/v1/batches/987654",
        f"/api/v1/enterprises/{credit_code(99)}",
        "/api/v1/nothing",
    ],
)
def test_unknown_is_404_json(client, data, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_enterprise(client, data):
    body = client.get(f"/api/v1/enterprises/{credit_code(1).lower()}").get_json()
    assert body["credit_code"] == credit_code(1)
    assert body["url"] == f"http://localhost/enterprises/{credit_code(1)}"
    assert body["enterprise"]["name"] == "兰州恒达建筑工程有限公司"
    assert len(body["cases"]) == 1 and len(body["listings"]) == 1
    assert body["cases"][0]["url"].startswith("http://localhost/cases/")


def test_batches(client, data):
    body = client.get("/api/v1/batches?kind=cases").get_json()
    assert set(body) == LIST_KEYS and body["total"] == 2
    assert {b["record_count"] for b in body["results"]} == {1, 2}
    assert all(b["url"] == f"http://localhost/batches/{b['id']}" for b in body["results"])
    detail = client.get(f"/api/v1/batches/{data['first'].id}?per_page=1").get_json()
    assert set(detail) >= LIST_KEYS
    assert detail["title"] == "2025年第一批" and detail["kind"] == "cases"
    assert detail["record_count"] == 2 and detail["total"] == 2 and len(detail["results"]) == 1


def get_download(client, url: str) -> dict:
    with client.get(url) as response:
        return response.get_json()


def test_json_twins_hold_the_records_of_the_api(client, data):
    # The twin is the whole set in one file; the API pages it. The records are the same.
    for twin, api in [
        ("/cases.json?district=城关区", "/api/v1/cases?district=城关区"),
        ("/listings.json", "/api/v1/listings"),
        ("/batches.json", "/api/v1/batches"),
        (f"/batches/{data['listings'].id}.json", f"/api/v1/batches/{data['listings'].id}"),
    ]:
        whole, paged = get_download(client, twin), client.get(api).get_json()
        assert whole["total"] == paged["total"] and whole["results"] == paged["results"], twin
    batch = get_download(client, f"/batches/{data['listings'].id}.json")["batch"]
    assert batch["title"] == "2025年第一批" and batch["kind"] == "listings"


def test_only_public_records_in_the_api(client, data):
    listing = db.session.scalar(select(Listing).where(Listing.credit_code == credit_code(2)))
    listing.status = "removed"
    listing.removed_on = dt.date(2026, 11, 1)
    db.session.commit()
    ids = [r["id"] for r in client.get("/api/v1/listings").get_json()["results"]]
    assert listing.id not in ids and len(ids) == 1
