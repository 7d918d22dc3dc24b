"""One open index per process, reopened when the index changes.

Each request compares the live directory (CURRENT) and ``ix.latest_generation()``
with what this process has open; on a change it reads the new table of contents
(the segments and their deleted documents) and maps each segment's match file
(``matchfile``) read-only — a file already mapped for an earlier generation is
reused, so a publish costs only its new segment. Nothing opened before a fork is
used after it: the cache is keyed by process id, so gunicorn workers map their
own (the pages themselves are shared through the page cache).

A snapshot answers the query module's questions on NumPy masks over its
documents (global docnum = segment offset + docnum in the segment): where a text
occurs in a field (``match``), which documents are visible today, the first k
of a mask in date or amount order (per-segment rank orders, merged).
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from search_index.changelog import Applied, IndexDamaged, applied_stamp, read_applied
from search_index.indexer import current_dir, ensure_match_files, index_root, open_index, rebuilding, schema_version
from search_index.matchfile import PINYIN, MatchFile, file_name, pair_keys, pinyin_key
from search_index.schema import SCHEMA_VERSION

log = logging.getLogger(__name__)

_lock = threading.Lock()
_cache: dict[str, Snapshot] = {}  # index root → its snapshot (one root in a server; tests use more)
MAX_ROOTS = 4
_cache_pid = os.getpid()
_files: dict[str, MatchFile] = {}  # path → mapped file, shared by this process's snapshots


class Segment:
    __slots__ = ("file", "offset", "size", "deleted")

    def __init__(self, file: MatchFile, offset: int, deleted: np.ndarray):
        # Deleted docnums as an array: a set of Python ints took some 60 bytes
        # each (6 MB for 100,000 records re-tagged or corrected in a large segment).
        self.file, self.offset, self.size, self.deleted = file, offset, file.size, deleted


class Column:
    """One per-document column of every segment (kind, id, date, …), read in
    place from each segment's mapped match file. Indexed like an array by a
    global docnum, an array of docnums or a mask over all documents; only the
    values asked for are gathered, so no process keeps a private copy of a whole
    column (they once took 37 bytes a document in every worker, 40 MB at
    1,000,000 records, copied again at every new generation)."""

    __slots__ = ("name", "dtype", "size", "_parts", "_ends", "_end_list")

    def __init__(self, segments: list[Segment], name: str, dtype, translate: list[np.ndarray] | None = None):
        self.name, self.dtype = name, np.dtype(dtype)
        # (offset, size, values, translate): a combination number goes through its segment's translate.
        self._parts = [
            (s.offset, s.size, s.file[name], None if translate is None else translate[n])
            for n, s in enumerate(segments)
        ]
        self._end_list = [s.offset + s.size for s in segments]
        self._ends = np.array(self._end_list, dtype=np.int64)
        self.size = int(self._ends[-1]) if len(segments) else 0

    def __len__(self) -> int:
        return self.size

    def _values(self, part, local):
        _, _, values, translate = part
        found = values[local]
        return found if translate is None else translate[found]

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            doc = int(index)
            if not 0 <= doc < self.size:
                raise IndexError(doc)
            part = self._parts[bisect.bisect_right(self._end_list, doc)]
            return self._values(part, doc - part[0])
        index = np.asarray(index)
        if index.dtype == bool:
            if index.shape != (self.size,):
                raise IndexError(f"a mask of {index.shape} over {self.size} documents")
            found = [self._values(p, index[p[0] : p[0] + p[1]]) for p in self._parts]
            return np.concatenate(found).astype(self.dtype, copy=False) if found else np.zeros(0, self.dtype)
        index = index.astype(np.int64, copy=False)
        out = np.empty(index.shape, self.dtype)
        if not index.size:
            return out
        if index.min() < 0 or index.max() >= self.size:
            raise IndexError("docnum out of range")
        if len(self._parts) == 1:
            out[...] = self._values(self._parts[0], index)
            return out
        which = np.searchsorted(self._ends, index, side="right")
        for number in np.flatnonzero(np.bincount(which.ravel(), minlength=len(self._parts))).tolist():
            part = self._parts[number]
            chosen = which == number
            out[chosen] = self._values(part, index[chosen] - part[0])
        return out

    def __array__(self, dtype=None, copy=None):
        """The whole column (a copy: for a caller that needs every value)."""
        whole = self[np.ones(self.size, dtype=bool)]
        return whole if dtype is None else whole.astype(dtype)


class FieldMatch:
    """Where a text occurs in one field: per segment, the byte position of each
    occurrence and its document."""

    def __init__(self, snap: Snapshot, fieldname: str, length: int):
        self.snap, self.fieldname, self.length = snap, fieldname, length
        self.parts: list[tuple[Segment, np.ndarray, np.ndarray]] = []
        self._mask: np.ndarray | None = None

    def docs(self) -> np.ndarray:
        """The documents (global docnums; one per occurrence, so with repeats)."""
        parts = [segment.offset + docs.astype(np.int64) for segment, _, docs in self.parts]
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    @property
    def mask(self) -> np.ndarray:
        """The documents as a mask (deleted ones included: the caller keeps only visible ones)."""
        if self._mask is None:
            self._mask = np.zeros(self.snap.size, dtype=bool)
            self._mask[self.docs()] = True
        return self._mask

    def _select(self, test) -> np.ndarray:
        out = []
        for segment, positions, docs in self.parts:
            file = segment.file
            starts = file[f"{self.fieldname}.starts"]
            docs64 = docs.astype(np.int64)
            keep = test(file, positions, docs64, starts[docs64], starts[docs64 + 1] - 1)
            out.append(segment.offset + docs64[keep])
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def whole(self) -> np.ndarray:
        """Documents where the text is the whole field, or a whole space-separated
        value of it (one person, one code); for names also the whole name
        without its legal form."""
        length = self.length
        if self.fieldname == "name":
            return self._select(
                lambda f, pos, docs, begin, end: (
                    (pos == begin) & ((pos + length == end) | (f["core_end"][docs] == length))
                )
            )
        blob_name = f"{self.fieldname}.blob"

        def test(f, pos, docs, begin, end):
            blob = f[blob_name]
            before = (pos == begin) | (blob[np.maximum(pos - 1, 0)] == 32)
            after = (pos + length == end) | (blob[np.minimum(pos + length, len(blob) - 1)] == 32)
            return before & after

        return self._select(test)

    def starts(self) -> np.ndarray:
        """Documents whose name, or name without its place prefix, starts with the text."""
        return self._select(lambda f, pos, docs, begin, end: (pos == begin) | (pos == begin + f["short_start"][docs]))


class Snapshot:
    """One generation of the index: its segments' match files and deletions."""

    def __init__(self, directory: str):
        self.directory = directory
        # What the directory has applied, read before its table of contents: a
        # generation is never older than the APPLIED file read before it, so
        # the log entries counted as pending are a superset of the unapplied.
        self.applied_stamp = applied_stamp(directory)
        applied = read_applied(directory)
        if applied is None:
            raise IndexDamaged(f"{directory}: no APPLIED file")
        self.applied: Applied = applied
        self.ix = open_index(directory)
        self.generation = self.ix.latest_generation()
        toc = self.ix._read_toc()
        ensure_match_files(directory, self.ix, toc.segments)
        segments: list[Segment] = []
        offset = 0
        for whoosh_segment in toc.segments:
            path = os.path.join(directory, file_name(whoosh_segment.segment_id()))
            file = _files.get(path)
            if file is None:
                file = _files[path] = MatchFile(path)
            deleted = np.fromiter(whoosh_segment.deleted_docs() if whoosh_segment.has_deletions() else (), np.int64)
            segments.append(Segment(file, offset, deleted))
            offset += file.size
        self._attach(segments)
        live = {os.path.join(directory, file_name(s.segment_id())) for s in toc.segments}
        for stale in set(_files) - live:
            if not stale.startswith(directory + os.sep):
                continue
            _files.pop(stale, None)  # merged away; unmapped once no snapshot holds it

    def _attach(self, segments: list[Segment]) -> None:
        """Take the segments (in docnum order): their per-document columns as
        views of the match files (``Column``) and the facet combinations
        numbered across segments. What a snapshot keeps privately is one byte a
        document (which are live) and each segment's table of combination
        numbers; the columns' pages are the page cache's, shared by every process."""
        self.segments = segments
        self.size = sum(segment.size for segment in segments)
        self.memo: dict[str, dict] = {}  # per-generation caches of the query module
        self.memo_lock = threading.Lock()
        self.users = 0  # searches running on this snapshot (see acquire)
        self.retired = False
        self.closed = False
        numbers: dict[tuple, int] = {}
        # Per segment: its combination numbers → the snapshot's.
        self._translate = [
            np.array([numbers.setdefault(c, len(numbers)) for c in s.file.combos], dtype=np.int32) for s in segments
        ]
        self.combos = list(numbers)  # number → (kind, district, year, types, campaign)
        self.kinds = Column(segments, "kind", np.uint8)
        self.ids = Column(segments, "id", np.int64)
        self.days = Column(segments, "day", np.int32)
        self.listed = Column(segments, "listed", np.int32)
        self.expires = Column(segments, "expires", np.int32)
        self.amounts = Column(segments, "amount", np.float64)
        self.combo = self.combo_np = Column(segments, "combo", np.int32, self._translate)
        self.live_mask = np.ones(self.size, dtype=bool)
        for segment in segments:
            if len(segment.deleted):
                self.live_mask[segment.offset + segment.deleted] = False
        self.live_count = int(self.live_mask.sum())

    def combo_counts(self, docs: np.ndarray) -> np.ndarray:
        """How many documents of the mask ``docs`` each facet combination has
        (by the snapshot's combination numbers)."""
        counts = np.zeros(len(self.combos), dtype=np.int64)
        for segment, translate in zip(self.segments, self._translate, strict=True):
            local = docs[segment.offset : segment.offset + segment.size]
            if local.any():
                # A segment's own combinations are distinct (matchfile), so are their numbers here.
                counts[translate] += np.bincount(segment.file["combo"][local], minlength=len(translate))
        return counts

    def combo_mask(self, allowed: np.ndarray) -> np.ndarray:
        """The documents whose facet combination ``allowed`` (a mask over the
        combination numbers) allows."""
        if allowed.all():
            return np.ones(self.size, dtype=bool)
        parts = []
        for segment, translate in zip(self.segments, self._translate, strict=True):
            local = allowed[translate]
            if local.all() or not local.any():
                parts.append(np.full(segment.size, local.all()))
            else:
                # take(): indexing with the file's int32 numbers would convert them all to intp first.
                parts.append(np.take(local, segment.file["combo"]))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)

    # -- matching: what the query module asks
    def match(self, fieldname: str, text: str) -> FieldMatch:
        """Where ``text`` (folded, two or more characters) occurs in a field:
        the occurrences of its rarest character pair, kept where the bytes
        around them spell the rest of the text."""
        data = text.encode("utf-8")
        keys, offsets = pair_keys(text)
        found = FieldMatch(self, fieldname, len(data))
        if not len(keys):  # no pair without a space: look at every document
            return self._scan(found, fieldname, data, None)
        for segment in self.segments:
            file = segment.file
            ranges = [file.posting(fieldname, int(k)) for k in keys.tolist()]
            sizes = [end - first for first, end in ranges]
            if min(sizes) == 0:
                continue
            rarest = int(np.argmin(sizes))
            first, end = ranges[rarest]
            at = int(offsets[rarest])
            positions = file[f"{fieldname}.pos"][first:end].astype(np.int64) - at
            docs = file[f"{fieldname}.docs"][first:end]
            key = int(keys[rarest])
            pair_end = at + len(chr(key >> 21).encode("utf-8")) + len(chr(key & 0x1FFFFF).encode("utf-8"))
            if len(data) > pair_end - at:  # more than the pair itself: compare the other bytes
                blob = file[f"{fieldname}.blob"]
                inside = (positions >= 0) & (positions + len(data) <= len(blob))
                positions, docs = positions[inside], docs[inside]
                for j in (*range(pair_end, len(data)), *range(at)):
                    keep = blob[positions + j] == data[j]
                    positions, docs = positions[keep], docs[keep]
                    if not len(positions):
                        break
            if len(positions):
                found.parts.append((segment, positions, docs))
        return found

    def match_within(self, fieldname: str, text: str, within: np.ndarray) -> FieldMatch:
        """Like ``match`` for any text (one character too), looked for only in
        the documents of the mask ``within`` (one ``find`` per document)."""
        return self._scan(FieldMatch(self, fieldname, len(text.encode("utf-8"))), fieldname, text.encode(), within)

    def _scan(self, found: FieldMatch, fieldname: str, data: bytes, within: np.ndarray | None) -> FieldMatch:
        for segment in self.segments:
            file = segment.file
            starts = file[f"{fieldname}.starts"]
            base = file.offset(f"{fieldname}.blob")
            find = file.map.find
            positions, docs = [], []
            if within is None:
                end = base + int(starts[-1])
                at = find(data, base, end)
                while at >= 0:
                    doc = int(np.searchsorted(starts, at - base, side="right")) - 1
                    positions.append(at - base)
                    docs.append(doc)
                    at = find(data, base + int(starts[doc + 1]), end)
            else:
                local = np.flatnonzero(within[segment.offset : segment.offset + segment.size]).tolist()
                for doc in local:
                    at = find(data, base + int(starts[doc]), base + int(starts[doc + 1]) - 1)
                    if at >= 0:
                        positions.append(at - base)
                        docs.append(doc)
            if positions:
                found.parts.append((segment, np.array(positions, np.int64), np.array(docs, np.uint32)))
        return found

    def mask(self, docs) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        if len(docs):
            mask[np.asarray(list(docs) if isinstance(docs, (set, frozenset)) else docs, dtype=np.int64)] = True
        return mask

    def visible_mask(self, today: dt.date) -> np.ndarray:
        """Live documents, without the listings not in force on ``today``."""
        cached = self.memo.get("visible_mask")
        if cached and today in cached:
            return cached[today].copy()
        day = today.toordinal()
        mask = self.live_mask.copy()
        for segment in self.segments:
            file = segment.file
            hidden = (file["kind"] == 1) & ~((file["listed"] <= day) & (day < file["expires"]))
            mask[segment.offset : segment.offset + segment.size] &= ~hidden
        self.memo["visible_mask"] = {today: mask}
        return mask.copy()

    def top(self, docs: np.ndarray, count: int, sort: str | None = None) -> list[int]:
        """The first ``count`` documents of a mask, newest first (or in the
        order of ``sort``: "date", "-amount", "amount"): the first ``count`` of
        each segment's own rank order, merged."""
        if count <= 0:
            return []
        by_amount = sort in ("-amount", "amount")
        ascending = sort in ("date", "amount")
        picked, days, ids, amounts = [], [], [], []
        for segment in self.segments:
            local = docs[segment.offset : segment.offset + segment.size]
            if not local.any():
                continue
            file = segment.file
            order = file["order.amount" if by_amount else "order.date"]
            if ascending:
                order = order[::-1]
            chosen = order[local[order]][:count]
            picked.append(chosen.astype(np.int64) + segment.offset)
            days.append(file["day"][chosen])
            ids.append(file["id"][chosen])
            if by_amount:
                amounts.append(file["amount"][chosen])
        if not picked:
            return []
        candidates = np.concatenate(picked)
        day, key = np.concatenate(days).astype(np.int64), np.concatenate(ids)
        if by_amount:
            amount = np.concatenate(amounts)
            keys = (-key, -day, -np.nan_to_num(amount, nan=0.0), np.isnan(amount))
        else:
            keys = (-key, -day)
        order = np.lexsort(keys)
        if ascending:
            order = order[::-1]
        return candidates[order[:count]].tolist()

    def docnums(self, keys: set[tuple[str, int]]) -> np.ndarray:
        """The docnums of the given (kind, id) records (deleted ones included)."""
        if not keys or not self.size:
            return np.zeros(0, dtype=np.int64)
        found = []
        for code, kind in ((0, "case"), (1, "listing")):
            wanted = np.fromiter((i for k, i in keys if k == kind), dtype=np.int64)
            if len(wanted):
                for segment in self.segments:
                    file = segment.file
                    hit = np.flatnonzero((file["kind"] == code) & np.isin(file["id"], wanted))
                    found.append(hit + segment.offset)
        return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    # -- suggestions
    def pair_docs(self, fieldname: str, pair: str) -> np.ndarray:
        """Live documents having the character pair ``pair`` in a field."""
        keys, _ = pair_keys(pair)
        if len(keys) != 1:
            return np.zeros(0, np.int64)
        return self._docs(fieldname, int(keys[0]))

    def pinyin_docs(self, term: str) -> np.ndarray:
        """Live documents whose name (without its legal form) has the syllable pair ``term``."""
        return self._docs(PINYIN, pinyin_key(term))

    def _docs(self, fieldname: str, key: int) -> np.ndarray:
        # Each segment's documents as a mask (sorted, no repeats): np.unique
        # hashed the tens of thousands of occurrences of a common pair (有限,
        # 公司) on every search that found nothing and looked for partial matches.
        live = np.zeros(self.size, dtype=bool)
        for segment in self.segments:
            first, end = segment.file.posting(fieldname, key)
            if end > first:
                live[segment.offset + segment.file[f"{fieldname}.docs"][first:end].astype(np.int64)] = True
        return np.flatnonzero(live & self.live_mask)

    def core_name(self, doc: int) -> str:
        segment = self._segment_of(doc)
        return segment.file.core_name(doc - segment.offset)

    def _segment_of(self, doc: int) -> Segment:
        for segment in self.segments:
            if doc < segment.offset + segment.size:
                return segment
        raise IndexError(doc)

    def refresh_applied(self) -> None:
        """Take a newer APPLIED file of the same generation (written after the
        commit it describes: a newer generation is reopened instead)."""
        stamp = applied_stamp(self.directory)
        if stamp == self.applied_stamp:
            return
        applied = read_applied(self.directory)
        if applied is not None and self.ix.latest_generation() == self.generation:
            self.applied, self.applied_stamp = applied, stamp

    def close(self) -> None:
        """Let go of this snapshot's arrays and files: a file no longer in the
        process cache (its index was replaced, its segment merged away) is
        unmapped once no snapshot holds it."""
        self.closed = True
        self.segments = []
        self.memo = {}
        self.kinds = self.ids = self.days = self.listed = self.expires = self.amounts = None
        self.combo_np = self.combo = self.live_mask = None
        self._translate = []


def snapshot() -> Snapshot | None:
    """The current snapshot of this process, reopened if the index changed;
    None if there is no usable index (``unavailable_message`` says why)."""
    global _cache_pid
    root = index_root()
    if os.getpid() != _cache_pid:  # forked: nothing opened by the parent is used
        with _lock:
            for inherited in _cache.values():
                inherited.close()  # closes this process's copies of the descriptors only
            _cache.clear()
            _files.clear()
            _cache_pid = os.getpid()
    directory = current_dir(root)
    if directory is None or schema_version(directory) != SCHEMA_VERSION:
        # Not built yet, deleted, or built by an older version (`search reindex`):
        # let go of whatever this process had open.
        if root in _cache:
            with _lock:
                gone = _cache.pop(root, None)
                if gone is not None:
                    for path in [path for path in _files if path.startswith(gone.directory + os.sep)]:
                        del _files[path]
                    _retire(gone)
        return None
    current = _cache.get(root)
    if current is not None and current.directory == directory:
        try:
            if current.ix.latest_generation() == current.generation:
                current.refresh_applied()
                return current
        except FileNotFoundError:
            pass
    with _lock:
        current = _cache.get(root)
        if (
            current is not None
            and current.directory == directory
            and current.ix.latest_generation() == current.generation
        ):
            return current
        try:
            fresh = Snapshot(directory)
        except Exception:  # damaged: searches say so until `search reindex`
            log.exception("search index %s cannot be opened", directory)
            return None
        replaced = [current] if current is not None else []
        _cache.pop(root, None)
        while len(_cache) >= MAX_ROOTS:  # the least recently opened other index (tests make many)
            replaced.append(_cache.pop(next(iter(_cache))))
        _cache[root] = fresh
        for old in replaced:
            if old.directory != directory:
                # A replaced index's files leave the cache now; each is
                # unmapped when the last snapshot using it is closed.
                for path in [path for path in _files if path.startswith(old.directory + os.sep)]:
                    del _files[path]
            _retire(old)
        return fresh


def unavailable_message() -> str:
    """Why there is no snapshot to search, honestly."""
    root = index_root()
    directory = current_dir(root)
    if rebuilding(root):
        return "搜索索引正在重建，请稍后再试。"
    if directory is not None and schema_version(directory) != SCHEMA_VERSION:
        return "搜索功能升级后需要重建搜索索引，重建完成前暂时无法搜索，请稍后再试。"
    return (
        "搜索暂时不可用：本站的搜索索引缺失或损坏，需由网站管理员重建（flask search reindex）。"
        "违法案件、失信名单的浏览和数据下载不受影响。"
    )


def _retire(old: Snapshot) -> None:
    """Close a replaced snapshot now, or when its last search ends (another
    thread may still be reading it). Caller holds ``_lock``."""
    old.retired = True
    if old.users == 0:
        old.close()


@contextmanager
def acquire() -> Iterator[Snapshot | None]:
    """The current snapshot, kept open until the block ends."""
    while True:
        snap = snapshot()
        if snap is None:
            yield None
            return
        with _lock:
            if not snap.closed:  # else replaced and closed just now: take the new one
                snap.users += 1
                break
    try:
        yield snap
    finally:
        with _lock:
            snap.users -= 1
            if snap.retired and snap.users == 0:
                snap.close()


def forget() -> None:
    """Close and drop this process's snapshots (tests, tools)."""
    with _lock:
        for snap in _cache.values():
            snap.close()
        _cache.clear()
        _files.clear()
