"""Who may do what in the staff area: every admin route × every role, CSRF,
sessions, login lockout and the account commands."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import blueprints.admin as admin_blueprint
from domain import accounts, bulletins, campaigns, gradings
from domain.accounts import SourceThrottle
from extensions import db
from models import AuditEvent, Batch, Case, Hotline, Listing, Objection, User
from tests import admin_support
from tests.admin_support import PASSWORD, login, make_user, post, token
from tests.builders import case_row, credit_code, listing_row, load

fast_hashing = admin_support.fast_hashing
ALL = ("editor", "publisher", "admin")
PUB = ("publisher", "admin")
ADM = ("admin",)


@pytest.fixture
def world(app, fast_hashing):
    """Accounts and one batch in every state."""
    users = {role: make_user(role, role) for role in ALL}
    other = make_user("editor2", "editor")
    draft = load("cases", [case_row()], title="2026年第一批", publish=False)
    draft.created_by_id = users["editor"].id
    submitted = load("cases", [case_row(文书编号="兰劳监〔2026〕9号")], title="2026年第二批", publish=False)
    submitted.created_by_id = users["editor"].id
    submitted.status = "submitted"
    submitted.submitted_by_id = users["editor"].id
    published = load("cases", [case_row(文书编号="兰劳监〔2025〕7号")], title="2025年第三批")
    listings = load("listings", [listing_row()], title="2025年第一批")
    hotline = Hotline(unit="兰州市劳动保障监察支队", phone="0931-12333")
    db.session.add(hotline)
    campaign = campaigns.save(
        None, name="根治欠薪冬季攻坚", starts_on=dt.date(2025, 11, 15), ends_on=None, description=None, user=None
    )
    objection = Objection(
        reference="YY20261128-ABCDEFGH", record_kind="listing", record_id=1, name="李某", contact="13931000000",
        contact_key="13931000000", reason="列入日期有误，请核实。", source_key="x",
    )  # fmt: skip
    db.session.add(objection)
    bulletin_ids = {}
    for state, year in (("draft", 2024), ("submitted", 2025), ("published", 2023)):
        bulletin = bulletins.create_bulletin(
            year=year, month_from=1, month_to=11, values=[(bulletins.DEFAULT_INDICATORS[0], Decimal(5))], authority="局"
        )
        bulletin.created_by_id = users["editor"].id
        if state != "draft":
            bulletins.submit(bulletin, users["editor"])
        if state == "published":
            bulletins.publish(bulletin, None, four_eyes=False)
        bulletin_ids[f"{state}_bulletin"] = bulletin.id
    for state in ("draft", "submitted"):
        run = gradings.create_run(
            year=2025,
            rows=[
                {
                    "enterprise_name": "兰州某公司",
                    "credit_code": credit_code(9),
                    "grade": "A",
                    "graded_on": dt.date(2026, 1, 5),
                }
            ],
            authority="局",
            district_codes={},
            user=users["editor"],
        )
        if state == "submitted":
            gradings.submit(run, users["editor"])
        bulletin_ids[f"{state}_grading"] = run.id
    db.session.commit()
    ids = {
        **bulletin_ids,
        "draft": draft.id,
        "submitted": submitted.id,
        "published": published.id,
        "draft_case": db.session.scalar(select(Case.id).where(Case.batch_id == draft.id)),
        "case": db.session.scalar(select(Case.id).where(Case.batch_id == published.id)),
        "listing": db.session.scalar(select(Listing.id).where(Listing.batch_id == listings.id)),
        "user": other.id,
        "hotline": hotline.id,
        "campaign": campaign.id,
        "objection": objection.id,
    }
    return ids


CASE_FORM = {
    "enterprise_name": "兰州某某建设有限公司",
    "district": "城关区",
    "violation_types": "拖欠劳动报酬",
    "facts": "拖欠劳动者工资。",
    "decided_on": "2026-01-05",
    "transferred_to_police": "否",
}

# (endpoint, method, path, form data, roles allowed)
ROUTES = [
    ("admin.home", "GET", "/admin/", None, ALL),
    ("admin.batches", "GET", "/admin/batches", None, ALL),
    ("admin.upload", "GET", "/admin/batches/upload", None, ALL),
    ("admin.upload", "POST", "/admin/batches/upload", {"kind": "cases", "year": "2026", "number": "1"}, ALL),
    ("admin.batch", "GET", "/admin/batches/{draft}", None, ALL),
    ("admin.preview", "GET", "/admin/batches/{draft}/preview", None, ALL),
    ("admin.import_template", "GET", "/admin/batches/templates/cases.xlsx", None, ALL),
    ("admin.submit", "POST", "/admin/batches/{draft}/submit", {}, ALL),
    ("admin.delete_batch", "POST", "/admin/batches/{draft}/delete", {}, ALL),
    ("admin.review", "GET", "/admin/review", None, PUB),
    ("admin.send_back", "POST", "/admin/batches/{submitted}/send-back", {"comment": "请核对金额"}, PUB),
    ("admin.publish", "POST", "/admin/batches/{submitted}/publish", {}, PUB),
    ("admin.withdraw_batch", "POST", "/admin/batches/{published}/withdraw", {"reason": "公布有误"}, PUB),
    ("admin.add_record", "GET", "/admin/batches/{draft}/records/new", None, ALL),
    ("admin.add_record", "POST", "/admin/batches/{draft}/records/new", CASE_FORM, ALL),
    ("admin.record", "GET", "/admin/cases/{draft_case}", None, ALL),
    ("admin.preview_record", "GET", "/admin/cases/{draft_case}/preview", None, ALL),
    ("admin.edit_record", "GET", "/admin/cases/{draft_case}/edit", None, ALL),
    ("admin.edit_record", "POST", "/admin/cases/{draft_case}/edit", CASE_FORM, ALL),
    ("admin.delete_record", "POST", "/admin/cases/{draft_case}/delete", {}, ALL),
    ("admin.correct_record", "GET", "/admin/cases/{case}/correct", None, PUB),
    ("admin.correct_record", "POST", "/admin/cases/{case}/correct", {**CASE_FORM, "correction_note": "更正"}, PUB),
    ("admin.withdraw_record", "POST", "/admin/cases/{case}/withdraw", {"reason": "公布有误"}, PUB),
    ("admin.cases", "GET", "/admin/cases", None, PUB),
    ("admin.listings", "GET", "/admin/listings", None, PUB),
    (
        "admin.remove_listing",
        "POST",
        "/admin/listings/{listing}/remove",
        {"removed_on": "2026-11-01", "reason": "信用修复", "document_no": "兰人社移〔2026〕1号"},
        PUB,
    ),
    (
        "admin.revoke_listing",
        "POST",
        "/admin/listings/{listing}/revoke",
        {"revoked_on": "2026-11-01", "reason": "x"},
        PUB,
    ),
    (
        "admin.reinstate_listing",
        "POST",
        "/admin/listings/{listing}/reinstate",
        {"reinstated_on": "2026-11-01", "basis": "x"},
        PUB,
    ),
    ("admin.audit_log", "GET", "/admin/audit", None, ADM),
    ("admin.audit_export", "GET", "/admin/audit.csv", None, ADM),
    ("admin.users", "GET", "/admin/users", None, ADM),
    ("admin.new_user", "GET", "/admin/users/new", None, ADM),
    (
        "admin.new_user",
        "POST",
        "/admin/users/new",
        {"username": "newbie", "role": "editor", "password": "long-enough-pw", "confirm": "long-enough-pw"},
        ADM,
    ),
    ("admin.edit_user", "GET", "/admin/users/{user}", None, ADM),
    ("admin.edit_user", "POST", "/admin/users/{user}", {"role": "publisher", "active": "y"}, ADM),
    (
        "admin.reset_password",
        "POST",
        "/admin/users/{user}/password",
        {"pw-password": "another-long-pw", "pw-confirm": "another-long-pw"},
        ADM,
    ),
    ("admin.campaign_list", "GET", "/admin/campaigns", None, ALL),
    ("admin.new_campaign", "GET", "/admin/campaigns/new", None, PUB),
    ("admin.new_campaign", "POST", "/admin/campaigns/new", {"name": "夏季专项", "starts_on": "2026-06-01"}, PUB),
    ("admin.edit_campaign", "GET", "/admin/campaigns/{campaign}/edit", None, PUB),
    (
        "admin.edit_campaign",
        "POST",
        "/admin/campaigns/{campaign}/edit",
        {"name": "冬季", "starts_on": "2025-11-15"},
        PUB,
    ),
    ("admin.tag_batch", "POST", "/admin/batches/{published}/campaign", {"campaign": "0"}, ALL),
    ("admin.tag_case", "POST", "/admin/cases/{case}/campaign", {"campaign": "0"}, ALL),
    ("admin.hotlines", "GET", "/admin/hotlines", None, ADM),
    ("admin.new_hotline", "GET", "/admin/hotlines/new", None, ADM),
    ("admin.new_hotline", "POST", "/admin/hotlines/new", {"unit": "城关区监察大队", "phone": "0931-1"}, ADM),
    ("admin.edit_hotline", "GET", "/admin/hotlines/{hotline}/edit", None, ADM),
    ("admin.edit_hotline", "POST", "/admin/hotlines/{hotline}/edit", {"unit": "支队", "phone": "0931-2"}, ADM),
    ("admin.delete_hotline", "POST", "/admin/hotlines/{hotline}/delete", {}, ADM),
    ("admin.settings", "GET", "/admin/settings", None, ADM),
    ("admin.objection_list", "GET", "/admin/objections", None, PUB),
    ("admin.objection", "GET", "/admin/objections/{objection}", None, PUB),
    ("admin.objection", "POST", "/admin/objections/{objection}", {"status": "in_progress", "reply": ""}, PUB),
    ("admin.bulletins_list", "GET", "/admin/bulletins", None, ALL),
    ("admin.bulletin_new", "GET", "/admin/bulletins/new", None, ALL),
    (
        "admin.bulletin_new",
        "POST",
        "/admin/bulletins/new",
        {"year": "2026", "month_from": "1", "month_to": "10", "value-1": "9"},
        ALL,
    ),
    ("admin.bulletin_upload", "GET", "/admin/bulletins/upload", None, ALL),
    ("admin.bulletin_upload", "POST", "/admin/bulletins/upload", {"year": "2026", "months": "1-10"}, ALL),
    ("admin.bulletin", "GET", "/admin/bulletins/{draft_bulletin}", None, ALL),
    ("admin.bulletin_edit", "GET", "/admin/bulletins/{draft_bulletin}/edit", None, ALL),
    (
        "admin.bulletin_edit",
        "POST",
        "/admin/bulletins/{draft_bulletin}/edit",
        {"year": "2024", "month_from": "1", "month_to": "11", "value-1": "6"},
        ALL,
    ),
    ("admin.bulletin_edit", "GET", "/admin/bulletins/{published_bulletin}/edit", None, PUB),
    ("admin.bulletin_submit", "POST", "/admin/bulletins/{draft_bulletin}/submit", {}, ALL),
    ("admin.bulletin_delete", "POST", "/admin/bulletins/{draft_bulletin}/delete", {}, ALL),
    ("admin.bulletin_send_back", "POST", "/admin/bulletins/{submitted_bulletin}/send-back", {"comment": "请核对"}, PUB),
    ("admin.bulletin_publish", "POST", "/admin/bulletins/{submitted_bulletin}/publish", {}, PUB),
    ("admin.gradings_list", "GET", "/admin/gradings", None, ALL),
    ("admin.grading_upload", "GET", "/admin/gradings/upload", None, ALL),
    ("admin.grading_upload", "POST", "/admin/gradings/upload", {"year": "2025"}, ALL),
    ("admin.grading", "GET", "/admin/gradings/{draft_grading}", None, ALL),
    ("admin.grading_submit", "POST", "/admin/gradings/{draft_grading}/submit", {}, ALL),
    ("admin.grading_delete", "POST", "/admin/gradings/{draft_grading}/delete", {}, ALL),
    ("admin.grading_send_back", "POST", "/admin/gradings/{submitted_grading}/send-back", {"comment": "请核对"}, PUB),
    ("admin.grading_publish", "POST", "/admin/gradings/{submitted_grading}/publish", {}, PUB),
    ("admin.logout", "POST", "/admin/logout", {}, ALL),
    ("admin.own_password", "GET", "/admin/password", None, ALL),
    (
        "admin.own_password",
        "POST",
        "/admin/password",
        {"current": PASSWORD, "password": "a-new-long-password", "confirm": "a-new-long-password"},
        ALL,
    ),
]
POST_ROUTES = [route for route in ROUTES if route[1] == "POST"]


def test_the_matrix_covers_every_admin_route(app):
    covered = {(endpoint, method) for endpoint, method, *_ in ROUTES} | {
        ("admin.login", "GET"),
        ("admin.login", "POST"),
    }
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes - covered == set()


def _call(client, method, path, data):
    if method == "GET":
        return client.get(path)
    return post(client, path, data)


@pytest.mark.parametrize("role", [None, *ALL])
@pytest.mark.parametrize("endpoint, method, path, data, allowed", ROUTES, ids=[f"{r[1]} {r[2]}" for r in ROUTES])
def test_permission_matrix(client, world, role, endpoint, method, path, data, allowed):
    if role:
        assert login(client, role).status_code == 303
    response = _call(client, method, path.format(**world), data)
    if role is None:
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login")
    elif role in allowed:
        assert response.status_code in (200, 303, 400, 422), response.get_data(as_text=True)[:500]
        if response.status_code == 303 and endpoint != "admin.logout":
            assert not response.headers["Location"].startswith("/admin/login")
        if method == "GET":
            assert response.status_code == 200
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("endpoint, method, path, data, allowed", POST_ROUTES, ids=[r[2] for r in POST_ROUTES])
def test_a_post_without_csrf_token_is_refused(client, world, endpoint, method, path, data, allowed):
    login(client, "admin")
    events = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = client.post(path.format(**world), data=data)
    assert response.status_code == 400
    assert "安全令牌" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == events  # nothing happened


def test_a_post_with_a_wrong_csrf_token_is_refused(client, world):
    login(client, "publisher")
    response = client.post(f"/admin/batches/{world['submitted']}/publish", data={"csrf_token": "forged"})
    assert response.status_code == 400
    assert db.session.get(Batch, world["submitted"]).status == "submitted"


def test_htmx_requests_send_the_token_in_a_header(client, world):
    login(client, "publisher")
    response = client.post(
        f"/admin/batches/{world['submitted']}/publish",
        headers={"X-CSRFToken": token(client), "HX-Request": "true"},
    )
    assert response.status_code == 303
    assert db.session.get(Batch, world["submitted"]).status == "published"


def test_the_login_page_needs_a_token_too(client, world):
    response = client.post("/admin/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400


# --- login, lockout, sessions ----------------------------------------------------


def test_login_sets_a_protected_session_cookie(client, world):
    response = login(client, "editor")
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Expires=" in cookie  # a permanent session, ending after inactivity


def test_production_cookies_are_secure(tmp_path):
    from app import create_app

    production = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "x",
            "DATABASE_URL": "sqlite://",
            "PUBLIC_BASE_URL": "https://gongshi.example.gov.cn",
        },
        instance_path=str(tmp_path / "instance"),
    )
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["SESSION_COOKIE_HTTPONLY"] is True
    assert production.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_an_idle_session_ends(client, world, monkeypatch):
    login(client, "editor")
    assert client.get("/admin/").status_code == 200
    later = time.time() + 31 * 60
    monkeypatch.setattr(admin_blueprint, "_now", lambda: later)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login")
    monkeypatch.setattr(admin_blueprint, "_now", time.time)
    assert client.get("/admin/").status_code == 302  # logged out for good


def test_an_active_session_goes_on(client, world, monkeypatch):
    login(client, "editor")
    start = time.time()
    for minutes in (20, 40, 60):  # a request every 20 minutes keeps it alive
        monkeypatch.setattr(admin_blueprint, "_now", lambda m=minutes: start + m * 60)
        assert client.get("/admin/").status_code == 200


def test_logout_ends_the_session(client, world):
    login(client, "editor")
    assert post(client, "/admin/logout").status_code == 303
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("username, password", [("editor", "wrong-password"), ("nobody", "wrong-password")])
def test_the_login_page_never_tells_whether_an_account_exists(client, world, username, password):
    response = login(client, username, password)
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_five_failed_logins_lock_the_account_for_15_minutes(app, client, world):
    app.extensions["gongshi_login_sleep"] = lambda seconds: None
    for _ in range(5):
        assert login(client, "editor", "wrong-password").status_code == 401
    user = db.session.scalar(select(User).where(User.username == "editor"))
    assert user.locked_until is not None
    # Even the right password is refused, with the same message.
    response = login(client, "editor")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "account_locked")) == 1
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "login_failed")) == 6
    # 15 minutes later it opens again.
    user.locked_until = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    db.session.commit()
    assert login(client, "editor").status_code == 303


def test_a_deactivated_account_cannot_log_in(client, world):
    user = db.session.scalar(select(User).where(User.username == "editor"))
    user.active = False
    db.session.commit()
    response = login(client, "editor")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_failed_logins_slow_the_source_down(app, client, world):
    waits: list[float] = []
    app.extensions["gongshi_login_sleep"] = waits.append
    for name in ("a", "b", "c", "d"):  # different accounts, same source
        login(client, name, "wrong-password")
    assert waits == [0.0, 0.25, 0.5, 1.0]
    app.extensions["gongshi_login_throttle"] = SourceThrottle(limit=3)
    for name in ("a", "b", "c"):
        login(client, name, "wrong-password")
    response = login(client, "editor")  # the right password, but from a source that keeps failing
    assert response.status_code == 429


def test_the_throttle_forgets_old_failures():
    gate = SourceThrottle(window=60, base_delay=1, max_delay=4)
    for moment in (0, 1, 2, 3, 4):
        gate.fail("10.0.0.1", now=moment)
    assert gate.delay("10.0.0.1", now=5) == 4  # capped
    assert gate.delay("10.0.0.2", now=5) == 0  # another source is not slowed
    assert gate.delay("10.0.0.1", now=100) == 0


def test_passwords_are_hashed_with_a_current_algorithm(app):
    user = make_user("hashy", "editor")
    assert user.password_hash.startswith("scrypt:")
    assert PASSWORD not in user.password_hash


def test_next_only_leads_within_the_staff_area(client, world):
    response = client.post(
        "/admin/login?next=https://evil.example/",
        data={"username": "editor", "password": PASSWORD, "csrf_token": token(client)},
    )
    assert response.headers["Location"] == "/admin/"


def test_public_pages_do_not_need_a_login(client, world):
    assert client.get("/").status_code == 200


def test_staff_pages_are_not_cached(client, world):
    login(client, "editor")
    assert client.get("/admin/").headers["Cache-Control"] == "no-store"


# --- accounts ------------------------------------------------------------------------


def test_cli_creates_a_user_from_stdin_with_an_audit_event(app, runner):
    result = runner.invoke(
        args=["users", "create", "li", "--role", "publisher", "--password-stdin"], input="a-long-password\n"
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "li"))
    assert user.role == "publisher"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert event.object_id == user.id and event.after == {"username": "li", "role": "publisher", "active": True}


def test_cli_refuses_a_short_password(app, runner):
    result = runner.invoke(args=["users", "create", "li", "--role", "editor", "--password-stdin"], input="short\n")
    assert result.exit_code != 0
    assert db.session.scalar(select(User).where(User.username == "li")) is None


def test_admin_changes_a_role_and_the_audit_shows_before_and_after(client, world):
    login(client, "admin")
    response = post(client, f"/admin/users/{world['user']}", {"role": "publisher", "active": "y"})
    assert response.status_code == 303
    assert db.session.get(User, world["user"]).role == "publisher"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert event.before == {"role": "editor"} and event.after == {"role": "publisher"}
    assert event.username == "admin"


def test_admin_cannot_lock_themselves_out(client, world):
    login(client, "admin")
    me = db.session.scalar(select(User).where(User.username == "admin"))
    response = post(client, f"/admin/users/{me.id}", {"role": "editor"})
    assert response.status_code == 422
    assert db.session.get(User, me.id).role == "admin"


def test_reset_password_unlocks_the_account(client, world):
    user = db.session.get(User, world["user"])
    user.locked_until = dt.datetime(2099, 1, 1)
    db.session.commit()
    login(client, "admin")
    post(client, f"/admin/users/{user.id}/password", {"pw-password": "brand-new-pass", "pw-confirm": "brand-new-pass"})
    client.get("/admin/")
    post(client, "/admin/logout")
    assert login(client, "editor2", "brand-new-pass").status_code == 303


def test_accounts_domain_rejects_unknown_roles(app):
    with pytest.raises(accounts.AccountError):
        accounts.create_user("x", "root", "long-enough-password")


def test_a_deactivated_account_loses_its_open_session(client, world):
    login(client, "editor")
    assert client.get("/admin/").status_code == 200
    user = db.session.scalar(select(User).where(User.username == "editor"))
    user.active = False
    db.session.commit()
    assert client.get("/admin/").status_code == 302


def test_a_role_change_applies_at_the_next_request(client, world):
    login(client, "publisher")
    assert client.get("/admin/review").status_code == 200
    user = db.session.scalar(select(User).where(User.username == "publisher"))
    user.role = "editor"
    db.session.commit()
    assert client.get("/admin/review").status_code == 403


def test_the_audit_log_is_append_only(app, world):
    from domain.audit import AppendOnly

    event = db.session.scalar(select(AuditEvent))
    event.summary = "rewritten"
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditEvent)))
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    "path", ["/admin/batches", "/admin/listings", "/admin/cases", "/admin/audit", "/admin/batches/{draft}"]
)
def test_list_pages_answer_htmx_with_a_fragment(client, world, path):
    login(client, "admin")
    url = path.format(**world)
    full = client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_hotlines_managed_by_admin_appear_on_the_public_page(client, world):
    login(client, "admin")
    data = {"unit": "榆中县劳动保障监察大队", "phone": "0931-5222333", "district": "榆中县", "position": "3"}
    assert post(client, "/admin/hotlines/new", data).status_code == 303
    assert "0931-5222333" in client.get("/hotlines").get_data(as_text=True)
    hotline = db.session.scalar(select(Hotline).where(Hotline.phone == "0931-5222333"))
    post(client, f"/admin/hotlines/{hotline.id}/edit", {**data, "phone": "0931-5222444"})
    assert "0931-5222444" in client.get("/hotlines").get_data(as_text=True)
    post(client, f"/admin/hotlines/{hotline.id}/delete")
    assert "0931-5222444" not in client.get("/hotlines").get_data(as_text=True)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "hotline")).all()
    assert sorted(actions) == ["hotline.create", "hotline.delete", "hotline.update"]


def test_a_new_account_from_the_web_follows_the_password_rules(client, world):
    login(client, "admin")
    data = {"username": "sun", "role": "editor", "password": "short", "confirm": "short"}
    response = post(client, "/admin/users/new", data)
    assert response.status_code == 422 and "密码至少需要10个字符" in response.get_data(as_text=True)
    data.update(password="long-enough-1", confirm="long-enough-1")
    assert post(client, "/admin/users/new", data).status_code == 303
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.create", AuditEvent.username == "admin")
    )
    assert event.after["username"] == "sun"


def test_staff_change_their_own_password(client, world):
    login(client, "editor")
    wrong = {"current": "not-my-password", "password": "a-new-long-password", "confirm": "a-new-long-password"}
    response = post(client, "/admin/password", wrong)
    assert response.status_code == 422 and "当前密码不正确" in response.get_data(as_text=True)
    assert post(client, "/admin/password", {**wrong, "current": PASSWORD}).status_code == 303
    post(client, "/admin/logout")
    assert login(client, "editor").status_code == 401
    assert login(client, "editor", "a-new-long-password").status_code == 303
