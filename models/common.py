"""Column types and mixins shared by the record models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column


def utcnow() -> dt.datetime:
    """Naive UTC, the one way timestamps are stored."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


Money = Numeric(16, 2)

# The statuses in which a record holds its decision number (文书编号/决定文书号):
# once published, until withdrawn (撤回). A removed or revoked listing keeps its
# number (it can be reinstated); drafts hold none, so two drafts may race for one.
NUMBER_HOLDING_STATUSES = ("published", "removed", "revoked")


def document_number_unique(table: str) -> Index:
    """The database's last word on duplicate decision numbers: a partial unique
    index over the records that hold their number (SQLite and PostgreSQL alike)."""
    where = text("status IN ({})".format(", ".join(f"'{status}'" for status in NUMBER_HOLDING_STATUSES)))
    return Index(
        f"uq_{table}_document_no_key_held",
        "document_no_key",
        unique=True,
        sqlite_where=where,
        postgresql_where=where,
    )


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


class Reviewed:
    """The review columns of a work bulletin and a grading year (``domain.review``):
    who made, submitted and published it, and when. A model's own columns that
    follow them take ``sort_order=1``, so the tables keep their column order; a
    batch has the same columns in an older order and declares its own."""

    status: Mapped[str] = mapped_column(String(20), default="draft")
    published_on: Mapped[dt.date | None]
    is_sample: Mapped[bool] = mapped_column(default=False)
    source_filename: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at: Mapped[dt.datetime | None]
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[dt.datetime | None]
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    review_comment: Mapped[str | None] = mapped_column(Text)


__all__ = ["Decimal", "EnterpriseSnapshot", "Money", "PublicationState", "Reviewed", "utcnow"]
