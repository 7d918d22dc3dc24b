"""One decision, published once: a decision number (文书编号/决定文书号) is checked
against every stored record at upload, again at publication, and the database
has the last word. A withdrawn record frees its number; an enterprise listed
again under another decision is lawful but flagged for the reviewer."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from domain import importing, publishing
from domain.import_storage import store_batch
from domain.importing import ImportSettings
from domain.publishing import PublishingError
from domain.validation import normalize_document_no
from extensions import db
from models import Batch, Case, Listing, User
from tests import admin_support
from tests.admin_support import login, logout, make_user, post
from tests.builders import case_row, credit_code, listing_row, load, to_csv

fast_hashing = admin_support.fast_hashing


@pytest.fixture
def staff(app, fast_hashing):
    for name, role in (("editor", "editor"), ("publisher", "publisher")):
        make_user(name, role)


def upload(client, rows, *, kind="cases", year=2026, number=1):
    data = {
        "kind": kind,
        "year": str(year),
        "number": str(number),
        "file": (io.BytesIO(to_csv(kind, rows)), "batch.csv"),
    }
    return post(client, "/admin/batches/upload", data)


def import_rows(app, kind, rows, title, publish=True):
    return importing.import_file(
        to_csv(kind, rows),
        "batch.csv",
        kind=kind,
        title=title,
        settings=ImportSettings.from_config(app.config),
        actor=importing.CLI,
        publish=publish,
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_same_sheet_uploaded_again_is_refused_naming_row_column_and_batch(client, staff):
    first = load(
        "cases", [case_row(文书编号="兰劳监〔2025〕7号"), case_row(文书编号="兰劳监〔2025〕8号")], title="2025年第一批"
    )
    login(client, "editor")
    response = upload(client, [case_row(文书编号="兰劳监〔2025〕9号"), case_row(文书编号="兰劳监[2025]8号")])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "文件检查通过" not in page
    assert "<td>3</td><td>文书编号</td>" in page  # row 3 of the new file, the 文书编号 column
    assert "2025年第一批" in page and "已发布" in page and "第3行" in page
    assert f'href="/admin/batches/{first.id}"' in page
    assert count(Batch) == 1 and count(Case) == 2


def test_the_cli_refuses_the_same_file_under_another_title(app, runner, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_bytes(to_csv("cases", [case_row()]))
    first = runner.invoke(args=["import", str(path), "--kind", "cases", "--title", "2025年第一批", "--publish"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["import", str(path), "--kind", "cases", "--title", "2025年第二批", "--publish"])
    assert again.exit_code == 1
    assert "第2行【文书编号】" in again.output and "2025年第一批" in again.output
    assert count(Batch) == 1 and count(Case) == 1


def test_a_draft_holding_the_number_is_named_too(app):
    assert import_rows(app, "listings", [listing_row()], "2025年第一批", publish=False).ok
    result = import_rows(app, "listings", [listing_row()], "2025年第二批")
    assert not result.ok
    [error] = result.report.errors
    assert (error.row, error.column) == (2, "决定文书号")
    assert "草稿" in error.message and "删除原草稿" in error.message
    assert error.batch_id == db.session.scalar(select(Batch.id))


def test_a_withdrawn_record_does_not_block_a_new_one(app):
    batch = load("cases", [case_row()], title="2025年第一批")
    publishing.withdraw_batch(batch, "发布有误", db.session.get(User, make_user("p", "publisher").id))
    db.session.commit()
    result = import_rows(app, "cases", [case_row()], "2025年第二批")
    assert result.ok, (result.problem, result.report.errors)
    assert count(Case) == 2
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.status == "published")) == 1


def test_two_drafts_racing_the_second_to_publish_is_refused(app):
    settings = ImportSettings.from_config(app.config)
    records = importing.check_file(to_csv("cases", [case_row()]), "a.csv", "cases", settings).records
    first = store_batch("cases", [dict(r) for r in records], title="2025年第一批", authority="局")
    second = store_batch("cases", [dict(r) for r in records], title="2025年第二批", authority="局")
    db.session.commit()
    publishing.publish_batch(first)
    db.session.commit()
    with pytest.raises(PublishingError, match="2025年第一批"):
        publishing.publish_batch(second)
    db.session.rollback()
    assert db.session.get(Batch, second.id).status == "draft"


def test_the_database_refuses_a_second_public_record_with_one_number(app):
    """The last word, should every check above be bypassed."""
    load("cases", [case_row()], title="2025年第一批")
    draft = load("cases", [case_row(文书编号="其他〔2025〕1号")], title="2025年第二批", publish=False)
    key = db.session.scalar(select(Case.document_no_key).where(Case.status == "published"))
    db.session.execute(update(Case).where(Case.batch_id == draft.id).values(document_no_key=key))
    db.session.commit()  # a draft may carry it
    with pytest.raises(IntegrityError):
        db.session.execute(update(Case).where(Case.batch_id == draft.id).values(status="published"))
        db.session.flush()
    db.session.rollback()


def test_a_publish_race_caught_by_the_constraint_is_a_message(app, monkeypatch):
    settings = ImportSettings.from_config(app.config)
    records = importing.check_file(to_csv("cases", [case_row()]), "a.csv", "cases", settings).records
    first = store_batch("cases", [dict(r) for r in records], title="2025年第一批", authority="局")
    second = store_batch("cases", [dict(r) for r in records], title="2025年第二批", authority="局")
    db.session.commit()
    publishing.publish_batch(first)
    db.session.commit()
    monkeypatch.setattr(publishing, "publish_clashes", lambda batch: [])  # the other publisher checked too early
    with pytest.raises(PublishingError, match="刚发布"):
        publishing.publish_batch(second)
    db.session.rollback()
    assert db.session.get(Batch, second.id).status == "draft"


def test_publishing_a_clashing_batch_on_the_web_is_refused(client, staff):
    settings = ImportSettings.from_config(client.application.config)
    records = importing.check_file(to_csv("cases", [case_row()]), "a.csv", "cases", settings).records
    editor = db.session.scalar(select(User).where(User.username == "editor"))
    first = store_batch("cases", [dict(r) for r in records], title="2025年第一批", authority="局")
    second = store_batch(
        "cases", [dict(r) for r in records], title="2025年第二批", authority="局", created_by_id=editor.id
    )
    db.session.commit()
    publishing.publish_batch(first)
    db.session.commit()
    login(client, "editor")
    assert post(client, f"/admin/batches/{second.id}/submit").status_code == 303
    logout(client)
    login(client, "publisher")
    page = client.get(f"/admin/batches/{second.id}").get_data(as_text=True)
    assert "文书号已被公开的记录使用" in page and f'href="/admin/batches/{first.id}"' in page
    response = post(client, f"/admin/batches/{second.id}/publish", follow_redirects=True)
    assert "文书号重复" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Batch, second.id).status == "submitted"


def test_an_enterprise_listed_again_under_another_decision_is_flagged_not_refused(client, staff):
    held = load("listings", [listing_row(列入日期="2025-06-30")], title="2025年第一批")
    login(client, "editor")
    again = listing_row(决定文书号="兰人社失信〔2026〕2号", 列入日期="2026-10-01")
    response = upload(
        client,
        [again, listing_row(统一社会信用代码=credit_code(9), 决定文书号="兰人社失信〔2026〕3号")],
        kind="listings",
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "1条记录的单位已在失信名单中" in page
    assert "请审核人核实：1 个单位已在名单中" in page and f'href="/admin/batches/{held.id}"' in page


def test_an_edit_or_correction_may_not_take_a_number_in_use(app):
    load("cases", [case_row()], title="2025年第一批")
    other = load("cases", [case_row(文书编号="兰劳监〔2025〕2号")], title="2025年第二批")
    user = db.session.get(User, make_user("p", "publisher").id)
    record = db.session.scalar(select(Case).where(Case.batch_id == other.id))
    number = "兰城劳监指(2025)1号"  # the first batch's number, written with other brackets
    values = {
        **publishing.record_fields(record),
        "document_no": number,
        "document_no_key": normalize_document_no(number),
    }
    with pytest.raises(PublishingError, match="2025年第一批"):
        publishing.correct_record(record, values, "改正文书号", user)
    db.session.rollback()


def test_sample_data_loaded_twice_never_reuses_a_number(app):
    from domain.sample_data import load_sample_data

    load_sample_data(cases=30, listings=5, seed=3)
    load_sample_data(cases=30, listings=5, seed=3)
    for model in (Case, Listing):
        keys = list(db.session.scalars(select(model.document_no_key).where(model.document_no_key.is_not(None))))
        assert len(keys) == len(set(keys))
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.status == "published")) == 60
