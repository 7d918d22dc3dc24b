from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.common import Reviewed

# draft → submitted → published; submitted → draft when sent back. A published
# bulletin is corrected (更正) as a new revision, never edited in place.
BULLETIN_STATUS_LABELS = {"draft": "草稿", "submitted": "待审核", "published": "已发布"}


class Bulletin(Reviewed, db.Model):
    """工作通报: the bureau's figures for a period (a year and a month range) that no
    published record holds, such as calls answered or wages recovered."""

    __tablename__ = "bulletin"
    __table_args__ = (Index("ix_bulletin_period", "status", "year", "month_from", "month_to"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int]
    month_from: Mapped[int]
    month_to: Mapped[int]
    authority: Mapped[str] = mapped_column(String(200))  # 发布机关
    # After the review columns (which come from the mixin), where they have always stood.
    revision: Mapped[int] = mapped_column(default=1, sort_order=1)
    revised_at: Mapped[dt.datetime | None] = mapped_column(sort_order=1)
    correction_note: Mapped[str | None] = mapped_column(Text, sort_order=1)

    values: Mapped[list[BulletinValue]] = relationship(
        back_populates="bulletin", order_by="BulletinValue.position", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return BULLETIN_STATUS_LABELS.get(self.status, self.status)

    @property
    def months(self) -> tuple[int, int]:
        return self.month_from, self.month_to

    def __repr__(self) -> str:
        return f"<Bulletin {self.id} {self.year} {self.month_from}-{self.month_to} {self.status}>"


class BulletinValue(db.Model):
    """One indicator of a bulletin, with the name, unit and direction it was
    published with (the catalogue may change later; the bulletin does not)."""

    __tablename__ = "bulletin_value"
    __table_args__ = (UniqueConstraint("bulletin_id", "name", name="uq_bulletin_value_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletin.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    unit: Mapped[str] = mapped_column(String(20))
    lower_is_better: Mapped[bool] = mapped_column(default=False)
    value: Mapped[Decimal] = mapped_column(Numeric(20, 4))

    bulletin: Mapped[Bulletin] = relationship(back_populates="values")
