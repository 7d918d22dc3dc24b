"""Review that a person can do well: records first and the publish button last
with the count; the preview is the real public batch page; the upload page
offers the templates and proposes the next title; the expiry window is a domain
rule."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from domain import importing, publishing, visibility
from domain.importing import CASE_COLUMNS, LISTING_COLUMNS
from extensions import db
from models import Batch, Listing, User
from tests import admin_support
from tests.admin_support import login, make_user, post
from tests.builders import case_row, credit_code, listing_row, load, to_csv

fast_hashing = admin_support.fast_hashing


@pytest.fixture
def staff(app, fast_hashing):
    for name, role in (("editor", "editor"), ("publisher", "publisher")):
        make_user(name, role)


def submitted_batch(records: int = 3) -> Batch:
    rows = [case_row(违法主体名称=f"兰州审核{i}号有限公司", 文书编号=f"审〔2025〕{i}号") for i in range(records)]
    batch = load("cases", rows, title="2025年第一批", publish=False)
    editor = db.session.scalar(select(User).where(User.username == "editor"))
    batch.created_by_id = editor.id
    publishing.submit_batch(batch, editor)
    db.session.commit()
    return batch


def test_records_come_first_and_the_publish_button_last_with_the_count(client, staff):
    batch = submitted_batch(3)
    login(client, "publisher")
    page = client.get(f"/admin/batches/{batch.id}").get_data(as_text=True)
    records = page.index("兰州审核0号有限公司")
    send_back = page.index("退回修改</button>")
    publish = page.index("确认发布 3 条</button>")
    assert records < send_back < publish
    assert page.rindex("<button", 0, page.index("操作记录")) == page.rindex("<button", 0, publish + 1)


def test_the_preview_is_the_public_batch_page_rendered_from_the_draft(client, staff):
    batch = load("cases", [case_row(违法主体名称="兰州预览有限公司")], title="2025年第一批", publish=False)
    login(client, "editor")
    page = client.get(f"/admin/batches/{batch.id}/preview").get_data(as_text=True)
    assert 'class="preview-banner"' in page and "尚未公开" in page
    assert 'id="results"' in page and "本批次目前公开" in page  # the public batch page's own list
    assert "/admin/cases/" in page and "/preview" in page  # rows link to the record previews
    assert f'href="/batches/{batch.id}.csv"' not in page  # a draft has no downloads
    assert client.get(f"/batches/{batch.id}").status_code == 404  # and is still not public


def test_a_record_of_a_batch_in_review_says_so(client, staff):
    batch = submitted_batch(1)
    record = publishing.batch_records(batch)[0]
    login(client, "editor")
    page = client.get(f"/admin/cases/{record.id}").get_data(as_text=True)
    assert "正在审核中" in page and "由审核人退回" in page


@pytest.mark.parametrize("kind, columns", [("cases", CASE_COLUMNS), ("listings", LISTING_COLUMNS)])
def test_the_upload_page_offers_the_templates(client, staff, kind, columns):
    login(client, "editor")
    page = client.get("/admin/batches/upload").get_data(as_text=True)
    for fmt in ("csv", "xlsx"):
        url = f"/admin/batches/templates/{kind}.{fmt}"
        assert f'href="{url}"' in page
        with client.get(url) as response:
            assert response.status_code == 200
            data = response.get_data()
        if fmt == "csv":
            assert data.decode("utf-8-sig").strip() == ",".join(columns)
        else:
            sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
            assert [c for c in next(sheet.iter_rows(values_only=True))] == list(columns)
        # the downloaded template is what the import accepts
        report = importing.check_file(
            data, f"t.{fmt}", kind, importing.ImportSettings.from_config(client.application.config)
        )
        assert [e.message for e in report.errors] == ["表头之后没有数据行"]


def test_the_upload_form_builds_the_title_from_kind_year_and_number(client, staff):
    load("cases", [case_row()], title="2026年第三批重大劳动保障违法案件")
    login(client, "editor")
    page = client.get("/admin/batches/upload").get_data(as_text=True)
    assert 'name="title"' not in page
    assert 'name="year" required type="number" value="2026"' in page
    assert 'name="number" required type="number" value="4"' in page
    assert "发布标题：<strong>2026年第四批重大劳动保障违法案件</strong>" in page
    assert "2026年下一个未用的批次号：重大劳动保障违法案件第4批；失信联合惩戒对象名单第1批" in page
    data = {
        "kind": "cases",
        "year": "2026",
        "number": "4",
        "file": (io.BytesIO(to_csv("cases", [case_row(文书编号="新〔2026〕1号")])), "a.csv"),
    }
    assert post(client, "/admin/batches/upload", data).status_code == 303
    newest = db.session.scalars(select(Batch).order_by(Batch.id.desc())).first()
    assert (newest.title, newest.year, newest.number) == ("2026年第四批重大劳动保障违法案件", 2026, 4)
    assert importing.suggested_title("cases") == "2026年第五批重大劳动保障违法案件"


def test_the_expiry_window_is_a_domain_rule(client, staff, monkeypatch):
    today = dt.date(2026, 11, 28)
    rows = [
        listing_row(
            统一社会信用代码=credit_code(20),
            单位名称="兰州二十日届满公司",
            决定文书号="届〔2023〕1号",
            列入日期="2023-12-18",
        ),
        listing_row(
            统一社会信用代码=credit_code(21),
            单位名称="兰州五十日届满公司",
            决定文书号="届〔2024〕2号",
            列入日期="2024-01-17",
        ),
    ]
    load("listings", rows, title="2024年第一批")
    expires = sorted(db.session.scalars(select(Listing.expires_on)))
    assert [(day - today).days for day in expires] == [20, 50]
    login(client, "publisher")
    home = client.get("/admin/").get_data(as_text=True)
    assert "30天内届满" in home and "兰州二十日届满公司" in home and "兰州五十日届满公司" not in home
    monkeypatch.setattr(visibility, "EXPIRY_WARNING_DAYS", 60)
    home = client.get("/admin/").get_data(as_text=True)
    assert "60天内届满" in home and "兰州五十日届满公司" in home
    listed = client.get("/admin/listings?state=expiring").get_data(as_text=True)
    assert "60天内届满" in listed and "兰州五十日届满公司" in listed


@pytest.mark.parametrize(
    "kind, typed, stored",
    [
        ("cases", "2026年第四批", "2026年第四批重大劳动保障违法案件"),
        ("cases", " 2026年 第4批 重大违法案件 ", "2026年第四批重大劳动保障违法案件"),
        ("listings", "2021年第二批", "2021年第二批拖欠农民工工资“黑名单”"),
        ("listings", "2026年第十二批黑名单", "2026年第十二批拖欠农民工工资失信联合惩戒对象名单"),
    ],
)
def test_a_typed_title_is_rebuilt_from_kind_year_and_number(app, kind, typed, stored):
    year, number = importing.resolve_numbering(kind, title=typed)
    assert importing.batch_title(kind, year, number) == stored


@pytest.mark.parametrize("typed", ["2026年专项检查", "第四批", "根治欠薪专项"])
def test_a_title_that_names_no_year_or_number_is_refused(app, typed):
    with pytest.raises(importing.NumberingError, match="无法从标题.*中读出年份和批次号"):
        importing.resolve_numbering("cases", title=typed)


def test_a_batch_published_from_the_command_line_says_so(client, staff):
    # No member of staff published it: the page names the command line, as a bulletin's does.
    batch = load("cases", [case_row(违法主体名称="兰州命令行有限公司")], title="2025年第二批")
    login(client, "publisher")
    page = client.get(f"/admin/batches/{batch.id}").get_data(as_text=True)
    assert "<dt>发布</dt><dd>命令行 · 2025-07-01</dd>" in page
