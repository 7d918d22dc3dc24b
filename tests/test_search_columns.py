"""A snapshot reads its per-document columns (kind, id, dates, amount, facet
combination) in place from the segments' mapped match files: it keeps no private
copy of them, whatever the number of documents, and every answer equals what
the columns joined into one array each (and the combinations numbered across
segments) give."""

from __future__ import annotations

import datetime as dt
import random
import tracemalloc

import numpy as np
import pytest
from sqlalchemy import select

from domain.publishing import enqueue_record
from extensions import db
from models import Case
from search_index import search, searcher, sync
from search_index.matchfile import MatchBuilder, MatchFile, file_name
from search_index.searcher import Segment, Snapshot
from tests.builders import case_row, credit_code, load

DAY = dt.date(2025, 6, 1)
COLUMNS = {"kind": "kinds", "id": "ids", "day": "days", "listed": "listed", "expires": "expires", "amount": "amounts"}


def write_segment(directory, name: str, first: int, count: int, seed: int) -> MatchFile:
    """A match file of ``count`` documents with ids from ``first`` (unique across
    segments), a listing every 7th, some unknown amounts and varied combinations."""
    rng = random.Random(seed)
    builder = MatchBuilder()
    day = DAY.toordinal()
    for n in range(count):
        kind = 1 if n % 7 == 3 else 0
        listed, expires = (day + rng.randrange(-300, 300), day + rng.randrange(-300, 300)) if kind else (0, 0)
        row = (
            first + n,
            "兰州恒达有限公司",
            "兰州恒达",
            "恒达",
            "",
            "",
            "",
            "",
            day - rng.randrange(2000),
            listed,
            expires,
            None if n % 5 == 0 else float(rng.randrange(50_000)) / 100,
            rng.choice(("城关区", "七里河区", "安宁区")),
            rng.choice((2023, 2024, 2025)),
            tuple(rng.sample(("拖欠工资", "超时加班", "其他"), rng.randrange(3))),
            1,
            rng.choice((0, 0, 1, 2)),
        )
        builder.add(kind, row)
    path = str(directory / file_name(name))
    builder.write(path)
    return MatchFile(path)


@pytest.fixture(scope="module")
def segments(tmp_path_factory) -> list[Segment]:
    """One large segment and two small ones (as after a rebuild and two
    publishes), with deleted documents."""
    directory = tmp_path_factory.mktemp("columns")
    files = [
        write_segment(directory, "big", 1, 20_000, 1),
        write_segment(directory, "small1", 30_001, 600, 2),
        write_segment(directory, "small2", 40_001, 300, 3),
    ]
    deleted = [np.arange(0, 20_000, 97), np.zeros(0, np.int64), np.array([0, 5, 299])]
    out, offset = [], 0
    for file, gone in zip(files, deleted, strict=True):
        out.append(Segment(file, offset, gone))
        offset += file.size
    return out


def opened(segments: list[Segment]) -> Snapshot:
    snap = Snapshot.__new__(Snapshot)
    snap._attach(segments)
    return snap


def joined(segments: list[Segment]) -> dict[str, np.ndarray]:
    """The columns as one array each and the combinations numbered across
    segments in segment order: what snapshots kept before."""
    out = {name: np.concatenate([s.file[name] for s in segments]) for name in COLUMNS}
    numbers: dict[tuple, int] = {}
    parts = []
    for segment in segments:
        translate = np.array([numbers.setdefault(c, len(numbers)) for c in segment.file.combos], dtype=np.int64)
        parts.append(translate[segment.file["combo"]])
    out["combo"] = np.concatenate(parts)
    out["combos"] = list(numbers)
    live = np.ones(len(out["id"]), dtype=bool)
    for segment in segments:
        live[[segment.offset + int(d) for d in segment.deleted]] = False
    out["live"] = live
    return out


def test_opening_keeps_no_private_copy_of_the_columns(segments):
    opened(segments)  # the combination tables once, as any earlier snapshot would have
    tracemalloc.start()
    try:
        snap = opened(segments)
        kept, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The live mask is one byte a document; the joined columns took 37.
    assert snap.size == 20_900
    assert kept < 3 * snap.size, kept


def test_columns_answer_as_the_joined_arrays(segments):
    snap, old = opened(segments), joined(segments)
    rng = np.random.default_rng(7)
    boundaries = [0, 19_999, 20_000, 20_599, 20_600, 20_899]
    for name, attribute in (*COLUMNS.items(), ("combo", "combo")):
        column, expected = getattr(snap, attribute), old[name]
        assert len(column) == snap.size
        for doc in boundaries:
            assert column[doc] == expected[doc] or (np.isnan(column[doc]) and np.isnan(expected[doc]))
        for docs in (
            rng.integers(0, snap.size, 500),  # unsorted, with repeats
            np.sort(rng.choice(snap.size, 3000, replace=False)),
            np.array(boundaries),
            np.arange(20_000, 20_900),  # the small segments only
            np.zeros(0, dtype=np.int64),
        ):
            np.testing.assert_array_equal(column[docs], expected[docs])
        for mask in (rng.random(snap.size) < 0.3, np.zeros(snap.size, dtype=bool), old["live"]):
            np.testing.assert_array_equal(column[mask], expected[mask])
        np.testing.assert_array_equal(np.asarray(column), expected)
        with pytest.raises(IndexError):
            column[snap.size]
        with pytest.raises(IndexError):
            column[np.array([0, snap.size])]


def test_facet_counts_and_masks_equal_the_joined_numbering(segments):
    snap, old = opened(segments), joined(segments)
    assert snap.combos == old["combos"]
    rng = np.random.default_rng(8)
    for mask in (rng.random(snap.size) < 0.5, old["live"], np.zeros(snap.size, dtype=bool)):
        np.testing.assert_array_equal(
            snap.combo_counts(mask), np.bincount(old["combo"][mask], minlength=len(old["combos"]))
        )
    for allowed in (rng.random(len(snap.combos)) < 0.4, np.ones(len(snap.combos), dtype=bool)):
        np.testing.assert_array_equal(snap.combo_mask(allowed), allowed[old["combo"]])


def test_visible_documents_order_and_lookup_equal_the_joined_arrays(segments):
    snap, old = opened(segments), joined(segments)
    day = DAY.toordinal()
    in_force = (old["listed"] <= day) & (day < old["expires"])
    visible = old["live"] & ~((old["kind"] == 1) & ~in_force)
    np.testing.assert_array_equal(snap.visible_mask(DAY), visible)
    rng = np.random.default_rng(9)
    days, ids, amounts = old["day"].astype(np.int64), old["id"], old["amount"]
    for mask in (visible, visible & (rng.random(snap.size) < 0.01)):
        docs = np.flatnonzero(mask)
        newest = docs[np.lexsort((-ids[docs], -days[docs]))]
        unknown = np.isnan(amounts[docs])
        highest = docs[np.lexsort((-ids[docs], -days[docs], -np.nan_to_num(amounts[docs], nan=0.0), unknown))]
        for count in (1, 20, 700):
            assert snap.top(mask, count) == newest[:count].tolist()
            assert snap.top(mask, count, "date") == newest[::-1][:count].tolist()
            assert snap.top(mask, count, "-amount") == highest[:count].tolist()
            assert snap.top(mask, count, "amount") == highest[::-1][:count].tolist()
    wanted = {("case", 1), ("case", 30_002), ("listing", 40_004), ("listing", 40_005), ("case", 99_999)}
    expected = [d for d in range(snap.size) if (("listing" if old["kind"][d] else "case"), int(old["id"][d])) in wanted]
    assert snap.docnums(wanted).tolist() == expected


def test_a_snapshot_keeps_deleted_documents_as_an_array(app):
    rows = [
        case_row(
            违法主体名称=f"兰州第{n}号建筑劳务有限公司",
            统一社会信用代码=credit_code(800 + n),
            文书编号=f"兰城劳监指〔2025〕{800 + n}号",
        )
        for n in range(3)
    ]
    load("cases", rows)
    for record in db.session.scalars(select(Case)):
        record.revision += 1
        enqueue_record(record)  # applied again: each old document deleted, a new one added
    db.session.commit()
    sync()
    snap = searcher.snapshot()
    assert [len(segment.deleted) for segment in snap.segments] == [3, 0]
    assert all(isinstance(s.deleted, np.ndarray) and s.deleted.dtype == np.int64 for s in snap.segments)
    assert snap.live_count == 3 and not snap.live_mask[: snap.segments[0].size].any()
    assert search("建筑劳务").total == 3
