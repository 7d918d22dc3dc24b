"""Bringing a database to the latest schema (Alembic migrations via Flask-Migrate)."""

from __future__ import annotations

from flask_migrate import upgrade


def upgrade_schema() -> None:
    upgrade()
