from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.common import utcnow


class RecordRevision(db.Model):
    """The published text of a case or listing before a correction (更正)."""

    __tablename__ = "record_revision"
    __table_args__ = (Index("ix_record_revision_record", "record_kind", "record_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(20))  # "case" | "listing"
    record_id: Mapped[int]
    revision: Mapped[int]  # the revision number this snapshot was
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)  # the 更正 note of the revision that replaced it
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
