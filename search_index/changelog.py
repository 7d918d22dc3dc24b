"""The search change log as an index sees it.

Every change to what is public appends ``SearchChange`` rows (kind, id) in the
same transaction as the change (``domain.publishing``). Rows are never consumed:
each index directory records in its ``APPLIED`` file the sequence it has applied,
so every process and every machine follows the same log at its own pace.

Sequence numbers are taken at insert time, not at commit: on PostgreSQL a
transaction holding a lower number may commit after one holding a higher number.
A follower that has applied up to N therefore remembers the numbers below N it
has not seen (``holes``, as ranges) and reads them again on every pass until
they appear or are older than ``SEARCH_LOG_GAP_SECONDS`` (a rolled-back
transaction leaves a hole that never fills). On SQLite writers are serialised
and AUTOINCREMENT never reuses a number, so holes stay empty.

Rows older than ``SEARCH_LOG_RETENTION_DAYS`` are pruned; the highest pruned
number is kept (``SearchLogPruned``), and an index that has not applied up to it
has missed entries: it is rebuilt, never left silently wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import Row, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from extensions import db
from models import SearchChange, SearchLogPruned
from models.common import utcnow

APPLIED = "APPLIED"
DEFAULT_GAP_SECONDS = 3600.0
DEFAULT_RETENTION_DAYS = 7.0
MAX_HOLE_RANGES = 200  # beyond this the oldest holes are given up (logged by the caller)


class IndexDamaged(RuntimeError):
    """The live index directory is missing or unreadable: `search reindex`."""


def gap_seconds() -> float:
    return float(current_app.config.get("SEARCH_LOG_GAP_SECONDS", DEFAULT_GAP_SECONDS))


def retention_days() -> float:
    return float(current_app.config.get("SEARCH_LOG_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


@dataclass
class Applied:
    """What an index directory has applied: every entry up to ``seq`` except
    the ``holes`` ([first, last, first seen as Unix time])."""

    seq: int = 0
    holes: list[list] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps({"seq": self.seq, "holes": self.holes})

    @classmethod
    def from_json(cls, text: str) -> Applied:
        data = json.loads(text)
        holes = [[int(a), int(b), float(t)] for a, b, t in data.get("holes", [])]
        return cls(seq=int(data["seq"]), holes=holes)


def read_applied(directory: str) -> Applied | None:
    """The directory's applied sequence; None if the file is missing or damaged."""
    try:
        with open(os.path.join(directory, APPLIED), encoding="utf-8") as handle:
            return Applied.from_json(handle.read())
    except (OSError, ValueError, KeyError, TypeError):
        return None


def applied_stamp(directory: str) -> int | None:
    """Changes whenever the APPLIED file is replaced (cheap: one stat)."""
    try:
        return os.stat(os.path.join(directory, APPLIED)).st_mtime_ns
    except OSError:
        return None


def write_applied(directory: str, applied: Applied) -> None:
    temporary = os.path.join(directory, f".{APPLIED}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(applied.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, os.path.join(directory, APPLIED))


def pending_clause(applied: Applied):
    return or_(SearchChange.id > applied.seq, *(SearchChange.id.between(a, b) for a, b, _ in applied.holes))


def read_entries(applied: Applied, limit: int) -> Sequence[Row]:
    """The next entries not applied, oldest first: (id, record_kind, record_id)."""
    return db.session.execute(
        select(SearchChange.id, SearchChange.record_kind, SearchChange.record_id)
        .where(pending_clause(applied))
        .order_by(SearchChange.id)
        .limit(limit)
    ).all()


def pending_count(applied: Applied) -> int:
    return db.session.scalar(select(func.count()).select_from(SearchChange).where(pending_clause(applied))) or 0


def pending_keys(applied: Applied, limit: int) -> tuple[set[tuple[str, int]], int, bool]:
    """The (kind, id) of the entries not applied (at most ``limit`` entries),
    the highest sequence among them, and whether there were more."""
    rows = read_entries(applied, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {(r.record_kind, r.record_id) for r in rows}, (rows[-1].id if rows else applied.seq), more


def _gaps(first: int, last: int, present: Iterable[int]) -> list[tuple[int, int]]:
    """The runs of numbers in [first, last] not in ``present`` (sorted)."""
    out, expected = [], first
    for number in present:
        if number < first:
            continue
        if number > last:
            break
        if number > expected:
            out.append((expected, number - 1))
        expected = number + 1
    if expected <= last:
        out.append((expected, last))
    return out


def advance(applied: Applied, ids: Sequence[int], now: float | None = None, gap: float | None = None) -> Applied:
    """The state after applying the entries ``ids`` (as read by ``read_entries``);
    holes older than ``gap`` seconds (SEARCH_LOG_GAP_SECONDS) are given up."""
    now = time.time() if now is None else now
    ids = sorted(ids)
    newer = [number for number in ids if number > applied.seq]
    seq = newer[-1] if newer else applied.seq
    holes: list[list] = []
    for first, last, since in applied.holes:
        holes.extend([a, b, since] for a, b in _gaps(first, last, ids))
    holes.extend([a, b, now] for a, b in _gaps(applied.seq + 1, seq, newer))
    oldest = now - (gap_seconds() if gap is None else gap)
    holes = [hole for hole in holes if hole[2] >= oldest][-MAX_HOLE_RANGES:]
    return Applied(seq=seq, holes=holes)


def start_point() -> Applied:
    """The state a rebuild reading the database now can claim: every entry
    visible now, minus the numbers below the highest that are not visible yet
    (transactions still in flight; looked for since SEARCH_LOG_GAP_SECONDS)."""
    seq = db.session.scalar(select(func.max(SearchChange.id))) or pruned_through()
    cutoff = utcnow() - dt.timedelta(seconds=gap_seconds())
    settled = db.session.scalar(select(func.max(SearchChange.id)).where(SearchChange.created_at < cutoff))
    low = max(settled or 0, pruned_through())
    present = db.session.scalars(
        select(SearchChange.id).where(SearchChange.id > low, SearchChange.id <= seq).order_by(SearchChange.id)
    )
    now = time.time()
    holes = [[a, b, now] for a, b in _gaps(low + 1, seq, present)][-MAX_HOLE_RANGES:]
    db.session.rollback()
    return Applied(seq=seq, holes=holes)


def last_sequence() -> int:
    return db.session.scalar(select(func.max(SearchChange.id))) or 0


def pruned_through() -> int:
    return db.session.scalar(select(SearchLogPruned.through).where(SearchLogPruned.id == 1)) or 0


def behind(applied: Applied) -> bool:
    """Entries this index never applied have been pruned: it must be rebuilt."""
    return applied.seq < pruned_through()


def prune(now: dt.datetime | None = None) -> int:
    """Delete the entries older than the retention period (always keeping the
    newest, so the sequence stays visible) and remember the highest deleted
    number. Returns the number of entries deleted."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=retention_days())
    newest = last_sequence()
    through = db.session.scalar(
        select(func.max(SearchChange.id)).where(SearchChange.created_at < cutoff, SearchChange.id < newest)
    )
    if not through:
        db.session.rollback()
        return 0
    deleted = db.session.execute(
        delete(SearchChange).where(SearchChange.id <= through).execution_options(synchronize_session=False)
    ).rowcount
    _record_pruned(through, now)
    db.session.commit()
    return deleted or 0


def _record_pruned(through: int, now: dt.datetime) -> None:
    changed = db.session.execute(
        update(SearchLogPruned)
        .where(SearchLogPruned.id == 1, SearchLogPruned.through < through)
        .values(through=through, pruned_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed or db.session.get(SearchLogPruned, 1) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(SearchLogPruned(id=1, through=through, pruned_at=now))
    except IntegrityError:  # another process recorded it first
        db.session.execute(
            update(SearchLogPruned)
            .where(SearchLogPruned.id == 1, SearchLogPruned.through < through)
            .values(through=through, pruned_at=now)
        )
