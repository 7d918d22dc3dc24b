"""The bureau's work in numbers, counted from the published records.

A record counts in the year of its batch (a batch published as "2020年第三批" is a
2020 figure, whatever its decision dates). Withdrawn records (撤回: published in
error) and withdrawn batches are never counted, nor listings whose decision was
revoked (撤销). A listing that has since expired or was removed early (信用修复)
still counts in the year it was published — it was on the list then — but not in
the figures "in force today", which follow ``domain.visibility``.

Everything is aggregated in the database (GROUP BY); only the few published
batches of the period are read as rows. The case aggregates are grouped by batch
in one scan, so the period's totals and the per-year trend come from the same
statement."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select

from domain import clock
from domain.params import ParameterError, int_param
from domain.visibility import listing_is_public_clause
from extensions import db
from models import Batch, Case, CaseViolationType, Listing
from models.batch import KIND_CASES, KIND_LISTINGS

YEAR_RANGE = (1990, 2100)

# Listing statuses that count as "was listed" in the year of its batch.
COUNTED_LISTING_STATUSES = ("published", "removed")

FIGURE_KEYS = (
    "case_batches",
    "cases",
    "case_enterprises",
    "cases_transferred_to_police",
    "case_workers",
    "case_amount",
    "case_fines",
    "listing_batches",
    "listings",
    "listing_enterprises",
    "listings_in_force",
    "enterprises_in_force",
)

# How each figure is labelled on the page and in the CSV download.
FIGURE_LABELS = {
    "case_batches": ("公布重大违法案件批次", "批"),
    "cases": ("公布重大劳动保障违法案件", "起"),
    "case_enterprises": ("涉案单位", "户"),
    "cases_transferred_to_police": ("移送公安机关案件", "起"),
    "case_workers": ("案件涉及劳动者", "人"),
    "case_amount": ("案件涉及金额", "元"),
    "case_fines": ("罚款金额", "元"),
    "listing_batches": ("公布失信名单批次", "批"),
    "listings": ("列入失信联合惩戒对象名单", "条"),
    "listing_enterprises": ("列入失信名单单位", "户"),
    "listings_in_force": ("目前在列的失信名单", "条"),
    "enterprises_in_force": ("目前在列的失信单位", "户"),
}

BREAKDOWN_LABELS = {
    "year": "年度",
    "district": "区县",
    "violation_type": "违法类型",
    "industry": "行业",
}

NOT_GIVEN = "未注明"


# --- the period --------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Batch years from ``from_year`` to ``to_year`` (None: open); ``today`` is
    the date the figures are as of."""

    from_year: int | None
    to_year: int | None
    today: dt.date

    @property
    def is_all(self) -> bool:
        return self.from_year is None and self.to_year is None

    @property
    def single_year(self) -> int | None:
        return self.from_year if self.from_year is not None and self.from_year == self.to_year else None

    @property
    def to_date(self) -> bool:
        """The period runs into the current year: its figures are year-to-date."""
        return self.to_year is None or self.to_year >= self.today.year

    @property
    def label(self) -> str:
        if self.is_all:
            return "历年累计"
        if self.single_year is not None:
            year = self.single_year
            if year == self.today.year:
                return f"{year}年1月1日至{self.today.month}月{self.today.day}日"
            return f"{year}年"
        if self.from_year is None:
            return f"{self.to_year}年及以前"
        if self.to_year is None:
            return f"{self.from_year}年以来"
        return f"{self.from_year}—{self.to_year}年"

    def as_dict(self) -> dict[str, Any]:
        return {
            "from_year": self.from_year,
            "to_year": self.to_year,
            "label": self.label,
            "as_of": self.today.isoformat(),
        }

    def query_args(self) -> dict[str, int]:
        if self.single_year is not None:
            return {"year": self.single_year}
        args = {}
        if self.from_year is not None:
            args["from_year"] = self.from_year
        if self.to_year is not None:
            args["to_year"] = self.to_year
        return args


def parse_period(args: Mapping[str, str], today: dt.date | None = None) -> Period:
    """``year``, or ``from_year`` and/or ``to_year``; nothing: all years."""
    today = today or clock.today()
    year = int_param(args, "year", "年度", *YEAR_RANGE)
    from_year = int_param(args, "from_year", "起始年度", *YEAR_RANGE)
    to_year = int_param(args, "to_year", "截止年度", *YEAR_RANGE)
    if year is not None:
        if from_year is not None or to_year is not None:
            raise ParameterError("参数“年度”不能与“起始年度”“截止年度”同时使用")
        return Period(year, year, today)
    if from_year is not None and to_year is not None and from_year > to_year:
        raise ParameterError("起始年度不能晚于截止年度")
    return Period(from_year, to_year, today)


# --- the answer --------------------------------------------------------------------------


@dataclass
class Statistics:
    period: Period
    figures: dict[str, int | Decimal]
    breakdowns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not self.figures["case_batches"] and not self.figures["listing_batches"]


def _year_clause(period: Period) -> ColumnElement[bool]:
    clauses = [Batch.status == "published"]
    if period.from_year is not None:
        clauses.append(Batch.year >= period.from_year)
    if period.to_year is not None:
        clauses.append(Batch.year <= period.to_year)
    return and_(*clauses)


def _period_batches(period: Period) -> list[tuple[int, str, int]]:
    """(id, kind, year) of the published batches of the period: a few rows."""
    return list(db.session.execute(select(Batch.id, Batch.kind, Batch.year).where(_year_clause(period))))


def _enterprise_key(model) -> ColumnElement:
    """One enterprise: its credit code, else its 15-digit registration number, else its name."""
    return func.coalesce(model.credit_code, model.reg_no, model.enterprise_name)


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _counted_listing_clause() -> ColumnElement[bool]:
    return Listing.status.in_(COUNTED_LISTING_STATUSES)


def _case_rows_by_batch(batch_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per batch: cases, police transfers, workers, amount, fines (one scan)."""
    if not batch_ids:
        return {}
    rows = db.session.execute(
        select(
            Case.batch_id,
            func.count(),
            func.coalesce(func.sum(case((Case.transferred_to_police.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(Case.workers_involved), 0),
            func.coalesce(func.sum(Case.amount_involved), 0),
            func.coalesce(func.sum(Case.fine_amount), 0),
        )
        .where(Case.status == "published", Case.batch_id.in_(batch_ids))
        .group_by(Case.batch_id)
    )
    return {
        batch_id: {
            "cases": count,
            "police": int(police),
            "workers": int(workers),
            "amount": _money(amount),
            "fines": _money(fines),
        }
        for batch_id, count, police, workers, amount, fines in rows
    }


def _listing_rows_by_batch(batch_ids: list[int], today: dt.date) -> dict[int, dict[str, Any]]:
    if not batch_ids:
        return {}
    in_force = listing_is_public_clause(today)
    rows = db.session.execute(
        select(
            Listing.batch_id,
            func.count(),
            func.coalesce(func.sum(case((in_force, 1), else_=0)), 0),
            func.coalesce(func.sum(Listing.workers_involved), 0),
            func.coalesce(func.sum(Listing.amount_owed), 0),
        )
        .where(_counted_listing_clause(), Listing.batch_id.in_(batch_ids))
        .group_by(Listing.batch_id)
    )
    return {
        batch_id: {"listings": count, "in_force": int(force), "workers": int(workers), "amount": _money(amount)}
        for batch_id, count, force, workers, amount in rows
    }


def _distinct(model, clause: ColumnElement[bool]) -> int:
    return db.session.scalar(select(func.count(func.distinct(_enterprise_key(model)))).where(clause)) or 0


def _empty_year_row(year: int) -> dict[str, Any]:
    return {
        "name": year,
        "case_batches": 0,
        "cases": 0,
        "case_workers": 0,
        "case_amount": Decimal("0.00"),
        "listing_batches": 0,
        "listings": 0,
        "listing_enterprises": 0,
    }


ALL_BREAKDOWNS = ("year", "district", "violation_type", "industry")


def compute(period: Period, breakdowns: tuple[str, ...] = ALL_BREAKDOWNS) -> Statistics:
    """The figures of a period and the breakdowns asked for."""
    batches = _period_batches(period)
    case_batch_ids = [batch_id for batch_id, kind, _ in batches if kind == KIND_CASES]
    listing_batch_ids = [batch_id for batch_id, kind, _ in batches if kind == KIND_LISTINGS]
    by_case_batch = _case_rows_by_batch(case_batch_ids)
    by_listing_batch = _listing_rows_by_batch(listing_batch_ids, period.today)

    case_scope = and_(Case.status == "published", Case.batch_id.in_(case_batch_ids))
    listing_scope = and_(_counted_listing_clause(), Listing.batch_id.in_(listing_batch_ids))
    in_force_scope = and_(listing_is_public_clause(period.today), Listing.batch_id.in_(listing_batch_ids))

    case_totals = list(by_case_batch.values())
    listing_totals = list(by_listing_batch.values())
    figures: dict[str, int | Decimal] = {
        "case_batches": len(case_batch_ids),
        "cases": sum(row["cases"] for row in case_totals),
        "case_enterprises": _distinct(Case, case_scope) if case_batch_ids else 0,
        "cases_transferred_to_police": sum(row["police"] for row in case_totals),
        "case_workers": sum(row["workers"] for row in case_totals),
        "case_amount": sum((row["amount"] for row in case_totals), Decimal("0.00")),
        "case_fines": sum((row["fines"] for row in case_totals), Decimal("0.00")),
        "listing_batches": len(listing_batch_ids),
        "listings": sum(row["listings"] for row in listing_totals),
        "listing_enterprises": _distinct(Listing, listing_scope) if listing_batch_ids else 0,
        "listings_in_force": sum(row["in_force"] for row in listing_totals),
        "enterprises_in_force": _distinct(Listing, in_force_scope) if listing_batch_ids else 0,
    }

    years: dict[int, dict[str, Any]] = {}
    for batch_id, kind, year in batches:
        row = years.setdefault(year, _empty_year_row(year))
        if kind == KIND_CASES:
            row["case_batches"] += 1
            counted = by_case_batch.get(batch_id)
            if counted:
                row["cases"] += counted["cases"]
                row["case_workers"] += counted["workers"]
                row["case_amount"] += counted["amount"]
        else:
            row["listing_batches"] += 1
            row["listings"] += by_listing_batch.get(batch_id, {}).get("listings", 0)
    if listing_batch_ids and "year" in breakdowns:
        # 户 per year: distinct enterprises cannot be added up across batches.
        for year, count in db.session.execute(
            select(Batch.year, func.count(func.distinct(_enterprise_key(Listing))))
            .join(Batch, Batch.id == Listing.batch_id)
            .where(listing_scope)
            .group_by(Batch.year)
        ):
            years[year]["listing_enterprises"] = count
    makers = {
        "year": lambda: [years[year] for year in sorted(years)],
        "district": lambda: _grouped(Case.district, Listing.district, case_scope, listing_scope, bool(batches)),
        "violation_type": lambda: _violation_types(case_scope) if case_batch_ids else [],
        # listings carry no 行业 (the import template has none): cases only
        "industry": lambda: _grouped(Case.industry, None, case_scope, listing_scope, bool(batches)),
    }
    return Statistics(period=period, figures=figures, breakdowns={name: makers[name]() for name in breakdowns})


def trend(today: dt.date | None = None) -> list[dict[str, Any]]:
    """Per year over all years: batches, cases, workers and amount of the cases,
    listings and listed enterprises."""
    return compute(Period(None, None, today or clock.today()), breakdowns=("year",)).breakdowns["year"]


def _grouped(case_column, listing_column, case_scope, listing_scope, any_batches: bool) -> list[dict[str, Any]]:
    """Cases (count, workers, amount) and listings (count; without a listing column
    the key is left out) per value of a column, largest first; a missing value is
    shown as 未注明."""
    if not any_batches:
        return []
    rows: dict[str, dict[str, Any]] = {}

    def row(name: str | None) -> dict[str, Any]:
        name = name or NOT_GIVEN
        fresh = {"name": name, "cases": 0, "case_workers": 0, "case_amount": Decimal("0.00")}
        if listing_column is not None:
            fresh["listings"] = 0
        return rows.setdefault(name, fresh)

    for name, count, workers, amount in db.session.execute(
        select(
            case_column,
            func.count(),
            func.coalesce(func.sum(Case.workers_involved), 0),
            func.coalesce(func.sum(Case.amount_involved), 0),
        )
        .where(case_scope)
        .group_by(case_column)
    ):
        target = row(name)
        target["cases"] += count
        target["case_workers"] += int(workers)
        target["case_amount"] += _money(amount)
    if listing_column is not None:
        for name, count in db.session.execute(
            select(listing_column, func.count()).where(listing_scope).group_by(listing_column)
        ):
            row(name)["listings"] += count
    return sorted(rows.values(), key=lambda item: (-item["cases"], -item.get("listings", 0), item["name"]))


def _violation_types(case_scope) -> list[dict[str, Any]]:
    """Cases per 违法类型 (a case of two types counts under both)."""
    statement = (
        select(
            CaseViolationType.violation_type,
            func.count(),
            func.coalesce(func.sum(Case.workers_involved), 0),
            func.coalesce(func.sum(Case.amount_involved), 0),
        )
        .join(Case, Case.id == CaseViolationType.case_id)
        .where(case_scope)
        .group_by(CaseViolationType.violation_type)
    )
    rows = [
        {"name": name, "cases": count, "case_workers": int(workers), "case_amount": _money(amount)}
        for name, count, workers, amount in db.session.execute(statement)
    ]
    return sorted(rows, key=lambda item: (-item["cases"], item["name"]))


# --- words -------------------------------------------------------------------------------


def _sentence(when: str, case_batches: int, cases: int, listing_batches: int, listing_enterprises: int) -> str:
    parts = []
    if case_batches:
        parts.append(f"公布重大劳动保障违法案件{case_batches}批{cases}起")
    if listing_batches:
        parts.append(f"列入失信联合惩戒对象名单{listing_batches}批{listing_enterprises}户")
    if not parts:
        return f"{when}未公布重大劳动保障违法案件和失信联合惩戒对象名单"
    if not case_batches:
        parts.append("未公布重大劳动保障违法案件")
    elif not listing_batches:
        parts.append("未公布失信联合惩戒对象名单")
    return when + "，".join(parts)


def _year_words(year: int, today: dt.date) -> str:
    if year == today.year:
        return f"{year}年（截至{today.month}月{today.day}日）"
    return f"{year}年"


def summary_sentence(stats: Statistics) -> str:
    """The period in the bureau's own words: "2020年公布重大劳动保障违法案件3批37起，
    列入失信联合惩戒对象名单3批17户" (户: distinct enterprises)."""
    figures = stats.figures
    period = stats.period
    when = _year_words(period.single_year, period.today) if period.single_year is not None else period.label
    return _sentence(
        when,
        int(figures["case_batches"]),
        int(figures["cases"]),
        int(figures["listing_batches"]),
        int(figures["listing_enterprises"]),
    )


def yearly_summaries(stats: Statistics) -> list[tuple[int, str]]:
    """(year, sentence) for every year of the period's year breakdown, newest first."""
    return [
        (
            row["name"],
            _sentence(
                _year_words(row["name"], stats.period.today),
                row["case_batches"],
                row["cases"],
                row["listing_batches"],
                row["listing_enterprises"],
            ),
        )
        for row in reversed(stats.breakdowns["year"])
    ]


def published_years() -> list[int]:
    return list(
        db.session.scalars(select(Batch.year).where(Batch.status == "published").distinct().order_by(Batch.year.desc()))
    )


# --- serialised --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def as_dict(stats: Statistics) -> dict[str, Any]:
    """The API answer: {"period", "figures", "breakdowns"}; amounts in yuan."""
    return {
        "period": {**stats.period.as_dict(), "summary": summary_sentence(stats)},
        "figures": {key: _plain(stats.figures[key]) for key in FIGURE_KEYS},
        "breakdowns": {
            name: [{key: _plain(value) for key, value in row.items()} for row in rows]
            for name, rows in stats.breakdowns.items()
        },
    }


# The columns of the CSV download: one row per total or breakdown entry.
TABLE_COLUMNS = (
    ("name", "名称"),
    ("cases", "重大违法案件（起）"),
    ("case_workers", "案件涉及劳动者（人）"),
    ("case_amount", "案件涉及金额（元）"),
    ("listings", "失信名单（条）"),
)


CSV_HEADER = ["范围", "分组", "名称", "数值", *(label for key, label in TABLE_COLUMNS if key != "name")]


def table_rows(stats: Statistics, only: str | None = None) -> list[list[Any]]:
    """Rows for the CSV twin (``CSV_HEADER``): the totals first, one row per
    figure with its 数值, then each breakdown (or only the one named) with its
    counts in the columns after it."""
    label = stats.period.label
    out: list[list[Any]] = []
    if only is None:
        for key in FIGURE_KEYS:
            name, unit = FIGURE_LABELS[key]
            out.append([label, "合计", f"{name}（{unit}）", _plain(stats.figures[key]), "", "", "", ""])
    for group, rows in stats.breakdowns.items():
        if only is not None and group != only:
            continue
        for row in rows:
            values = [_plain(row.get(key, "")) for key, _ in TABLE_COLUMNS]
            out.append([label, BREAKDOWN_LABELS[group], values[0], "", *values[1:]])
    return out


# --- the home page -----------------------------------------------------------------------


@dataclass
class HomeFigures:
    """The home page's figures, each with its scope: cases over all years, listings
    in force today; never added together."""

    as_of: dt.date
    cases: int
    case_workers: int
    case_amount: Decimal
    listings_in_force: int
    enterprises_in_force: int


def home_figures(today: dt.date | None = None) -> HomeFigures:
    stats = compute(Period(None, None, today or clock.today()), breakdowns=())
    figures = stats.figures
    return HomeFigures(
        as_of=stats.period.today,
        cases=int(figures["cases"]),
        case_workers=int(figures["case_workers"]),
        case_amount=Decimal(figures["case_amount"]),
        listings_in_force=int(figures["listings_in_force"]),
        enterprises_in_force=int(figures["enterprises_in_force"]),
    )
