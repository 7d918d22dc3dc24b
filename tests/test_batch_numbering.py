"""Batch titles that cannot drift: every title is built from kind, year and
number. The upload form asks for year and number (the next free one suggested),
refuses a number already taken (linking the batch that holds it), and the command
line reads year and number from ``--title`` or refuses the title."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from domain import importing
from domain.import_storage import year_and_number_from_title
from extensions import db
from models import Batch
from tests import admin_support
from tests.admin_support import login, make_user, post
from tests.builders import case_row, listing_row, load, to_csv

fast_hashing = admin_support.fast_hashing


@pytest.fixture
def editor(app, fast_hashing):
    make_user("editor", "editor")


def batch_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Batch))


def upload(client, *, kind="cases", year="2025", number="1", rows=None):
    rows = rows or [case_row(文书编号="号〔2025〕99号")]
    data = {"kind": kind, "year": year, "number": number, "file": (io.BytesIO(to_csv(kind, rows)), "b.csv")}
    return post(client, "/admin/batches/upload", data)


def test_the_suggestion_is_the_next_free_number_per_kind_and_year(client, editor):
    load("cases", [case_row()], title="2025年第一批")
    # a draft holds its number too
    load("cases", [case_row(文书编号="兰劳监〔2025〕2号")], title="2025年第二批", publish=False)
    load("listings", [listing_row()], title="2025年第一批")
    login(client, "editor")
    for query, number in (
        ("kind=cases&year=2025", 3),
        ("kind=listings&year=2025", 2),
        ("kind=cases&year=2024", 1),
        ("kind=listings&year=2024", 1),
    ):
        page = client.get(f"/admin/batches/upload?{query}").get_data(as_text=True)
        assert f'name="number" required type="number" value="{number}"' in page, query
    assert importing.suggested_number("cases", 2025) == 3
    assert importing.suggested_number("listings", 2025) == 2


def test_changing_kind_or_year_answers_the_numbering_fragment_to_htmx(client, editor):
    held = load("listings", [listing_row()], title="2025年第一批")
    login(client, "editor")
    with client.get("/admin/batches/upload?kind=listings&year=2025", headers={"HX-Request": "true"}) as response:
        fragment = response.get_data(as_text=True)
        assert "HX-Request" in response.headers["Vary"]
    assert "<html" not in fragment and 'id="numbering"' in fragment
    assert "发布标题：<strong>2025年第二批拖欠农民工工资失信联合惩戒对象名单</strong>" in fragment
    # a number typed that another batch holds: said at once, with a link to it
    with client.get(
        "/admin/batches/upload?kind=listings&year=2025&number=1", headers={"HX-Request": "true"}
    ) as response:
        fragment = response.get_data(as_text=True)
    assert f'<a href="/admin/batches/{held.id}">2025年第一批</a>' in fragment
    with client.get("/admin/batches/upload?kind=cases&year=1999") as response:
        assert response.status_code == 400


def test_the_form_builds_the_title_whatever_the_kind(client, editor):
    login(client, "editor")
    assert upload(client, kind="listings", year="2021", number="3", rows=[listing_row()]).status_code == 303
    assert upload(client, kind="cases", year="2026", number="12").status_code == 303
    titles = list(db.session.scalars(select(Batch.title).order_by(Batch.id)))
    assert titles == ["2021年第三批拖欠农民工工资“黑名单”", "2026年第十二批重大劳动保障违法案件"]


@pytest.mark.parametrize(
    "year, number, message",
    [
        ("", "1", "请填写年份"),
        ("2025", "", "请填写批次号"),
        ("二〇二五", "1", "请填写整数"),
        ("1999", "1", "年份应在2000到"),
        ("2025", "0", "批次号应在1到99之间"),
        ("2025", "100", "批次号应在1到99之间"),
    ],
)
def test_a_bad_year_or_number_is_a_form_error_and_stores_nothing(client, editor, year, number, message):
    login(client, "editor")
    response = upload(client, year=year, number=number)
    assert response.status_code in (400, 422)
    assert message in response.get_data(as_text=True)
    assert batch_count() == 0


def test_a_taken_number_is_refused_naming_and_linking_the_batch(client, editor):
    held = load("cases", [case_row()], title="2025年第一批", publish=False)
    login(client, "editor")
    response = upload(client, year="2025", number="1")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "2025年第1批已由批次“2025年第一批”（草稿）使用，下一个未用的批次号是第2批" in page
    assert f'<a href="/admin/batches/{held.id}">2025年第一批</a>' in page
    assert batch_count() == 1


@pytest.mark.parametrize("title", ["2026年专项检查", "专项检查第二批", "根治欠薪"])
def test_the_cli_refuses_a_title_without_year_and_number(app, runner, tmp_path, title):
    path = tmp_path / "c.csv"
    path.write_bytes(to_csv("cases", [case_row()]))
    result = runner.invoke(args=["import", str(path), "--kind", "cases", "--title", title])
    assert result.exit_code == 1
    assert f"无法从标题“{title}”中读出年份和批次号" in result.output
    assert "未保存任何数据" in result.output
    assert batch_count() == 0


def test_the_cli_builds_the_title_and_refuses_a_taken_number(app, runner, tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(to_csv("cases", [case_row()]))
    result = runner.invoke(args=["import", str(path), "--kind", "cases", "--title", "2026年第4批"])
    assert result.exit_code == 0, result.output
    assert "2026年第四批重大劳动保障违法案件" in result.output
    path.write_bytes(to_csv("cases", [case_row(文书编号="其他〔2026〕1号")]))
    result = runner.invoke(args=["import", str(path), "--kind", "cases", "--title", "2026年第四批"])
    assert result.exit_code == 1
    assert "2026年第4批已由批次“2026年第四批重大劳动保障违法案件”（草稿）使用" in result.output
    assert batch_count() == 1


@given(kind=st.sampled_from(["cases", "listings"]), year=st.integers(2000, 2100), number=st.integers(1, 99))
def test_a_built_title_reads_back_as_its_year_and_number(kind, year, number):
    assert year_and_number_from_title(importing.batch_title(kind, year, number)) == (year, number)
