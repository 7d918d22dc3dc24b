from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.common import utcnow

KIND_CASES = "cases"
KIND_LISTINGS = "listings"
KIND_LABELS = {KIND_CASES: "重大劳动保障违法案件", KIND_LISTINGS: "拖欠农民工工资失信联合惩戒对象名单"}

# draft → submitted → published → withdrawn; submitted → draft when sent back.
BATCH_STATUSES = ("draft", "submitted", "published", "withdrawn")
BATCH_STATUS_LABELS = {"draft": "草稿", "submitted": "待审核", "published": "已发布", "withdrawn": "已撤回"}


class Batch(db.Model):
    """批次: one numbered publication (第N批) of cases or of listings."""

    __tablename__ = "batch"
    __table_args__ = (
        UniqueConstraint("kind", "year", "number", name="uq_batch_kind_year_number"),
        Index("ix_batch_status_published_on", "status", "published_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int]
    number: Mapped[int | None]  # 第N批, assigned when published if not given
    title: Mapped[str] = mapped_column(String(200))
    published_on: Mapped[dt.date | None]
    authority: Mapped[str] = mapped_column(String(200))  # 发布机关
    status: Mapped[str] = mapped_column(String(20), default="draft")
    is_sample: Mapped[bool] = mapped_column(default=False)
    source_filename: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[dt.datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)
    withdrawn_at: Mapped[dt.datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)  # 专项行动

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return BATCH_STATUS_LABELS.get(self.status, self.status)

    def __repr__(self) -> str:
        return f"<Batch {self.id} {self.kind} {self.year}-{self.number} {self.status}>"
