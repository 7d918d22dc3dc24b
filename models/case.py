from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.batch import Batch
from models.common import EnterpriseSnapshot, Money, PublicationState, document_number_unique
from models.enterprise import Enterprise

# draft (in an unpublished batch) → published → withdrawn (撤回: 410 at its URL)
CASE_STATUSES = ("draft", "published", "withdrawn")


class Case(EnterpriseSnapshot, PublicationState, db.Model):
    """重大劳动保障违法案件 as published in a batch."""

    __tablename__ = "case_record"
    __table_args__ = (
        Index("ix_case_status_decided", "status", "decided_on", "id"),
        Index("ix_case_status_district_year", "status", "district", "year", "decided_on"),
        Index("ix_case_status_year", "status", "year", "decided_on"),
        Index("ix_case_status_amount", "status", "amount_involved"),
        Index("ix_case_status_workers", "status", "workers_involved"),
        Index("ix_case_batch", "batch_id", "id"),
        # Everything the statistics read of a case (domain.statistics): their
        # grouped scan and distinct-enterprise count read this index alone, not
        # the table (at 1,000,000 cases one year's figures took 20 s, now 1 s).
        Index(
            "ix_case_statistics",
            "status",
            "batch_id",
            "district",
            "industry",
            "campaign_id",
            "transferred_to_police",
            "workers_involved",
            "amount_involved",
            "fine_amount",
            "credit_code",
            "reg_no",
            "enterprise_name",
        ),
        document_number_unique("case_record"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    violation_types: Mapped[str] = mapped_column(String(300))  # canonical labels joined by 、
    facts: Mapped[str] = mapped_column(Text)  # 主要违法事实
    handling: Mapped[str | None] = mapped_column(Text)  # 相关处理情况
    workers_involved: Mapped[int | None]
    amount_involved: Mapped[Decimal | None] = mapped_column(Money)
    fine_amount: Mapped[Decimal | None] = mapped_column(Money)
    transferred_to_police: Mapped[bool] = mapped_column(default=False)
    decided_on: Mapped[dt.date]
    year: Mapped[int]  # year of decided_on, for indexed filtering
    document_no: Mapped[str | None] = mapped_column(String(100))
    document_no_key: Mapped[str | None] = mapped_column(String(100), index=True)
    authority: Mapped[str | None] = mapped_column(String(200))  # 承办机关
    # 专项行动 of this case alone; without it the case has its batch's
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)

    batch: Mapped[Batch] = relationship(lazy="joined", innerjoin=True)
    enterprise: Mapped[Enterprise | None] = relationship()
    violation_type_rows: Mapped[list[CaseViolationType]] = relationship(
        cascade="all, delete-orphan", order_by="CaseViolationType.position"
    )

    kind = "case"

    @property
    def violation_type_list(self) -> list[str]:
        return [label for label in self.violation_types.split("、") if label]

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.enterprise_name} {self.status}>"


class CaseViolationType(db.Model):
    """One 违法类型 of a case, so the type filter can use an index."""

    __tablename__ = "case_violation_type"
    __table_args__ = (Index("ix_case_violation_type_type_case", "violation_type", "case_id"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), primary_key=True)
    violation_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
