"""异议: the guide page, the form of each public record (CSRF, honeypot, limits),
the reference look-up, the staff inbox, and the requester's contact kept out of
everything public."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from domain import objections
from extensions import db
from models import AuditEvent, Case, Listing, Objection
from tests.admin_support import fast_hashing, login, make_user, post  # noqa: F401  (fast_hashing: a fixture)
from tests.builders import case_row, credit_code, listing_row, load

CONTACT = "139 3100 0000"
NAME = "李某某"
REASON = "公示的涉及人数有误，实际为10人，有工资支付凭证为证。"
_FORM_TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@pytest.fixture
def records(app):
    load("cases", [case_row()])
    load(
        "listings",
        [
            listing_row(),
            listing_row(
                单位名称="兰州示例到期劳务有限公司",
                统一社会信用代码=credit_code(77),
                决定文书号="兰人社失信〔2023〕7号",
                列入日期="2023-01-10",
            ),
        ],
    )
    case = db.session.scalar(select(Case))
    listing = db.session.scalar(select(Listing).where(Listing.credit_code == credit_code(2)))
    expired = db.session.scalar(select(Listing).where(Listing.credit_code == credit_code(77)))
    return case, listing, expired


def form_token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, url
    return _FORM_TOKEN.search(page.text).group(1)


def file(client, url: str, **fields):
    data = {"name": NAME, "contact": CONTACT, "reason": REASON, "website": "", **fields}
    return client.post(url, data={"csrf_token": form_token(client, url), **data})


def filed_reference(client, response) -> str:
    assert response.status_code == 303, response.text
    page = client.get(response.headers["Location"]).text
    return re.search(r'class="code reference">([^<]+)<', page).group(1)


def test_guide_explains_and_gives_the_contacts(app, client):
    app.config.update(
        OBJECTION_PHONE="0931-0000000", OBJECTION_ADDRESS="兰州市示例路1号", CREDIT_REPAIR_PHONE="0931-1111111"
    )
    page = client.get("/objections").text
    assert "第十二条" in page and "满6个月" in page and "书面信用承诺" in page and "15个工作日" in page
    assert "0931-0000000" in page and "兰州市示例路1号" in page and "0931-1111111" in page
    assert "兰州市人力资源和社会保障局" in page


def test_every_public_record_links_the_form(records, client):
    case, listing, _ = records
    assert f'href="/objections/new/cases/{case.id}"' in client.get(f"/cases/{case.id}").text
    assert f'href="/objections/new/listings/{listing.id}"' in client.get(f"/listings/{listing.id}").text


def test_no_form_for_a_record_that_is_not_public(records, client):
    _, _, expired = records
    assert client.get(f"/objections/new/listings/{expired.id}").status_code == 404
    assert client.get("/objections/new/batches/1").status_code == 404
    assert client.get("/objections/new/cases/987654").status_code == 404


def test_filing_and_looking_up(records, client):
    case, _, _ = records
    response = file(client, f"/objections/new/cases/{case.id}")
    reference = filed_reference(client, response)
    assert re.fullmatch(r"YY20261128-[2-9A-HJ-NP-Z]{8}", reference)
    # the confirmation is shown once
    assert client.get("/objections/filed").status_code == 303
    stored = db.session.scalar(select(Objection))
    assert (stored.name, stored.contact, stored.status, stored.record_id) == (NAME, CONTACT, "pending", case.id)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "objection.file"))
    assert reference in event.summary and CONTACT not in str(event.after) + event.summary and NAME not in event.summary

    # the contact as typed differently still matches; a wrong one tells nothing
    token = form_token(client, "/objections/lookup")
    found = client.post(
        "/objections/lookup", data={"csrf_token": token, "reference": reference.lower(), "contact": "13931000000"}
    )
    assert found.status_code == 200 and "待处理" in found.text and "尚未答复" in found.text
    assert CONTACT not in found.text and NAME not in found.text
    assert found.headers["Cache-Control"] == "no-store"
    wrong = client.post(
        "/objections/lookup", data={"csrf_token": token, "reference": reference, "contact": "13900000000"}
    )
    assert wrong.status_code == 404 and "待处理" not in wrong.text


def test_without_the_csrf_token_nothing_is_filed(records, client):
    case, _, _ = records
    response = client.post(
        f"/objections/new/cases/{case.id}", data={"name": NAME, "contact": CONTACT, "reason": REASON}
    )
    assert response.status_code == 400 and "页面已过期" in response.text
    assert db.session.scalar(select(func.count()).select_from(Objection)) == 0


def test_the_honeypot_turns_robots_away(records, client):
    case, _, _ = records
    response = file(client, f"/objections/new/cases/{case.id}", website="http://spam.example")
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Objection)) == 0


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"name": ""}, "请填写姓名或单位名称"),
        ({"contact": "随便"}, "联系方式请填写电话号码或电子邮箱"),
        ({"reason": "有误"}, "至少10个字"),
    ],
)
def test_bad_input_is_explained(records, client, fields, message):
    case, _, _ = records
    response = file(client, f"/objections/new/cases/{case.id}", **fields)
    assert response.status_code == 422 and message in response.text
    assert db.session.scalar(select(func.count()).select_from(Objection)) == 0


def test_filing_is_limited_per_address(records, client, app):
    app.config["OBJECTION_LIMIT_PER_HOUR"] = 2
    case, listing, _ = records
    for url in (f"/objections/new/cases/{case.id}", f"/objections/new/listings/{listing.id}"):
        assert file(client, url).status_code == 303
    refused = file(client, f"/objections/new/cases/{case.id}")
    assert refused.status_code == 429 and "提交过于频繁" in refused.text
    assert db.session.scalar(select(func.count()).select_from(Objection)) == 2
    # another address is not held back
    other = client.post(
        f"/objections/new/cases/{case.id}",
        data={"csrf_token": form_token(client, f"/objections/new/cases/{case.id}"), "name": NAME,
              "contact": CONTACT, "reason": REASON},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )  # fmt: skip
    assert other.status_code == 303


def test_contact_stays_out_of_everything_public(records, client):
    case, listing, _ = records
    file(client, f"/objections/new/listings/{listing.id}", contact="objector@example.com")
    for url in (
        f"/listings/{listing.id}",
        "/listings",
        "/listings.csv",
        "/listings.json",
        "/listings.atom",
        "/feeds/changes.atom",
        f"/api/v1/listings/{listing.id}",
        f"/search?q={listing.enterprise_name}",
        f"/check?q={listing.credit_code}",
    ):
        text = client.get(url).get_data(as_text=True)
        assert "objector@example.com" not in text and NAME not in text, url


def test_staff_answer_and_the_requester_reads_it(records, client, fast_hashing):  # noqa: F811
    case, _, _ = records
    reference = filed_reference(client, file(client, f"/objections/new/cases/{case.id}"))
    objection = db.session.scalar(select(Objection))
    assert client.get("/admin/objections").status_code == 302  # login first

    make_user("wang", "editor")
    login(client, "wang")
    assert client.get("/admin/objections").status_code == 403
    post(client, "/admin/logout")

    make_user("zhao", "publisher")
    login(client, "zhao")
    inbox = client.get("/admin/objections").text
    assert reference in inbox and NAME in inbox
    detail = client.get(f"/admin/objections/{objection.id}").text
    assert CONTACT in detail and REASON in detail

    refused = post(client, f"/admin/objections/{objection.id}", {"status": "answered", "reply": ""})
    assert refused.status_code == 303
    db.session.refresh(objection)
    assert objection.status == "pending"

    post(client, f"/admin/objections/{objection.id}", {"status": "in_progress", "reply": ""})
    reply = "经核实，涉及人数已更正为10人。"
    post(client, f"/admin/objections/{objection.id}", {"status": "answered", "reply": reply})
    db.session.refresh(objection)
    assert objection.status == "answered" and objection.reply == reply and objection.replied_by_id
    actions = db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "objection").order_by(AuditEvent.id)
    ).all()
    assert actions == ["objection.file", "objection.update", "objection.update"]
    assert "已答复" in client.get("/admin/objections?status=answered").text
    post(client, "/admin/logout")

    make_user("boss", "admin")
    login(client, "boss")
    shown = client.get("/admin/settings").text
    assert "异议受理电话" in shown and "12333" in shown and "GONGSHI_OBJECTION_LIMIT_PER_HOUR" in shown
    post(client, "/admin/logout")

    token = form_token(client, "/objections/lookup")
    found = client.post("/objections/lookup", data={"csrf_token": token, "reference": reference, "contact": CONTACT})
    assert "已答复" in found.text and reply in found.text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    given_contact=st.from_regex(r"1[3-9]\d{9}", fullmatch=True),
    typed=st.from_regex(r"1[3-9]\d{9}", fullmatch=True),
    spaces=st.booleans(),
)
def test_look_up_needs_the_same_contact(records, given_contact, typed, spaces):
    """For any two phone numbers, a request is found with the other only if they
    are the same number (however spaced)."""
    case, _, _ = records
    objection = objections.file_objection(
        case,
        name=NAME,
        contact=given_contact,
        reason=REASON,
        source=objections.source_key(f"addr-{given_contact}-{typed}", "k"),
        limits=objections.Limits(per_hour=10**6, per_day=10**6),
        today=case.decided_on,
    )
    db.session.flush()
    shown = " ".join(typed[i : i + 4] for i in range(0, 11, 4)) if spaces else typed
    assert (objections.look_up(objection.reference, shown) is not None) == (typed == given_contact)
    db.session.rollback()
