"""Lockout under concurrency: failures are counted in the database in one UPDATE,
so many wrong passwords at once still get at most the allowed number of password
checks; behind a configured number of proxies the throttle sees the client."""

from __future__ import annotations

import threading

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app import create_app
from domain import accounts
from extensions import db
from models import AuditEvent, User
from tests.admin_support import PASSWORD, fast_hashing, login, make_user  # noqa: F401

ATTEMPTS = 30


@pytest.fixture
def target(app, fast_hashing):  # noqa: F811
    app.extensions["gongshi_login_sleep"] = lambda seconds: None
    return make_user("clerk", "editor")


def count_real_checks(monkeypatch, user_hash: str) -> list[int]:
    """Count the password checks made against the account's own hash (not the
    throwaway checks that keep refusals as slow as a check)."""
    checks: list[int] = []
    lock = threading.Lock()
    original = accounts.check_password_hash

    def counting(stored: str, password: str) -> bool:
        if stored == user_hash:
            with lock:
                checks.append(1)
        return original(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting)
    return checks


def test_parallel_wrong_passwords_get_at_most_the_allowed_checks(app, target, monkeypatch):
    app.test_client_class = FlaskClient  # each thread's request gets its own context
    checks = count_real_checks(monkeypatch, target.password_hash)
    barrier = threading.Barrier(ATTEMPTS)
    statuses: list[int] = []
    failures: list[BaseException] = []

    def attempt(number: int) -> None:
        try:
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"198.51.100.{number + 1}"
            page = client.get("/admin/login").get_data(as_text=True)
            csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
            barrier.wait()
            response = client.post(
                "/admin/login", data={"username": "clerk", "password": f"wrong-{number}", "csrf_token": csrf}
            )
            statuses.append(response.status_code)
        except BaseException as problem:  # reported below, in the test's own thread
            failures.append(problem)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures
    assert statuses == [401] * ATTEMPTS
    assert len(checks) <= accounts.MAX_FAILED_LOGINS
    db.session.expire_all()
    user = db.session.get(User, target.id)
    assert user.locked_until is not None
    locked = db.session.scalar(select(func.count()).where(AuditEvent.action == "account_locked"))
    assert locked == 1
    # Still locked: even the right password gets no check and is refused.
    before = len(checks)
    app.test_client_class = FlaskClient
    assert login(app.test_client(), "clerk").status_code == 401
    assert len(checks) == before


def test_the_attempt_that_reaches_the_limit_with_the_right_password_logs_in(app, client, target):
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        assert login(client, "clerk", "wrong-password").status_code == 401
    assert login(client, "clerk").status_code == 303
    db.session.expire_all()
    user = db.session.get(User, target.id)
    assert user.locked_until is None and user.failed_login_count == 0


def test_a_success_starts_the_count_again(app, client, target):
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        login(client, "clerk", "wrong-password")
    assert login(client, "clerk").status_code == 303
    other = app.test_client()
    for _ in range(accounts.MAX_FAILED_LOGINS - 1):
        assert login(other, "clerk", "wrong-password").status_code == 401
    db.session.expire_all()
    assert db.session.get(User, target.id).locked_until is None


@pytest.fixture
def proxied_app(app):
    """Another application on the same database, with a proxy count."""
    made = []

    def make(count: int):
        site = _proxied(app, count)
        made.append(site)
        return site

    yield make
    for site in made:
        with site.app_context():
            db.engine.dispose()


def _proxied(app, count: int):
    site = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "DATABASE_URL": app.config["DATABASE_URL"],
            "SEARCH_INDEX_DIR": app.config["SEARCH_INDEX_DIR"],
            "SAMPLE_DATA": False,
            "PROXY_COUNT": count,
        },
        instance_path=app.instance_path,
    )
    site.extensions["gongshi_login_sleep"] = app.extensions["gongshi_login_sleep"]
    return site


def failed_login_addresses() -> list[str | None]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.remote_addr).where(AuditEvent.action == "login_failed")))


def test_behind_a_configured_proxy_the_client_address_is_seen(proxied_app, target):
    site = proxied_app(1)
    waits: list[float] = []
    site.extensions["gongshi_login_sleep"] = waits.append
    for address in ("203.0.113.7", "203.0.113.8"):
        client = site.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"10.9.9.9, {address}"  # a spoofed first hop is ignored
        client.environ_base["REMOTE_ADDR"] = "10.0.0.1"  # the proxy
        assert login(client, "nobody", "wrong-password").status_code == 401
    assert sorted(failed_login_addresses()) == ["203.0.113.7", "203.0.113.8"]
    assert waits == [0.0, 0.0]  # two clients, neither slowed by the other's failure


def test_without_a_proxy_count_forwarded_headers_are_ignored(proxied_app, target):
    site = proxied_app(0)
    client = site.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
    client.environ_base["REMOTE_ADDR"] = "192.0.2.1"
    login(client, "nobody", "wrong-password")
    assert failed_login_addresses() == ["192.0.2.1"]


def test_a_negative_proxy_count_is_refused(app):
    with pytest.raises(RuntimeError, match="PROXY_COUNT"):
        _proxied(app, -1)
