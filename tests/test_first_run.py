"""A development instance's first run: an empty database gets the schema and the
sample data on the first request, once however many processes start on it, and
every page says 示例数据."""

from __future__ import annotations

import logging
import multiprocessing
import os
import random
import threading
import traceback

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from domain import clock, sample_data
from domain.first_run import setup_lock, sqlite_file
from domain.visibility import case_is_public_clause
from extensions import db
from models import Batch, Case, Hotline
from tests.conftest import BACKENDS, FIXED_TODAY, empty_database


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_first_request_of_a_development_instance_loads_the_sample_data(tmp_path, monkeypatch):
    """`flask --app app run` on an empty database: schema, sample data, banner."""
    monkeypatch.setattr(clock, "today", lambda: FIXED_TODAY)
    application = create_app(
        {
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
            "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
        },
        instance_path=str(tmp_path / "instance"),
    )
    assert not application.testing and application.config["SAMPLE_DATA"]
    client = application.test_client()
    page = client.get("/").get_data(as_text=True)
    assert "示例数据" in page and "虚构" in page
    with application.app_context():
        assert count(Case, case_is_public_clause()) >= 150
        assert all(db.session.scalars(select(Batch.is_sample)))
        db.engine.dispose()
    hotlines = client.get("/hotlines").get_data(as_text=True)
    assert "劳动保障监察大队（示例）" in hotlines and "12333" in hotlines
    cases = client.get("/cases").get_data(as_text=True)
    assert "示例" in cases and "示例数据" in cases


def test_no_sample_data_when_disabled(tmp_path):
    application = create_app(
        {
            "SECRET_KEY": "test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}",
            "SEARCH_INDEX_DIR": str(tmp_path / "search_index"),
            "SAMPLE_DATA": "0",
        },
        instance_path=str(tmp_path / "instance"),
    )
    with application.app_context():
        db.create_all()
        client = application.test_client()
        assert "示例数据" not in client.get("/").get_data(as_text=True)
        assert count(Batch) == 0
        db.engine.dispose()


# --- several processes on one empty database ----------------------------------------


class _Remember(logging.Handler):
    """Keeps what a site logs (its 500s with their tracebacks, its first-run notice)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {self.format(record)}")


def _first_request(config: dict, instance: str, barrier, results) -> None:
    """One process of a development site (run in a spawned child): built, then its
    first request at the moment the other process makes its own."""
    outcome: dict = {"pid": os.getpid(), "status": None, "error": None, "logged": []}
    try:
        clock.today = lambda: FIXED_TODAY
        site = create_app(config, instance_path=instance)
        remember = _Remember()
        site.logger.setLevel(logging.INFO)
        site.logger.addHandler(remember)
        outcome["logged"] = remember.lines
        client = site.test_client()
        barrier.wait(timeout=120)
        with client.get("/") as response:
            outcome["status"] = response.status_code
    except BaseException:
        barrier.abort()  # the other process must not wait for this one
        outcome["error"] = traceback.format_exc()
    results.put(outcome)


@pytest.mark.parametrize("schema", ["none", "upgraded"])  # an empty database, or one after `flask init-db`
@pytest.mark.parametrize("backend", BACKENDS)
def test_two_processes_starting_on_one_empty_database_load_the_sample_data_once(backend, schema, tmp_path):
    """Two gunicorn workers (or two machines) whose first requests arrive together:
    one upgrades and loads, the other waits for it and finds the data; both answer
    the page."""
    with empty_database(backend, tmp_path) as settings:
        config = {"SECRET_KEY": "test", "SEARCH_INDEX_DIR": str(tmp_path / "search_index"), **settings}
        if schema == "upgraded":
            site = create_app({**config, "TESTING": True}, instance_path=str(tmp_path / "instance"))
            with site.app_context():
                assert site.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
                db.engine.dispose()
        spawn = multiprocessing.get_context("spawn")
        barrier = spawn.Barrier(2)
        results = spawn.Queue()
        processes = [
            spawn.Process(target=_first_request, args=(config, str(tmp_path / "instance"), barrier, results))
            for _ in range(2)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=300) for _ in processes]
        for process in processes:
            process.join(60)
        results.close()
        results.join_thread()

        for outcome in outcomes:
            assert outcome["error"] is None, outcome["error"]
            assert outcome["status"] == 200, outcome["logged"]
            assert not [line for line in outcome["logged"] if not line.startswith("INFO")]
        loads = [outcome["pid"] for outcome in outcomes for line in outcome["logged"] if "sample data" in line]
        assert len(loads) == 1
        assert [process.exitcode for process in processes] == [0, 0]

        site = create_app({**config, "TESTING": True, "SAMPLE_DATA": False}, instance_path=str(tmp_path / "instance"))
        with site.app_context():
            one_load = sample_data._default_plan(random.Random(2020), FIXED_TODAY)
            assert count(Batch) == len(one_load)
            positions = db.session.scalars(select(Hotline.position)).all()
            assert len(positions) == len(set(positions)) > 0  # the hotlines once, too
            db.session.remove()
            db.engine.dispose()


def _engine(settings: dict):
    return create_engine(settings["DATABASE_URL"], **settings.get("SQLALCHEMY_ENGINE_OPTIONS", {}))


def _in_thread(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_setup_lock_has_one_holder_per_database(backend, tmp_path):
    """A second engine (another process's pool) waits for the holder; another
    database (another file, another schema) does not."""
    with empty_database(backend, tmp_path, "one") as one, empty_database(backend, tmp_path, "other") as other:
        holder, second, elsewhere = _engine(one), _engine(one), _engine(other)
        acquired = threading.Event()

        def take(engine, event):
            def run():
                with setup_lock(engine):
                    event.set()

            return run

        try:
            with setup_lock(holder):
                other_acquired = threading.Event()
                _in_thread(take(elsewhere, other_acquired)).join(30)
                assert other_acquired.is_set()
                waiting = _in_thread(take(second, acquired))
                assert not acquired.wait(1.0)
            assert acquired.wait(30)
            waiting.join(30)
            # Released for good: the holder takes it again at once.
            again = threading.Event()
            _in_thread(take(holder, again)).join(30)
            assert again.is_set()
        finally:
            for engine in (holder, second, elsewhere):
                engine.dispose()


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="PostgreSQL only (GONGSHI_TEST_DATABASE_URL)")
def test_a_lock_whose_connection_was_lost_is_released_without_an_error(tmp_path):
    """The server ended the holder's session (a restart, a dropped network): leaving
    the lock raises nothing, the pool keeps no dead connection, and the next
    process takes the lock at once."""
    with empty_database("postgresql", tmp_path) as settings:
        holder, admin = _engine(settings), _engine(settings)
        try:
            with setup_lock(holder), admin.connect() as connection:
                ended = connection.scalar(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                        " AND pid <> pg_backend_pid()"
                    )
                )
                assert ended
            taken = threading.Event()
            _in_thread(lambda: _hold(admin, taken)).join(30)
            assert taken.is_set()
            with holder.connect() as connection:  # its pool hands out a live connection
                assert connection.scalar(text("SELECT 1")) == 1
        finally:
            holder.dispose()
            admin.dispose()


def _hold(engine, event: threading.Event) -> None:
    with setup_lock(engine):
        event.set()


@pytest.mark.parametrize(
    "url",
    ["sqlite://", "sqlite:///:memory:", "sqlite:///file::memory:?uri=true", "sqlite:///file:x.db?mode=memory&uri=true"],
)
def test_an_in_memory_sqlite_database_has_no_lock_file(url):
    assert sqlite_file(make_url(url)) is None


def test_the_sqlite_lock_file_lies_beside_the_database(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert sqlite_file(make_url("sqlite:///site.db")) == str(tmp_path / "site.db")
    assert sqlite_file(make_url("sqlite:///file:site.db?uri=true")) == str(tmp_path / "site.db")
    engine = create_engine(f"sqlite:///{tmp_path / 'site.db'}")
    with setup_lock(engine):
        assert (tmp_path / "site.db.setup-lock").exists()
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_sample_data_command_waits_for_a_first_run_and_numbers_on(backend, tmp_path, monkeypatch):
    """`flask sample-data` on a database another process is setting up waits for
    it, then adds its batches after those already there."""
    monkeypatch.setattr(clock, "today", lambda: FIXED_TODAY)
    with empty_database(backend, tmp_path) as settings:
        site = create_app(
            {"TESTING": True, "SECRET_KEY": "test", "SAMPLE_DATA": False, "SEARCH_INDEX_DIR": str(tmp_path / "index")}
            | settings,
            instance_path=str(tmp_path / "instance"),
        )
        runner = site.test_cli_runner()
        command = ["sample-data", "--cases", "10", "--listings", "0"]

        def sample_data_command():
            with site.app_context():  # as `flask` gives every command
                return runner.invoke(args=command)

        first = sample_data_command()
        assert first.exit_code == 0, first.output

        holder = _engine(settings)
        outcome: dict = {}
        try:
            with setup_lock(holder):
                loading = _in_thread(lambda: outcome.update(result=sample_data_command()))
                loading.join(2.0)
                assert loading.is_alive() and "result" not in outcome
                with site.app_context():
                    assert count(Batch) == 1  # nothing loaded while the lock is held elsewhere
                    db.session.remove()
        finally:
            holder.dispose()
        loading.join(120)
        assert outcome["result"].exit_code == 0, outcome["result"].output
        with site.app_context():
            assert sorted(db.session.scalars(select(Batch.number))) == [1, 2]
            db.session.remove()
            db.engine.dispose()
