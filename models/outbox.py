from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.common import utcnow


class SearchOutbox(db.Model):
    """A record whose search document may have changed, written in the same
    transaction as the change. The indexer re-reads the record and upserts or
    deletes its document, so applying an entry twice is harmless."""

    __tablename__ = "search_outbox"
    __table_args__ = (Index("ix_search_outbox_record", "record_kind", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(20))  # "case" | "listing"
    record_id: Mapped[int]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
