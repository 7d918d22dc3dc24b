"""Writing the index: where it lives, the one writer, following the change log,
rebuilds and the consistency check.

Layout: ``SEARCH_INDEX_DIR/CURRENT`` names the live index directory
(``SEARCH_INDEX_DIR/ix-…``). A rebuild writes a fresh directory (marked
``BUILDING`` until it is complete) and replaces CURRENT with ``os.replace``
(atomic), so searches keep working during a rebuild and never see a half-built
index. Each directory's ``APPLIED`` file says which change-log entries it has
applied (``changelog``); an index is never created empty behind anyone's back.

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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flask import current_app
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
from whoosh.filedb.filestore import FileStorage
from whoosh.index import LockError
from whoosh.reading import SegmentReader

from extensions import db
from search_index.changelog import (
    IndexDamaged,
    advance,
    behind,
    last_sequence,
    pending_count,
    read_applied,
    read_entries,
    start_point,
    write_applied,
)
from search_index.documents import (
    KINDS,
    LISTING,
    NameRules,
    indexable_revisions,
    iter_all_documents,
    key_of,
    load_documents,
)
from search_index.matchfile import MatchBuilder, MatchFile, file_name
from search_index.schema import SCHEMA_VERSION, make_schema

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
INDEX_NAME = "gongshi"
BUILDING = "BUILDING"  # in a directory while a rebuild writes it
LOG_CHUNK = 5000
COMMIT_EVERY = 100_000  # documents per commit when applying a very large number of log entries
DEFAULT_WRITER_TIMEOUT = 10.0
MERGE_LIMIT = 20_000  # documents: a merge never makes a larger segment (`search reindex` compacts)
MAX_SMALL_SEGMENTS = 10  # segments of at most MERGE_LIMIT documents before the smallest are merged
SCAN_FACTOR = 100  # documents of a segment per record looked for, up to which its match file is scanned


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
    with open(os.path.join(path, BUILDING), "w", encoding="utf-8") as handle:
        handle.write(str(os.getpid()))
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
    adds, in docnum order, to write its segment's match file at commit, and
    replaces documents at the cost of the records named, not of the index."""

    def __init__(self, writer):
        self._writer = writer
        self.builder = MatchBuilder()
        self.added: set[str] = set()  # keys added by this writer (not replaceable before its commit)
        self._terms: dict[str, Any] = {}  # segment id → its term table, opened once per writer
        self._files: dict[str, MatchFile | None] = {}  # segment id → its match file

    def add_document(self, **document) -> None:
        self._writer.add_document(**document)
        self.added.add(document["key"])
        self.builder.add(1 if document["kind"] == LISTING else 0, document["row"])

    def remove(self, kind: str, ids: Sequence[int]) -> int:
        """Delete the committed documents of the records ``ids``; returns how many.

        Whoosh's ``update_document`` and ``delete_by_term`` open a reader of
        every segment for each document (most of the time of applying a batch,
        and more with every segment). Here a segment no larger than
        SCAN_FACTOR documents a record is scanned in its match file's kind and
        id columns (NumPy); in a larger one each record is one hash lookup in
        its term table, opened once per writer."""
        writer = self._writer
        if not ids or not writer.segments:
            return 0
        wanted = np.fromiter(ids, dtype=np.int64, count=len(ids))
        code = 1 if kind == LISTING else 0
        deleted, base = 0, 0
        for segment in writer.segments:
            size = segment.doc_count_all()
            file = self._file(segment) if size <= SCAN_FACTOR * len(ids) else None
            if file is not None:
                docnums = np.flatnonzero((file["kind"] == code) & np.isin(file["id"], wanted)).tolist()
            else:
                docnums = self._lookup(segment, [key_of(kind, record_id) for record_id in ids])
            for docnum in docnums:
                if not segment.is_deleted(docnum):
                    writer.delete_document(base + docnum)
                    deleted += 1
            base += size
        return deleted

    def _file(self, segment) -> MatchFile | None:
        segment_id = segment.segment_id()
        if segment_id not in self._files:
            path = os.path.join(self._writer.storage.folder, file_name(segment_id))
            self._files[segment_id] = MatchFile(path) if os.path.exists(path) else None
        return self._files[segment_id]

    def _lookup(self, segment, keys: list[str]) -> list[int]:
        terms = self._terms.get(segment.segment_id())
        if terms is None:
            terms = self._terms[segment.segment_id()] = segment.codec().terms_reader(self._writer.storage, segment)
        field = self._writer.schema["key"]
        docnums = []
        for key in keys:
            term = field.to_bytes(key)
            if ("key", term) in terms:
                docnums.extend(terms.matcher("key", term, field.format).all_ids())
        return docnums

    def close_readers(self) -> None:
        for terms in self._terms.values():
            with contextlib.suppress(Exception):
                terms.close()
        for file in self._files.values():
            if file is not None:
                file.close()
        self._terms, self._files = {}, {}

    def __getattr__(self, name: str):
        return getattr(self._writer, name)


def _to_merge(segments) -> list:
    """The segments a merge takes now: once more than MAX_SMALL_SEGMENTS have at
    most MERGE_LIMIT documents, the smallest of them, as many as make at most
    MERGE_LIMIT documents together (at least two). A merged segment's match
    file is rebuilt from its stored rows: the work stays bounded, whatever the
    size of the index."""
    small = sorted((s for s in segments if s.doc_count_all() <= MERGE_LIMIT), key=lambda s: s.doc_count_all())
    if len(small) <= MAX_SMALL_SEGMENTS:
        return []
    chosen, total = [], 0
    for segment in small:
        if total + segment.doc_count_all() > MERGE_LIMIT:
            break
        chosen.append(segment)
        total += segment.doc_count_all()
    return chosen if len(chosen) >= 2 else []


@contextmanager
def index_writer(ix, timeout: float | None = None, merge: bool = False, **options) -> Iterator:
    """A SegmentWriter that commits on success and is always released: a
    concurrent writer waits up to ``timeout`` seconds, then gets ``IndexBusy``.
    Nothing is merged unless ``merge`` (``merge_segments``), so a commit costs
    what it adds and deletes. The new segment's match file is written before
    the table of contents names the segment: no process ever opens a segment
    without its file (each would rebuild it from the stored rows)."""
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

    def policy(whoosh_writer, segments):
        # Whoosh calls this at commit, before it writes the new segment and the table of contents.
        chosen = {segment.segment_id() for segment in _to_merge(segments)} if merge else set()
        for segment in segments:
            if segment.segment_id() in chosen:
                reader = SegmentReader(whoosh_writer.storage, whoosh_writer.schema, segment)
                try:
                    # add_reader appends the live documents in this order, after those added.
                    for _docnum, fields in reader.iter_docs():
                        wrapped.builder.add(1 if fields["kind"] == LISTING else 0, fields["row"])
                    whoosh_writer.add_reader(reader)
                finally:
                    reader.close()
        if wrapped.builder.count:
            new_segment = whoosh_writer.newsegment.segment_id()
            wrapped.builder.write(os.path.join(ix.storage.folder, file_name(new_segment)))
        return [segment for segment in segments if segment.segment_id() not in chosen]

    try:
        yield wrapped
        wrapped.close_readers()
        writer.commit(mergetype=policy)
        committed = True
    finally:
        wrapped.close_readers()
        if not committed:
            with contextlib.suppress(Exception):  # already closed by a failed commit
                writer.cancel()
            lock = getattr(writer, "writelock", None)
            if lock is not None and getattr(lock, "fd", None) is not None:
                with contextlib.suppress(Exception):
                    lock.release()
    ensure_match_files(ix.storage.folder, ix, ix._read_toc().segments)  # any still without one (a removed file)


def merge_segments(path: str, timeout: float | None = None) -> int:
    """One bounded merge of small segments if too many have piled up (see
    ``_to_merge``); applying the log never merges, so a publish costs what it
    adds. Run after the entries are applied and searchable. Returns the number
    of segments merged into one (0: nothing to do)."""
    ix = open_index(path)
    if not _to_merge(ix._read_toc().segments):
        return 0
    with index_writer(ix, timeout=timeout, merge=True) as writer:
        merged = len(_to_merge(writer.segments))  # what the policy takes at this commit
    return merged


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


# --- following the change log ---------------------------------------------------------


@contextmanager
def _apply_lock(directory: str, timeout: float) -> Iterator[None]:
    """The one process applying log entries to a directory: it holds this from
    reading APPLIED to writing it back, around the Whoosh writer."""
    lock = FileStorage(directory).lock("gongshi_APPLY")
    deadline = time.monotonic() + timeout
    while not lock.acquire(blocking=False):
        if time.monotonic() >= deadline:
            raise IndexBusy("搜索索引正在被另一个进程写入，请稍后再试")
        time.sleep(0.05)
    try:
        yield
    finally:
        lock.release()


def _write_changes(writer: _MatchWriter, kind: str, ids: list[int], rules: NameRules) -> int:
    """Delete the documents of the records ``ids``, then add those still public
    (Whoosh's advice for many updates: delete in a batch, then add)."""
    documents, gone = load_documents(kind, ids, rules)
    writer.remove(kind, ids)
    for document in documents:
        writer.add_document(**document)
    return len(documents) + len(gone)


def apply_pending(path: str, timeout: float | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Apply the log entries ``path`` has not applied yet: re-read each record,
    upsert its document if it is publicly indexable, else delete it; commit;
    then record the applied sequence (a crash in between only applies the same
    entries again). Returns the number of entries applied. Nothing is merged
    here (``merge_segments``): the cost is that of the entries."""
    timeout = writer_timeout() if timeout is None else timeout
    rules = NameRules.from_config(current_app.config)
    applied_total = 0
    with _apply_lock(path, timeout):
        state = read_applied(path)
        if state is None or schema_version(path) != SCHEMA_VERSION:
            raise IndexDamaged("搜索索引已损坏或版本过旧")
        if not read_entries(state, 1):
            db.session.rollback()
            return 0
        ix = open_index(path)
        while True:
            written, more = 0, False
            with index_writer(ix, timeout=timeout) as writer:
                while not more:
                    entries = read_entries(state, LOG_CHUNK)
                    if not entries:
                        break
                    by_kind: dict[str, set[int]] = {kind: set() for kind in KINDS}
                    for entry in entries:
                        by_kind.setdefault(entry.record_kind, set()).add(entry.record_id)
                    if any(key_of(kind, i) in writer.added for kind, ids in by_kind.items() for i in ids):
                        # A record this writer has already added: Whoosh deletes only
                        # committed documents, so commit first (else a duplicate).
                        more = True
                        break
                    state = advance(state, [entry.id for entry in entries])
                    for kind in KINDS:
                        if by_kind[kind]:
                            written += _write_changes(writer, kind, sorted(by_kind[kind]), rules)
                    applied_total += len(entries)
                    if progress:
                        progress(len(entries))
                    db.session.rollback()  # end the read transaction; keep memory flat
                    more = written >= COMMIT_EVERY
            # The index is committed: only now may the directory claim the entries.
            write_applied(path, state)
            if not more:
                return applied_total


def live_dir() -> str:
    """The live index directory; ``IndexDamaged`` if there is none."""
    path = current_dir()
    if path is None:
        raise IndexDamaged("搜索索引不存在")
    return path


def never_built(root: str | None = None) -> bool:
    """No index was ever made here (no CURRENT file): a new site."""
    return not os.path.exists(os.path.join(root or index_root(), CURRENT))


def sync(
    timeout: float | None = None, progress: Callable[[int], None] | None = None, build_missing: bool = False
) -> int:
    """Bring the live index up to date with the change log. An index that fell
    behind the log's retention is rebuilt; with ``build_missing``, so is the
    index of a site that never had one. ``IndexDamaged`` if the index is missing
    or damaged: it is never replaced by an empty one (`search reindex`)."""
    if build_missing and never_built():
        with contextlib.suppress(IndexBusy):  # another process is building it
            reindex()
        return 0
    with current_app.app_context():  # a session of its own: the caller's objects stay as they were
        return _sync(timeout, progress)


def _sync(timeout: float | None, progress: Callable[[int], None] | None) -> int:
    for _attempt in range(3):
        path = live_dir()
        state = read_applied(path)
        if state is not None and behind(state):
            log.warning("search index %s is behind the pruned change log: rebuilding", path)
            reindex()
            return 0
        applied = apply_pending(path, timeout, progress)
        if applied:
            with contextlib.suppress(IndexBusy):  # another process is writing: the next apply merges
                merge_segments(path, timeout)
        if current_dir() == path:
            return applied
        # A rebuild swapped the index meanwhile: bring the new one up to date too.
    return 0


def pending(path: str | None = None) -> int:
    """Log entries the live (or given) index has not applied."""
    path = path or current_dir()
    state = read_applied(path) if path else None
    if state is None:
        return 0
    count = pending_count(state)
    db.session.rollback()
    return count


# --- rebuild --------------------------------------------------------------------------


@contextmanager
def _rebuild_lock(root: str) -> Iterator[None]:
    lock = FileStorage(root).lock("gongshi_REBUILD")
    if not lock.acquire(blocking=False):
        raise IndexBusy("另一个进程正在重建搜索索引")
    try:
        yield
    finally:
        lock.release()


def rebuilding(root: str | None = None) -> bool:
    """Is a rebuild running now (in any process on this machine)?"""
    root = root or index_root()
    if not os.path.isdir(root):
        return False
    lock = FileStorage(root).lock("gongshi_REBUILD")
    if lock.acquire(blocking=False):
        lock.release()
        return False
    return True


def _remove_partial_dirs(root: str) -> None:
    """Directories a killed rebuild left behind (still marked as building)."""
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name.startswith("ix-") and os.path.exists(os.path.join(path, BUILDING)):
            log.warning("removing the partial index directory %s of an interrupted rebuild", path)
            shutil.rmtree(path, ignore_errors=True)


def reindex(progress: Callable[[int], None] | None = None) -> int:
    """Rebuild the whole index from the database into a fresh directory: note
    the log sequence first, build, replay what arrived meanwhile, swap it in
    atomically, replay again. Nothing committed during the build is lost.
    Returns the number of documents indexed. Runs in a session of its own: the
    caller's objects stay as they were."""
    root = index_root()
    os.makedirs(root, exist_ok=True)
    with current_app.app_context(), _rebuild_lock(root):
        _remove_partial_dirs(root)
        # Every entry visible now names a change committed before the build
        # reads the records, so the build covers it; an entry in flight is
        # a hole of the start point and is replayed when it appears.
        start = start_point()
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
            db.session.rollback()
            write_applied(path, start)
            apply_pending(path, timeout=0)  # what was committed during the build
            os.remove(os.path.join(path, BUILDING))
            with _root_lock(root):
                _point_current(root, path)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        # Followers now write to the new directory; catch up with what came
        # during the swap (they may be doing the same: harmless).
        with contextlib.suppress(IndexBusy):
            apply_pending(path)
        _remove_old_dirs(root, keep={os.path.basename(path)})
    return count


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
    applied: int = 0  # the log sequence the index has applied
    latest: int = 0  # the log's newest sequence
    pending: int = 0  # log entries not yet applied
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"索引文档 {self.documents} 条，数据库中应索引的记录 {self.expected} 条。",
            f"变更日志序号：索引已应用至 {self.applied}，日志最新为 {self.latest}。",
        ]
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
            lines.append(f"尚未应用的索引变更 {self.pending} 条（运行 flask search sync）")
        lines.extend(self.problems)
        lines.append(
            "索引与数据库一致。" if self.ok else "索引与数据库不一致：运行 flask search sync 或 flask search reindex。"
        )
        return "\n".join(lines)


def check() -> CheckResult:
    """Compare by sequence (what the index has applied against the log) and by
    content (the indexed (kind, id, revision) against the indexable records)."""
    result = CheckResult(ok=False)
    result.latest = last_sequence()
    path = current_dir()
    state = read_applied(path) if path else None
    if state is not None:
        result.applied = state.seq
        result.pending = pending_count(state)
        if behind(state):
            result.problems.append("索引落后于已清理的变更日志（运行 flask search reindex）")
    expected = {kind: indexable_revisions(kind) for kind in KINDS}
    result.expected = sum(len(ids) for ids in expected.values())
    indexed: dict[str, dict[int, int]] = {kind: {} for kind in KINDS}
    if path is None:
        result.problems.append("搜索索引不存在（运行 flask search reindex）")
    else:
        if state is None:
            result.problems.append(
                "索引目录缺少已应用的变更序号（APPLIED），无法判断是否最新（运行 flask search reindex）"
            )
        version = schema_version(path)
        if version != SCHEMA_VERSION:
            result.problems.append(
                f"索引结构版本为 {version}，当前版本为 {SCHEMA_VERSION}（运行 flask search reindex）"
            )
        try:
            with open_index(path).searcher() as searcher:
                for fields in searcher.all_stored_fields():
                    kind, _, record_id = fields["key"].partition(":")
                    if int(record_id) in indexed.setdefault(kind, {}):
                        result.duplicates.append(fields["key"])
                    indexed[kind][int(record_id)] = fields.get("rev", 0)
                    result.documents += 1
        except Exception as problem:  # a damaged directory: report it, do not crash
            result.problems.append(f"索引无法读取：{type(problem).__name__}（运行 flask search reindex）")
    for kind in KINDS:
        have, want = indexed.get(kind, {}), expected[kind]
        result.missing[kind] = sorted(i for i, rev in want.items() if have.get(i) != rev)
        result.extra[kind] = sorted(set(have) - set(want))
    db.session.rollback()
    result.ok = not (
        any(result.missing.values())
        or any(result.extra.values())
        or result.duplicates
        or result.problems
        or result.pending
    )
    return result
