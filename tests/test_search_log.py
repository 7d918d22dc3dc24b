"""The search change log: every index follows it by sequence, a rebuild loses
nothing committed while it runs, numbers that become visible out of order are
not skipped, old entries are pruned and an index behind them is rebuilt."""

from __future__ import annotations

import datetime as dt
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from domain.accounts import create_user
from domain.publishing import correct_record, record_fields, withdraw_record
from extensions import db
from models import Case, SearchChange, User
from models.common import utcnow
from search_index import changelog, check, indexer, reindex, search, sync
from search_index.changelog import Applied, advance, read_applied
from tests import builders
from tests.builders import case_row, credit_code, load


@pytest.fixture
def staff(app):
    user = create_user("publisher1", "publisher", "a-Long-enough-passw0rd!")
    db.session.commit()
    return user


def publisher() -> User:
    """The staff fixture's user, loaded again (building the index detaches everything)."""
    return db.session.scalar(select(User).where(User.username == "publisher1"))


def names(outcome) -> list[str]:
    return sorted(hit.record.enterprise_name for hit in outcome.hits)


def log_size() -> int:
    return db.session.scalar(select(func.count()).select_from(SearchChange)) or 0


def test_entries_are_kept_and_each_index_records_its_sequence(app):
    load("cases", [case_row()])
    assert log_size() == 1  # applied, not consumed
    state = read_applied(indexer.current_dir())
    assert state is not None and state.seq == changelog.last_sequence() and state.holes == []
    assert check().ok


def test_a_publish_and_a_correction_during_a_rebuild_both_survive_the_swap(app, staff, monkeypatch):
    load(
        "cases",
        [
            case_row(),
            case_row(
                违法主体名称="兰州宏远餐饮有限公司", 统一社会信用代码=credit_code(2), 文书编号="兰城劳监指〔2025〕2号"
            ),
        ],
    )
    record_id = db.session.scalar(select(Case.id).where(Case.enterprise_name == "兰州宏远餐饮有限公司"))
    staff_id = db.session.scalar(select(User.id).where(User.username == "publisher1"))
    original = indexer.iter_all_documents

    def build_with_changes_meanwhile(kind, rules):
        if kind == "listing":  # every case has been read: these changes come too late for the build
            with app.app_context():  # another request, with its own session
                record, user = db.session.get(Case, record_id), db.session.get(User, staff_id)
                correct_record(
                    record, {**record_fields(record), "enterprise_name": "兰州宏图餐饮有限公司"}, "名称有误", user
                )
                db.session.commit()
                load(
                    "cases",
                    [
                        case_row(
                            违法主体名称="兰州鼎新劳务有限公司",
                            统一社会信用代码=credit_code(5),
                            文书编号="兰城劳监指〔2025〕9号",
                        )
                    ],
                    title="2025年第二批",
                )
        yield from original(kind, rules)

    monkeypatch.setattr(indexer, "iter_all_documents", build_with_changes_meanwhile)
    before = indexer.current_dir()
    reindex()
    assert indexer.current_dir() != before
    assert names(search("鼎新")) == ["兰州鼎新劳务有限公司"]
    assert names(search("宏图")) == ["兰州宏图餐饮有限公司"]
    assert search("宏远").total == 0
    result = check()
    assert result.ok, result.summary()
    assert result.applied == result.latest


def test_a_sequence_number_committed_late_is_not_skipped(app, staff):
    """On PostgreSQL a transaction holding a lower number may commit after one
    holding a higher number: the follower keeps looking at the gap."""
    load(
        "cases",
        [
            case_row(),
            case_row(
                违法主体名称="兰州宏远餐饮有限公司", 统一社会信用代码=credit_code(2), 文书编号="兰城劳监指〔2025〕2号"
            ),
        ],
    )
    first, second = db.session.scalars(select(Case).order_by(Case.id)).all()
    base = changelog.last_sequence()
    # The higher number commits first …
    first.status = "withdrawn"
    db.session.add(SearchChange(id=base + 900, record_kind="case", record_id=first.id))
    db.session.commit()
    sync()
    state = read_applied(indexer.current_dir())
    assert state.seq == base + 900 and [h[:2] for h in state.holes] == [[base + 1, base + 899]]
    # … the lower one afterwards.
    second.status = "withdrawn"
    db.session.add(SearchChange(id=base + 400, record_kind="case", record_id=second.id))
    db.session.commit()
    assert indexer.pending() == 1
    assert sync() == 1
    assert search("宏远").total == 0
    state = read_applied(indexer.current_dir())
    assert [h[:2] for h in state.holes] == [[base + 1, base + 399], [base + 401, base + 899]]
    assert check().ok


def test_a_hole_is_given_up_after_the_gap_period(app):
    app.config["SEARCH_LOG_GAP_SECONDS"] = 60
    state = advance(Applied(seq=10), [12, 15], now=1000.0)
    assert state.seq == 15 and state.holes == [[11, 11, 1000.0], [13, 14, 1000.0]]
    state = advance(state, [13], now=1030.0)
    assert state.holes == [[11, 11, 1000.0], [14, 14, 1000.0]]
    assert advance(state, [], now=1061.0).holes == []  # a rolled-back transaction never fills it


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=40),
    seed=st.integers(min_value=0, max_value=10_000),
    batch=st.integers(min_value=1, max_value=7),
    rolled_back=st.sets(st.integers(min_value=1, max_value=40), max_size=5),
)
def test_a_follower_applies_every_committed_number_whatever_the_commit_order(count, seed, batch, rolled_back):
    """Numbers 1..count commit in a random order (some never: rolled back); a
    follower reading in chunks between commits applies each committed one
    exactly when it becomes visible, and none twice."""
    rng = random.Random(seed)
    order = [n for n in range(1, count + 1) if n not in rolled_back]
    rng.shuffle(order)
    visible: set[int] = set()
    applied: list[int] = []
    state = Applied()

    def read(limit: int) -> list[int]:
        pending = sorted(n for n in visible if n > state.seq or any(a <= n <= b for a, b, _ in state.holes))
        return pending[:limit]

    while order or read(1):
        for _ in range(rng.randint(0, 3)):
            if order:
                visible.add(order.pop())
        entries = read(batch)
        applied.extend(entries)
        state = advance(state, entries, now=0.0, gap=3600.0)
    assert sorted(applied) == sorted(visible)
    assert len(applied) == len(set(applied))


def test_old_entries_are_pruned_and_an_index_behind_them_is_rebuilt(app, runner, monkeypatch):
    load("cases", [case_row()])
    directory = indexer.current_dir()
    # A batch this machine's index never applied (say it was down) …
    monkeypatch.setattr(builders, "update_search_index", lambda **options: None)
    load(
        "cases",
        [
            case_row(
                违法主体名称="兰州鼎新劳务有限公司", 统一社会信用代码=credit_code(5), 文书编号="兰城劳监指〔2025〕9号"
            )
        ],
        title="2025年第二批",
    )
    newest = db.session.scalar(select(Case).where(Case.enterprise_name == "兰州鼎新劳务有限公司"))
    db.session.add(SearchChange(record_kind="case", record_id=newest.id))
    db.session.commit()
    # … and the retention period passes.
    app.config["SEARCH_LOG_RETENTION_DAYS"] = 7
    assert changelog.prune(now=utcnow() + dt.timedelta(days=8)) == 2
    assert log_size() == 1  # the newest stays, so the sequence stays known
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1 and "已清理" in result.output
    sync()
    assert indexer.current_dir() != directory  # rebuilt, not silently wrong
    assert names(search("鼎新")) == ["兰州鼎新劳务有限公司"]
    assert check().ok


def test_prune_keeps_entries_inside_the_retention_period(app, runner):
    load("cases", [case_row()])
    load(
        "cases",
        [
            case_row(
                违法主体名称="兰州鼎新劳务有限公司", 统一社会信用代码=credit_code(5), 文书编号="兰城劳监指〔2025〕9号"
            )
        ],
        title="2025年第二批",
    )
    result = runner.invoke(args=["search", "prune"])
    assert result.exit_code == 0 and "已清理 0 条" in result.output
    assert log_size() == 2
    assert check().ok


def test_check_compares_by_sequence(app, runner, staff):
    load("cases", [case_row()])
    record = db.session.scalar(select(Case))
    withdraw_record(record, "发布有误", publisher())
    db.session.commit()  # not applied yet
    result = runner.invoke(args=["search", "check"])
    assert result.exit_code == 1
    latest = changelog.last_sequence()
    assert f"日志最新为 {latest}" in result.output and "尚未应用的索引变更 1 条" in result.output
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 0 and "已同步 1 条" in result.output
    assert runner.invoke(args=["search", "check"]).exit_code == 0


def test_a_killed_rebuild_leaves_nothing_behind_after_the_next_one(app):
    load("cases", [case_row()])
    root = app.config["SEARCH_INDEX_DIR"]
    partial = os.path.join(root, "ix-20260101T000000-dead00")
    os.makedirs(partial)
    with open(os.path.join(partial, indexer.BUILDING), "w") as handle:
        handle.write("12345")
    reindex()
    assert not os.path.exists(partial)
    assert search("恒达").total == 1
