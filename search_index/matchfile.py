"""Per-segment match files: what queries need of one Whoosh segment, written
once and mapped read-only by every process, so a web worker opens an index in
milliseconds and all workers share the same pages.

One file per segment, ``<segment id>.match`` in the index directory (Whoosh's
own clean-up removes it with its segment). Written to a dot-file and renamed,
so a reader sees a whole file or none; any process may write a missing one
(the writer does at commit), and two that race write the same bytes.

Layout: an 8-byte magic and length, a JSON header naming each array (dtype,
offset, length), then the arrays, 64-byte aligned:

- per document: kind, record id, date, listed/expiry dates, amount, facet
  combination number (the header lists the combinations: kind, district, year,
  violation types, campaign id or 0), where the name without its legal form ends and where
  the name without its place prefix starts (byte offsets in the name);
- per text field (name, people, docno, code, text): the folded texts as UTF-8,
  each followed by a NUL, with their start offsets; and an occurrence index:
  every pair of adjacent characters (no space, no NUL) as a 64-bit key, sorted,
  with the byte position and document of each occurrence. A fragment is found
  by taking the occurrences of its rarest pair and comparing the bytes around
  them in NumPy — exact, and no per-document Python;
- pinyin syllable pairs of the name without its legal form (for "did you mean");
- two rank orders of the documents: newest first, and by amount.

UTF-8 is self-synchronising: a byte-level match of a valid UTF-8 string starting
at a character boundary is a character-level match.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import threading
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from search_index.analysis import pinyin_terms

MAGIC = b"GSMATCH1"
VERSION = 2  # 2: the campaign in the facet combination
TEXT_FIELDS = ("name", "people", "docno", "code", "text")
PINYIN = "pinyin"
CHUNK = 20_000  # documents per step of the builder
_ALIGN = 64


def file_name(segment_id: str) -> str:
    return f"{segment_id}.match"


def pair_keys(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The keys of the adjacent character pairs of ``text`` and each pair's byte
    offset in ``text`` encoded as UTF-8 (pairs with a space or NUL left out)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if len(codes) < 2:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    widths = 1 + (codes >= 0x80) + (codes >= 0x800) + (codes >= 0x10000)
    offsets = np.cumsum(widths) - widths
    first, second = codes[:-1], codes[1:]
    keep = (first != 0) & (second != 0) & (first != 32) & (second != 32)
    return ((first << np.uint64(21)) | second)[keep], offsets[:-1][keep].astype(np.int64)


def pinyin_key(term: str) -> int:
    return zlib.crc32(term.encode("utf-8"))


class _Postings:
    """Occurrences collected chunk by chunk, sorted once at the end."""

    def __init__(self) -> None:
        self.keys: list[np.ndarray] = []
        self.pos: list[np.ndarray] = []
        self.docs: list[np.ndarray] = []

    def add(self, keys: np.ndarray, pos: np.ndarray, docs: np.ndarray) -> None:
        self.keys.append(keys)
        # Four bytes a position while the texts stay under 4 GiB (the usual case).
        self.pos.append(pos.astype(np.uint32) if not len(pos) or pos[-1] < 2**32 else pos.astype(np.uint64))
        self.docs.append(docs.astype(np.uint32))

    def finish(self, wide: bool) -> dict[str, np.ndarray]:
        position_type = np.uint64 if wide else np.uint32
        keys = np.concatenate(self.keys) if self.keys else np.zeros(0, np.uint64)
        self.keys = []
        pos = np.concatenate(self.pos, dtype=position_type) if self.pos else np.zeros(0, position_type)
        self.pos = []
        docs = np.concatenate(self.docs) if self.docs else np.zeros(0, np.uint32)
        self.docs = []
        # Stable: within a key, occurrences stay in text order (position and document ascending).
        order = np.argsort(keys, kind="stable")
        keys, pos, docs = keys[order], pos[order], docs[order]
        del order
        distinct, starts = np.unique(keys, return_index=True)
        bounds = np.append(starts, len(keys)).astype(np.int64)
        return {
            "keys": distinct.astype(np.uint64),
            "bounds": bounds,
            "pos": pos,
            "docs": docs,
        }


class MatchBuilder:
    """Collects the rows of one segment, in docnum order, and writes its file."""

    def __init__(self) -> None:
        self.count = 0
        self._pending: list[tuple[int, tuple]] = []
        self._scalars: dict[str, list[np.ndarray]] = {
            name: [] for name in ("kind", "id", "day", "listed", "expires", "amount", "core_end", "short_start")
        }
        self._combo: list[np.ndarray] = []
        self.combos: dict[tuple, int] = {}
        self._blobs: dict[str, list[bytes]] = {name: [] for name in TEXT_FIELDS}
        self._blob_size = dict.fromkeys(TEXT_FIELDS, 0)
        self._bounds: dict[str, list[np.ndarray]] = {name: [] for name in TEXT_FIELDS}
        self._postings = {name: _Postings() for name in (*TEXT_FIELDS, PINYIN)}

    def add(self, kind: int, row: Sequence[Any]) -> None:
        """``row`` as ``documents.ROW_FIELDS``; ``kind`` 0 case, 1 listing."""
        self._pending.append((kind, row))
        self.count += 1
        if len(self._pending) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        rows = self._pending
        if not rows:
            return
        self._pending = []
        base = self.count - len(rows)
        scalars = self._scalars
        scalars["kind"].append(np.array([k for k, _ in rows], dtype=np.uint8))
        scalars["id"].append(np.array([r[0] for _, r in rows], dtype=np.int64))
        scalars["day"].append(np.array([r[8] for _, r in rows], dtype=np.int32))
        scalars["listed"].append(np.array([r[9] for _, r in rows], dtype=np.int32))
        scalars["expires"].append(np.array([r[10] for _, r in rows], dtype=np.int32))
        scalars["amount"].append(np.array([np.nan if r[11] is None else r[11] for _, r in rows], dtype=np.float64))
        core_end, short_start, combo = [], [], []
        pinyin_keys: list[int] = []
        pinyin_docs: list[int] = []
        for number, (kind, row) in enumerate(rows):
            name, core, short = row[1].encode(), row[2].encode(), row[3].encode()
            if name.startswith(core) and core.endswith(short):
                core_end.append(len(core))
                short_start.append(len(core) - len(short))
            else:
                core_end.append(-1)
                short_start.append(0)
            key = (kind, row[12], row[13], tuple(row[14]), row[16])
            combo.append(self.combos.setdefault(key, len(self.combos)))
            for term in set(pinyin_terms(row[2])):
                pinyin_keys.append(pinyin_key(term))
                pinyin_docs.append(base + number)
        scalars["core_end"].append(np.array(core_end, dtype=np.int32))
        scalars["short_start"].append(np.array(short_start, dtype=np.int32))
        self._combo.append(np.array(combo, dtype=np.int32))
        self._postings[PINYIN].add(
            np.array(pinyin_keys, dtype=np.uint64), np.zeros(len(pinyin_keys), np.int64), np.array(pinyin_docs)
        )
        for column, name in zip((1, 4, 5, 6, 7), TEXT_FIELDS, strict=True):
            joined = "\x00".join(row[column] for _, row in rows) + "\x00"
            data = joined.encode("utf-8")
            keys, offsets = pair_keys(joined)
            # The document of each character: how many NULs come before it.
            ends = np.frombuffer(data, dtype=np.uint8) == 0
            doc_of_byte = np.cumsum(ends) - ends
            starts = np.flatnonzero(np.concatenate(([True], ends[:-1]))).astype(np.int64)
            offset = self._blob_size[name]
            self._postings[name].add(keys, offsets + offset, doc_of_byte[offsets] + base)
            self._bounds[name].append(starts + offset)
            self._blobs[name].append(data)
            self._blob_size[name] += len(data)

    def write(self, path: str) -> None:
        """Write the file atomically (a dot-file in the same directory, renamed)."""
        self._flush()
        arrays: dict[str, np.ndarray | bytes] = {}
        for name, parts in self._scalars.items():
            arrays[name] = np.concatenate(parts) if parts else np.zeros(0)
        arrays["combo"] = np.concatenate(self._combo) if self._combo else np.zeros(0, np.int32)
        for name in TEXT_FIELDS:
            size = self._blob_size[name]
            arrays[f"{name}.blob"] = b"".join(self._blobs[name])
            arrays[f"{name}.starts"] = np.append(
                np.concatenate(self._bounds[name]) if self._bounds[name] else np.zeros(0, np.int64), size
            ).astype(np.int64)
            for part, values in self._postings[name].finish(wide=size >= 2**32).items():
                arrays[f"{name}.{part}"] = values
        for part, values in self._postings[PINYIN].finish(wide=False).items():
            arrays[f"{PINYIN}.{part}"] = values
        day = arrays["day"].astype(np.int64)
        ids = arrays["id"]
        amount = arrays["amount"]
        # Newest first (then highest id); by amount high to low, unknown last, then newest.
        arrays["order.date"] = np.lexsort((-ids, -day)).astype(np.uint32)
        arrays["order.amount"] = np.lexsort((-ids, -day, -np.nan_to_num(amount, nan=0.0), np.isnan(amount))).astype(
            np.uint32
        )
        combos = [[k, d, y, list(t), c] for (k, d, y, t, c), _ in sorted(self.combos.items(), key=lambda item: item[1])]
        _write(path, arrays, {"version": VERSION, "size": self.count, "combos": combos})


def _write(path: str, arrays: dict[str, np.ndarray | bytes], meta: dict[str, Any]) -> None:
    layout: dict[str, list] = {}
    offset = 0
    for name, value in arrays.items():
        data = value if isinstance(value, bytes) else value
        nbytes = len(data) if isinstance(data, bytes) else data.nbytes
        dtype = "u1" if isinstance(data, bytes) else data.dtype.str
        count = nbytes if isinstance(data, bytes) else len(data)
        layout[name] = [dtype, offset, count]
        offset += (nbytes + _ALIGN - 1) // _ALIGN * _ALIGN
    header = json.dumps({**meta, "arrays": layout}, ensure_ascii=False).encode("utf-8")
    start = (16 + len(header) + _ALIGN - 1) // _ALIGN * _ALIGN
    directory, base = os.path.split(path)
    # One name per thread: the follower thread (at commit) and a search (for a
    # segment whose file is not there yet) may write the same file at once.
    temporary = os.path.join(directory, f".{base}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(temporary, "wb") as out:
            out.write(MAGIC + start.to_bytes(8, "little") + header)
            for name, value in arrays.items():
                out.seek(start + layout[name][1])
                out.write(value if isinstance(value, bytes) else memoryview(np.ascontiguousarray(value)).cast("B"))
            out.truncate(start + offset)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


class MatchFile:
    """A segment's match file, mapped read-only: NumPy views on shared pages."""

    def __init__(self, path: str):
        with open(path, "rb") as handle:
            self.map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        if self.map[:8] != MAGIC:
            raise ValueError(f"{path}: not a match file")
        start = int.from_bytes(self.map[8:16], "little")
        end = self.map.find(b"\x00", 16, start)
        meta = json.loads(bytes(self.map[16 : start if end < 0 else end]).rstrip(b"\x00 ").decode("utf-8"))
        self.size: int = meta["size"]
        self.combos: list[tuple] = [(k, d, y, tuple(t), c) for k, d, y, t, c in meta["combos"]]
        self._layout = meta["arrays"]
        self._arrays = {
            name: np.frombuffer(self.map, dtype=np.dtype(dtype), count=count, offset=start + offset)
            for name, (dtype, offset, count) in self._layout.items()
        }
        self.start = start

    def offset(self, name: str) -> int:
        """Where an array starts in the file (for ``map.find`` on a text blob)."""
        return self.start + self._layout[name][1]

    def __getitem__(self, name: str) -> np.ndarray:
        return self._arrays[name]

    def posting(self, fieldname: str, key: int) -> tuple[int, int]:
        """The (first, end) range of ``key`` in a field's occurrence arrays."""
        keys = self._arrays[f"{fieldname}.keys"]
        at = int(np.searchsorted(keys, np.uint64(key)))
        if at < len(keys) and int(keys[at]) == key:
            bounds = self._arrays[f"{fieldname}.bounds"]
            return int(bounds[at]), int(bounds[at + 1])
        return 0, 0

    def text(self, fieldname: str, doc: int) -> str:
        starts = self._arrays[f"{fieldname}.starts"]
        return bytes(self._arrays[f"{fieldname}.blob"][starts[doc] : starts[doc + 1] - 1]).decode("utf-8")

    def core_name(self, doc: int) -> str:
        starts = self._arrays["name.starts"]
        end = int(self._arrays["core_end"][doc])
        stop = starts[doc + 1] - 1 if end < 0 else starts[doc] + end
        return bytes(self._arrays["name.blob"][starts[doc] : stop]).decode("utf-8")

    def close(self) -> None:
        self._arrays.clear()
        with contextlib.suppress(BufferError, ValueError):
            self.map.close()
