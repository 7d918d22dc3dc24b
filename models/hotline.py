from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from extensions import db


class Hotline(db.Model):
    """A published complaint hotline (举报投诉电话) of the bureau or a district office."""

    __tablename__ = "hotline"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    district: Mapped[str | None] = mapped_column(String(50))
    unit: Mapped[str] = mapped_column(String(200))  # 单位
    phone: Mapped[str] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    hours: Mapped[str | None] = mapped_column(String(100))
