"""Four eyes over every change: whoever uploaded a batch, changed it or its
records after the upload, or submitted it may not publish it; the batch and
review pages show who changed what."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from domain import publishing
from domain.publishing import PublishingError
from extensions import db
from models import Batch, Case, User
from tests import admin_support
from tests.admin_support import login, logout, make_user, post
from tests.builders import case_row, load

fast_hashing = admin_support.fast_hashing


@pytest.fixture
def staff(app, fast_hashing):
    return {
        name: make_user(name, role).id
        for name, role in (("editor", "editor"), ("pub_a", "publisher"), ("pub_b", "publisher"))
    }


def user(name: str) -> User:
    return db.session.scalar(select(User).where(User.username == name))


def draft_by_editor() -> Batch:
    batch = load("cases", [case_row(), case_row(文书编号="兰劳监〔2025〕2号")], title="2025年第一批", publish=False)
    batch.created_by_id = user("editor").id
    db.session.commit()
    return batch


def first_record(batch: Batch) -> Case:
    return db.session.scalars(select(Case).where(Case.batch_id == batch.id).order_by(Case.id)).first()


def edit(batch: Batch, name: str) -> None:
    record = first_record(batch)
    values = {**publishing.record_fields(record), "facts": record.facts + "（经核实）"}
    publishing.edit_draft_record(record, values, user(name))
    db.session.commit()


@pytest.mark.parametrize("change", ["edit", "add", "delete"])
def test_a_publisher_who_changed_a_record_may_not_publish_it(app, staff, change):
    batch = draft_by_editor()
    if change == "edit":
        edit(batch, "pub_a")
    elif change == "add":
        values = {
            **publishing.record_fields(first_record(batch)),
            "document_no": "新〔2025〕3号",
            "document_no_key": "新20253号",
        }
        publishing.add_record(batch, values, user("pub_a"))
        db.session.commit()
    else:
        publishing.delete_draft_record(first_record(batch), user("pub_a"))
        db.session.commit()
    publishing.submit_batch(batch, user("editor"))
    db.session.commit()
    assert "四眼原则" in publishing.why_not_publish(batch, user("pub_a"), four_eyes=True)
    with pytest.raises(PublishingError, match="修改"):
        publishing.review_and_publish(batch, user("pub_a"), four_eyes=True)
    db.session.rollback()
    assert publishing.why_not_publish(batch, user("pub_b"), four_eyes=True) is None


def test_a_reviewer_who_only_sent_back_may_still_publish(app, staff):
    batch = draft_by_editor()
    publishing.submit_batch(batch, user("editor"))
    publishing.send_back(batch, "请核对金额", user("pub_a"))
    edit(batch, "editor")
    publishing.submit_batch(batch, user("editor"))
    db.session.commit()
    assert publishing.why_not_publish(batch, user("pub_a"), four_eyes=True) is None


def test_the_bypass_of_the_issue_is_refused_on_the_web(client, staff):
    """A publisher edits someone else's draft, lets the editor submit, then publishes."""
    batch = draft_by_editor()
    edit(batch, "pub_a")
    login(client, "editor")
    assert post(client, f"/admin/batches/{batch.id}/submit").status_code == 303
    logout(client)
    login(client, "pub_a")
    page = client.get(f"/admin/batches/{batch.id}").get_data(as_text=True)
    assert "四眼原则" in page and "确认发布" not in page
    response = post(client, f"/admin/batches/{batch.id}/publish", follow_redirects=True)
    assert "四眼原则" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status == "submitted"
    logout(client)
    login(client, "pub_b")
    assert post(client, f"/admin/batches/{batch.id}/publish").status_code == 303
    db.session.expire_all()
    assert db.session.get(Batch, batch.id).status == "published"


def test_the_review_pages_show_who_changed_what(client, staff):
    batch = draft_by_editor()
    edit(batch, "pub_a")
    publishing.submit_batch(batch, user("editor"))
    db.session.commit()
    login(client, "pub_b")
    page = client.get(f"/admin/batches/{batch.id}").get_data(as_text=True)
    section = page.split('id="changes-title"')[1].split("</section>")[0]
    assert "pub_a" in section and "修改草稿记录" in section and "editor" in section and "提交审核" in section
    # the batch's history includes its records' events
    assert "经核实" in page or "修改草稿记录" in page.split("操作记录")[-1]
    review = client.get("/admin/review").get_data(as_text=True)
    assert "pub_a" in review and "editor" in review


def test_the_audit_event_of_a_record_names_its_batch(app, staff):
    batch = draft_by_editor()
    edit(batch, "pub_a")
    from models import AuditEvent

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "record.edit"))
    assert event.batch_id == batch.id and event.object_type == "case"
