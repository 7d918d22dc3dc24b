"""The migrations bring an empty database to exactly the schema of the models, on
SQLite and (with GONGSHI_TEST_DATABASE_URL) on PostgreSQL. Generic: it compares
whatever the models are now with whatever the migrations build, so it fails when
someone changes a model without regenerating the migration (README: 开发说明)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from app import create_app
from extensions import db
from tests.conftest import POSTGRES_URL

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@contextmanager
def fresh_app(backend: str, tmp_path) -> Iterator:
    """An application bound to an empty database of its own: a new SQLite file, or
    a new PostgreSQL schema first on the search path (dropped afterwards)."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        "SAMPLE_DATA": False,
    }
    schema = None
    if backend == "sqlite":
        config["DATABASE_URL"] = f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        schema = f"migration_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        config["DATABASE_URL"] = POSTGRES_URL
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-csearch_path={schema}"}}
    application = create_app(config)
    application.instance_path = str(tmp_path / "instance")
    try:
        with application.app_context():
            yield application
            db.session.remove()
            db.engine.dispose()
    finally:
        if schema:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": False})
        return compare_metadata(context, db.metadata)


def current_and_head() -> tuple[str | None, str]:
    from flask import current_app

    directory = current_app.extensions["migrate"].directory
    head = ScriptDirectory(directory).get_current_head()
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision(), head


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrade_builds_the_models_schema(backend, tmp_path):
    with fresh_app(backend, tmp_path):
        assert inspect(db.engine).get_table_names() == []
        upgrade()
        assert schema_differences() == []
        current, head = current_and_head()
        assert current == head is not None
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())


@pytest.mark.parametrize("backend", BACKENDS)
def test_init_db_command_upgrades_an_empty_database(backend, tmp_path):
    with fresh_app(backend, tmp_path) as application:
        result = application.test_cli_runner().invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "最新" in result.output
        assert schema_differences() == []
        # Running it again is harmless.
        assert application.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
        current, head = current_and_head()
        assert current == head


def test_upgrade_keeps_the_application_loggers(tmp_path):
    """alembic's logging setup would otherwise disable every logger that exists."""
    logger = logging.getLogger("gongshi.test_migrations")
    with fresh_app("sqlite", tmp_path):
        upgrade()
    assert not logger.disabled
