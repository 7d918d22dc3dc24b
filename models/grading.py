from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db
from models.common import Reviewed

# draft → submitted → published → superseded (when a later run for the same year
# is published); submitted → draft when sent back.
GRADING_STATUS_LABELS = {"draft": "草稿", "submitted": "待审核", "published": "已发布", "superseded": "已被替换"}
GRADE_LABELS = {"A": "守法诚信", "B": "基本守法", "C": "不守法"}


class GradingRun(Reviewed, db.Model):
    """One year's results of the 劳动保障守法诚信等级评价 (人社部规〔2016〕1号), as
    imported from the bureau's sheet and published after review."""

    __tablename__ = "grading_run"
    __table_args__ = (Index("ix_grading_run_status_year", "status", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    authority: Mapped[str] = mapped_column(String(200))
    superseded_at: Mapped[dt.datetime | None] = mapped_column(sort_order=1)  # after the review columns

    results: Mapped[list[GradingResult]] = relationship(
        back_populates="run", order_by="GradingResult.id", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def status_label(self) -> str:
        return GRADING_STATUS_LABELS.get(self.status, self.status)

    def __repr__(self) -> str:
        return f"<GradingRun {self.id} {self.year} {self.status}>"


class GradingResult(db.Model):
    """One enterprise's grade for a year, with the district it was counted in."""

    __tablename__ = "grading_result"
    __table_args__ = (
        Index("ix_grading_result_code_year", "credit_code", "year"),
        Index("ix_grading_result_run_grade", "run_id", "grade"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("grading_run.id", ondelete="CASCADE"))
    year: Mapped[int]
    enterprise_name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    district: Mapped[str | None] = mapped_column(String(50))
    grade: Mapped[str] = mapped_column(String(1))
    graded_on: Mapped[dt.date]
    source_row: Mapped[int | None]

    run: Mapped[GradingRun] = relationship(back_populates="results")

    @property
    def grade_label(self) -> str:
        return GRADE_LABELS.get(self.grade, self.grade)
