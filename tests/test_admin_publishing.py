"""The staff workflow end to end through the web: upload → draft → review →
publish, then correction, withdrawal and listing takedown, each checked on every
public surface (pages, lists, downloads, API, search)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder

from domain.publishing import update_search_index
from extensions import db
from models import AuditEvent, Batch, Case, Listing, RecordRevision
from tests import admin_support
from tests.admin_support import login, logout, make_user, post, token
from tests.builders import case_row, credit_code, listing_row, load, to_csv
from tests.conftest import example_file

fast_hashing = admin_support.fast_hashing


@pytest.fixture
def staff(app, fast_hashing):
    for name, role in (
        ("editor", "editor"),
        ("publisher", "publisher"),
        ("publisher2", "publisher"),
        ("admin", "admin"),
    ):
        make_user(name, role)


def upload(client, data: bytes, filename: str, kind: str = "cases", year: int = 2026, number: int = 1):
    fields = {"kind": kind, "year": str(year), "number": str(number), "file": (io.BytesIO(data), filename)}
    return post(client, "/admin/batches/upload", fields)


def counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Batch, Case, Listing))


def publish_through_review(client, data: bytes, filename: str, kind: str = "cases") -> Batch:
    login(client, "editor")
    response = upload(client, data, filename, kind)
    assert response.status_code == 303, response.get_data(as_text=True)
    batch = db.session.scalars(select(Batch).order_by(Batch.id.desc())).first()
    assert post(client, f"/admin/batches/{batch.id}/submit").status_code == 303
    logout(client)
    login(client, "publisher")
    assert post(client, f"/admin/batches/{batch.id}/publish").status_code == 303
    db.session.expire_all()
    assert batch.status == "published"
    return batch


def public_everywhere(client, record, name: str) -> dict[str, bool]:
    """Where on the public site a record appears (once the search has followed
    the change log, as every web process's follower does within a second)."""
    update_search_index()
    kind = "cases" if isinstance(record, Case) else "listings"
    return {
        "page": client.get(f"/{kind}/{record.id}").status_code == 200,
        "list": name in client.get(f"/{kind}").get_data(as_text=True),
        "csv": name in client.get(f"/{kind}.csv").get_data(as_text=True),
        "json": name in client.get(f"/{kind}.json").get_data(as_text=True),
        "api": any(item["id"] == record.id for item in client.get(f"/api/v1/{kind}").get_json()["results"]),
        "search": f'href="/{kind}/{record.id}"'
        in client.get("/search", query_string={"q": name}).get_data(as_text=True),
        "api_search": any(
            item["id"] == record.id and item["kind"] in (kind, kind[:-1])
            for item in client.get("/api/v1/search", query_string={"q": name}).get_json()["results"]
        ),
        "batch": name in client.get(f"/batches/{record.batch_id}").get_data(as_text=True),
        "batch_csv": name in client.get(f"/batches/{record.batch_id}.csv").get_data(as_text=True),
    }


# --- upload ----------------------------------------------------------------------------


def test_a_valid_spreadsheet_becomes_a_draft_that_is_not_public(client, staff):
    login(client, "editor")
    response = upload(client, example_file("cases-example.xlsx").read_bytes(), "cases-example.xlsx")
    assert response.status_code == 303
    batch = db.session.scalar(select(Batch))
    assert batch.status == "draft" and batch.created_by_id is not None
    cases = list(db.session.scalars(select(Case)))
    assert len(cases) == 3 and {case.status for case in cases} == {"draft"}
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已保存为草稿批次（3条）" in page
    assert client.get(f"/cases/{cases[0].id}").status_code == 404
    assert cases[0].enterprise_name not in client.get("/cases").get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "batch.upload")).after["records"] == 3


def test_a_listings_csv_upload(client, staff):
    login(client, "editor")
    response = upload(client, example_file("listings-example.csv").read_bytes(), "l.csv", kind="listings")
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Listing)) > 0


def _broken_xlsx() -> bytes:
    good = example_file("cases-example.xlsx").read_bytes()
    return good[: len(good) // 2]


def _xlsx_without_sheet() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return out.getvalue()


@pytest.mark.parametrize(
    "data, filename, message",
    [
        (to_csv("listings", [listing_row()]), "wrong.csv", "不是模板中的列名"),
        (b"", "empty.csv", "文件是空的"),
        (b"   \n", "blank.csv", "文件是空的"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "photo.png", "不支持的文件类型"),
        (b"%PDF-1.4 " + bytes(100), "report.pdf", "不支持的文件类型"),
        (_broken_xlsx(), "broken.xlsx", "无法读取这个 Excel 文件"),
        (_xlsx_without_sheet(), "nosheet.xlsx", "无法读取这个 Excel 文件"),
        (b"\xd0\xcf\x11\xe0" + bytes(100), "old.xls", "不支持旧版 .xls"),
        (to_csv("cases", [case_row(统一社会信用代码=credit_code(1)[:-1] + "0")]), "typo.csv", "校验位"),
    ],
    ids=["wrong-headers", "empty", "blank", "png", "pdf", "broken-xlsx", "zip-not-xlsx", "xls", "bad-row"],
)
def test_a_bad_upload_gives_a_clear_message_and_stores_nothing(client, staff, data, filename, message):
    # (An empty file field, as a browser sends when nothing was chosen, is the 'no file' case below.)
    login(client, "editor")
    response = upload(client, data, filename)
    assert response.status_code in (400, 422)
    assert message in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)


def test_a_file_of_the_other_kind_is_named(client, staff):
    login(client, "editor")
    response = upload(client, example_file("listings-example.csv").read_bytes(), "l.csv", kind="cases")
    assert response.status_code == 422
    assert "请在“类别”中选择“失信联合惩戒对象名单”" in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)


def test_no_file_chosen(client, staff):
    login(client, "editor")
    response = post(client, "/admin/batches/upload", {"kind": "cases", "year": "2026", "number": "1"})
    assert response.status_code == 400 and "请选择要上传的文件" in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)


def test_the_report_names_row_and_column(client, staff):
    login(client, "editor")
    rows = [case_row(), case_row(区县="朝阳区", 文书编号="兰劳监〔2026〕2号")]
    page = upload(client, to_csv("cases", rows), "rows.csv").get_data(as_text=True)
    assert "<td>3</td><td>区县</td>" in page
    assert "未保存任何数据" in page


def test_a_50_mb_upload_is_refused_with_413_and_stores_nothing(client, staff):
    login(client, "editor")
    big = b"a" * (50 * 1024 * 1024)
    builder = EnvironBuilder(
        path="/admin/batches/upload",
        method="POST",
        data={
            "csrf_token": token(client),
            "kind": "cases",
            "year": "2026",
            "number": "1",
            "file": (io.BytesIO(big), "big.csv"),
        },
    )
    environ = builder.get_environ()
    builder.close()
    try:
        response = client.open(environ)
    finally:
        environ["wsgi.input"].close()  # the refused body is never read; close its spool file
    assert response.status_code == 413
    assert "文件太大" in response.get_data(as_text=True)
    assert counts() == (0, 0, 0)


# --- review and publish ----------------------------------------------------------------


def test_editor_submits_and_another_publisher_publishes(client, staff):
    batch = publish_through_review(client, example_file("cases-example.xlsx").read_bytes(), "c.xlsx")
    case = db.session.scalars(select(Case).where(Case.batch_id == batch.id)).first()
    assert case.status == "published"
    where = public_everywhere(client, case, case.enterprise_name)
    assert all(where.values()), where
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "batch.publish")) == 1


def test_the_preparer_cannot_publish_their_own_batch(client, staff):
    login(client, "publisher")
    upload(client, example_file("cases-example.xlsx").read_bytes(), "c.xlsx")
    batch = db.session.scalar(select(Batch))
    post(client, f"/admin/batches/{batch.id}/submit")
    page = client.get(f"/admin/batches/{batch.id}").get_data(as_text=True)
    assert "四眼原则" in page
    response = post(client, f"/admin/batches/{batch.id}/publish")
    assert response.status_code == 303
    assert "四眼原则" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert batch.status == "submitted"
    logout(client)
    login(client, "publisher2")
    post(client, f"/admin/batches/{batch.id}/publish")
    db.session.expire_all()
    assert batch.status == "published"


def test_an_editor_who_submitted_someone_elses_upload_counts_as_preparer(client, staff):
    login(client, "publisher")
    upload(client, example_file("cases-example.xlsx").read_bytes(), "c.xlsx")
    batch = db.session.scalar(select(Batch))
    logout(client)
    login(client, "publisher2")
    post(client, f"/admin/batches/{batch.id}/submit")
    post(client, f"/admin/batches/{batch.id}/publish")
    db.session.expire_all()
    assert batch.status == "submitted"


def test_four_eyes_can_be_switched_off_for_a_one_person_office(app, client, staff):
    app.config["FOUR_EYES"] = False
    login(client, "publisher")
    upload(client, example_file("cases-example.xlsx").read_bytes(), "c.xlsx")
    batch = db.session.scalar(select(Batch))
    post(client, f"/admin/batches/{batch.id}/submit")
    post(client, f"/admin/batches/{batch.id}/publish")
    db.session.expire_all()
    assert batch.status == "published"


def test_a_draft_must_be_submitted_before_it_is_published(client, staff):
    login(client, "editor")
    upload(client, example_file("cases-example.xlsx").read_bytes(), "c.xlsx")
    batch = db.session.scalar(select(Batch))
    logout(client)
    login(client, "publisher")
    post(client, f"/admin/batches/{batch.id}/publish")
    db.session.expire_all()
    assert batch.status == "draft"


def test_send_back_needs_a_comment_and_returns_the_draft(client, staff):
    login(client, "editor")
    upload(client, example_file("cases-example.xlsx").read_bytes(), "c.xlsx")
    batch = db.session.scalar(select(Batch))
    post(client, f"/admin/batches/{batch.id}/submit")
    logout(client)
    login(client, "publisher")
    post(client, f"/admin/batches/{batch.id}/send-back", {"comment": ""})
    db.session.expire_all()
    assert batch.status == "submitted"
    post(client, f"/admin/batches/{batch.id}/send-back", {"comment": "第2行罚款金额请核对"})
    db.session.expire_all()
    assert batch.status == "draft"
    logout(client)
    login(client, "editor")
    assert "第2行罚款金额请核对" in client.get(f"/admin/batches/{batch.id}").get_data(as_text=True)
    assert "已退回" in client.get("/admin/").get_data(as_text=True)


def test_a_submitted_batch_is_locked_for_editing(client, staff):
    login(client, "editor")
    upload(client, example_file("cases-example.xlsx").read_bytes(), "c.xlsx")
    batch = db.session.scalar(select(Batch))
    case = db.session.scalars(select(Case)).first()
    post(client, f"/admin/batches/{batch.id}/submit")
    response = client.get(f"/admin/cases/{case.id}/edit")
    assert response.status_code == 303
    assert post(client, f"/admin/cases/{case.id}/delete").status_code == 303
    assert db.session.get(Case, case.id) is not None


# --- drafts: preview, edit, add, remove ---------------------------------------------


@pytest.fixture
def draft(client, staff):
    login(client, "editor")
    upload(client, to_csv("cases", [case_row()]), "one.csv")
    return db.session.scalar(select(Batch))


def form_of(record: Case) -> dict[str, str]:
    return {
        "enterprise_name": record.enterprise_name,
        "credit_code": record.credit_code or "",
        "legal_representative": record.legal_representative or "",
        "address": record.address or "",
        "district": record.district,
        "industry": record.industry or "",
        "violation_types": record.violation_types,
        "facts": record.facts,
        "handling": record.handling or "",
        "workers_involved": str(record.workers_involved or ""),
        "amount_involved": "200000",
        "fine_amount": "",
        "transferred_to_police": "是" if record.transferred_to_police else "否",
        "decided_on": record.decided_on.isoformat(),
        "document_no": record.document_no or "",
    }


def test_the_draft_preview_shows_the_public_page(client, draft):
    case = db.session.scalar(select(Case))
    page = client.get(f"/admin/cases/{case.id}/preview").get_data(as_text=True)
    assert "预览" in page and case.enterprise_name in page and "主要违法事实" in page
    assert client.get(f"/admin/batches/{draft.id}/preview").status_code == 200


def test_editing_a_draft_record_uses_the_import_rules(client, draft):
    case = db.session.scalar(select(Case))
    bad = {**form_of(case), "credit_code": credit_code(1)[:-1] + "0", "decided_on": "2099-01-01"}
    response = post(client, f"/admin/cases/{case.id}/edit", bad)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "校验位" in page and "晚于今天" in page
    good = {**form_of(case), "fine_amount": "50000", "violation_types": "欠薪、未依法缴纳社会保险费"}
    assert post(client, f"/admin/cases/{case.id}/edit", good).status_code == 303
    db.session.expire_all()
    assert str(case.fine_amount) == "50000.00"
    assert case.violation_types == "拖欠劳动报酬、未依法缴纳社会保险费"  # canonical labels, as an import stores them
    assert [row.violation_type for row in case.violation_type_rows] == ["拖欠劳动报酬", "未依法缴纳社会保险费"]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "record.edit"))
    assert event.before["fine_amount"] is None and event.after["fine_amount"] == "50000.00"


def test_a_form_with_private_data_is_refused(client, draft):
    case = db.session.scalar(select(Case))
    response = post(client, f"/admin/cases/{case.id}/edit", {**form_of(case), "facts": "联系电话13912345678"})
    assert response.status_code == 422
    assert "手机号码" in response.get_data(as_text=True)


def test_add_and_remove_records_in_a_draft(client, draft):
    case = db.session.scalar(select(Case))
    new = {
        **form_of(case),
        "enterprise_name": "兰州新添加有限公司",
        "credit_code": credit_code(7),
        "document_no": "新1号",
    }
    response = post(client, f"/admin/batches/{draft.id}/records/new", new)
    assert response.status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.batch_id == draft.id)) == 2
    duplicate = {**new, "enterprise_name": "另一家"}
    response = post(client, f"/admin/batches/{draft.id}/records/new", duplicate)
    assert response.status_code == 422 and "文书号相同" in response.get_data(as_text=True)
    added = db.session.scalar(select(Case).where(Case.enterprise_name == "兰州新添加有限公司"))
    assert post(client, f"/admin/cases/{added.id}/delete").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Case).where(Case.batch_id == draft.id)) == 1


def test_a_draft_batch_can_be_deleted(client, draft):
    assert post(client, f"/admin/batches/{draft.id}/delete").status_code == 303
    assert counts()[:2] == (0, 0)
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "batch.delete")) == 1


# --- after publication ---------------------------------------------------------------


@pytest.fixture
def published(app, client, staff):
    cases = load(
        "cases",
        [case_row(), case_row(违法主体名称="兰州另一家建筑有限公司", 统一社会信用代码=credit_code(5), 文书编号="b2")],
    )
    listings = load("listings", [listing_row()], title="2025年第二批")
    login(client, "publisher")
    return {
        "case": db.session.scalar(select(Case).where(Case.batch_id == cases.id).order_by(Case.id)),
        "other": db.session.scalars(select(Case).where(Case.batch_id == cases.id).order_by(Case.id)).all()[1],
        "listing": db.session.scalar(select(Listing).where(Listing.batch_id == listings.id)),
        "cases": cases,
    }


def test_a_withdrawn_record_answers_410_and_is_gone_everywhere(client, published):
    case = published["case"]
    name = case.enterprise_name
    assert all(public_everywhere(client, case, name).values())
    response = post(client, f"/admin/cases/{case.id}/withdraw", {"reason": ""})
    assert db.session.get(Case, case.id).status == "published"  # a reason is required
    response = post(client, f"/admin/cases/{case.id}/withdraw", {"reason": "公布对象有误"})
    assert response.status_code == 303
    gone = client.get(f"/cases/{case.id}")
    assert gone.status_code == 410 and "撤回" in gone.get_data(as_text=True)
    assert name not in gone.get_data(as_text=True)
    assert client.get(f"/api/v1/cases/{case.id}").status_code == 410
    where = public_everywhere(client, case, name)
    del where["page"]
    assert not any(where.values()), where
    # Its batch-mate stays public.
    assert client.get(f"/cases/{published['other'].id}").status_code == 200


def test_withdrawing_a_whole_batch(client, published):
    batch = published["cases"]
    assert post(client, f"/admin/batches/{batch.id}/withdraw", {"reason": "整批公布有误"}).status_code == 303
    db.session.expire_all()
    assert batch.status == "withdrawn"
    assert {case.status for case in db.session.scalars(select(Case).where(Case.batch_id == batch.id))} == {"withdrawn"}
    assert client.get(f"/cases/{published['case'].id}").status_code == 410
    assert client.get(f"/batches/{batch.id}").status_code == 410
    assert not any(public_everywhere(client, published["other"], published["other"].enterprise_name).values())


def test_a_correction_shows_its_note_and_keeps_the_old_text(client, published):
    case = published["case"]
    response = client.get(f"/admin/cases/{case.id}/correct")
    assert response.status_code == 200
    fields = {**form_of(case), "fine_amount": "30000"}
    assert post(client, f"/admin/cases/{case.id}/correct", fields).status_code == 422  # no note
    fields["correction_note"] = "补充罚款金额"
    assert post(client, f"/admin/cases/{case.id}/correct", fields).status_code == 303
    db.session.expire_all()
    assert case.revision == 2 and case.correction_note == "补充罚款金额" and case.revised_at is not None
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "更正" in page and "补充罚款金额" in page and "第 2 版" in page
    api = client.get(f"/api/v1/cases/{case.id}").get_json()
    assert api["revision"] == 2 and api["revised_at"]
    old = db.session.scalar(select(RecordRevision).where(RecordRevision.record_id == case.id))
    assert old.revision == 1 and old.data["fine_amount"] is None and old.note == "补充罚款金额"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "record.correct"))
    assert event.before == {"fine_amount": None} and event.after["fine_amount"] == "30000.00"
    staff_page = client.get(f"/admin/cases/{case.id}").get_data(as_text=True)
    assert "历史版本" in staff_page and "第1版" in staff_page


def test_a_correction_that_changes_nothing_is_refused(client, published):
    case = published["case"]
    fields = {**form_of(case), "correction_note": "无"}
    response = post(client, f"/admin/cases/{case.id}/correct", fields)
    assert response.status_code == 422 and "没有修改任何内容" in response.get_data(as_text=True)
    db.session.expire_all()
    assert case.revision == 1
    assert db.session.scalar(select(func.count()).select_from(RecordRevision)) == 0


def test_an_early_removed_listing_disappears_from_every_public_page(client, published):
    listing = published["listing"]
    name = listing.enterprise_name
    assert all(public_everywhere(client, listing, name).values())
    data = {"removed_on": "2026-11-20", "reason": "已改正并作出信用承诺", "document_no": "兰人社移〔2026〕3号"}
    assert post(client, f"/admin/listings/{listing.id}/remove", data).status_code == 303
    db.session.expire_all()
    assert listing.status == "removed" and listing.removed_on == dt.date(2026, 11, 20)
    gone = client.get(f"/listings/{listing.id}")
    assert gone.status_code == 410 and "提前移出" in gone.get_data(as_text=True)
    where = public_everywhere(client, listing, name)
    del where["page"]
    assert not any(where.values()), where
    assert name not in client.get(f"/enterprises/{listing.credit_code}").get_data(as_text=True)
    # Staff keep the whole history.
    page = client.get(f"/admin/listings/{listing.id}").get_data(as_text=True)
    assert "兰人社移〔2026〕3号" in page and "提前移出" in page


def test_early_removal_needs_a_date_reason_and_document(client, published):
    listing = published["listing"]
    post(client, f"/admin/listings/{listing.id}/remove", {"removed_on": "2026-11-20", "reason": "x"})
    post(
        client, f"/admin/listings/{listing.id}/remove", {"removed_on": "2099-01-01", "reason": "x", "document_no": "y"}
    )
    db.session.expire_all()
    assert listing.status == "published"


def test_revocation_and_reinstatement_restart_the_term(client, published):
    listing = published["listing"]
    assert (
        post(
            client, f"/admin/listings/{listing.id}/revoke", {"revoked_on": "2026-10-01", "reason": "责令文书被撤销"}
        ).status_code
        == 303
    )
    assert client.get(f"/listings/{listing.id}").status_code == 410
    response = post(
        client, f"/admin/listings/{listing.id}/reinstate", {"reinstated_on": "2026-11-15", "basis": "兰人社〔2026〕9号"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert listing.status == "published"
    assert listing.listed_on == dt.date(2026, 11, 15) and listing.expires_on == dt.date(2029, 11, 15)
    assert client.get(f"/listings/{listing.id}").status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "listing.reinstate"))
    assert event.before["listed_on"] == "2025-06-30" and event.after["expires_on"] == "2029-11-15"


def test_the_staff_home_lists_listings_about_to_expire(client, published, set_today):
    set_today(dt.date(2028, 6, 10))  # the listing of 2025-06-30 ends on 2028-06-30
    page = client.get("/admin/").get_data(as_text=True)
    assert published["listing"].enterprise_name in page and "20天" in page


def test_an_expired_listing_is_gone_but_staff_still_see_it(client, published, set_today):
    listing = published["listing"]
    set_today(dt.date(2028, 6, 30))
    assert client.get(f"/listings/{listing.id}").status_code == 410
    page = client.get("/admin/listings?state=expired").get_data(as_text=True)
    assert listing.enterprise_name in page


# --- audit log ------------------------------------------------------------------------


def test_the_audit_log_is_searchable_and_exportable(client, published):
    post(client, f"/admin/cases/{published['case'].id}/withdraw", {"reason": "公布对象有误"})
    logout(client)
    login(client, "admin")
    page = client.get("/admin/audit", query_string={"q": "公布对象有误"}).get_data(as_text=True)
    assert "撤回记录" in page and "publisher" in page
    fragment = client.get("/admin/audit", query_string={"action": "login"}, headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "登录" in fragment.get_data(as_text=True)
    export = client.get("/admin/audit.csv", query_string={"action": "record.withdraw"})
    text = export.get_data(as_text=True)
    assert export.mimetype == "text/csv"
    assert text.count("\n") == 2 and "公布对象有误" in text and "withdrawn" in text
    assert client.get("/admin/audit", query_string={"since": "yesterday"}).status_code == 400


def test_failed_logins_are_in_the_audit_log(app, client, staff):
    app.extensions["gongshi_login_sleep"] = lambda seconds: None
    login(client, "editor", "wrong-password")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "login_failed"))
    assert event.username == "editor" and event.remote_addr == "127.0.0.1"


def test_an_expired_listing_cannot_be_removed_early(client, published, set_today):
    listing = published["listing"]
    set_today(dt.date(2028, 7, 1))
    assert "提前移出（信用修复" not in client.get(f"/admin/listings/{listing.id}").get_data(as_text=True)
    data = {"removed_on": "2028-07-01", "reason": "x", "document_no": "y"}
    response = post(client, f"/admin/listings/{listing.id}/remove", data)
    assert "已届满" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert listing.status == "published"


def test_a_batch_number_already_taken_is_refused_and_the_holder_linked(client, staff):
    held = load("cases", [case_row()], title="2026年第一批")
    login(client, "editor")
    response = upload(client, to_csv("cases", [case_row(文书编号="其他1号")]), "c.csv", year=2026, number=1)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "2026年第1批已由批次“2026年第一批”（已发布）使用，下一个未用的批次号是第2批" in page
    assert f'<a href="/admin/batches/{held.id}">2026年第一批</a>' in page
    assert counts()[0] == 1


def test_batch_lists_count_records_without_a_query_per_batch(app, client, published):
    from sqlalchemy import event

    from domain.publishing import record_counts

    batches = list(db.session.scalars(select(Batch).order_by(Batch.id)))
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        counts = record_counts(batches)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert counts == {batches[0].id: 2, batches[1].id: 1}
    assert len(statements) == 2  # one per kind
    page = client.get("/admin/batches").get_data(as_text=True)
    assert "<td>2</td>" in page and "<td>1</td>" in page


def listing_form(listing: Listing) -> dict[str, str]:
    return {
        "enterprise_name": listing.enterprise_name,
        "credit_code": listing.credit_code,
        "legal_representative": listing.legal_representative,
        "persons": "、".join(listing.responsible_persons),
        "address": listing.address or "",
        "district": listing.district,
        "reason": listing.reason,
        "basis": listing.basis or "",
        "workers_involved": str(listing.workers_involved),
        "amount_owed": "300000",
        "deciding_authority": listing.deciding_authority,
        "document_no": listing.document_no,
        "listed_on": listing.listed_on.isoformat(),
        "term_years": str(listing.term_years),
    }


def test_correcting_a_listing_updates_persons_and_term(client, published):
    listing = published["listing"]
    fields = {**listing_form(listing), "persons": "任某", "term_years": "2", "correction_note": "更正责任人员和期限"}
    assert client.get(f"/admin/listings/{listing.id}/correct").status_code == 200
    assert post(client, f"/admin/listings/{listing.id}/correct", fields).status_code == 303
    db.session.expire_all()
    assert listing.responsible_persons == ["任某"]
    assert listing.expires_on == dt.date(2027, 6, 30) and listing.revision == 2
    old = db.session.scalar(select(RecordRevision).where(RecordRevision.record_kind == "listing"))
    assert old.data["persons"] == ["任某", "刘某"] and old.data["expires_on"] == "2028-06-30"
    page = client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert "更正责任人员和期限" in page and "刘某" not in page
