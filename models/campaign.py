from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db
from models.common import utcnow


class Campaign(db.Model):
    """专项行动: a special campaign of the bureau (e.g. 根治欠薪冬季攻坚). A batch
    is tagged with one (its records belong to it), and a case may be tagged on
    its own, which overrides its batch's tag."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    starts_on: Mapped[dt.date]
    ends_on: Mapped[dt.date | None]
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def period_label(self) -> str:
        start = f"{self.starts_on.year}年{self.starts_on.month}月{self.starts_on.day}日"
        if self.ends_on is None:
            return f"{start}起"
        return f"{start}至{self.ends_on.year}年{self.ends_on.month}月{self.ends_on.day}日"

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name}>"
