"""The index follows the database: the change log, sync after a crash, rebuild
with an atomic swap, the consistency check, one writer at a time, reopening on
change."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import select

from domain.publishing import enqueue_record
from extensions import db
from models import Case
from search_index import IndexBusy, check, indexer, reindex, search, searcher, sync
from tests.builders import case_row, credit_code, load


def pending() -> int:
    return indexer.pending()


def names(outcome) -> list[str]:
    return [hit.record.enterprise_name for hit in outcome.hits]


def test_search_before_any_index_exists_answers_with_a_message(app):
    outcome = search("恒达")
    assert outcome.total == 0 and not outcome.index_ready and outcome.message


def test_publishing_applies_the_change_log_and_creates_the_index(app):
    load("cases", [case_row()])
    assert indexer.current_dir() is not None
    assert pending() == 0
    assert search("恒达").total == 1
    assert check().ok


def test_an_unapplied_change_is_caught_by_check_and_repaired_by_sync(app, runner):
    load("cases", [case_row()], publish=False)  # a draft: no log entry, nothing public
    batch_case = db.session.scalar(select(Case))
    # A crash between commit and apply: the change log keeps the work.
    batch_case.status = "published"
    enqueue_record(batch_case)
    db.session.commit()
    assert search("恒达").total == 0
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code != 0 and "不一致" in result.output
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0, result.output
    assert "已同步 1 条" in result.output
    assert pending() == 0
    assert search("恒达").total == 1
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 0 and "一致" in result.output


def test_check_notices_a_missed_correction(app):
    load("cases", [case_row()])
    record = db.session.scalar(select(Case))
    record.revision = 2  # changed without a change-log entry
    db.session.commit()
    result = check()
    assert not result.ok and result.missing["case"] == [record.id]


def test_applying_twice_is_harmless(app):
    load("cases", [case_row()])
    record = db.session.scalar(select(Case))
    for _ in range(2):
        enqueue_record(record)
        db.session.commit()
        sync()
    assert search("恒达").total == 1
    assert check().ok


def test_reindex_builds_a_fresh_directory_and_swaps_it_in(app, runner):
    load(
        "cases",
        [
            case_row(
                违法主体名称=f"兰州恒达{i}号建筑有限公司",
                统一社会信用代码=credit_code(i),
                文书编号=f"兰城劳监指〔2025〕{i}号",
            )
            for i in range(1, 6)
        ],
    )
    before = indexer.current_dir()
    assert search("恒达").total == 5
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "5 条记录" in result.output
    after = indexer.current_dir()
    assert after != before and os.path.isdir(after)
    assert search("恒达").total == 5  # the new index is opened on the next search
    assert check().ok
    runner.invoke(args=["search", "reindex"])
    runner.invoke(args=["search", "reindex"])
    kept = [name for name in os.listdir(app.config["SEARCH_INDEX_DIR"]) if name.startswith("ix-")]
    assert len(kept) == 2  # the live one and the one it just replaced


def test_reindex_covers_what_the_log_names(app):
    load("cases", [case_row()], publish=False)
    record = db.session.scalar(select(Case))
    record.status = "published"
    enqueue_record(record)
    db.session.commit()
    reindex()
    assert pending() == 0
    assert search("恒达").total == 1


def test_a_searcher_sees_a_new_generation_on_its_next_search(app):
    load("cases", [case_row()])
    first = searcher.snapshot()
    assert search("鼎新").total == 0
    load(
        "cases",
        [
            case_row(
                违法主体名称="兰州鼎新劳务有限公司", 统一社会信用代码=credit_code(5), 文书编号="兰城劳监指〔2025〕9号"
            )
        ],
        title="2025年第二批",
    )
    assert names(search("鼎新")) == ["兰州鼎新劳务有限公司"]
    assert searcher.snapshot() is not first
    assert searcher.snapshot() is searcher.snapshot()  # unchanged index: same snapshot


def test_a_second_writer_waits_then_gets_a_clear_error(app):
    load("cases", [case_row()])
    record = db.session.scalar(select(Case))
    enqueue_record(record)
    db.session.commit()
    ix = indexer.open_index(indexer.current_dir())
    holder = ix.writer()
    try:
        with pytest.raises(IndexBusy) as busy:
            sync(timeout=0.2)
        assert "另一个进程" in str(busy.value)
        assert pending() == 1  # the work is kept for later
    finally:
        holder.cancel()
    assert sync(timeout=0.2) == 1
    assert pending() == 0


def test_a_writer_waiting_for_the_lock_gets_it_when_released(app):
    load("cases", [case_row()])
    record = db.session.scalar(select(Case))
    enqueue_record(record)
    db.session.commit()
    ix = indexer.open_index(indexer.current_dir())
    holder = ix.writer()
    releaser = threading.Timer(0.3, holder.cancel)
    releaser.start()
    try:
        assert sync(timeout=5) == 1
    finally:
        releaser.join()


def test_a_failed_write_releases_the_lock(app, monkeypatch):
    load("cases", [case_row()])
    record = db.session.scalar(select(Case))
    enqueue_record(record)
    db.session.commit()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(indexer, "load_documents", broken)
    with pytest.raises(RuntimeError):
        sync(timeout=0.2)
    monkeypatch.undo()
    assert pending() == 1
    assert sync(timeout=0.2) == 1  # not locked out


def test_a_forked_process_opens_its_own_index(app, monkeypatch):
    load("cases", [case_row()])
    parent = searcher.snapshot()
    monkeypatch.setattr(searcher, "_cache_pid", -1)  # as if this process had been forked
    child = searcher.snapshot()
    assert child is not parent
    assert search("恒达").total == 1
