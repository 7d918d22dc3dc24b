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
import os
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound

from search_index.documents import LISTING
from search_index.indexer import current_dir, index_root, open_index

_lock = threading.Lock()
_cache: dict[str, Snapshot] = {}
_cache_pid = os.getpid()
_segment_tables: dict[str, SegmentTable] = {}

POSTINGS_CACHE = 512  # decoded posting lists kept per snapshot


class SegmentTable:
    """The match-table columns of one immutable segment, by local docnum."""

    __slots__ = (
        "kinds",
        "ids",
        "names",
        "cores",
        "shorts",
        "people",
        "texts",
        "days",
        "listed",
        "expires",
        "districts",
        "years",
        "types",
        "batches",
        "size",
    )

    def __init__(self, reader):
        self.size = reader.doc_count_all()
        self.kinds = bytearray(self.size)
        self.ids = array("q", bytes(8 * self.size))
        self.days = array("l", bytes(array("l").itemsize * self.size))
        self.listed = array("l", self.days)
        self.expires = array("l", self.days)
        self.names: list[str] = [""] * self.size
        self.cores: list[str] = [""] * self.size
        self.shorts: list[str] = [""] * self.size
        self.people: list[str] = [""] * self.size
        self.texts: list[str] = [""] * self.size
        self.districts: list[str] = [""] * self.size
        self.years = array("l", self.days)
        self.types: list[tuple[str, ...]] = [()] * self.size
        self.batches = array("q", self.ids)
        stored = reader.stored_fields
        for docnum in range(self.size):
            fields = stored(docnum)
            (record_id, name, core, short, people, text, day, listed, expires, district, year, types, batch) = fields[
                "row"
            ]
            self.kinds[docnum] = 1 if fields["kind"] == LISTING else 0
            self.ids[docnum] = record_id
            self.names[docnum], self.cores[docnum], self.shorts[docnum] = name, core, short
            self.people[docnum], self.texts[docnum] = people, text
            self.days[docnum], self.listed[docnum], self.expires[docnum] = day, listed, expires
            self.districts[docnum], self.years[docnum], self.types[docnum] = district, year, types
            self.batches[docnum] = batch


class Snapshot:
    """An open reader of one index generation with its match table."""

    def __init__(self, directory: str):
        self.directory = directory
        self.ix = open_index(directory)
        self.generation = self.ix.latest_generation()
        self.reader = self.ix.reader()
        self._postings: OrderedDict[tuple[str, str], list[int]] = OrderedDict()
        self._postings_lock = threading.Lock()
        self._hidden: tuple[dt.date, frozenset[int]] | None = None
        leaves = self.reader.leaf_readers() if self.reader.doc_count_all() else []
        self.leaves = [(leaf, offset) for leaf, offset in leaves]
        self._build_table()

    # -- the match table, concatenated over segments
    def _build_table(self) -> None:
        self.kinds = bytearray()
        self.ids = array("q")
        self.days = array("l")
        self.listed = array("l")
        self.expires = array("l")
        self.names: list[str] = []
        self.cores: list[str] = []
        self.shorts: list[str] = []
        self.people: list[str] = []
        self.texts: list[str] = []
        combos: dict[tuple, int] = {}
        self.combo = array("l")
        deleted: set[int] = set()
        for leaf, offset in self.leaves:
            segid = leaf.segment().segment_id()
            table = _segment_tables.get(segid)
            if table is None:
                table = _segment_tables[segid] = SegmentTable(leaf)
            dead = leaf._perdoc.deleted_docs() if leaf.has_deletions() else ()
            deleted.update(offset + d for d in dead)
            self.kinds += table.kinds
            self.ids += table.ids
            self.days += table.days
            self.listed += table.listed
            self.expires += table.expires
            self.names += table.names
            self.cores += table.cores
            self.shorts += table.shorts
            self.people += table.people
            self.texts += table.texts
            for kind, district, year, types in zip(table.kinds, table.districts, table.years, table.types, strict=True):
                key = (kind, district, year, types)
                number = combos.get(key)
                if number is None:
                    number = combos[key] = len(combos)
                self.combo.append(number)
        # Deleted documents can match nothing: their text is blanked.
        for docnum in deleted:
            self.names[docnum] = self.cores[docnum] = self.shorts[docnum] = ""
            self.people[docnum] = self.texts[docnum] = ""
        self.deleted = frozenset(deleted)
        self.combos = list(combos)  # number → (kind, district, year, types)
        self.size = len(self.ids)
        # Newest first, then highest id: the order of equally good matches.
        self.order = sorted(
            (d for d in range(self.size) if d not in self.deleted), key=lambda d: (-self.days[d], -self.ids[d])
        )
        self.rank = array("l", bytes(array("l").itemsize * self.size))
        for position, docnum in enumerate(self.order):
            self.rank[docnum] = position
        self.live_count = len(self.order)
        for stale in set(_segment_tables) - {leaf.segment().segment_id() for leaf, _ in self.leaves}:
            # Segments merged away in this process's newest snapshot.
            _segment_tables.pop(stale, None)

    # -- postings
    def postings(self, fieldname: str, term: str) -> list[int]:
        """Global docnums having ``term`` in ``fieldname`` (deleted ones included;
        callers verify against the blanked match table)."""
        key = (fieldname, term)
        with self._postings_lock:
            cached = self._postings.get(key)
            if cached is not None:
                self._postings.move_to_end(key)
                return cached
        result: list[int] = []
        btext = term.encode("utf-8")
        fmt = self.reader.schema[fieldname].format
        for leaf, offset in self.leaves:
            try:
                matcher = leaf._terms.matcher(fieldname, btext, fmt)
            except (TermNotFound, KeyError):
                continue
            result.extend(_all_ids(matcher, offset))
        with self._postings_lock:
            self._postings[key] = result
            while len(self._postings) > POSTINGS_CACHE:
                self._postings.popitem(last=False)
        return result

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


def snapshot() -> Snapshot | None:
    """The current snapshot of this process, reopened if the index changed;
    None if no index has been built yet."""
    global _cache_pid
    root = index_root()
    if os.getpid() != _cache_pid:  # forked: forget the parent's open files
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
        _cache[root] = fresh
        # The replaced snapshot is not closed here: another thread may still be
        # reading it; its files are released when it is garbage-collected.
        return fresh


def forget() -> None:
    """Drop this process's snapshots (tests, after a rebuild in-process)."""
    with _lock:
        _cache.clear()
        _segment_tables.clear()
