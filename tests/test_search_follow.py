"""Every process follows the change log by itself: a staff request never does
index work, a committed change is searchable within 5 seconds with no command
run — also after the process that made it was killed right after its commit —
and two app instances with their own index directories on one database both
follow it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from domain.accounts import create_user
from domain.publishing import withdraw_record
from extensions import db
from models import Case, User
from search_index import follower, indexer, search
from tests import admin_support
from tests.admin_support import login, post
from tests.builders import case_row, credit_code, load

ROOT = Path(__file__).resolve().parents[1]
FRESH = 5.0  # seconds: the promise


def wait_for(condition, seconds: float = FRESH) -> float:
    """Seconds until ``condition()`` holds; fails after ``seconds``."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > seconds:
            pytest.fail(f"not within {seconds} s")
        time.sleep(0.05)


fast_hashing = admin_support.fast_hashing


def test_a_staff_change_waits_for_no_index_and_every_process_follows(app, client, fast_hashing):
    admin_support.make_user("publisher", "publisher")
    load("cases", [case_row()])
    follower.ensure_started(app)
    record_id = db.session.scalar(select(Case.id))
    login(client, "publisher")
    # Another process holds the index writer: an update inside the request
    # would wait SEARCH_WRITER_TIMEOUT (10 s) for it.
    with indexer._apply_lock(indexer.current_dir(), 0):
        started = time.monotonic()
        response = post(client, f"/admin/cases/{record_id}/withdraw", {"reason": "公布对象有误"})
        answered = time.monotonic() - started
        assert response.status_code == 303 and answered < 3
        assert search("恒达").total == 0  # masked meanwhile (the index still has it)
        assert indexer.pending() == 1
    wait_for(lambda: indexer.pending() == 0)  # the follower applied it once the writer was free
    assert search("恒达").total == 0


KILLED_PUBLISHER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from app import create_app
    from domain.importing import ImportSettings, check_file, store_batch
    from domain.publishing import publish_batch
    from extensions import db
    from tests.builders import case_row, credit_code, to_csv

    app = create_app({{"TESTING": True, "SECRET_KEY": "t", "SAMPLE_DATA": False,
                      "DATABASE_URL": {database!r}, "SEARCH_INDEX_DIR": {index!r}}})
    with app.app_context():
        rows = [case_row(违法主体名称=f"兰州鼎新{{i}}号劳务有限公司", 统一社会信用代码=credit_code(100 + i),
                         文书编号=f"兰城劳监指〔2025〕{{100 + i}}号") for i in range(3)]
        report = check_file(to_csv("cases", rows), "k.csv", "cases", ImportSettings.from_config(app.config))
        batch = store_batch("cases", report.records, title="2025年第九批", authority="兰州市人力资源和社会保障局")
        publish_batch(batch)
        db.session.commit()
        os.kill(os.getpid(), signal.SIGKILL)  # right after the commit: nothing applied here
    """
)


def test_a_change_committed_by_a_process_killed_right_after_is_searchable_within_5_s(app):
    load("cases", [case_row()])
    follower.ensure_started(app)
    script = KILLED_PUBLISHER.format(
        root=str(ROOT), database=app.config["DATABASE_URL"], index=app.config["SEARCH_INDEX_DIR"]
    )
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    waited = wait_for(lambda: search("鼎新").total == 3)
    assert waited <= FRESH
    assert indexer.check().ok


@pytest.fixture
def second_instance(app, tmp_path):
    """Another app on the same database with its own index directory, as on a
    second machine, with its follower running."""
    other = create_app({**app.config, "SEARCH_INDEX_DIR": str(tmp_path / "machine-b" / "search_index")})
    other.instance_path = str(tmp_path / "machine-b")
    follower.ensure_started(other)
    yield other
    follower.stop(other)
    with other.app_context():
        db.engine.dispose()


def found_in(instance, q: str) -> int:
    with instance.app_context():
        return search(q).total


def test_two_instances_on_one_database_both_follow(app, second_instance):
    create_user("publisher1", "publisher", "a-Long-enough-passw0rd!")
    db.session.commit()
    load("cases", [case_row()])
    follower.ensure_started(app)
    wait_for(lambda: found_in(second_instance, "恒达") == 1, 30)  # machine B built its own index

    load(
        "cases",
        [
            case_row(违法主体名称=f"兰州鼎新{i}号劳务有限公司", 统一社会信用代码=credit_code(10 + i), 文书编号=f"x{i}")
            for i in range(20)
        ],
        title="2025年第二批",
    )
    wait_for(lambda: found_in(app, "鼎新") == 20 and found_in(second_instance, "鼎新") == 20)

    record = db.session.scalar(select(Case).where(Case.enterprise_name == "兰州鼎新7号劳务有限公司"))
    record_id = record.id
    withdraw_record(record, "发布有误", db.session.scalar(select(User)))
    db.session.commit()  # no index update here: both machines' followers apply it
    wait_for(lambda: found_in(app, "鼎新") == 19 and found_in(second_instance, "鼎新") == 19)
    for instance in (app, second_instance):
        with instance.app_context():
            assert record_id not in [hit.record_id for hit in search("鼎新", per_page=50).hits]
    root_a, root_b = app.config["SEARCH_INDEX_DIR"], second_instance.config["SEARCH_INDEX_DIR"]
    assert root_a != root_b and os.path.isdir(root_b)
    wait_for(lambda: indexer.pending() == 0)
    with second_instance.app_context():
        wait_for(lambda: indexer.pending() == 0)
        assert indexer.check().ok


def test_the_follower_thread_is_started_per_process_and_stopped(app):
    app.config["SEARCH_FOLLOW"] = 1
    load("cases", [case_row()])
    started = follower.ensure_started(app)
    assert started.running and started.pid == os.getpid()
    assert follower.ensure_started(app) is started
    follower.stop(app)
    assert not started.running


def test_follow_command_runs_the_same_loop(app, monkeypatch):
    load("cases", [case_row()])
    ticks = []

    def once(follower_object):
        ticks.append(follower_object)
        raise KeyboardInterrupt  # as Ctrl-C would

    monkeypatch.setattr(follower, "follow_once", once)
    result = app.test_cli_runner().invoke(args=["search", "follow", "--interval", "0.1"])
    assert result.exit_code == 0 and len(ticks) == 1 and "跟随" in result.output
