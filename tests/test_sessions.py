"""Sessions are revocable: logout and a password change end every session of the
account, including copies of its cookie on other devices."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from extensions import db
from models import User
from tests.admin_support import PASSWORD, fast_hashing, login, make_user, post, token  # noqa: F401

NEW_PASSWORD = "another-long-password"


@pytest.fixture
def clerk(app, fast_hashing):  # noqa: F811
    make_user("clerk", "editor")
    make_user("boss", "admin")


def copy_session(source, target) -> None:
    """What an attacker does with a stolen cookie: send the same one."""
    cookie = source.get_cookie("session")
    assert cookie is not None
    target.set_cookie("session", cookie.value)


def test_logout_ends_a_copied_cookie(app, client, clerk):
    login(client, "clerk")
    thief = app.test_client()
    copy_session(client, thief)
    assert thief.get("/admin/").status_code == 200
    assert post(client, "/admin/logout").status_code == 303
    assert thief.get("/admin/").status_code == 302


def test_logout_ends_the_sessions_on_other_devices(app, client, clerk):
    login(client, "clerk")
    laptop = app.test_client()
    login(laptop, "clerk")
    post(client, "/admin/logout")
    assert laptop.get("/admin/").status_code == 302
    assert login(laptop, "clerk").status_code == 303
    assert laptop.get("/admin/").status_code == 200


def test_a_password_change_ends_every_other_session_but_keeps_this_one(app, client, clerk):
    login(client, "clerk")
    other = app.test_client()
    login(other, "clerk")
    thief = app.test_client()
    copy_session(client, thief)
    old_cookie = client.get_cookie("session").value
    form = {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert post(client, "/admin/password", form).status_code == 303
    assert client.get("/admin/").status_code == 200
    assert other.get("/admin/").status_code == 302
    assert thief.get("/admin/").status_code == 302
    assert client.get_cookie("session").value != old_cookie


def test_a_password_reset_by_an_administrator_ends_the_sessions(app, client, clerk):
    victim = app.test_client()
    login(victim, "clerk")
    login(client, "boss")
    clerk_id = db.session.scalar(select(User.id).where(User.username == "clerk"))
    form = {"pw-password": NEW_PASSWORD, "pw-confirm": NEW_PASSWORD}
    assert post(client, f"/admin/users/{clerk_id}/password", form).status_code == 303
    assert victim.get("/admin/").status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_cookie_from_before_session_versions_loads_no_one(app, client, clerk):
    """A session holding a bare account id (no version) is not honoured."""
    clerk_id = db.session.scalar(select(User.id).where(User.username == "clerk"))
    with client.session_transaction() as session:
        session["_user_id"] = str(clerk_id)
        session["_fresh"] = True
    assert client.get("/admin/").status_code == 302


def test_logging_in_again_after_logout_works_with_a_fresh_token(client, clerk):
    login(client, "clerk")
    post(client, "/admin/logout")
    assert token(client)
    assert login(client, "clerk").status_code == 303
    assert client.get("/admin/").status_code == 200
