"""Work bulletins (工作通报): the comparison with the same months of the previous
year (the “五个下降” of the sample report to two decimals), the all-or-nothing
sheet import with row numbers, review with four eyes, corrections as revisions,
and the public pages, twins and API."""

from __future__ import annotations

import io
from decimal import Decimal
from fractions import Fraction

import pytest
from flask import current_app
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from domain import audit, bulletins
from domain.sample_reports import load_sample_bulletins
from domain.spreadsheets import Table
from extensions import db
from models import AuditEvent, Bulletin, BulletinValue, RecordRevision
from tests import admin_support
from tests.admin_support import login, logout, make_user, post
from tests.conftest import FIXTURES
from tests.test_exports import saved_as

fast_hashing = admin_support.fast_hashing

FIVE_DECLINES = {
    "投诉电话接听人次": -18.78,
    "来访投诉起数": -6.32,
    "受理案件数": -63.86,
    "拖欠工资金额": -32.16,
    "拖欠工资人数": -51.16,
}


def write_csv(tmp_path, rows, name="bulletin.csv", header=("指标", "数值")) -> str:
    path = tmp_path / name
    lines = [",".join(header)] + [",".join(str(cell) for cell in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def bulletin_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Bulletin)) or 0


# --- the comparison -------------------------------------------------------------------


def test_sample_bulletins_reproduce_the_five_declines(app, client):
    assert load_sample_bulletins() == 2
    ids = dict(db.session.execute(select(Bulletin.year, Bulletin.id)).all())
    answer = client.get(f"/api/v1/bulletins/{ids[2020]}").get_json()
    assert answer["year"] == 2020 and answer["months"] == [1, 11]
    assert answer["declines"] == 5
    by_name = {item["name"]: item for item in answer["indicators"]}
    assert {name: by_name[name]["change_pct"] for name in FIVE_DECLINES} == FIVE_DECLINES
    assert all(by_name[name]["lower_is_better"] for name in FIVE_DECLINES)
    assert by_name["投诉电话接听人次"] == {
        "name": "投诉电话接听人次",
        "unit": "人次",
        "value": 21500,
        "previous": 26471,
        "change_pct": -18.78,
        "lower_is_better": True,
    }
    assert by_name["追发工资金额"]["value"] == 765.17
    assert not by_name["检查用人单位户数"]["lower_is_better"]
    assert set(answer) >= {"id", "url", "title", "year", "months", "declines", "indicators"}
    assert answer["url"].endswith(f"/bulletins/{ids[2020]}")

    # 2019 has no previous year: previous and change_pct are null, nothing declined.
    earlier = client.get(f"/api/v1/bulletins/{ids[2019]}").get_json()
    assert earlier["declines"] == 0
    assert all(item["previous"] is None and item["change_pct"] is None for item in earlier["indicators"])

    page = client.get(f"/bulletins/{ids[2020]}").get_data(as_text=True)
    assert "实现“五个下降”" in page
    assert "-18.78%" in page and "-51.16%" in page
    assert "21,500" in page and "26,471" in page
    assert "2020年1—11月" in page
    # The declines as a chart (server-side SVG, no script or style attribute), the table beside it.
    assert '<svg class="chart chart-bar"' in page and "下降63.86%" in page
    assert "<script>" not in page and 'style="' not in page


@pytest.mark.parametrize(
    ("value", "previous", "expected"),
    [
        ("21500", "26471", Decimal("-18.78")),
        ("73", "202", Decimal("-63.86")),
        ("110", "100", Decimal("10.00")),
        ("1", "3", Decimal("-66.67")),
        ("2", "3", Decimal("-33.33")),
        ("1.005", "1", Decimal("0.50")),  # half up, not to even
        ("5", "0", None),
    ],
)
def test_change_pct_examples(value, previous, expected):
    assert bulletins.change_pct(Decimal(value), Decimal(previous)) == expected
    assert bulletins.change_pct(Decimal(value), None) is None


amounts = st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False, allow_infinity=False)


@given(value=amounts, previous=amounts.filter(lambda d: d > 0))
def test_change_pct_is_the_exact_change_rounded_half_up(value, previous):
    exact = (Fraction(value) - Fraction(previous)) / Fraction(previous) * 100
    got = bulletins.change_pct(value, previous)
    # Within half a hundredth of the exact change, and on the side the exact value is.
    assert abs(Fraction(got) - exact) <= Fraction(1, 200)
    assert (got < 0) == (exact <= Fraction(-1, 200)) or got == 0
    assert got == Decimal(str(round(exact * 100))) / 100 or abs(Fraction(got) - exact) == Fraction(1, 200)
    assert got.as_tuple().exponent == -2


def test_chinese_count():
    assert [bulletins.chinese_count(n) for n in (0, 5, 10, 12, 20, 35)] == ["零", "五", "十", "十二", "二十", "三十五"]


def test_previous_year_of_other_months_is_not_compared(app):
    load_sample_bulletins()
    indicators = bulletins.catalogue(app.config)
    other = bulletins.create_bulletin(
        year=2020, month_from=1, month_to=6, values=[(indicators[0], Decimal(100))], authority="局"
    )
    bulletins.publish(other, None, four_eyes=False)
    comparison = bulletins.compare(other)
    assert comparison.previous is None and comparison.declines == 0
    assert bulletins.summary_sentence(comparison) is None


# --- the sheet: all or nothing, row numbers -------------------------------------------


def test_cli_import_refuses_a_sheet_with_errors_and_names_every_row(app, runner, tmp_path):
    path = write_csv(
        tmp_path,
        [
            ("投诉电话接听人次", "21500"),
            ("来电人数", "5"),  # not in the catalogue
            ("受理案件数", "七十三"),  # not a number
            ("投诉电话接听人次", "1"),  # repeated
            ("拖欠工资金额", "-3"),  # negative
            ("按期办结率", "101"),  # over 100 %
        ],
    )
    result = runner.invoke(args=["bulletin", "import", path, "--year", "2020", "--months", "1-11"])
    assert result.exit_code != 0
    assert "第3行【指标】：“来电人数”不在指标目录中" in result.output
    assert "第4行【数值】" in result.output
    assert "第5行【指标】：与第2行重复" in result.output
    assert "第6行【数值】：不能为负数" in result.output
    assert "第7行【数值】：百分比不能超过100" in result.output
    assert "未保存任何数据" in result.output
    assert bulletin_count() == 0
    assert db.session.scalar(select(func.count()).select_from(BulletinValue)) == 0


def test_cli_import_refuses_wrong_headers(app, runner, tmp_path):
    path = write_csv(tmp_path, [("投诉电话接听人次", "1", "x")], header=("指标", "数值", "备注"))
    result = runner.invoke(args=["bulletin", "import", path, "--year", "2020", "--months", "1-11"])
    assert result.exit_code != 0 and "第1行" in result.output and "备注" in result.output
    assert bulletin_count() == 0


@pytest.mark.parametrize("months", ["13", "11-1", "一到十一", "0-5"])
def test_cli_import_refuses_a_bad_month_range(app, runner, tmp_path, months):
    path = write_csv(tmp_path, [("投诉电话接听人次", "1")])
    result = runner.invoke(args=["bulletin", "import", path, "--year", "2020", "--months", months])
    assert result.exit_code != 0 and "导入失败" in result.output
    assert bulletin_count() == 0


def test_cli_import_csv_as_draft_then_xlsx_published(app, runner, tmp_path, client):
    path = write_csv(tmp_path, [("受理案件数", "73"), ("拖欠工资金额", "832.46万元"), ("投诉电话接听人次", '"21,500"')])
    result = runner.invoke(args=["bulletin", "import", path, "--year", "2020", "--months", "1—11"])
    assert result.exit_code == 0, result.output
    draft = db.session.scalar(select(Bulletin))
    assert draft.status == "draft" and draft.title == "2020年1—11月劳动保障监察工作情况通报"
    # Catalogue order, whatever the sheet's order.
    assert [(v.name, v.value) for v in draft.values] == [
        ("投诉电话接听人次", Decimal("21500")),
        ("受理案件数", Decimal("73")),
        ("拖欠工资金额", Decimal("832.46")),
    ]
    assert client.get(f"/bulletins/{draft.id}").status_code == 404  # a draft is not public
    assert client.get(f"/api/v1/bulletins/{draft.id}").status_code == 404

    book = Workbook()
    sheet = book.active
    sheet.append(["指标", "数值"])
    sheet.append(["受理案件数", 202])
    sheet.append(["拖欠工资金额", 1227.09])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = tmp_path / "2019.xlsx"
    xlsx.write_bytes(buffer.getvalue())
    result = runner.invoke(
        args=[
            "bulletin",
            "import",
            str(xlsx),
            "--year",
            "2019",
            "--months",
            "1-11",
            "--title",
            "2019年通报",
            "--publish",
        ]
    )
    assert result.exit_code == 0, result.output
    published = db.session.scalar(select(Bulletin).where(Bulletin.year == 2019))
    assert published.status == "published" and published.title == "2019年通报"
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.object_id == published.id, AuditEvent.object_type == "bulletin")
    )
    assert {(event.action, event.username) for event in events} == {
        ("bulletin.create", audit.CLI_ACTOR),
        ("bulletin.publish", audit.CLI_ACTOR),
    }
    assert (
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "bulletin.publish"))
        == 1
    )

    # A second published bulletin for the same period is refused: correct the first instead.
    result = runner.invoke(args=["bulletin", "import", str(xlsx), "--year", "2019", "--months", "1-11", "--publish"])
    assert result.exit_code != 0 and "已经发布" in result.output
    assert bulletin_count() == 2


def test_form_values_follow_the_sheet_rules(app):
    indicators = bulletins.catalogue(app.config)
    report = bulletins.check_form({"受理案件数": "abc", "投诉电话接听人次": "12"}, indicators)
    assert [(e.row, e.column) for e in report.errors] == [(6, "数值")]  # the form's numbering
    assert not report.values
    assert bulletins.check_form({}, indicators).errors


def test_configured_catalogue(app):
    app.config["BULLETIN_INDICATORS"] = [
        {"name": "检查次数", "unit": "次", "lower_is_better": False},
        ["欠薪件数", "件", True],
    ]
    indicators = bulletins.catalogue(app.config)
    assert [(i.name, i.unit, i.lower_is_better) for i in indicators] == [
        ("检查次数", "次", False),
        ("欠薪件数", "件", True),
    ]
    report = bulletins.check_table(Table(header=["指标", "数值"], rows=[(2, ["投诉电话接听人次", "1"])]), indicators)
    assert report.errors[0].message == "“投诉电话接听人次”不在指标目录中"


# --- review, four eyes, corrections -----------------------------------------------------


@pytest.fixture
def staff(app, fast_hashing):
    for name, role in (("editor", "editor"), ("publisher", "publisher"), ("publisher2", "publisher")):
        make_user(name, role)


def _form(values: dict[str, str], **fields) -> dict[str, str]:
    indicators = bulletins.catalogue(current_app.config)
    names = [indicator.name for indicator in indicators]
    data = {f"value-{names.index(name) + 1}": value for name, value in values.items()}
    return {"year": "2020", "month_from": "1", "month_to": "11", "title": "", **fields, **data}


def test_typed_in_reviewed_by_another_and_corrected(app, client, staff):
    load_sample_bulletins()
    # Keep 2019 for the comparison; 2020 is typed in below.
    db.session.delete(db.session.scalar(select(Bulletin).where(Bulletin.year == 2020)))
    db.session.commit()

    login(client, "publisher")
    response = post(client, "/admin/bulletins/new", _form({"受理案件数": "73", "投诉电话接听人次": "abc"}))
    assert response.status_code == 422
    assert "未保存任何数据" in response.get_data(as_text=True)
    assert bulletin_count() == 1
    response = post(client, "/admin/bulletins/new", _form({"受理案件数": "73", "投诉电话接听人次": "21500"}))
    assert response.status_code == 303, response.get_data(as_text=True)
    bulletin = db.session.scalar(select(Bulletin).where(Bulletin.year == 2020))
    assert bulletin.status == "draft" and bulletin.created_by_id is not None
    assert post(client, f"/admin/bulletins/{bulletin.id}/submit").status_code == 303

    # Four eyes: who prepared it cannot publish it.
    response = post(client, f"/admin/bulletins/{bulletin.id}/publish", follow_redirects=True)
    assert "四眼原则" in response.get_data(as_text=True)
    db.session.expire_all()
    assert bulletin.status == "submitted"
    logout(client)

    login(client, "editor")
    assert post(client, f"/admin/bulletins/{bulletin.id}/publish").status_code == 403  # editors never publish
    logout(client)

    login(client, "publisher2")
    assert post(client, f"/admin/bulletins/{bulletin.id}/publish").status_code == 303
    db.session.expire_all()
    assert bulletin.status == "published" and bulletin.published_on is not None
    answer = client.get(f"/api/v1/bulletins/{bulletin.id}").get_json()
    assert answer["declines"] == 2
    assert {i["name"]: i["change_pct"] for i in answer["indicators"]} == {
        "投诉电话接听人次": -18.78,
        "受理案件数": -63.86,
    }

    # 更正: a new revision with a visible note; the old figures are kept.
    response = post(
        client,
        f"/admin/bulletins/{bulletin.id}/edit",
        {**_form({"受理案件数": "74", "投诉电话接听人次": "21500"}), "note": "受理案件数统计口径更正"},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    assert bulletin.revision == 2 and bulletin.correction_note == "受理案件数统计口径更正"
    kept = db.session.scalar(select(RecordRevision).where(RecordRevision.record_kind == "bulletin"))
    assert {item["name"]: item["value"] for item in kept.data["values"]}["受理案件数"] == "73"
    page = client.get(f"/bulletins/{bulletin.id}").get_data(as_text=True)
    assert "受理案件数统计口径更正" in page and "更正" in page
    answer = client.get(f"/api/v1/bulletins/{bulletin.id}").get_json()
    assert {i["name"]: i["value"] for i in answer["indicators"]}["受理案件数"] == 74
    assert answer["revision"] == 2
    actions = list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "bulletin", AuditEvent.object_id == bulletin.id)
            .where(AuditEvent.user_id.isnot(None))  # not the sample data's (SQLite may reuse the id)
            .order_by(AuditEvent.id)
        )
    )
    assert actions == ["bulletin.create", "bulletin.submit", "bulletin.publish", "bulletin.correct"]

    # A correction needs its note.
    response = post(client, f"/admin/bulletins/{bulletin.id}/edit", _form({"受理案件数": "75"}))
    assert response.status_code == 400
    logout(client)

    # Editors do not correct published bulletins.
    login(client, "editor")
    assert client.get(f"/admin/bulletins/{bulletin.id}/edit").status_code == 403


def test_upload_all_or_nothing_and_send_back(app, client, staff):
    login(client, "editor")
    bad = "指标,数值\n受理案件数,73\n受理案件数,74\n".encode()
    response = post(
        client,
        "/admin/bulletins/upload",
        {"year": "2020", "months": "1-11", "title": "", "file": (io.BytesIO(bad), "b.csv")},
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "与第2行重复" in text and "未保存任何数据" in text
    assert bulletin_count() == 0
    good = "\ufeff指标,数值\n受理案件数,73\n".encode()
    response = post(
        client,
        "/admin/bulletins/upload",
        {"year": "2020", "months": "1-11", "title": "", "file": (io.BytesIO(good), "b.csv")},
    )
    assert response.status_code == 303
    bulletin = db.session.scalar(select(Bulletin))
    assert bulletin.source_filename == "b.csv"
    assert post(client, f"/admin/bulletins/{bulletin.id}/submit").status_code == 303
    logout(client)
    login(client, "publisher")
    assert "工作通报" in client.get("/admin/review").get_data(as_text=True)
    assert post(client, f"/admin/bulletins/{bulletin.id}/send-back", {"comment": "请补充投诉电话"}).status_code == 303
    db.session.expire_all()
    assert bulletin.status == "draft" and bulletin.review_comment == "请补充投诉电话"


# --- the public pages and twins ---------------------------------------------------------


def test_public_list_page_fragment_and_twins(app, client):
    load_sample_bulletins()
    page = client.get("/bulletins")
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    assert "HX-Request" in page.headers["Vary"]
    assert 'rel="alternate"; type="text/csv"' in page.headers["Link"]
    text = page.get_data(as_text=True)
    assert "2020年1—11月" in text and "2019年1—11月" in text
    fragment = client.get("/bulletins?year=2020", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "2020年1—11月" in fragment and "2019年1—11月" not in fragment

    listing = client.get("/api/v1/bulletins").get_json()
    assert listing["total"] == 2 and listing["page"] == 1 and [r["year"] for r in listing["results"]] == [2020, 2019]
    assert [r["indicator_count"] for r in listing["results"]] == [15, 15]
    twin = client.get("/bulletins.json?year=2019").get_json()
    assert twin["total"] == 1 and twin["results"] == client.get("/api/v1/bulletins?year=2019").get_json()["results"]
    with client.get("/bulletins.csv") as response:
        body = response.get_data(as_text=True)
        assert saved_as(response) == "兰州-工作通报-20261128.csv"
    assert body.startswith("\ufeff编号,标题") and body.count("\n") == 3
    with client.get("/bulletins.csv?year=2019") as response:
        assert saved_as(response) == "兰州-工作通报-2019年-20261128.csv"
        assert 'filename="bulletins-2019-20261128.csv"' in response.headers["Content-Disposition"]
    assert client.get("/bulletins?year=abc").status_code == 400

    bulletin_id = listing["results"][0]["id"]
    with client.get(f"/bulletins/{bulletin_id}.csv") as response:
        rows = response.get_data(as_text=True).splitlines()
        assert saved_as(response) == f"兰州-工作通报-2020年1—11月-{bulletin_id}-20261128.csv"
    assert rows[0] == "\ufeff指标,单位,本期,上年同期,同比增减（%）,越低越好"
    assert rows[1] == "投诉电话接听人次,人次,21500,26471,-18.78,是"
    assert (
        client.get(f"/bulletins/{bulletin_id}.json").get_json()
        == client.get(f"/api/v1/bulletins/{bulletin_id}").get_json()
    )
    assert client.get("/bulletins/999").status_code == 404
    assert client.get("/api/v1/bulletins/999").status_code == 404


def test_whoever_changed_the_draft_may_not_publish_it(app, client, staff):
    login(client, "editor")
    assert post(client, "/admin/bulletins/new", _form({"受理案件数": "73"})).status_code == 303
    bulletin = db.session.scalar(select(Bulletin))
    logout(client)
    login(client, "publisher2")  # corrects a figure in the draft
    assert post(client, f"/admin/bulletins/{bulletin.id}/edit", _form({"受理案件数": "74"})).status_code == 303
    logout(client)
    login(client, "editor")
    assert post(client, f"/admin/bulletins/{bulletin.id}/submit").status_code == 303
    logout(client)
    login(client, "publisher2")
    text = post(client, f"/admin/bulletins/{bulletin.id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "四眼原则：录入、修改或提交过该通报的人不能发布它" in text
    db.session.expire_all()
    assert bulletin.status == "submitted"
    logout(client)
    login(client, "publisher")
    assert post(client, f"/admin/bulletins/{bulletin.id}/publish").status_code == 303
    db.session.expire_all()
    assert bulletin.status == "published"


def test_the_example_sheet_imports(app, runner):
    path = str(FIXTURES / "bulletin-example.csv")
    result = runner.invoke(args=["bulletin", "import", path, "--year", "2020", "--months", "1-11", "--publish"])
    assert result.exit_code == 0, result.output
    assert "已导入 15 项指标" in result.output


cells = st.one_of(
    st.sampled_from([indicator.name for indicator in bulletins.DEFAULT_INDICATORS] + ["来电人数", ""]),
)
numbers = st.one_of(
    st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["-1", "abc", "", "1e400", "12.34567", "101"]),
)


@given(st.lists(st.tuples(cells, numbers), min_size=1, max_size=20))
def test_a_sheet_is_all_or_nothing(rows):
    table = Table(header=["指标", "数值"], rows=[(n + 2, list(row)) for n, row in enumerate(rows)])
    report = bulletins.check_table(table, bulletins.DEFAULT_INDICATORS)
    if report.errors:
        assert report.values == []
        assert all(error.row >= 2 for error in report.errors)
    else:
        assert len(report.values) == len(rows)
        names = [indicator.name for indicator, _ in report.values]
        assert sorted(names) == sorted(name for name, _ in rows) and len(set(names)) == len(names)
