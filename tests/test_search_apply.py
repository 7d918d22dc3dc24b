"""Applying the change log costs what the entries change, not what the index
holds: no other segment's files are touched, each segment's term table is
opened once per commit, nothing is merged while applying; small segments are
merged afterwards, a bounded amount at a time."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select
from whoosh.codec.whoosh3 import W3Codec
from whoosh.index import TOC

from domain.publishing import enqueue_record
from extensions import db
from models import Case
from search_index import check, follower, indexer, reindex, search
from search_index.matchfile import file_name
from tests.builders import case_row, credit_code, load


def rows(first: int, count: int, word: str = "建筑劳务") -> list[dict]:
    return [
        case_row(
            违法主体名称=f"兰州第{n}号{word}有限公司",
            统一社会信用代码=credit_code(700 + n),
            文书编号=f"兰城劳监指〔2025〕{700 + n}号",
        )
        for n in range(first, first + count)
    ]


def publish(first: int, count: int, *, number: int, apply: bool = True):
    """A published batch; with ``apply``, its entries applied (as ``load`` does)."""
    if apply:
        return load("cases", rows(first, count), title=f"2025年第{number}批")
    batch = load("cases", rows(first, count), title=f"2025年第{number}批", publish=False)
    for record in db.session.scalars(select(Case).where(Case.batch_id == batch.id)):
        record.status = "published"
        enqueue_record(record)
    db.session.commit()
    return batch


def segments() -> list[tuple[str, int]]:
    ix = indexer.open_index(indexer.current_dir())
    return [(segment.segment_id(), segment.doc_count_all()) for segment in ix._read_toc().segments]


def match_file_stats(directory: str | None = None) -> dict[str, tuple[int, int]]:
    """Each match file's (inode, mtime) in the live (or given) index directory."""
    directory = directory or indexer.current_dir()
    out = {}
    for name in os.listdir(directory):
        if name.endswith(".match"):
            stat = os.stat(os.path.join(directory, name))
            out[name] = (stat.st_ino, stat.st_mtime_ns)
    return out


def test_applying_a_batch_adds_one_segment_and_leaves_the_others_files_alone(app):
    for number in range(1, 6):
        publish(number * 10, 3, number=number)
    before_segments, before_files = segments(), match_file_stats()
    publish(100, 5, number=6)
    after_segments, after_files = segments(), match_file_stats()
    assert after_segments[:-1] == before_segments  # nothing merged, nothing rewritten
    assert after_segments[-1][1] == 5
    assert {name: after_files[name] for name in before_files} == before_files  # same inode, same mtime
    assert set(after_files) - set(before_files) == {file_name(after_segments[-1][0])}
    assert search("建筑劳务").total == 20
    assert check().ok


@pytest.mark.parametrize("scan", [False, True], ids=["term-tables", "match-files"])
def test_each_segment_is_looked_up_once_per_commit_whatever_the_batch_size(app, monkeypatch, scan):
    for number in range(1, 4):
        publish(number * 10, 2, number=number)
    publish(100, 40, number=4, apply=False)
    monkeypatch.setattr(indexer, "SCAN_FACTOR", 100 if scan else 0)
    tables, files = [], []
    original_tables, original_file = W3Codec.terms_reader, indexer.MatchFile

    def counting_tables(self, storage, segment):
        tables.append(segment.segment_id())
        return original_tables(self, storage, segment)

    def counting_file(path):
        files.append(os.path.basename(path))
        return original_file(path)

    monkeypatch.setattr(W3Codec, "terms_reader", counting_tables)
    monkeypatch.setattr(indexer, "MatchFile", counting_file)
    before = [segment for segment, _ in segments()]
    assert indexer.apply_pending(indexer.current_dir()) == 40
    # Whoosh's update_document opened every segment's term table for each of the 40 documents.
    if scan:
        assert tables == [] and sorted(files) == sorted(file_name(segment) for segment in before)
    else:
        assert files == [] and sorted(tables) == sorted(before)
    assert search("建筑劳务").total == 46
    assert check().ok


@pytest.mark.parametrize("scan", [False, True], ids=["term-tables", "match-files"])
def test_a_correction_replaces_the_document_in_an_older_segment(app, monkeypatch, scan):
    publish(10, 3, number=1)
    publish(20, 3, number=2)
    monkeypatch.setattr(indexer, "SCAN_FACTOR", 100 if scan else 0)
    record = db.session.scalar(select(Case).where(Case.enterprise_name == "兰州第11号建筑劳务有限公司"))
    record.enterprise_name = "兰州第11号钢结构有限公司"
    record.revision += 1
    enqueue_record(record)
    db.session.commit()
    indexer.apply_pending(indexer.current_dir())
    assert search("建筑劳务").total == 5
    assert search("钢结构").total == 1
    assert check().ok


def test_a_record_named_again_in_a_later_chunk_of_one_apply_is_indexed_once(app, monkeypatch):
    publish(10, 3, number=1, apply=False)  # three entries, not applied
    record = db.session.scalar(select(Case).where(Case.enterprise_name == "兰州第10号建筑劳务有限公司"))
    record.enterprise_name = "兰州第10号钢结构有限公司"
    record.revision += 1
    enqueue_record(record)  # the same record again, after the others
    db.session.commit()
    monkeypatch.setattr(indexer, "LOG_CHUNK", 2)  # [10, 11] then [12, 10]
    assert indexer.apply_pending(indexer.current_dir()) == 4
    result = check()
    assert result.ok, result.summary()
    assert search("钢结构").total == 1 and search("建筑劳务").total == 2


def test_small_segments_are_merged_after_applying_a_bounded_amount_at_a_time(app, monkeypatch):
    load("cases", rows(1, 8), title="2025年第1批")  # the first index: one segment of 8 documents, "large" below
    monkeypatch.setattr(indexer, "MERGE_LIMIT", 5)
    monkeypatch.setattr(indexer, "MAX_SMALL_SEGMENTS", 3)
    large = segments()[0]
    large_file = match_file_stats()[file_name(large[0])]
    for number in range(2, 12):
        publish(number * 10, 1, number=number)  # sync: apply, then merge if needed
        current = segments()
        assert current[0] == large  # never merged by an apply or a bounded merge
        assert match_file_stats()[file_name(large[0])] == large_file
        small = [count for _, count in current[1:]]
        assert len(small) <= 3 and max(small) <= 5
        assert set(match_file_stats()) == {file_name(segment) for segment, _ in current}
    assert search("建筑劳务").total == 18
    assert check().ok
    reindex()  # compacts everything into one segment
    assert [count for _, count in segments()] == [18]


def test_a_follower_merges_after_it_has_applied(app, monkeypatch):
    load("cases", rows(1, 2), title="2025年第1批")
    monkeypatch.setattr(indexer, "MAX_SMALL_SEGMENTS", 2)
    counts = []
    for number in range(2, 6):
        publish(number * 10, 1, number=number, apply=False)
        assert follower.follow_once() == 1
        counts.append(len(segments()))
        assert search("建筑劳务").total == number + 1
    assert counts == [2, 1, 2, 1]  # the third small segment sets off a merge of all three
    assert check().ok


def test_no_table_of_contents_names_a_segment_before_its_match_file_exists(app, monkeypatch):
    load("cases", rows(1, 2), title="2025年第1批")
    monkeypatch.setattr(indexer, "MAX_SMALL_SEGMENTS", 2)
    directory = indexer.current_dir()
    written = []
    original = TOC.write

    def checked(self, storage, indexname):
        written.append([os.path.exists(os.path.join(directory, file_name(s.segment_id()))) for s in self.segments])
        return original(self, storage, indexname)

    monkeypatch.setattr(TOC, "write", checked)
    for number in range(2, 5):  # applies, and a merge after the third
        publish(number * 10, 1, number=number)
    assert len(written) == 4  # three applies and one merge
    assert all(all(flags) for flags in written)
    assert search("建筑劳务").total == 5
