"""One open index per process, reopened when the index changes.

Each request compares the live directory (CURRENT) and ``ix.latest_generation()``
with what this process has open; on a change it opens a new reader (never
``Searcher.refresh()``, which returns duplicated or deleted documents after a
merge in some Whoosh versions). Nothing opened before a fork is used after it:
the cache is keyed by process id, so gunicorn workers open their own.

Besides the Whoosh reader, a snapshot keeps a compact match table per segment
(folded names, people, text, dates, facet values), built once per segment and
reused across generations while the segment lives. Queries verify fragment
candidates against it and count facets without touching stored fields.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound

from search_index.documents import LISTING
from search_index.indexer import current_dir, index_root, open_index

_lock = threading.Lock()
_cache: dict[str, Snapshot] = {}
_cache_pid = os.getpid()
_segment_tables: dict[str, SegmentTable] = {}

POSTINGS_CACHE_BYTES = 8 << 20  # decoded posting lists kept per snapshot (8 bytes a posting)


class TextColumn:
    """The folded texts of many documents in one string, separated by NUL:
    a few bytes per character instead of a Python object per text (a worker
    holds 100,000 documents in tens of megabytes), searched with C-speed
    ``str.find`` between bounds."""

    __slots__ = ("blob", "bounds")

    def __init__(self, blob: str, bounds: array):
        self.blob = blob
        self.bounds = bounds  # document d is blob[bounds[d] : bounds[d + 1] - 1]

    def get(self, d: int) -> str:
        return self.blob[self.bounds[d] : self.bounds[d + 1] - 1]

    def verify(self, candidates: Iterable[int], part: str) -> set[int]:
        """The candidates whose text contains ``part``."""
        find, bounds = self.blob.find, self.bounds
        return {d for d in candidates if find(part, bounds[d], bounds[d + 1]) >= 0}

    def scan(self, part: str) -> set[int]:
        """Every document whose text contains ``part`` (no index needed)."""
        found: set[int] = set()
        find, bounds = self.blob.find, self.bounds
        position = find(part)
        while position >= 0:
            d = bisect_right(bounds, position) - 1
            found.add(d)
            position = find(part, bounds[d + 1])
        return found

    def startswith(self, d: int, part: str) -> bool:
        return self.blob.startswith(part, self.bounds[d], self.bounds[d + 1])


class MultiColumn:
    """A field over several segments, without copying their texts: global
    docnum d is segment k's docnum d - offsets[k]."""

    __slots__ = ("columns", "offsets")

    def __init__(self, columns: list[TextColumn], offsets: list[int]):
        self.columns = columns
        self.offsets = np.asarray(offsets, dtype=np.int64)

    def _split(self, docs) -> Iterator[tuple[TextColumn, int, np.ndarray]]:
        docs = np.asarray(docs if not isinstance(docs, (set, frozenset)) else list(docs), dtype=np.int64)
        segment = np.searchsorted(self.offsets, docs, side="right") - 1
        for number, column in enumerate(self.columns):
            local = docs[segment == number]
            if len(local):
                offset = int(self.offsets[number])
                yield column, offset, local - offset

    def verify(self, candidates, part: str) -> set[int]:
        found: set[int] = set()
        for column, offset, local in self._split(candidates):
            found.update(d + offset for d in column.verify(local.tolist(), part))
        return found

    def scan(self, part: str) -> set[int]:
        found: set[int] = set()
        for column, offset in zip(self.columns, self.offsets.tolist(), strict=True):
            found.update(d + offset for d in column.scan(part))
        return found

    def _locate(self, d: int) -> tuple[TextColumn, int]:
        number = int(np.searchsorted(self.offsets, d, side="right")) - 1
        return self.columns[number], d - int(self.offsets[number])

    def get(self, d: int) -> str:
        column, local = self._locate(d)
        return column.get(local)

    def startswith(self, d: int, part: str) -> bool:
        column, local = self._locate(d)
        return column.startswith(local, part)


class SegmentTable:
    """The match-table columns of one immutable segment, by local docnum."""

    __slots__ = (
        "size",
        "kinds",
        "ids",
        "days",
        "listed",
        "expires",
        "name",
        "core",
        "short",
        "people",
        "text",
        "combo",
        "combo_keys",
        "starts",
    )

    def __init__(self, reader):
        self.size = size = reader.doc_count_all()
        self.kinds = bytearray(size)
        self.ids = array("q", bytes(8 * size))
        self.days = array("q", self.ids)
        self.listed = array("q", self.ids)
        self.expires = array("q", self.ids)
        self.combo = array("l", bytes(array("l").itemsize * size))
        # Texts go straight into one buffer per field: keeping 100,000 small
        # strings alive while the stored documents are read would leave the
        # heap fragmented long after they are joined.
        writers = [io.StringIO() for _ in range(5)]
        bounds = [array("l", [0]) for _ in range(5)]
        positions = [0] * 5
        starts: dict[str, array] = {}
        keys: dict[tuple, int] = {}
        stored = reader.stored_fields
        for docnum in range(size):
            fields = stored(docnum)
            (record_id, name, core, short, person, text, day, listed, expires, district, year, types, _batch) = fields[
                "row"
            ]
            kind = 1 if fields["kind"] == LISTING else 0
            self.kinds[docnum] = kind
            self.ids[docnum] = record_id
            for field_number, value in enumerate((name, core, short, person, text)):
                writers[field_number].write(value)
                writers[field_number].write("\x00")
                positions[field_number] += len(value) + 1
                bounds[field_number].append(positions[field_number])
            self.days[docnum], self.listed[docnum], self.expires[docnum] = day, listed, expires
            key = (kind, district, year, tuple(types))
            number = keys.get(key)
            if number is None:
                number = keys[key] = len(keys)
            self.combo[docnum] = number
            # Where a name (or the name without its place prefix) begins: the
            # candidates of the "starts with the query" boost.
            for prefix in {name[:2], short[:2]}:
                found = starts.get(prefix)
                if found is None:
                    found = starts[prefix] = array("l")
                found.append(docnum)
        self.starts = starts
        self.name, self.core, self.short, self.people, self.text = (
            TextColumn(writer.getvalue(), bound) for writer, bound in zip(writers, bounds, strict=True)
        )
        self.combo_keys = list(keys)  # number → (kind, district, year, types)


class Snapshot:
    """An open reader of one index generation with its match table."""

    def __init__(self, directory: str):
        self.directory = directory
        self.ix = open_index(directory)
        self.generation = self.ix.latest_generation()
        self.reader = self.ix.reader()
        self._postings: OrderedDict[tuple[str, str], array] = OrderedDict()
        self._postings_bytes = 0
        self._postings_lock = threading.Lock()
        self._hidden: tuple[dt.date, frozenset[int]] | None = None
        self.memo: dict[str, dict] = {}  # per-generation caches of the query module
        self.memo_lock = threading.Lock()
        self.users = 0  # searches running on this snapshot (see acquire)
        self.retired = False
        leaves = self.reader.leaf_readers() if self.reader.doc_count_all() else []
        self.leaves = [(leaf, offset) for leaf, offset in leaves]
        self._build_table()

    # -- the match table, concatenated over segments
    def _build_table(self) -> None:
        tables: list[SegmentTable] = []
        deleted: set[int] = set()
        self.tables: list[tuple[SegmentTable, int]] = []
        for leaf, offset in self.leaves:
            segid = leaf.segment().segment_id()
            table = _segment_tables.get(segid)
            if table is None:
                table = _segment_tables[segid] = SegmentTable(leaf)
            tables.append(table)
            self.tables.append((table, offset))
            if leaf.has_deletions():
                deleted.update(offset + d for d in leaf._perdoc.deleted_docs())
        self.deleted = frozenset(deleted)
        self.kinds = bytearray().join(t.kinds for t in tables)
        self.ids = _joined("q", [t.ids for t in tables])
        self.days = _joined("q", [t.days for t in tables])
        self.listed = _joined("q", [t.listed for t in tables])
        self.expires = _joined("q", [t.expires for t in tables])
        offsets = [offset for _, offset in self.tables]
        for name in ("name", "core", "short", "people", "text"):
            columns = [getattr(t, name) for t in tables]
            if not columns:
                column = TextColumn("", array("l", [0]))
            elif len(columns) == 1:
                column = columns[0]
            else:
                column = MultiColumn(columns, offsets)
            setattr(self, name, column)
        # Facet combinations (kind, district, year, types), numbered across segments.
        numbers: dict[tuple, int] = {}
        parts = []
        for table in tables:
            translate = [numbers.setdefault(key, len(numbers)) for key in table.combo_keys]
            parts.append(
                table.combo
                if translate == list(range(len(translate)))
                else array("l", map(translate.__getitem__, table.combo))
            )
        self.combo = _joined("l", parts)
        self.combos = list(numbers)  # number → (kind, district, year, types)
        self.size = len(self.ids)
        # Newest first, then highest id: the order of equally good matches.
        keys = array("q", [(day << 32) | rid for day, rid in zip(self.days, self.ids, strict=True)])
        order = sorted(range(self.size), key=keys.__getitem__, reverse=True)
        if deleted:
            order = [d for d in order if d not in self.deleted]
        self.order = array("l", order)
        self.rank = array("l", bytes(array("l").itemsize * self.size))
        rank = self.rank
        for position, docnum in enumerate(order):
            rank[docnum] = position
        self.live_count = len(self.order)
        # NumPy views for the set algebra of a query (masks of ``size`` booleans).
        self.combo_np = np.frombuffer(self.combo, dtype=np.int64) if self.size else np.zeros(0, np.int64)
        self.rank_np = np.frombuffer(self.rank, dtype=np.int64) if self.size else np.zeros(0, np.int64)
        self.live_mask = np.ones(self.size, dtype=bool)
        if deleted:
            self.live_mask[list(deleted)] = False
        live = {leaf.segment().segment_id() for leaf, _ in self.leaves}
        for stale in set(_segment_tables) - live:
            # Segments merged away in this process's newest snapshot.
            _segment_tables.pop(stale, None)

    def mask(self, docs) -> np.ndarray:
        """A boolean mask of the given docnums (an array, a list or a set)."""
        mask = np.zeros(self.size, dtype=bool)
        if isinstance(docs, array):
            if len(docs):
                mask[np.frombuffer(docs, dtype=np.int64)] = True
        elif len(docs):
            mask[np.fromiter(docs, dtype=np.int64, count=len(docs))] = True
        return mask

    def visible_mask(self, today: dt.date) -> np.ndarray:
        """Live documents, without the listings not in force on ``today``."""
        cached = self.memo.get("visible_mask")
        if cached and today in cached:
            return cached[today].copy()
        mask = self.live_mask.copy()
        hidden = self.hidden_listings(today)
        if hidden:
            mask[list(hidden)] = False
        self.memo["visible_mask"] = {today: mask}
        return mask.copy()

    def verify(self, column: TextColumn, candidates: Iterable[int] | None, part: str) -> set[int]:
        """Live documents among ``candidates`` (None: all) whose text contains ``part``."""
        found = column.scan(part) if candidates is None else column.verify(candidates, part)
        if self.deleted:
            found -= self.deleted
        return found

    # -- postings
    def postings(self, fieldname: str, term: str) -> array:
        """Global docnums having ``term`` in ``fieldname`` (deleted ones included:
        ``verify`` drops them)."""
        key = (fieldname, term)
        with self._postings_lock:
            cached = self._postings.get(key)
            if cached is not None:
                self._postings.move_to_end(key)
                return cached
        result = array("l")
        btext = term.encode("utf-8")
        fmt = self.reader.schema[fieldname].format
        for leaf, offset in self.leaves:
            try:
                matcher = leaf._terms.matcher(fieldname, btext, fmt)
            except (TermNotFound, KeyError):
                continue
            result.extend(_all_ids(matcher, offset))
        with self._postings_lock:
            if key not in self._postings:
                self._postings[key] = result
                self._postings_bytes += len(result) * result.itemsize
            while self._postings_bytes > POSTINGS_CACHE_BYTES and len(self._postings) > 1:
                _, dropped = self._postings.popitem(last=False)
                self._postings_bytes -= len(dropped) * dropped.itemsize
        return result

    def name_starts(self, prefix: str) -> array:
        """Docnums whose name, or name without its place prefix, starts with
        ``prefix`` (two characters)."""
        out = array("l")
        for table, offset in self.tables:
            local = table.starts.get(prefix)
            if local:
                out.extend([offset + d for d in local] if offset else local)
        return out

    def doc_frequency(self, fieldname: str, term: str) -> int:
        return self.reader.doc_frequency(fieldname, term)

    def expand_prefix(self, fieldname: str, prefix: str, limit: int = 200) -> list[str]:
        out = []
        for term in self.reader.expand_prefix(fieldname, prefix):
            out.append(term.decode("utf-8") if isinstance(term, bytes) else term)
            if len(out) >= limit:
                break
        return out

    def hidden_listings(self, today: dt.date) -> frozenset[int]:
        """Listings not in force on ``today`` (expired or not yet listed)."""
        cached = self._hidden
        if cached and cached[0] == today:
            return cached[1]
        day = today.toordinal()
        kinds, listed, expires = self.kinds, self.listed, self.expires
        hidden = frozenset(d for d in range(self.size) if kinds[d] and not (listed[d] <= day < expires[d]))
        self._hidden = (today, hidden)
        return hidden

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.reader.close()


def _all_ids(matcher, offset: int) -> Iterable[int]:
    """All ids of a fresh posting matcher, a block at a time (the generic
    ``all_ids`` costs several method calls per posting)."""
    if isinstance(matcher, W3LeafMatcher):
        out: list[int] = []
        while matcher.is_active():
            matcher._read_ids()
            ids = matcher._ids
            out.extend([offset + i for i in ids] if offset else ids)
            if matcher._lastblock:
                break
            matcher._next_block()
        return out
    return [offset + i for i in matcher.all_ids()]


def _joined(typecode: str, arrays: list[array]) -> array:
    if len(arrays) == 1:
        return arrays[0]
    out = array(typecode)
    for part in arrays:
        out.extend(part)
    return out


def snapshot() -> Snapshot | None:
    """The current snapshot of this process, reopened if the index changed;
    None if no index has been built yet."""
    global _cache_pid
    root = index_root()
    if os.getpid() != _cache_pid:  # forked: nothing opened by the parent is used
        with _lock:
            for inherited in _cache.values():
                inherited.close()  # closes this process's copies of the descriptors only
            _cache.clear()
            _segment_tables.clear()
            _cache_pid = os.getpid()
    directory = current_dir(root)
    if directory is None:
        return None
    current = _cache.get(root)
    if current is not None and current.directory == directory:
        try:
            if current.ix.latest_generation() == current.generation:
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
        fresh = Snapshot(directory)
        for other_root, other in list(_cache.items()):
            if other_root != root:  # one index per process; tests switch between many
                del _cache[other_root]
                _retire(other)
        _cache[root] = fresh
        if current is not None:
            _retire(current)
        return fresh


def _retire(old: Snapshot) -> None:
    """Close a replaced snapshot now, or when its last search ends (another
    thread may still be reading it). Caller holds ``_lock``."""
    old.retired = True
    if old.users == 0:
        old.close()


@contextmanager
def acquire() -> Iterator[Snapshot | None]:
    """The current snapshot, kept open until the block ends."""
    snap = snapshot()
    if snap is None:
        yield None
        return
    with _lock:
        snap.users += 1
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
        _segment_tables.clear()
