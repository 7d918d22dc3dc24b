"""A stale index never reveals anything: until the change log's entries are
applied, a record no longer public is in no result, total, facet count,
suggestion, partial match, feed or API answer. A missing or damaged index says
so (a 503 from the API, never an empty answer) and is never replaced by an
empty one; a replaced index's match files are let go of."""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import select

from domain.accounts import create_user
from domain.publishing import update_search_index, withdraw_record
from extensions import db
from models import Case, User
from search_index import Filters, IndexDamaged, check, indexer, reindex, search, searcher, sync
from tests.builders import case_row, credit_code, load

WITHDRAWN = "兰州恒达建筑工程有限公司"
KEPT = "兰州宏远餐饮有限公司"


@pytest.fixture
def corpus(app):
    create_user("publisher1", "publisher", "a-Long-enough-passw0rd!")
    db.session.commit()
    load(
        "cases",
        [
            case_row(),  # 恒达, 城关区, 拖欠劳动报酬
            case_row(
                违法主体名称=KEPT,
                统一社会信用代码=credit_code(2),
                文书编号="兰城劳监指〔2025〕2号",
                区县="七里河区",
                违法类型="未依法缴纳社会保险费",
            ),
        ],
    )


def facet_counts(outcome) -> dict[str, dict[str, int]]:
    return {name: {v.value: v.count for v in values if v.count} for name, values in outcome.facets.items()}


def withdraw_behind_a_blocked_writer() -> None:
    """Withdraw the record while another process holds this index's writer:
    the change is committed and logged, the index still has the document."""
    record = db.session.scalar(select(Case).where(Case.enterprise_name == WITHDRAWN))
    withdraw_record(record, "发布有误", db.session.scalar(select(User)))
    db.session.commit()


def test_with_the_writer_blocked_a_withdrawn_record_is_in_no_channel(app, corpus, client):
    # Before: it is found, counted, suggested and partially matched.
    assert search("恒达").total == 1
    assert facet_counts(search("兰州"))["district"] == {"城关区": 1, "七里河区": 1}
    assert "恒达" in search("恒大").suggestions
    assert WITHDRAWN in [hit.record.enterprise_name for hit in search("恒达餐厅").hits]

    directory = indexer.current_dir()
    app.config["SEARCH_WRITER_TIMEOUT"] = 0.1
    with indexer._apply_lock(directory, 0):  # another process's writer, stuck
        withdraw_behind_a_blocked_writer()
        update_search_index()  # cannot apply: logged, the entry waits in the log
        assert indexer.pending() == 1 and check().documents == 2  # still in the index

        assert search("恒达").total == 0
        assert search("建筑").total == 0
        everything = search("兰州")
        assert everything.total == 1 and [h.record.enterprise_name for h in everything.hits] == [KEPT]
        counts = facet_counts(everything)
        assert counts["district"] == {"七里河区": 1}
        assert counts["type"] == {"未依法缴纳社会保险费": 1}
        assert counts["kind"] == {"cases": 1}
        assert search("恒大").suggestions == []
        partial = search("恒达餐厅")
        assert WITHDRAWN not in [hit.record.enterprise_name for hit in partial.hits]
        browse = search("", Filters(district="城关区"))
        assert browse.total == 0
        assert facet_counts(search("", Filters(kind="case")))["district"] == {"七里河区": 1}

        api = client.get("/api/v1/search", query_string={"q": "兰州"}).get_json()
        assert api["total"] == 1 and WITHDRAWN not in str(api)
        assert client.get("/api/v1/search", query_string={"q": "恒达"}).get_json()["total"] == 0
        page = client.get("/search", query_string={"q": "兰州"}).get_data(as_text=True)
        assert "宏远餐饮" in page and WITHDRAWN not in page
        assert WITHDRAWN not in client.get("/search.atom", query_string={"q": "兰州"}).get_data(as_text=True)
        assert WITHDRAWN not in client.get("/search", query_string={"q": "恒大"}).get_data(as_text=True)

    sync()  # the writer is free again
    assert indexer.pending() == 0 and check().ok
    assert search("恒达").total == 0


def test_a_deleted_index_directory_is_said_honestly_and_never_replaced_by_an_empty_one(corpus, client, runner):
    shutil.rmtree(indexer.current_dir())
    outcome = search("恒达")
    assert not outcome.index_ready and "缺失或损坏" in outcome.message and "正在" not in outcome.message
    page = client.get("/search", query_string={"q": "恒达"})
    assert page.status_code == 503 and "缺失或损坏" in page.get_data(as_text=True)
    answer = client.get("/api/v1/search", query_string={"q": "恒达"})
    assert answer.status_code == 503 and "total" not in answer.get_json()
    assert "缺失或损坏" in answer.get_json()["error"]["message"]
    assert client.get("/search.atom", query_string={"q": "恒达"}).status_code == 503

    # The next change does not create an empty index in its place.
    load(
        "cases",
        [case_row(违法主体名称="兰州鼎新劳务有限公司", 统一社会信用代码=credit_code(5), 文书编号="x9")],
        title="二",
    )
    assert indexer.current_dir() is None
    with pytest.raises(IndexDamaged):
        sync()
    result = runner.invoke(args=["search", "sync"])
    assert result.exit_code == 1 and "reindex" in result.output
    assert runner.invoke(args=["search", "check"]).exit_code == 1

    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert search("恒达").total == 1 and search("鼎新").total == 1
    assert client.get("/api/v1/search", query_string={"q": "鼎新"}).get_json()["total"] == 1


def test_a_damaged_index_directory_is_said_honestly(corpus, client):
    os.remove(os.path.join(indexer.current_dir(), "APPLIED"))
    searcher.forget()
    answer = client.get("/api/v1/search", query_string={"q": "恒达"})
    assert answer.status_code == 503 and "缺失或损坏" in answer.get_json()["error"]["message"]
    assert not check().ok
    reindex()
    assert client.get("/api/v1/search", query_string={"q": "恒达"}).get_json()["total"] == 1


def test_while_the_first_index_is_being_built_the_message_says_so(app):
    root = app.config["SEARCH_INDEX_DIR"]
    os.makedirs(root)
    with indexer._rebuild_lock(root):
        outcome = search("恒达")
    assert not outcome.index_ready and "正在重建" in outcome.message


def test_a_replaced_index_is_unmapped(corpus):
    old = indexer.current_dir()
    assert search("恒达").total == 1
    with open("/proc/self/maps", encoding="utf-8") as handle:
        assert old in handle.read()
    reindex()
    assert search("恒达").total == 1
    with open("/proc/self/maps", encoding="utf-8") as handle:
        maps = handle.read()
    assert old not in maps and indexer.current_dir() in maps
