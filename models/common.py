"""Column types and mixins shared by the record models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> dt.datetime:
    """Naive UTC, the one way timestamps are stored."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


Money = Numeric(16, 2)


class EnterpriseSnapshot:
    """The enterprise details as published with a record; never updated from the
    enterprise table afterwards (corrections create a revision)."""

    # Indexed: the blacklist check (domain.verdict) looks records up by exact
    # name, credit code or registration number.
    enterprise_name: Mapped[str] = mapped_column(String(200), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    reg_no: Mapped[str | None] = mapped_column(String(15), index=True)
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    district: Mapped[str] = mapped_column(String(50))
    industry: Mapped[str | None] = mapped_column(String(100))


class PublicationState:
    """Publication, withdrawal and correction fields common to cases and listings."""

    status: Mapped[str] = mapped_column(String(20), default="draft")
    published_at: Mapped[dt.datetime | None]
    withdrawn_at: Mapped[dt.datetime | None]
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(default=1)
    revised_at: Mapped[dt.datetime | None]
    correction_note: Mapped[str | None] = mapped_column(Text)
    source_row: Mapped[int | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


__all__ = ["Decimal", "EnterpriseSnapshot", "Money", "PublicationState", "utcnow"]
