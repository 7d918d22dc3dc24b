"""Open-data downloads: CSV for Excel (BOM, Chinese headers, formula-safe cells),
streamed; XLSX that opens; the same filters as the pages; only public records."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from domain import exporting, serializers
from extensions import db
from models import Case
from tests.builders import case_row, listing_row, load
from tests.conftest import FIXED_TODAY as FIXED_DAY
from tests.test_public import seed


def read_csv(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture
def data(app):
    return seed()


def test_cases_csv(client, data):
    response = client.get("/cases.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"cases-20261128.csv\"; filename*=UTF-8''" + quote("兰州-违法案件-20261128.csv", safe="")
    )
    assert response.is_streamed
    rows = read_csv(response)
    assert rows[0] == [field.label for field in serializers.CASE_FIELDS]
    assert rows[0][:3] == ["编号", "网址", "违法主体名称"]
    assert len(rows) == 4
    record = dict(zip(rows[0], rows[2], strict=True))
    assert record["违法主体名称"] == "兰州恒达建筑工程有限公司"
    assert record["网址"] == f"http://localhost/cases/{record['编号']}"
    assert record["涉及金额（元）"] == "200000"
    assert record["是否移送公安机关"] == "是"
    assert record["决定日期"] == "2025-03-01"


def test_csv_has_the_filters_of_the_page(client, data):
    rows = read_csv(client.get("/cases.csv?district=安宁区"))
    assert [row[2] for row in rows[1:]] == ["兰州示例安宁物流有限公司"]
    rows = read_csv(client.get("/cases.csv?sort=-amount&page=2&per_page=1"))
    # a download is the whole filtered set, never one page of it
    assert [row[2] for row in rows[1:]] == [
        "兰州示例西固化工有限公司",
        "兰州恒达建筑工程有限公司",
        "兰州示例安宁物流有限公司",
    ]
    assert client.get("/cases.csv?year=abc").status_code == 400


def test_listings_and_batches_csv(client, data):
    rows = read_csv(client.get("/listings.csv"))
    assert rows[0] == [field.label for field in serializers.LISTING_FIELDS]
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["责任人员"] == "任某、刘某"
    assert record["届满日期"] == "2028-06-30"
    rows = read_csv(client.get("/batches.csv"))
    assert rows[0] == [field.label for field in serializers.BATCH_FIELDS]
    assert len(rows) == 4
    rows = read_csv(client.get(f"/batches/{data['listings'].id}.csv"))
    assert len(rows) == 3 and rows[0][2] == "单位名称"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_are_formula_safe(start):
    assert exporting.safe_cell(start + "1+1") == "'" + start + "1+1"
    assert exporting.safe_cell("兰州" + start) == "兰州" + start


def test_a_name_starting_with_equals_is_exported_harmless(client, app):
    load("cases", [case_row()])
    case = db.session.scalar(select(Case))
    case.enterprise_name = '=HYPERLINK("http://evil.example","点我")'
    case.facts = "@SUM(1+1)"
    db.session.commit()
    rows = read_csv(client.get("/cases.csv"))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["违法主体名称"] == '\'=HYPERLINK("http://evil.example","点我")'
    assert record["主要违法事实"] == "'@SUM(1+1)"
    workbook = load_workbook(io.BytesIO(client.get(f"/batches/{case.batch_id}.xlsx").data))
    sheet = workbook.active
    assert sheet.cell(row=2, column=3).value == '\'=HYPERLINK("http://evil.example","点我")'
    assert sheet.cell(row=2, column=3).data_type == "s"


def test_batch_xlsx_opens_with_openpyxl(client, data):
    response = client.get(f"/batches/{data['first'].id}.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [field.label for field in serializers.CASE_FIELDS]
    assert [row[2] for row in rows[1:]] == ["兰州恒达建筑工程有限公司", "兰州示例安宁物流有限公司"]
    assert sheet.title == "2025年第一批"
    header = list(rows[0])
    amounts = [row[header.index("涉及金额（元）")] for row in rows[1:]]
    workers = [row[header.index("涉及人数")] for row in rows[1:]]
    # Numbers are numeric cells that a journalist can sum, not text.
    assert sorted(amounts) == [50000, 200000]
    assert sorted(workers) == [12, 67]


def test_csv_is_written_in_chunks(app):
    load("cases", [case_row(文书编号=f"兰劳监〔2025〕{n}号") for n in range(25)])
    records = db.session.scalars(select(Case).order_by(Case.id))
    chunks = list(exporting.csv_chunks(serializers.CASE_FIELDS, records, lambda r: f"/cases/{r.id}", chunk_rows=10))
    # header, then 10 + 10 + 5 rows
    assert len(chunks) == 4
    assert chunks[0].startswith(b"\xef\xbb\xbf")
    assert b"".join(chunks).count(b"\r\n") == 26


def test_exports_hold_only_public_records(client, app):
    load("cases", [case_row(违法主体名称="兰州示例草稿有限公司")], title="2025年第五批", publish=False)
    load("listings", [listing_row()])
    assert "草稿" not in client.get("/cases.csv").get_data(as_text=True)
    assert client.get("/cases.json").get_json()["total"] == 0
    assert client.get("/cases.json").get_json()["results"] == []


# --- every download holds every matching row, under a name that says what it is --------------


def saved_as(response) -> str:
    """The (Chinese) name a browser saves the download under."""
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="') and disposition.split('"')[1].isascii()
    return unquote(disposition.split("filename*=UTF-8''")[1])


@pytest.mark.parametrize(
    "url, name",
    [
        ("/listings.csv?district=城关区", "兰州-失信名单-城关区-20261128.csv"),
        ("/listings.xlsx", "兰州-失信名单-20261128.xlsx"),
        ("/cases.json?year=2025&district=安宁区&police=0", "兰州-违法案件-2025年-安宁区-未移送公安机关-20261128.json"),
        ("/cases.csv?type=违法使用童工&sort=amount", "兰州-违法案件-违法使用童工-20261128.csv"),
        ("/batches.xlsx?kind=listings", "兰州-公布批次-失信联合惩戒对象名单-20261128.xlsx"),
        ("/search.csv?q=兰州示例&kind=cases", "兰州-搜索结果-兰州示例-违法案件-20261128.csv"),
        ("/search.json?q=a/b", "兰州-搜索结果-a_b-20261128.json"),
    ],
)
def test_file_names_say_city_kind_filters_and_date(client, data, url, name):
    response = client.get(url)
    assert response.status_code == 200
    assert saved_as(response) == name
    response.close()


def test_a_batch_download_is_named_after_the_batch(client, data):
    with client.get(f"/cases.csv?batch={data['second'].id}") as response:
        assert saved_as(response) == "兰州-违法案件-2025年第二批-20261128.csv"
    with client.get(f"/batches/{data['listings'].id}.json") as response:
        assert saved_as(response) == "兰州-失信名单-2025年第一批-20261128.json"
        assert response.headers["Content-Disposition"].startswith('attachment; filename="listings-2025')


def test_file_names_drop_what_a_file_system_refuses():
    name, fallback = exporting.file_names("兰州市", "搜索结果", "search", ['a/b\\c:"d*?<>|\n'], FIXED_DAY, "csv")
    assert name == "兰州-搜索结果-a_b_c_d-20261128.csv"
    assert fallback == "search-a_b_c_d-20261128.csv"


@pytest.fixture
def many(app):
    """More cases than one page of the list, and of the API."""
    load(
        "cases",
        [case_row(违法主体名称=f"兰州示例第{n}建筑有限公司", 文书编号=f"兰劳监〔2025〕{n}号") for n in range(45)],
    )


def test_json_download_holds_every_row_and_the_api_still_pages(client, many):
    with client.get("/cases.json") as response:
        assert response.is_streamed and response.headers["Access-Control-Allow-Origin"] == "*"
        body = response.get_json()
    assert body["total"] == 45 and len(body["results"]) == 45 and body["as_of"] == "2026-11-28"
    assert len({item["id"] for item in body["results"]}) == 45
    api = client.get("/api/v1/cases").get_json()
    assert api["total"] == 45 and len(api["results"]) == 20 and api["page"] == 1
    # page and per_page do not shrink a download
    with client.get("/cases.json?page=3&per_page=5") as response:
        assert len(response.get_json()["results"]) == 45
    sheet = load_workbook(io.BytesIO(client.get("/cases.xlsx").data), read_only=True).active
    assert len(list(sheet.iter_rows(values_only=True))) == 46


def test_download_links_state_the_count(client, many):
    page = client.get("/cases?per_page=10").text
    assert "显示第 1–10 件" in page
    assert "CSV（Excel，45 条）" in page and "XLSX（45 条）" in page and "JSON（45 条）" in page
    assert 'href="/cases.json"' in page and 'href="/cases.xlsx"' in page


def test_search_downloads_hold_every_result(client, many, monkeypatch):
    from blueprints import search

    monkeypatch.setattr(search, "DOWNLOAD_PAGE", 7)  # several pages of the search, joined
    page = client.get("/search?q=建筑&per_page=10").text
    assert "CSV（Excel，45 条）" in page and 'href="/search.csv?q=%E5%BB%BA%E7%AD%91"' in page
    with client.get("/search.json?q=建筑&page=2") as response:
        body = response.get_json()
    assert body["total"] == 45 and body["q"] == "建筑" and len(body["results"]) == 45
    api = client.get("/api/v1/search?q=建筑&per_page=100").get_json()
    assert [item["id"] for item in body["results"]] == [item["id"] for item in api["results"]]
    assert {item["kind"] for item in body["results"]} == {"case"}
    with client.get("/search.csv?q=建筑") as response:
        rows = read_csv(response)
    assert rows[0] == [field.label for field in serializers.SEARCH_FIELDS] and len(rows) == 46
    assert client.get("/search.csv?q=建").status_code == 400
    assert client.get("/search.xlsx?q=%22unclosed").status_code in (200, 400)


def api_ids(client, path: str, params: dict) -> list[int]:
    """Every id of a list, read the way a program reads the API: page after page."""
    ids, page = [], 1
    while True:
        body = client.get(path, query_string={**params, "page": page, "per_page": 7}).get_json()
        ids += [item["id"] for item in body["results"]]
        if page * 7 >= body["total"]:
            return ids
        page += 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["cases", "listings"]),
    year=st.sampled_from([None, 2024, 2025, 2026]),
    district=st.sampled_from([None, "城关区", "安宁区", "西固区", "七里河区"]),
    sort=st.sampled_from([None, "date", "-amount", "amount", "workers", "-workers"]),
    police=st.sampled_from([None, "0", "1"]),
)
def test_every_download_equals_the_rows_of_its_list(client, data, kind, year, district, sort, police):
    params = {name: value for name, value in (("year", year), ("district", district), ("sort", sort)) if value}
    if kind == "cases" and police:
        params["police"] = police
    expected = api_ids(client, f"/api/v1/{kind}", params)
    with client.get(f"/{kind}.json", query_string=params) as response:
        body = response.get_json()
    assert [item["id"] for item in body["results"]] == expected and body["total"] == len(expected)
    with client.get(f"/{kind}.csv", query_string=params) as response:
        assert [int(row[0]) for row in read_csv(response)[1:]] == expected
    with client.get(f"/{kind}.xlsx", query_string=params) as response:
        sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
        assert [row[0] for row in list(sheet.iter_rows(values_only=True))[1:]] == expected
    page = client.get(f"/{kind}", query_string=params).text
    assert f"JSON（{len(expected)} 条）" in page
