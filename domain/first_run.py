"""A development instance's first run: an empty database gets its schema and the
sample data (示例数据) once, however many processes (gunicorn workers, several
``flask run``, several machines) make their first request at the same moment.

Every step that sets a database up — checking it is empty, upgrading the schema,
loading sample data — runs under ``setup_lock``, which covers every process using
that database: a PostgreSQL advisory lock, or an exclusive file lock beside an
SQLite file. A process that waited finds the data there and loads nothing."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Engine, exists, inspect, select, text
from sqlalchemy.engine import URL

from extensions import db
from models import Batch

SQLITE_LOCK_SUFFIX = ".setup-lock"


def _advisory_key(schema: str) -> int:
    """A signed 64-bit key of its own for this schema: advisory locks are per
    database, and several schemas of one database are several sites."""
    digest = hashlib.blake2b(f"gongshi database setup {schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def sqlite_file(url: URL) -> str | None:
    """The file of an SQLite database, or None for an in-memory one (private to
    its process: nothing to lock)."""
    database = url.database or ""
    if database.startswith("file:"):  # a URI filename (?uri=true); its options are in url.query
        database = urlsplit(database).path
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    return os.path.abspath(database)


@contextmanager
def setup_lock(engine: Engine) -> Iterator[None]:
    """Held by one process at a time per database, across processes and machines.

    Not reentrant: code run inside must not take it again. The lock has a
    connection (or file) of its own that holds no table lock, so a migration
    inside, on its own connection, never waits for it."""
    if engine.dialect.name == "postgresql":
        with _postgresql_lock(engine):
            yield
    elif engine.dialect.name == "sqlite":
        with _sqlite_lock(engine):
            yield
    else:  # only SQLite and PostgreSQL are supported
        yield


@contextmanager
def _postgresql_lock(engine: Engine) -> Iterator[None]:
    # Autocommit: waiting for and holding the lock keeps no transaction (and no
    # table lock) open on this connection.
    connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        key = _advisory_key(connection.scalar(text("SELECT current_schema()")) or "")
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            except Exception:
                # A session-level lock outlives a connection returned to the pool:
                # one that could not unlock (a lost connection) is discarded, and
                # its session's end unlocks. Whatever failed inside is the error told.
                connection.invalidate()
    finally:
        connection.close()


@contextmanager
def _sqlite_lock(engine: Engine) -> Iterator[None]:
    path = sqlite_file(engine.url)
    if path is None:
        yield
        return
    # Opening the database first: an unreachable one fails as a database error
    # (the site's 503 page), not as a missing lock file.
    with engine.connect():
        pass
    # flock, not fcntl record locks: closing any descriptor of the file would drop
    # those, and flock also excludes a second thread of the same process. The file
    # stays: removing it would let a waiter lock a file the next process no longer sees.
    descriptor = os.open(path + SQLITE_LOCK_SUFFIX, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def database_is_empty() -> bool:
    """No batch at all, in any state: nothing was ever imported or loaded."""
    return not db.session.scalar(select(exists().where(Batch.id.isnot(None))))


def ensure_schema_and_sample_data() -> bool:
    """Give an empty database its schema and the built-in sample data. False if
    the database had data, also when another process loaded it while this one
    waited for the lock."""
    from domain.sample_data import load_default_sample_data
    from domain.schema import upgrade_schema

    with setup_lock(db.engine):
        if not inspect(db.engine).has_table(Batch.__tablename__):
            upgrade_schema()
        if not database_is_empty():
            return False
        current_app.logger.info("empty database: loading the sample data (示例数据)")
        load_default_sample_data()
        return True
