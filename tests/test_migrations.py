"""The migrations bring an empty database to exactly the schema of the models, on
SQLite and (with GONGSHI_TEST_DATABASE_URL) on PostgreSQL. Generic: it compares
whatever the models are now with whatever the migrations build, so it fails when
someone changes a model without regenerating the migration (README: 开发说明)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import inspect

from app import create_app
from extensions import db
from tests.conftest import BACKENDS, empty_database


@contextmanager
def fresh_app(backend: str, tmp_path) -> Iterator:
    """An application bound to an empty database of its own: a new SQLite file, or
    a new PostgreSQL schema first on the search path (dropped afterwards)."""
    with empty_database(backend, tmp_path, "migration_test") as settings:
        config = {
            "TESTING": True,
            "SECRET_KEY": "test",
            "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
            "SAMPLE_DATA": False,
            **settings,
        }
        application = create_app(config, instance_path=str(tmp_path / "instance"))
        with application.app_context():
            yield application
            db.session.remove()
            db.engine.dispose()


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
