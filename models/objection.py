from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.common import utcnow

# 待处理 → 处理中 → 已答复 (a reply can be revised; the audit log keeps each)
OBJECTION_STATUSES = ("pending", "in_progress", "answered")
OBJECTION_STATUS_LABELS = {"pending": "待处理", "in_progress": "处理中", "answered": "已答复"}


class Objection(db.Model):
    """异议: a member of the public disputes a published record. The requester's
    name and contact are private: shown in the staff area only."""

    __tablename__ = "objection"
    __table_args__ = (
        Index("ix_objection_status_created", "status", "created_at"),
        # the per-address limit counts recent requests from one source
        Index("ix_objection_source_created", "source_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)  # told to the requester
    record_kind: Mapped[str] = mapped_column(String(20))  # "case" | "listing"
    record_id: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(200))
    contact_key: Mapped[str] = mapped_column(String(200))  # the contact normalised, for the look-up
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[dt.datetime | None]
    replied_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    source_key: Mapped[str] = mapped_column(String(64))  # keyed hash of the network address, never the address
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def status_label(self) -> str:
        return OBJECTION_STATUS_LABELS.get(self.status, self.status)

    def __repr__(self) -> str:
        return f"<Objection {self.reference} {self.status}>"
