from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.batch import Batch
from models.common import EnterpriseSnapshot, Money, PublicationState, document_number_unique
from models.enterprise import Enterprise

# draft → published → withdrawn (撤回, published in error) | removed (提前移出/信用修复)
# | revoked (撤销); removed/revoked → published again on 恢复 (reinstatement).
# Expiry is not a status: it is derived from expires_on and today's date.
LISTING_STATUSES = ("draft", "published", "withdrawn", "removed", "revoked")
REGIME_2017 = "2017"  # 人社部规〔2017〕16号: 1 year, renewable
REGIME_2022 = "2022"  # 第45号令, in force from 2022-01-01: 3 years from the decision


class Listing(EnterpriseSnapshot, PublicationState, db.Model):
    """失信联合惩戒对象名单 entry as published in a batch."""

    __tablename__ = "listing"
    __table_args__ = (
        Index("ix_listing_status_expires", "status", "expires_on", "listed_on"),
        # The default order of the public list (newest first): read in index order and
        # stop after one page, instead of sorting every listing in force.
        Index("ix_listing_status_listed", "status", "listed_on", "id"),
        Index("ix_listing_status_district_year", "status", "district", "year"),
        Index("ix_listing_batch", "batch_id", "id"),
        document_number_unique("listing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)  # 列入事由
    basis: Mapped[str | None] = mapped_column(Text)  # 列入依据
    workers_involved: Mapped[int | None]
    amount_owed: Mapped[Decimal | None] = mapped_column(Money)
    deciding_authority: Mapped[str | None] = mapped_column(String(200))  # 作出决定部门
    document_no: Mapped[str | None] = mapped_column(String(100))
    document_no_key: Mapped[str | None] = mapped_column(String(100), index=True)
    listed_on: Mapped[dt.date]  # 列入日期
    term_years: Mapped[int]  # 期限（年）
    expires_on: Mapped[dt.date]  # 届满日期: first day the listing is no longer in force
    regime: Mapped[str] = mapped_column(String(10))
    year: Mapped[int]  # year of listed_on
    removed_on: Mapped[dt.date | None]
    removal_reason: Mapped[str | None] = mapped_column(Text)
    removal_document_no: Mapped[str | None] = mapped_column(String(100))
    revoked_on: Mapped[dt.date | None]
    revocation_reason: Mapped[str | None] = mapped_column(Text)
    reinstated_on: Mapped[dt.date | None]

    batch: Mapped[Batch] = relationship(lazy="joined", innerjoin=True)
    enterprise: Mapped[Enterprise | None] = relationship()
    persons: Mapped[list[ListingPerson]] = relationship(
        cascade="all, delete-orphan", order_by="ListingPerson.position", lazy="selectin"
    )

    kind = "listing"

    @property
    def responsible_persons(self) -> list[str]:
        return [person.name for person in self.persons]

    def __repr__(self) -> str:
        return f"<Listing {self.id} {self.enterprise_name} {self.status}>"


class ListingPerson(db.Model):
    """A listing's 责任人员, by name only (their legal role is implied by the listing)."""

    __tablename__ = "listing_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("listing.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(100), index=True)
