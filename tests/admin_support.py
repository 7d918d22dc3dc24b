"""Helpers for the staff-area tests: accounts, login and CSRF tokens taken from
the pages themselves, as a browser would."""

from __future__ import annotations

import re

import pytest

from domain import accounts
from domain.accounts import create_user
from extensions import db

PASSWORD = "correct-horse-battery"
ROLES = ("editor", "publisher", "admin")
_TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


def make_user(username: str, role: str, password: str = PASSWORD):
    user = create_user(username, role, password)
    db.session.commit()
    return user


def token(client, url: str = "/admin/login") -> str:
    page = client.get(url, follow_redirects=True)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {url} ({page.status_code})"
    return found.group(1)


def login(client, username: str, password: str = PASSWORD):
    return client.post("/admin/login", data={"username": username, "password": password, "csrf_token": token(client)})


def post(client, url: str, data: dict | None = None, **kwargs):
    """A POST with the CSRF token of the current session."""
    return client.post(url, data={"csrf_token": token(client), **(data or {})}, **kwargs)


def logout(client) -> None:
    post(client, "/admin/logout")


@pytest.fixture
def fast_hashing(monkeypatch):
    """A cheap hash for tests that create many accounts (scrypt is slow on purpose)."""
    monkeypatch.setattr(accounts, "PASSWORD_METHOD", "pbkdf2:sha256:1000")
