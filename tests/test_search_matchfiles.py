"""Per-segment match files: written at commit (or by the first process that
needs one), mapped read-only, shared across generations, removed with their
segment."""

from __future__ import annotations

import os

import numpy as np

from search_index import indexer, reindex, search, searcher
from search_index.matchfile import MatchBuilder, MatchFile, file_name
from tests.builders import case_row, credit_code, load


def segment_ids() -> list[str]:
    ix = indexer.open_index(indexer.current_dir())
    return [segment.segment_id() for segment in ix._read_toc().segments]


def match_files() -> set[str]:
    return {name for name in os.listdir(indexer.current_dir()) if name.endswith(".match")}


def publish(n: int) -> None:
    load(
        "cases",
        [
            case_row(
                违法主体名称=f"兰州第{n}号建筑劳务有限公司",
                统一社会信用代码=credit_code(500 + n),
                文书编号=f"兰城劳监指〔2025〕{500 + n}号",
            )
        ],
        title=f"2025年第{n + 1}批",
    )


def test_every_segment_has_its_file_and_only_live_segments_keep_one(app, monkeypatch):
    monkeypatch.setattr(indexer, "MAX_SMALL_SEGMENTS", 2)  # merges after a few commits
    for n in range(6):
        publish(n)
        assert match_files() == {file_name(segment) for segment in segment_ids()}
    assert not [name for name in os.listdir(indexer.current_dir()) if name.startswith(".")]
    assert search("建筑劳务").total == 6


def test_a_publish_maps_only_its_new_segment(app):
    publish(1)
    first = searcher.snapshot()
    old_files = {id(segment.file) for segment in first.segments}
    publish(2)
    second = searcher.snapshot()
    assert second is not first
    reused = [segment for segment in second.segments if id(segment.file) in old_files]
    assert reused, "the unchanged segment's mapping is reused"
    assert len(second.segments) - len(reused) <= 1


def test_the_arrays_are_read_only_views_of_the_mapped_file(app):
    publish(1)
    snap = searcher.snapshot()
    file = snap.segments[0].file
    for name in ("id", "name.blob", "name.pos", "order.date"):
        array = file[name]
        assert not array.flags.writeable
        assert isinstance(array.base, memoryview) or array.base is not None


def test_a_missing_file_is_rebuilt_by_the_first_process_that_opens_the_segment(app):
    publish(1)
    publish(2)
    before = [(hit.kind, hit.record_id) for hit in search("建筑劳务").hits]
    searcher.forget()
    for name in match_files():
        os.unlink(os.path.join(indexer.current_dir(), name))
    assert [(hit.kind, hit.record_id) for hit in search("建筑劳务").hits] == before
    assert match_files() == {file_name(segment) for segment in segment_ids()}


def test_reindex_writes_the_file_of_its_one_segment_while_building(app, monkeypatch):
    for n in range(3):
        publish(n)
    rebuilt_from_rows = []
    original = indexer.ensure_match_files

    def spy(directory, ix, segments):
        rebuilt_from_rows.extend(
            s.segment_id() for s in segments if not os.path.exists(os.path.join(directory, file_name(s.segment_id())))
        )
        return original(directory, ix, segments)

    monkeypatch.setattr(indexer, "ensure_match_files", spy)
    reindex()
    assert rebuilt_from_rows == []  # written from the documents as they were added
    assert len(segment_ids()) == 1
    assert search("建筑劳务").total == 3


def test_a_file_round_trips_rows_and_orders(tmp_path):
    builder = MatchBuilder()
    rows = [
        (
            7,
            "兰州甲有限公司",
            "兰州甲",
            "甲",
            "王某",
            "兰〔2025〕1号",
            "91620100ma00000071",
            "拖欠工资5.89万元",
            100,
            0,
            0,
            5.0,
            "城关区",
            2025,
            ("其他",),
            1,
            0,
        ),
        (8, "兰州乙有限公司", "兰州乙", "乙", "李某 赵某", "", "", "事实", 300, 0, 0, None, "城关区", 2025, (), 1, 0),
        (9, "ＡＢ公司", "ＡＢ", "ＡＢ", "", "", "", "", 200, 150, 1245, 9.5, "七里河区", 2024, (), 2, 3),
    ]
    for kind, row in zip((0, 0, 1), rows, strict=True):
        builder.add(kind, row)
    path = str(tmp_path / file_name("gongshi_test"))
    builder.write(path)
    file = MatchFile(path)
    assert file.size == 3 and file["id"].tolist() == [7, 8, 9]
    assert file.text("people", 1) == "李某 赵某" and file.text("text", 0) == "拖欠工资5.89万元"
    assert file.core_name(0) == "兰州甲"
    assert file["order.date"].tolist() == [1, 2, 0]  # newest first
    assert file["order.amount"].tolist() == [2, 0, 1]  # high to low, unknown last
    assert np.isnan(file["amount"][1])
    assert file.combos[file["combo"][2]] == (1, "七里河区", 2024, (), 3)  # the campaign last


def test_records_are_found_by_kind_and_id_for_masking(app):
    publish(1)
    publish(2)
    snap = searcher.snapshot()
    docs = snap.docnums({("case", 1), ("case", 2), ("listing", 1)})
    assert sorted(int(snap.ids[d]) for d in docs) == [1, 2]
    assert all(snap.kinds[d] == 0 for d in docs)
