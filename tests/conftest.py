"""Fixtures in the flaskr style: every test gets its own database and search index
directory; the developer's instance folder is never touched. Set
GONGSHI_TEST_DATABASE_URL (postgresql+psycopg://…) to run against PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from app import create_app
from domain import clock
from extensions import db
from search_index import follower

SHARED = Path(__file__).resolve().parents[2] / "shared"
TEMPLATES_DIR = SHARED / "templates"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
POSTGRES_URL = os.environ.get("GONGSHI_TEST_DATABASE_URL")
FIXED_TODAY = dt.date(2026, 11, 28)
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def example_file(name: str) -> Path:
    """An import example: ../shared/templates/ when present, else the copy in
    tests/fixtures/ (so a clone without shared/ still tests)."""
    shared = TEMPLATES_DIR / name
    return shared if shared.exists() else FIXTURES / name


@contextmanager
def empty_database(backend: str, tmp_path: Path, name: str = "fresh") -> Iterator[dict]:
    """The settings of an empty database of its own, for tests that need one
    without tables (migrations, a first run): a new SQLite file in ``tmp_path``, or
    a new schema first on the search path of the PostgreSQL test database, dropped
    afterwards (the database itself is never dropped)."""
    if backend == "sqlite":
        yield {"DATABASE_URL": f"sqlite:///{tmp_path / name}.db"}
        return
    schema = f"{name}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield {
            "DATABASE_URL": POSTGRES_URL,
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": f"-csearch_path={schema}"}},
        }
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _no_search_follower_outlives_its_test():
    """A web app started in a test (first request) runs a search follower thread:
    stop them all when the test ends."""
    yield
    follower.stop_all()


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: FIXED_TODAY)
    config = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": POSTGRES_URL or f"sqlite:///{tmp_path / 'test.db'}",
        "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        "SAMPLE_DATA": False,
        "WTF_CSRF_ENABLED": True,
    }
    application = create_app(config, instance_path=str(tmp_path / "instance"))
    with application.app_context():
        if POSTGRES_URL:
            db.drop_all()
        db.create_all()
        yield application
        follower.stop(application)  # a test that started one leaves no thread running
        db.session.remove()
        if POSTGRES_URL:
            db.drop_all()
        db.engine.dispose()


class FreshGlobalsClient(FlaskClient):
    """The ``app`` fixture keeps one application context open for the whole test,
    so every request would share one ``g`` (and with it Flask-Login's current user
    and Flask-WTF's token). A real server gives each request a fresh one."""

    def open(self, *args, **kwargs):
        for name in list(vars(g._get_current_object())):
            delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = FreshGlobalsClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def set_today(monkeypatch):
    """Move the site's clock: ``set_today(dt.date(2029, 1, 1))``."""

    def move(day: dt.date) -> None:
        monkeypatch.setattr(clock, "today", lambda: day)

    return move
