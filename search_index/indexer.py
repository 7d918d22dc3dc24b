"""Writing the index: where it lives, the one writer, the outbox, rebuilds and
the consistency check.

Layout: ``SEARCH_INDEX_DIR/CURRENT`` names the live index directory
(``SEARCH_INDEX_DIR/ix-…``). A rebuild writes a fresh directory and replaces
CURRENT with ``os.replace`` (atomic), so searches keep working during a rebuild
and never see a half-built index.

Whoosh 2.7.4 hazards handled here: one ``SegmentWriter`` at a time, taken with a
timeout (``AsyncWriter``/``BufferedWriter`` lose writes or keep the lock under
gunicorn); a writer that fails is cancelled in ``finally`` so the lock is freed
at once rather than at garbage collection.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import delete, func, select
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.reading import SegmentReader
from whoosh.writing import MERGE_SMALL

from extensions import db
from models import SearchOutbox
from search_index.documents import (
    KINDS,
    LISTING,
    NameRules,
    indexable_revisions,
    iter_all_documents,
    key_of,
    load_documents,
)
from search_index.matchfile import MatchBuilder, file_name
from search_index.schema import SCHEMA_VERSION, make_schema

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
INDEX_NAME = "gongshi"
OUTBOX_CHUNK = 5000
COMMIT_EVERY = 100_000  # documents per commit when applying a very large outbox
DEFAULT_WRITER_TIMEOUT = 10.0
MERGE_LIMIT = 20_000  # documents: larger segments are never merged by an update


class IndexBusy(RuntimeError):
    """Another process holds the index writer lock."""


class _PerDocReader(W3PerDocReader):
    """Remembers that a field has no length column. Whoosh 2.7.4 looks for the
    column file (a stat call) once per posting of every unscored field when it
    writes a segment: most of the time of a build."""

    def _cached_reader(self, fieldname, column):
        if fieldname not in self._readers:
            self._readers[fieldname] = super()._cached_reader(fieldname, column)
        return self._readers[fieldname]


class Codec(W3Codec):
    def per_document_reader(self, storage, segment):
        return _PerDocReader(storage, segment)


def codec() -> W3Codec:
    # Larger posting blocks than the default 128: reading a long posting list
    # (a frequent bigram) costs one pickle per block.
    return Codec(blocklimit=512)


# --- location -------------------------------------------------------------------------


def index_root() -> str:
    return current_app.config["SEARCH_INDEX_DIR"]


def current_dir(root: str | None = None) -> str | None:
    """The live index directory, or None if no index has been built yet."""
    root = root or index_root()
    try:
        with open(os.path.join(root, CURRENT), encoding="utf-8") as handle:
            name = handle.read().strip()
    except FileNotFoundError:
        return None
    path = os.path.join(root, name)
    return path if name and os.path.isdir(path) else None


def _version_path(directory: str) -> str:
    return os.path.join(directory, "SCHEMA_VERSION")


def _new_dir(root: str) -> str:
    os.makedirs(root, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    path = os.path.join(root, f"ix-{stamp}-{uuid.uuid4().hex[:6]}")
    os.makedirs(path)
    whoosh_index.create_in(path, make_schema(), indexname=INDEX_NAME)
    with open(_version_path(path), "w", encoding="utf-8") as handle:
        handle.write(str(SCHEMA_VERSION))
    return path


def _point_current(root: str, path: str) -> None:
    temporary = os.path.join(root, f".{CURRENT}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(os.path.basename(path))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, os.path.join(root, CURRENT))


def open_index(directory: str):
    # With the schema given, Whoosh skips unpickling the one stored in the index:
    # an index written by an older version still opens (and `check` reports it).
    return FileStorage(directory).open_index(indexname=INDEX_NAME, schema=make_schema())


def schema_version(directory: str) -> int:
    try:
        with open(_version_path(directory), encoding="utf-8") as handle:
            return int(handle.read().strip() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def ensure_index() -> str:
    """The live index directory, creating an empty index if there is none."""
    root = index_root()
    path = current_dir(root)
    if path is None:
        os.makedirs(root, exist_ok=True)
        with _root_lock(root):
            path = current_dir(root)
            if path is None:
                path = _new_dir(root)
                _point_current(root, path)
    return path


@contextmanager
def _root_lock(root: str, timeout: float = 30.0) -> Iterator[None]:
    """Serialises creating/swapping index directories across processes."""
    lock = FileStorage(root).lock("gongshi_ROOT")
    deadline = time.monotonic() + timeout
    while not lock.acquire(blocking=False):
        if time.monotonic() > deadline:
            raise IndexBusy("搜索索引正在被另一个进程创建或替换，请稍后再试")
        time.sleep(0.05)
    try:
        yield
    finally:
        lock.release()


# --- the one writer -------------------------------------------------------------------


def writer_timeout() -> float:
    return float(current_app.config.get("SEARCH_WRITER_TIMEOUT", DEFAULT_WRITER_TIMEOUT))


class _MatchWriter:
    """A SegmentWriter that also collects the match rows of the documents it
    adds, in docnum order, to write its segment's match file at commit."""

    def __init__(self, writer):
        self._writer = writer
        self.builder = MatchBuilder()

    def add_document(self, **document) -> None:
        self._writer.add_document(**document)
        self.builder.add(1 if document["kind"] == LISTING else 0, document["row"])

    def update_document(self, **document) -> None:
        self._writer.update_document(**document)
        self.builder.add(1 if document["kind"] == LISTING else 0, document["row"])

    def __getattr__(self, name: str):
        return getattr(self._writer, name)


def _merge_small_segments(writer, segments):
    """Whoosh's MERGE_SMALL among the segments of at most MERGE_LIMIT documents:
    a merged segment's match file is rebuilt from its stored rows, which must
    stay cheap (a `search reindex` compacts the big ones)."""
    big = [segment for segment in segments if segment.doc_count_all() > MERGE_LIMIT]
    small = [segment for segment in segments if segment.doc_count_all() <= MERGE_LIMIT]
    return big + MERGE_SMALL(writer, small)


@contextmanager
def index_writer(ix, timeout: float | None = None, **options) -> Iterator:
    """A SegmentWriter that commits on success and is always released: a
    concurrent writer waits up to ``timeout`` seconds, then gets ``IndexBusy``.
    After the commit every segment has its match file."""
    try:
        writer = ix.writer(
            timeout=writer_timeout() if timeout is None else timeout,
            delay=0.05,
            codec=codec(),
            compound=False,
            **options,
        )
    except LockError:
        raise IndexBusy("搜索索引正在被另一个进程写入，请稍后再试") from None
    committed = False
    wrapped = _MatchWriter(writer)
    try:
        yield wrapped
        new_segment = writer.newsegment.segment_id()
        writer.commit(merge=options.get("merge", True), mergetype=_merge_small_segments)
        committed = True
    finally:
        if not committed:
            with contextlib.suppress(Exception):  # already closed by a failed commit
                writer.cancel()
            lock = getattr(writer, "writelock", None)
            if lock is not None and getattr(lock, "fd", None) is not None:
                with contextlib.suppress(Exception):
                    lock.release()
    segments = ix._read_toc().segments
    for segment in segments:
        # Nothing merged into the new segment: its documents are exactly the ones added.
        if segment.segment_id() == new_segment and segment.doc_count_all() == wrapped.builder.count:
            wrapped.builder.write(os.path.join(ix.storage.folder, file_name(new_segment)))
    ensure_match_files(ix.storage.folder, ix, segments)


def ensure_match_files(directory: str, ix, segments) -> None:
    """Write the match file of every segment that has none, from its stored rows
    (a merged segment, or one whose writer died before writing it)."""
    for segment in segments:
        path = os.path.join(directory, file_name(segment.segment_id()))
        if os.path.exists(path):
            continue
        reader = SegmentReader(ix.storage, ix.schema, segment)
        try:
            builder = MatchBuilder()
            for docnum in range(segment.doc_count_all()):
                fields = reader.stored_fields(docnum)
                builder.add(1 if fields["kind"] == LISTING else 0, fields["row"])
            builder.write(path)
        finally:
            reader.close()


# --- applying the outbox --------------------------------------------------------------


def _write_changes(writer, kind: str, ids: list[int], rules: NameRules, fresh: bool) -> int:
    documents, gone = load_documents(kind, ids, rules)
    for record_id in gone:
        writer.delete_by_term("key", key_of(kind, record_id))
    for document in documents:
        if fresh:
            writer.add_document(**document)
        else:
            writer.update_document(**document)
    return len(documents) + len(gone)


def apply_outbox(timeout: float | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Apply pending outbox entries to the live index (creating it if needed):
    re-read each record, upsert its document if it is publicly indexable, else
    delete it; then delete the applied entries. Idempotent, so a crash at any
    point is repaired by running it again (``flask search sync``). Returns the
    number of entries applied."""
    if db.session.scalar(select(SearchOutbox.id).limit(1)) is None:
        return 0
    for _attempt in range(3):
        try:
            return _apply_outbox(ensure_index(), timeout, progress)
        except _Swapped:
            continue  # a rebuild replaced the index while we waited: apply to the new one
    raise IndexBusy("搜索索引正在重建，请稍后再试")


class _Swapped(Exception):
    pass


def _apply_outbox(path: str, timeout: float | None, progress: Callable[[int], None] | None) -> int:
    rules = NameRules.from_config(current_app.config)
    ix = open_index(path)
    applied = 0
    last_id = 0
    while True:
        written = 0
        entry_ids: list[int] = []
        with index_writer(ix, timeout=timeout) as writer:
            if current_dir() != path:
                raise _Swapped
            fresh = ix.doc_count_all() == 0  # nothing to replace: skip the per-key deletes
            while written < COMMIT_EVERY:
                entries = db.session.execute(
                    select(SearchOutbox.id, SearchOutbox.record_kind, SearchOutbox.record_id)
                    .where(SearchOutbox.id > last_id)
                    .order_by(SearchOutbox.id)
                    .limit(OUTBOX_CHUNK)
                ).all()
                if not entries:
                    break
                last_id = entries[-1].id
                entry_ids.extend(e.id for e in entries)
                by_kind: dict[str, set[int]] = {kind: set() for kind in KINDS}
                for entry in entries:
                    by_kind.setdefault(entry.record_kind, set()).add(entry.record_id)
                for kind in KINDS:
                    if by_kind[kind]:
                        written += _write_changes(writer, kind, sorted(by_kind[kind]), rules, fresh)
                if progress:
                    progress(len(entries))
                db.session.rollback()  # end the read transaction; keep memory flat
        # The index is committed: only now may the entries go.
        _delete_entries(entry_ids)
        applied += len(entry_ids)
        if written < COMMIT_EVERY:
            return applied


def _delete_entries(entry_ids: list[int]) -> None:
    for start in range(0, len(entry_ids), OUTBOX_CHUNK):
        chunk = entry_ids[start : start + OUTBOX_CHUNK]
        if chunk[-1] - chunk[0] + 1 == len(chunk):  # contiguous: a cheap range delete
            statement = delete(SearchOutbox).where(SearchOutbox.id.between(chunk[0], chunk[-1]))
        else:
            statement = delete(SearchOutbox).where(SearchOutbox.id.in_(chunk))
        db.session.execute(statement.execution_options(synchronize_session=False))
        db.session.commit()


# --- rebuild --------------------------------------------------------------------------


def reindex(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database into a fresh directory, swap
    it in atomically, then catch up with what changed meanwhile. Returns the
    number of documents indexed."""
    root = index_root()
    # The entries visible now name changes committed before the build reads the
    # records, so the build covers them; one still in flight is not visible
    # here, stays in the outbox and is applied by the catch-up below.
    covered = _outbox_ranges()
    rules = NameRules.from_config(current_app.config)
    path = _new_dir(root)
    count = 0
    try:
        ix = open_index(path)
        # A fresh index has no other writer; two processors share the work.
        with index_writer(ix, timeout=0, limitmb=256) as writer:
            for kind in KINDS:
                for document in iter_all_documents(kind, rules):
                    writer.add_document(**document)
                    count += 1
                    if progress and count % 1000 == 0:
                        progress(1000)
        if progress and count % 1000:
            progress(count % 1000)
        with _root_lock(root):
            old = current_dir(root)
            if old:
                # Hold the old index's writer lock across the swap: a writer
                # there finishes first, and none starts there afterwards.
                try:
                    old_writer = open_index(old).writer(timeout=max(writer_timeout(), 60.0), delay=0.05)
                except LockError:
                    raise IndexBusy("旧索引一直被占用，未替换；请稍后重试") from None
                try:
                    _point_current(root, path)
                finally:
                    old_writer.cancel()
            else:
                _point_current(root, path)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        raise
    _delete_ranges(covered)
    apply_outbox()
    _remove_old_dirs(root, keep={os.path.basename(path)})
    return count


def _outbox_ranges() -> list[tuple[int, int]]:
    """The ids of the outbox entries visible now, as (first, last) runs."""
    ranges: list[tuple[int, int]] = []
    for entry_id in db.session.scalars(select(SearchOutbox.id).order_by(SearchOutbox.id)).yield_per(20000):
        if ranges and ranges[-1][1] == entry_id - 1:
            ranges[-1] = (ranges[-1][0], entry_id)
        else:
            ranges.append((entry_id, entry_id))
    db.session.rollback()
    return ranges


def _delete_ranges(ranges: list[tuple[int, int]]) -> None:
    for start in range(0, len(ranges), 500):
        for first, last in ranges[start : start + 500]:
            db.session.execute(
                delete(SearchOutbox)
                .where(SearchOutbox.id.between(first, last))
                .execution_options(synchronize_session=False)
            )
        db.session.commit()


def _remove_old_dirs(root: str, keep: set[str]) -> None:
    """Old index directories, except the newest replaced one (a searcher opened
    just before the swap may still read it)."""
    old = sorted(
        (name for name in os.listdir(root) if name.startswith("ix-") and name not in keep),
        key=lambda name: os.path.getmtime(os.path.join(root, name)),
    )
    for name in old[:-1]:
        shutil.rmtree(os.path.join(root, name), ignore_errors=True)


# --- consistency check ----------------------------------------------------------------


@dataclass
class CheckResult:
    ok: bool
    documents: int = 0
    expected: int = 0
    missing: dict[str, list[int]] = field(default_factory=dict)  # public in the DB, absent from the index
    extra: dict[str, list[int]] = field(default_factory=dict)  # in the index, not public in the DB
    duplicates: list[str] = field(default_factory=list)
    pending: int = 0  # outbox entries not yet applied
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"索引文档 {self.documents} 条，数据库中应索引的记录 {self.expected} 条。"]
        for kind, ids in self.missing.items():
            if ids:
                lines.append(f"缺少或过时 {len(ids)} 条 {kind}：{ids[:10]}{' …' if len(ids) > 10 else ''}")
        for kind, ids in self.extra.items():
            if ids:
                lines.append(
                    f"多出 {len(ids)} 条 {kind}（已不公开或不存在）：{ids[:10]}{' …' if len(ids) > 10 else ''}"
                )
        if self.duplicates:
            lines.append(f"重复文档 {len(self.duplicates)} 个：{self.duplicates[:10]}")
        if self.pending:
            lines.append(f"待处理的索引变更 {self.pending} 条（运行 flask search sync）")
        lines.extend(self.problems)
        lines.append(
            "索引与数据库一致。" if self.ok else "索引与数据库不一致：运行 flask search sync 或 flask search reindex。"
        )
        return "\n".join(lines)


def check() -> CheckResult:
    """Compare the indexed (kind, id, revision) with the indexable records."""
    result = CheckResult(ok=False)
    result.pending = db.session.scalar(select(func.count()).select_from(SearchOutbox)) or 0
    expected = {kind: indexable_revisions(kind) for kind in KINDS}
    result.expected = sum(len(ids) for ids in expected.values())
    path = current_dir()
    indexed: dict[str, dict[int, int]] = {kind: {} for kind in KINDS}
    if path is None:
        result.problems.append("搜索索引尚未建立（运行 flask search reindex）")
    else:
        version = schema_version(path)
        if version != SCHEMA_VERSION:
            result.problems.append(
                f"索引结构版本为 {version}，当前版本为 {SCHEMA_VERSION}（运行 flask search reindex）"
            )
        with open_index(path).searcher() as searcher:
            for fields in searcher.all_stored_fields():
                kind, _, record_id = fields["key"].partition(":")
                if int(record_id) in indexed.setdefault(kind, {}):
                    result.duplicates.append(fields["key"])
                indexed[kind][int(record_id)] = fields.get("rev", 0)
                result.documents += 1
    for kind in KINDS:
        have, want = indexed.get(kind, {}), expected[kind]
        result.missing[kind] = sorted(i for i, rev in want.items() if have.get(i) != rev)
        result.extra[kind] = sorted(set(have) - set(want))
    result.ok = not (
        any(result.missing.values())
        or any(result.extra.values())
        or result.duplicates
        or result.problems
        or result.pending
    )
    return result
