"""Open-data downloads: CSV for Excel (BOM, Chinese headers, formula-safe cells),
streamed; XLSX that opens; the same filters as the pages; only public records."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from domain import exporting, serializers
from extensions import db
from models import Case
from tests.builders import case_row, listing_row, load
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
    assert response.headers["Content-Disposition"] == 'attachment; filename="cases.csv"'
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
