"""The 守法诚信等级评价: the sheet import (credit codes checked as in the record
import, all or nothing with row numbers), review with four eyes, a year replaced
by a new publication, and what the public sees under each of the four values of
GONGSHI_PUBLISH_GRADES (pages, enterprise page, downloads, API)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from stdnum.cn import uscc

from app import create_app
from domain import audit, gradings
from domain.spreadsheets import Table
from extensions import db
from models import AuditEvent, GradingResult, GradingRun
from tests import admin_support
from tests.admin_support import login, logout, make_user, post
from tests.builders import case_row, credit_code, load
from tests.test_exports import saved_as

fast_hashing = admin_support.fast_hashing

HEADER = "单位名称,统一社会信用代码,等级,评定日期"


def code_in(region: str, serial: int) -> str:
    body = f"91{region}MA{serial:07d}"
    return body + uscc.calc_check_digit(body)


def sheet(tmp_path, rows, name="grades.csv") -> str:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *(",".join(row) for row in rows)]) + "\n", encoding="utf-8")
    return str(path)


def run_count() -> int:
    return db.session.scalar(select(func.count()).select_from(GradingRun)) or 0


# --- the sheet ---------------------------------------------------------------------------


def test_cli_import_refuses_a_sheet_with_errors_and_names_every_row(app, runner, tmp_path):
    good = credit_code(11)
    typo = good[:17] + ("0" if good[17] != "0" else "1")
    path = sheet(
        tmp_path,
        [
            ("兰州甲公司", good, "A", "2021-02-01"),
            ("兰州乙公司", typo, "B", "2021-02-01"),  # check character wrong
            ("兰州丙公司", credit_code(12), "D", "2021-02-01"),  # no such grade
            ("兰州丁公司", credit_code(13), "A", "2019-12-31"),  # before the year graded
            ("", credit_code(14), "C", "2021年2月3日"),  # no name
            ("兰州甲公司（重复）", good, "A", "2021-02-01"),  # the same enterprise twice
            ("兰州戊公司", credit_code(15), "C", "2027-01-01"),  # in the future
        ],
    )
    result = runner.invoke(args=["grading", "import", path, "--year", "2020"])
    assert result.exit_code != 0
    out = result.output
    assert "第3行【统一社会信用代码】：第18位（校验位）与前17位不符" in out
    assert "第4行【等级】：等级“D”无效" in out
    assert "第5行【评定日期】：2020年度的评价应在2020年或2021年作出，不能是2019年" in out
    assert "第6行【单位名称】：必填，不能为空" in out
    assert "第7行【统一社会信用代码】：与第2行重复" in out
    assert "第8行【评定日期】：日期2027-01-01晚于今天" in out
    assert "未保存任何数据" in out
    assert run_count() == 0 and db.session.scalar(select(func.count()).select_from(GradingResult)) == 0


def test_cli_import_refuses_other_headers(app, runner, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("单位名称,统一社会信用代码,等级\n甲,1,A\n", encoding="utf-8")
    result = runner.invoke(args=["grading", "import", str(path), "--year", "2020"])
    assert result.exit_code != 0 and "第1行：缺少列：评定日期" in result.output


@pytest.mark.parametrize(
    ("text", "grade"), [("A", "A"), ("ａ", "A"), ("B级", "B"), ("Ｃ类", "C"), ("守法诚信", "A"), ("不守法", "C")]
)
def test_grade_spellings(text, grade):
    assert gradings.parse_grade(text) == grade


@given(st.lists(st.sampled_from("ABC"), min_size=1, max_size=40))
def test_counts_are_the_grades_of_the_sheet(grades):
    rows = [(n + 2, [f"单位{n}", credit_code(100 + n), grade, "2021-01-05"]) for n, grade in enumerate(grades)]
    report = gradings.check_table(Table(header=list(gradings.COLUMNS), rows=rows), 2020)
    assert not report.errors
    assert report.counts() == {g: grades.count(g) for g in "ABC"}


def test_import_counts_districts_and_a_new_publication_replaces_the_year(app, runner, tmp_path):
    load("cases", [case_row(统一社会信用代码=credit_code(21), 区县="西固区")])  # known to the site
    rows = [
        ("兰州已知公司", credit_code(21), "A", "2021-02-01"),  # district from its records
        ("兰州城关公司", code_in("620102", 22), "A", "2021-02-01"),  # from the region code
        ("外地公司", code_in("110105", 23), "B", "2021/2/1"),  # neither: 未注明区县
        ("兰州不守法公司", code_in("620104", 24), "C", "2021年2月1日"),
    ]
    result = runner.invoke(args=["grading", "import", sheet(tmp_path, rows), "--year", "2020", "--publish"])
    assert result.exit_code == 0, result.output
    assert "A级2、B级1、C级1" in result.output
    run = db.session.scalar(select(GradingRun))
    assert run.status == "published" and run.title == "2020年度劳动保障守法诚信等级评价结果"
    found = dict(db.session.execute(select(GradingResult.enterprise_name, GradingResult.district)).all())
    assert found == {"兰州已知公司": "西固区", "兰州城关公司": "城关区", "外地公司": None, "兰州不守法公司": "西固区"}
    assert {
        (e.action, e.username)
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "gradingrun"))
    } == {
        ("grading.create", audit.CLI_ACTOR),
        ("grading.publish", audit.CLI_ACTOR),
    }
    districts = {row.district: (row.A, row.B, row.C) for row in gradings.district_counts(run, app.config["DISTRICTS"])}
    assert (
        districts["西固区"] == (1, 0, 1) and districts["城关区"] == (1, 0, 0) and districts["未注明区县"] == (0, 1, 0)
    )
    assert districts["榆中县"] == (0, 0, 0)  # every configured district is listed

    # The corrected sheet for 2020 replaces the published one.
    result = runner.invoke(
        args=["grading", "import", sheet(tmp_path, rows[:2], "fix.csv"), "--year", "2020", "--publish"]
    )
    assert result.exit_code == 0 and "替换了此前发布的" in result.output
    db.session.expire_all()
    assert run.status == "superseded"
    assert gradings.counts(gradings.published_run(2020)) == {"A": 2, "B": 0, "C": 0}


# --- the setting ---------------------------------------------------------------------------


@pytest.fixture
def graded(app, runner, tmp_path):
    """Two enterprises with public cases: one graded A, one B; another A with no records."""
    load(
        "cases",
        [
            case_row(统一社会信用代码=credit_code(31), 违法主体名称="兰州甲建筑有限公司"),
            case_row(
                统一社会信用代码=credit_code(32), 违法主体名称="兰州乙建筑有限公司", 文书编号="兰城劳监指〔2025〕2号"
            ),
        ],
    )
    older = [
        ("兰州甲建筑有限公司", credit_code(31), "B", "2024-01-10"),
        ("兰州乙建筑有限公司", credit_code(32), "A", "2024-01-10"),
    ]
    rows = [
        ("兰州甲建筑有限公司", credit_code(31), "A", "2025-01-10"),
        ("兰州乙建筑有限公司", credit_code(32), "B", "2025-01-10"),
        ("兰州丙物业有限公司", code_in("620102", 33), "A", "2025-01-10"),
    ]
    for year, data in ((2023, older), (2024, rows)):
        result = runner.invoke(
            args=["grading", "import", sheet(tmp_path, data, f"{year}.csv"), "--year", str(year), "--publish"]
        )
        assert result.exit_code == 0, result.output


def enterprise_page(client, serial: int) -> str:
    return client.get(f"/enterprises/{credit_code(serial)}").get_data(as_text=True)


def test_publish_grades_none(app, client, graded):
    app.config["PUBLISH_GRADES"] = "none"
    assert client.get("/gradings").status_code == 404
    answer = client.get("/api/v1/gradings?year=2024")
    assert answer.status_code == 404 and "未向社会公开" in answer.get_json()["error"]["message"]
    assert client.get("/gradings.csv").status_code == 404
    assert 'id="h-grading"' not in enterprise_page(client, 31)
    assert client.get(f"/api/v1/enterprises/{credit_code(31)}").get_json()["grading"] is None
    assert "守法诚信等级评价" not in client.get("/bulletins").get_data(as_text=True)
    assert "守法诚信等级评价</a>依据" not in client.get("/about").get_data(as_text=True)


def test_publish_grades_counts(app, client, graded):
    app.config["PUBLISH_GRADES"] = "counts"
    answer = client.get("/api/v1/gradings?year=2024").get_json()
    assert answer["year"] == 2024 and answer["counts"] == {"A": 2, "B": 1, "C": 0}
    assert answer["results"] == [] and answer["publish_grades"] == "counts"
    page = client.get("/gradings?year=2024").get_data(as_text=True)
    assert "兰州丙物业有限公司" not in page and "只公开各等级的户数" in page
    with client.get("/gradings.csv?year=2024") as response:
        body = response.get_data(as_text=True)
        assert saved_as(response) == "兰州-等级评价-2024年-20261128.csv"
    assert "兰州" + "丙" not in body and "城关区" in body and body.startswith("\ufeff年度,区县,A级")
    assert 'id="h-grading"' not in enterprise_page(client, 31)


def test_publish_grades_a_list(app, client, graded):
    assert app.config["PUBLISH_GRADES"] == "a-list"  # the default
    answer = client.get("/api/v1/gradings").get_json()
    assert answer["year"] == 2024  # the latest published year
    assert sorted(r["enterprise_name"] for r in answer["results"]) == ["兰州丙物业有限公司", "兰州甲建筑有限公司"]
    assert {r["grade"] for r in answer["results"]} == {"A"}
    assert client.get("/api/v1/gradings?grade=B").status_code == 400  # not public under a-list
    page = client.get("/gradings").get_data(as_text=True)
    assert "A级（守法诚信）单位名单" in page and "兰州乙建筑有限公司" not in page
    # The latest grade, only if it is A: 甲 (A in 2024) shows it; 乙 (B in 2024, A in 2023) shows none.
    assert "2024年度评价" in enterprise_page(client, 31) and "A级" in enterprise_page(client, 31)
    assert 'id="h-grading"' not in enterprise_page(client, 32)
    assert "以及A级单位名单" in client.get("/about").get_data(as_text=True)
    assert client.get(f"/api/v1/enterprises/{credit_code(31)}").get_json()["grading"] == {
        "year": 2024,
        "enterprise_name": "兰州甲建筑有限公司",
        "credit_code": credit_code(31),
        "grade": "A",
        "grade_label": "守法诚信",
        "district": "城关区",
        "graded_on": "2025-01-10",
    }
    assert client.get(f"/api/v1/enterprises/{credit_code(32)}").get_json()["grading"] is None
    twin = client.get("/gradings.json").get_json()
    assert twin["total"] == 2 and twin["counts"] == answer["counts"]


def test_publish_grades_all(app, client, graded):
    app.config["PUBLISH_GRADES"] = "all"
    answer = client.get("/api/v1/gradings?year=2024").get_json()
    assert {r["enterprise_name"]: r["grade"] for r in answer["results"]} == {
        "兰州甲建筑有限公司": "A",
        "兰州乙建筑有限公司": "B",
        "兰州丙物业有限公司": "A",
    }
    assert [r["grade"] for r in client.get("/api/v1/gradings?year=2024&grade=B").get_json()["results"]] == ["B"]
    assert "B级" in enterprise_page(client, 32) and "基本守法" in enterprise_page(client, 32)
    assert client.get(f"/api/v1/enterprises/{credit_code(32)}").get_json()["grading"]["grade"] == "B"
    fragment = client.get("/gradings?grade=A", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "兰州乙建筑有限公司" not in fragment
    assert client.get("/api/v1/gradings?year=2019").status_code == 404


def test_an_unknown_setting_is_refused_at_start(tmp_path):
    with pytest.raises(RuntimeError, match="GONGSHI_PUBLISH_GRADES"):
        create_app(
            {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PUBLISH_GRADES": "some"},
            instance_path=str(tmp_path / "instance"),  # no key file in the real instance folder
        )


# --- review -----------------------------------------------------------------------------------


@pytest.fixture
def staff(app, fast_hashing):
    for name, role in (("editor", "editor"), ("publisher", "publisher"), ("publisher2", "publisher")):
        make_user(name, role)


def upload(client, body: str, year: str = "2025"):
    data = (HEADER + "\n" + body).encode()
    return post(client, "/admin/gradings/upload", {"year": year, "title": "", "file": (io.BytesIO(data), "g.csv")})


def test_upload_all_or_nothing_then_four_eyes(app, client, staff):
    login(client, "publisher")
    response = upload(client, f"兰州甲公司,{credit_code(41)[:-1]}Z,A,2026-01-05\n")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "第18位" in text and "未保存任何数据" in text
    assert run_count() == 0
    assert upload(client, f"兰州甲公司,{credit_code(41)},A,2026-01-05\n").status_code == 303
    run = db.session.scalar(select(GradingRun))
    assert run.status == "draft" and run.source_filename == "g.csv"
    assert post(client, f"/admin/gradings/{run.id}/submit").status_code == 303
    text = post(client, f"/admin/gradings/{run.id}/publish", follow_redirects=True).get_data(as_text=True)
    assert "四眼原则" in text and "评价结果" in text
    db.session.expire_all()
    assert run.status == "submitted"
    assert client.get("/api/v1/gradings").status_code == 404  # nothing published yet
    logout(client)
    login(client, "editor")
    assert post(client, f"/admin/gradings/{run.id}/publish").status_code == 403
    logout(client)
    login(client, "publisher2")
    assert "等级评价结果" in client.get("/admin/review").get_data(as_text=True)
    assert post(client, f"/admin/gradings/{run.id}/publish").status_code == 303
    db.session.expire_all()
    assert run.status == "published" and run.published_on == dt.date(2026, 11, 28)
    assert client.get("/api/v1/gradings").get_json()["counts"] == {"A": 1, "B": 0, "C": 0}


def test_sample_gradings(app, client):
    from domain.sample_reports import load_sample_gradings
    from tests.builders import listing_row

    load("listings", [listing_row(统一社会信用代码=credit_code(51), 列入日期="2023-05-04")], title="2023年第一批")
    load("cases", [case_row(统一社会信用代码=credit_code(52))])
    assert load_sample_gradings() == 6
    assert load_sample_gradings() == 0  # only into a site without gradings
    assert gradings.published_years() == [2025, 2024, 2023, 2022, 2021, 2020]
    listed = db.session.scalar(
        select(GradingResult).where(GradingResult.year == 2023, GradingResult.credit_code == credit_code(51))
    )
    assert listed.grade == "C" and listed.district == "安宁区"
    run = gradings.published_run(2025)
    assert run.is_sample and run.published_on == dt.date(2026, 3, 16)
    assert sum(gradings.counts(run).values()) == 2


def test_the_example_sheet_imports(app, runner):
    from tests.conftest import FIXTURES

    result = runner.invoke(args=["grading", "import", str(FIXTURES / "grading-example.csv"), "--year", "2020"])
    assert result.exit_code == 0, result.output
    assert "已导入 4 户（A级2、B级1、C级1）" in result.output and "已保存为草稿" in result.output


any_cell = st.one_of(st.none(), st.text(max_size=25), st.integers(-(10**6), 10**6), st.floats(allow_nan=True))


@given(st.lists(st.lists(any_cell, min_size=0, max_size=6), min_size=1, max_size=8))
def test_any_sheet_is_answered_with_row_errors_or_rows_never_a_crash(rows):
    table = Table(header=list(gradings.COLUMNS), rows=[(n + 2, cells) for n, cells in enumerate(rows)])
    report = gradings.check_table(table, 2020)
    assert bool(report.errors) != bool(report.rows)
    assert all(error.row >= 2 for error in report.errors)


def test_the_staff_settings_page_shows_the_setting_and_the_catalogue(app, client, fast_hashing):
    make_user("admin", "admin")
    login(client, "admin")
    shown = client.get("/admin/settings").get_data(as_text=True)
    assert "公开各等级数量和A级单位名单（a-list）" in shown and "GONGSHI_PUBLISH_GRADES" in shown
    assert "受理案件数（件，越低越好）" in shown and "GONGSHI_BULLETIN_INDICATORS" in shown
