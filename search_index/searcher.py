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
import re
import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound

from search_index.analysis import is_cjk, terms
from search_index.documents import LISTING
from search_index.indexer import current_dir, index_root, open_index, schema_version
from search_index.schema import SCHEMA_VERSION

_lock = threading.Lock()
_cache: dict[str, Snapshot] = {}
_cache_pid = os.getpid()
_segment_tables: dict[str, SegmentTable] = {}

POSTINGS_CACHE_BYTES = 8 << 20
TEXT_COLUMNS = ("name", "core", "short", "people", "docno", "code", "text")
INDEXED_FIELDS = ("name", "people", "text")  # with bigram postings; the others are scanned
PREFIX_TERMS = 200  # terms a trailing letter/digit run may expand to
MEMO_VERIFIED_ABOVE = 20_000  # candidates; fewer are verified on every query
MEMO_VERIFIED = (
    8  # verified match lists kept per snapshot  # decoded posting lists kept per snapshot (8 bytes a posting)
)


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
        "amounts",
        "name",
        "core",
        "short",
        "people",
        "docno",
        "code",
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
        self.amounts = array("d", bytes(8 * size))
        self.combo = array("l", bytes(array("l").itemsize * size))
        # Texts go straight into one buffer per field: keeping 100,000 small
        # strings alive while the stored documents are read would leave the
        # heap fragmented long after they are joined.
        writers = [io.StringIO() for _ in TEXT_COLUMNS]
        bounds = [array("l", [0]) for _ in TEXT_COLUMNS]
        positions = [0] * len(TEXT_COLUMNS)
        starts: dict[str, array] = {}
        keys: dict[tuple, int] = {}
        stored = reader.stored_fields
        nan = float("nan")
        for docnum in range(size):
            fields = stored(docnum)
            (record_id, name, core, short, person, docno, code, text, day, listed, expires, amount, *facets) = fields[
                "row"
            ]
            district, year, types, _batch = facets
            kind = 1 if fields["kind"] == LISTING else 0
            self.kinds[docnum] = kind
            self.ids[docnum] = record_id
            for field_number, value in enumerate((name, core, short, person, docno, code, text)):
                writers[field_number].write(value)
                writers[field_number].write("\x00")
                positions[field_number] += len(value) + 1
                bounds[field_number].append(positions[field_number])
            self.days[docnum], self.listed[docnum], self.expires[docnum] = day, listed, expires
            self.amounts[docnum] = nan if amount is None else amount
            key = (kind, district, year, tuple(types))
            number = keys.get(key)
            if number is None:
                number = keys[key] = len(keys)
            self.combo[docnum] = number
            # Where a name (or the name without its place prefix) begins: the
            # candidates of the "starts with the query" rank.
            for prefix in {name[:2], short[:2]}:
                found = starts.get(prefix)
                if found is None:
                    found = starts[prefix] = array("l")
                found.append(docnum)
        self.starts = starts
        for name, writer, bound in zip(TEXT_COLUMNS, writers, bounds, strict=True):
            setattr(self, name, TextColumn(writer.getvalue(), bound))
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
        self.amounts = _joined("d", [t.amounts for t in tables])
        offsets = [offset for _, offset in self.tables]
        for name in TEXT_COLUMNS:
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
        self.rank = _inverse(order, self.size)
        # By amount, high to low, unknown amounts last; newest first among equals.
        amounts = self.amounts
        by_amount = sorted(
            order, key=lambda d: -amounts[d] if amounts[d] == amounts[d] else float("inf")
        )  # stable: keeps newest first
        self.rank_amount = _inverse(by_amount, self.size)
        self.live_count = len(self.order)
        # NumPy views for the set algebra of a query (masks of ``size`` booleans).
        self.combo_np = np.frombuffer(self.combo, dtype=np.int64) if self.size else np.zeros(0, np.int64)
        self.rank_np = np.frombuffer(self.rank, dtype=np.int64) if self.size else np.zeros(0, np.int64)
        self.rank_amount_np = np.frombuffer(self.rank_amount, dtype=np.int64) if self.size else np.zeros(0, np.int64)
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

    # -- matching: what the query module asks
    def find(self, fieldname: str, text: str) -> np.ndarray:
        """A mask of the live documents having ``text`` (folded, two or more
        characters) in a field."""
        column = getattr(self, fieldname)
        if fieldname not in INDEXED_FIELDS:
            return self.mask(self.verify(column, None, text))
        if len(text) == 2 and is_cjk(text[0]) and is_cjk(text[1]):
            # The text is one whole term (a CJK pair): its posting list is the answer.
            return self.mask(self.postings(fieldname, text)) & self.live_mask
        candidates = self._candidates(fieldname, text)
        if candidates is not None and len(candidates) < MEMO_VERIFIED_ABOVE:
            return self.mask(self.verify(column, candidates, text))
        # A text nearly every document has (有限公司): verify once per generation.
        key = (fieldname, text)
        with self.memo_lock:
            memo: OrderedDict = self.memo.setdefault("verified", OrderedDict())
            found = memo.get(key)
            if found is not None:
                memo.move_to_end(key)
                return found.copy()
        found = self.mask(self.verify(column, candidates, text))
        with self.memo_lock:
            memo[key] = found
            while len(memo) > MEMO_VERIFIED:
                memo.popitem(last=False)
        return found.copy()

    def find_within(self, fieldname: str, text: str, within: np.ndarray) -> np.ndarray:
        """Like ``find`` for any text (one character too), checked only in the
        documents of the mask ``within``."""
        return self.mask(self.verify(getattr(self, fieldname), np.flatnonzero(within).tolist(), text))

    def _candidates(self, fieldname: str, text: str) -> Sequence[int] | None:
        """Docnums that may contain ``text`` in a field: the posting list of its
        rarest term. None if it has no usable term (then every document is a
        candidate)."""
        best: Sequence[int] | None = None
        best_size = None
        best_token = None
        for token in terms(text):
            if token[0] < "\x80":
                if text.startswith(token):
                    # Letters or digits the text starts with may be the end of a longer
                    # run in the document (2025 in 12025): no term to look up.
                    continue
                if text.endswith(token):  # may continue beyond what was typed: all terms it starts
                    expanded = self.expand_prefix(fieldname, token, limit=PREFIX_TERMS + 1)
                    if len(expanded) > PREFIX_TERMS:
                        continue  # too common a start to be worth looking up
                    size = sum(self.doc_frequency(fieldname, t) for t in expanded)
                    if best_size is None or size < best_size:
                        ids: list[int] = []
                        for term in expanded:
                            ids.extend(self.postings(fieldname, term))
                        best, best_size, best_token = ids, size, None
                    continue
            elif len(token) == 1:  # a lone CJK character: indexed only when it stands alone
                continue
            size = self.doc_frequency(fieldname, token)
            if size == 0:
                return []
            if best_size is None or size < best_size:
                best, best_size, best_token = None, size, token
        if best_token is not None:
            best = self.postings(fieldname, best_token)
        return best

    def name_whole(self, matched: np.ndarray, text: str) -> np.ndarray:
        """Documents of ``matched`` whose full name, or name without its legal
        form, is ``text``."""
        return matched & self.mask(self.postings("name_exact", re.sub(r"\s+", "", text)))

    def name_starts(self, matched: np.ndarray, text: str) -> np.ndarray:
        """Documents of ``matched`` whose name, or name without its place prefix,
        starts with ``text``: look where there are fewer to look."""
        begins = np.frombuffer(self.name_start_docs(text[:2]), dtype=np.int64)
        named = np.flatnonzero(matched)
        pool = named if len(named) < len(begins) else begins[matched[begins]]
        name, short = self.name, self.short
        return self.mask([d for d in pool.tolist() if name.startswith(d, text) or short.startswith(d, text)])

    def person_whole(self, matched: np.ndarray, text: str) -> np.ndarray:
        """Documents of ``matched`` with a person named exactly ``text``."""
        people = self.people
        return self.mask([d for d in np.flatnonzero(matched).tolist() if text in people.get(d).split(" ")])

    def whole(self, fieldname: str, matched: np.ndarray, text: str) -> np.ndarray:
        """Documents of ``matched`` whose field (or one of its space-separated
        values) is ``text``."""
        column = getattr(self, fieldname)
        return self.mask([d for d in np.flatnonzero(matched).tolist() if text in column.get(d).split(" ")])

    def top(self, docs: np.ndarray, count: int, sort: str | None = None) -> list[int]:
        """The first ``count`` documents of a mask, newest first (or in the
        order of ``sort``: "date", "-amount", "amount")."""
        index = np.flatnonzero(docs)
        if count <= 0 or not len(index):
            return []
        ranks = (self.rank_amount_np if sort in ("-amount", "amount") else self.rank_np)[index]
        if sort in ("date", "amount"):
            ranks = -ranks
        if count < len(index):
            chosen = np.argpartition(ranks, count - 1)[:count]
            index, ranks = index[chosen], ranks[chosen]
        return index[np.argsort(ranks, kind="stable")][:count].tolist()

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

    def name_start_docs(self, prefix: str) -> array:
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


def _inverse(order: list[int], size: int) -> array:
    """position of each docnum in ``order`` (docnums not in it: 0, never asked)."""
    rank = array("l", bytes(array("l").itemsize * size))
    for position, docnum in enumerate(order):
        rank[docnum] = position
    return rank


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
    if directory is None or schema_version(directory) != SCHEMA_VERSION:
        return None  # not built yet, or built by an older version: `search reindex`
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
