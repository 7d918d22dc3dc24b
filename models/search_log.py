from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.common import utcnow


class SearchChange(db.Model):
    """One entry of the search change log: a record whose search document may
    have changed, appended in the same transaction as the change. Entries are
    ordered by ``id`` (the sequence) and never consumed: every index directory
    records the sequence it has applied, so any number of processes and
    machines follow the same log. Applying an entry re-reads the record, so
    applying it twice is harmless. Pruned after SEARCH_LOG_RETENTION_DAYS."""

    __tablename__ = "search_change"
    # AUTOINCREMENT on SQLite: a sequence number is never reused, even after pruning.
    __table_args__ = (Index("ix_search_change_created_at", "created_at"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(20))  # "case" | "listing"
    record_id: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SearchLogPruned(db.Model):
    """One row: the highest sequence pruned from the change log. An index whose
    applied sequence is below it missed entries and must be rebuilt."""

    __tablename__ = "search_log_pruned"

    id: Mapped[int] = mapped_column(primary_key=True)
    through: Mapped[int] = mapped_column(BigInteger, default=0)
    pruned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
