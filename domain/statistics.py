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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select

from domain import campaigns, clock
from domain.params import ParameterError, int_param
from domain.visibility import listing_is_public_clause
from extensions import db
from models import AuditEvent, Batch, Case, CaseViolationType, Listing, SearchChange
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
    "campaign": "专项行动",
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


def _period_batches(period: Period) -> list[tuple[int, str, int, int | None]]:
    """(id, kind, year, campaign) of the published batches of the period: a few rows."""
    return list(
        db.session.execute(select(Batch.id, Batch.kind, Batch.year, Batch.campaign_id).where(_year_clause(period)))
    )


def _enterprise_key(model) -> ColumnElement:
    """One enterprise: its credit code, else its 15-digit registration number, else its name."""
    return func.coalesce(model.credit_code, model.reg_no, model.enterprise_name)


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def _counted_listing_clause() -> ColumnElement[bool]:
    return Listing.status.in_(COUNTED_LISTING_STATUSES)


@dataclass
class _Tally:
    """Sums over a group of records."""

    count: int = 0
    police: int = 0
    in_force: int = 0
    workers: int = 0
    amount: Decimal = Decimal("0.00")
    fines: Decimal = Decimal("0.00")

    def add(self, other: _Tally) -> None:
        self.count += other.count
        self.police += other.police
        self.in_force += other.in_force
        self.workers += other.workers
        self.amount += other.amount
        self.fines += other.fines


def _case_cells(batch_ids: list[int], scope: ColumnElement[bool]) -> list[tuple]:
    """The cases in scope grouped by (batch, district, industry, own campaign):
    one scan, a few thousand rows at most, from which the totals, the per-year
    trend and the district, industry and campaign breakdowns are all summed."""
    if not batch_ids:
        return []
    rows = db.session.execute(
        select(
            Case.batch_id,
            Case.district,
            Case.industry,
            Case.campaign_id,
            func.count(),
            func.coalesce(func.sum(case((Case.transferred_to_police.is_(True), 1), else_=0)), 0),
            func.coalesce(func.sum(Case.workers_involved), 0),
            func.coalesce(func.sum(Case.amount_involved), 0),
            func.coalesce(func.sum(Case.fine_amount), 0),
        )
        .where(scope)
        .group_by(Case.batch_id, Case.district, Case.industry, Case.campaign_id)
    )
    return [
        (
            batch_id,
            district,
            industry,
            campaign_id,
            _Tally(count, int(police), 0, int(workers), _money(amount), _money(fines)),
        )
        for batch_id, district, industry, campaign_id, count, police, workers, amount, fines in rows
    ]


def _listing_cells(batch_ids: list[int], scope: ColumnElement[bool], today: dt.date) -> list[tuple]:
    """The counted listings in scope grouped by (batch, district)."""
    if not batch_ids:
        return []
    in_force = listing_is_public_clause(today)
    rows = db.session.execute(
        select(
            Listing.batch_id,
            Listing.district,
            func.count(),
            func.coalesce(func.sum(case((in_force, 1), else_=0)), 0),
            func.coalesce(func.sum(Listing.workers_involved), 0),
            func.coalesce(func.sum(Listing.amount_owed), 0),
        )
        .where(scope)
        .group_by(Listing.batch_id, Listing.district)
    )
    return [
        (batch_id, district, _Tally(count, 0, int(force), int(workers), _money(amount)))
        for batch_id, district, count, force, workers, amount in rows
    ]


def _sum_by(cells, key) -> dict[Any, _Tally]:
    sums: dict[Any, _Tally] = {}
    for cell in cells:
        sums.setdefault(key(cell), _Tally()).add(cell[-1])
    return sums


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


ALL_BREAKDOWNS = ("year", "district", "violation_type", "industry", "campaign")


def compute(period: Period, breakdowns: tuple[str, ...] = ALL_BREAKDOWNS, campaign_id: int | None = None) -> Statistics:
    """The figures of a period (of one campaign's records, if given) and the
    breakdowns asked for, from the cache while nothing has been published,
    changed or taken down since (``data_version``)."""
    return _remembered(
        (period, breakdowns, campaign_id), period.today, lambda: _compute(period, breakdowns, campaign_id)
    )


def _remembered(key: Any, today: dt.date, make: Callable[[], Any]) -> Any:
    """``make()``, from the cache while the data is as it was (``data_version``)."""
    version = data_version(today)
    if _cache.get("version") != version or len(_cache) > CACHE_LIMIT:
        _cache.clear()
        _cache["version"] = version
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = make()
    return found


def _compute(period: Period, breakdowns: tuple[str, ...], campaign_id: int | None) -> Statistics:
    batches = _period_batches(period)
    batch_campaign = {batch_id: campaign for batch_id, _, _, campaign in batches}
    case_batch_ids = [batch_id for batch_id, kind, _, _ in batches if kind == KIND_CASES]
    listing_batch_ids = [batch_id for batch_id, kind, _, _ in batches if kind == KIND_LISTINGS]
    case_scope = and_(Case.status == "published", Case.batch_id.in_(case_batch_ids))
    listing_scope = and_(_counted_listing_clause(), Listing.batch_id.in_(listing_batch_ids))
    in_force_scope = and_(listing_is_public_clause(period.today), Listing.batch_id.in_(listing_batch_ids))
    if campaign_id is not None:
        case_scope = and_(case_scope, campaigns.case_clause(campaign_id))
        listing_scope = and_(listing_scope, campaigns.listing_clause(campaign_id))
        in_force_scope = and_(in_force_scope, campaigns.listing_clause(campaign_id))
    case_cells = _case_cells(case_batch_ids, case_scope) if case_batch_ids else []
    listing_cells = _listing_cells(listing_batch_ids, listing_scope, period.today) if listing_batch_ids else []
    by_case_batch = _sum_by(case_cells, lambda cell: cell[0])
    by_listing_batch = _sum_by(listing_cells, lambda cell: cell[0])
    if campaign_id is not None:
        # a campaign's batches are those its records were published in
        batches = [batch for batch in batches if batch[0] in by_case_batch or batch[0] in by_listing_batch]
        case_batch_ids = [batch_id for batch_id in case_batch_ids if batch_id in by_case_batch]
        listing_batch_ids = [batch_id for batch_id in listing_batch_ids if batch_id in by_listing_batch]

    cases = _Tally()
    for tally in by_case_batch.values():
        cases.add(tally)
    listings = _Tally()
    for tally in by_listing_batch.values():
        listings.add(tally)
    figures: dict[str, int | Decimal] = {
        "case_batches": len(case_batch_ids),
        "cases": cases.count,
        "case_enterprises": _distinct(Case, case_scope) if case_batch_ids else 0,
        "cases_transferred_to_police": cases.police,
        "case_workers": cases.workers,
        "case_amount": cases.amount,
        "case_fines": cases.fines,
        "listing_batches": len(listing_batch_ids),
        "listings": listings.count,
        "listing_enterprises": _distinct(Listing, listing_scope) if listing_batch_ids else 0,
        "listings_in_force": listings.in_force,
        "enterprises_in_force": _distinct(Listing, in_force_scope) if listings.in_force else 0,
    }

    def year_rows() -> list[dict[str, Any]]:
        years: dict[int, dict[str, Any]] = {}
        for batch_id, kind, year, _ in batches:
            row = years.setdefault(year, _empty_year_row(year))
            if kind == KIND_CASES:
                row["case_batches"] += 1
                counted = by_case_batch.get(batch_id, _Tally())
                row["cases"] += counted.count
                row["case_workers"] += counted.workers
                row["case_amount"] += counted.amount
            else:
                row["listing_batches"] += 1
                row["listings"] += by_listing_batch.get(batch_id, _Tally()).count
        if listing_batch_ids and years:
            # 户 per year: distinct enterprises cannot be added up across batches.
            for year, count in db.session.execute(
                select(Batch.year, func.count(func.distinct(_enterprise_key(Listing))))
                .join(Batch, Batch.id == Listing.batch_id)
                .where(listing_scope)
                .group_by(Batch.year)
            ):
                years[year]["listing_enterprises"] = count
        return [years[year] for year in sorted(years)]

    makers = {
        "year": year_rows,
        "district": lambda: _grouped(
            _sum_by(case_cells, lambda cell: cell[1]), _sum_by(listing_cells, lambda cell: cell[1])
        ),
        "violation_type": lambda: _violation_types(case_scope) if case_batch_ids else [],
        # listings carry no 行业 (the import template has none): cases only
        "industry": lambda: _grouped(_sum_by(case_cells, lambda cell: cell[2]), None),
        "campaign": lambda: _campaign_rows(case_cells, listing_cells, batch_campaign),
    }
    return Statistics(period=period, figures=figures, breakdowns={name: makers[name]() for name in breakdowns})


def trend(today: dt.date | None = None) -> list[dict[str, Any]]:
    """Per year over all years: batches, cases, workers and amount of the cases,
    listings and listed enterprises."""
    return compute(Period(None, None, today or clock.today()), breakdowns=("year",)).breakdowns["year"]


def _grouped(case_sums: dict[Any, _Tally], listing_sums: dict[Any, _Tally] | None) -> list[dict[str, Any]]:
    """Cases (count, workers, amount) and listings (count; left out without
    listing sums) per value, largest first; a missing value is shown as 未注明."""
    rows: dict[str, dict[str, Any]] = {}

    def row(name: str | None) -> dict[str, Any]:
        name = name or NOT_GIVEN
        fresh = {"name": name, "cases": 0, "case_workers": 0, "case_amount": Decimal("0.00")}
        if listing_sums is not None:
            fresh["listings"] = 0
        return rows.setdefault(name, fresh)

    for name, tally in case_sums.items():
        target = row(name)
        target["cases"] += tally.count
        target["case_workers"] += tally.workers
        target["case_amount"] += tally.amount
    for name, tally in (listing_sums or {}).items():
        row(name)["listings"] += tally.count
    return sorted(rows.values(), key=lambda item: (-item["cases"], -item.get("listings", 0), item["name"]))


def _campaign_rows(case_cells, listing_cells, batch_campaign: dict[int, int | None]) -> list[dict[str, Any]]:
    """Per campaign (records of none left out): its cases, by their own tag or
    their batch's, and its listings, by their batch's; each row links to the
    campaign's page (``id``)."""
    case_sums = _sum_by(case_cells, lambda cell: cell[3] if cell[3] is not None else batch_campaign.get(cell[0]))
    listing_sums = _sum_by(listing_cells, lambda cell: batch_campaign.get(cell[0]))
    case_sums.pop(None, None)
    listing_sums.pop(None, None)
    names = {campaign.id: campaign.name for campaign in campaigns.all_campaigns()}
    rows = _grouped(
        {names[key]: tally for key, tally in case_sums.items() if key in names},
        {names[key]: tally for key, tally in listing_sums.items() if key in names},
    )
    ids = {name: key for key, name in names.items()}
    return [{"id": ids[row["name"]], **row} for row in rows]


# --- the cache -----------------------------------------------------------------------------

# Per process: the figures of each period asked for since the data last changed;
# emptied past CACHE_LIMIT entries, so that a crawler walking every range of years
# cannot make it grow without end.
_cache: dict[Any, Any] = {}
CACHE_LIMIT = 500


def data_version(today: dt.date) -> tuple:
    """Changes whenever the figures may: a new day (listings expire), a batch
    created, published or withdrawn (also by the command line and the sample
    data), any change to a public record — withdrawal, correction, removal,
    revocation, reinstatement, campaign tags — each of which appends to the
    search change log in its own transaction (``domain.publishing.enqueue_*``;
    its sequence only grows, pruning included), and a campaign created or
    renamed (named in the breakdown). A staff login or an account change
    leaves the figures, and so the cache, alone: recomputing all years takes
    seconds at 100,000 cases. Three cheap statements: the batch table is small,
    the others read the end of an index."""
    batches = db.session.execute(
        select(func.count(), func.max(Batch.id), func.max(Batch.published_at), func.max(Batch.withdrawn_at))
    ).one()
    last_change = db.session.scalar(select(func.max(SearchChange.id)))
    last_campaign_event = db.session.scalar(
        select(func.max(AuditEvent.id)).where(AuditEvent.action.in_(CAMPAIGN_ACTIONS))
    )
    return (str(db.engine.url), today, tuple(batches), last_change, last_campaign_event)


CAMPAIGN_ACTIONS = ("campaign.create", "campaign.update")


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
    """The figures of ``compute`` over all years that the home page shows,
    without what it does not show (the distinct enterprises of all cases, the
    breakdowns' cells): at 1,000,000 cases those took 11 s after every change."""
    today = today or clock.today()
    return _remembered(("home", today), today, lambda: _home_figures(today))


# Every published case: publishing and withdrawing a batch set its records'
# status, so a published case is always in a published batch (the scope of
# ``compute`` over all years). Each sum reads one index, (status, amount) or
# (status, workers), rather than every row.
_PUBLISHED_CASES = select(func.count(), func.coalesce(func.sum(Case.amount_involved), 0)).where(
    Case.status == "published"
)
_PUBLISHED_CASE_WORKERS = select(func.coalesce(func.sum(Case.workers_involved), 0)).where(Case.status == "published")


def _home_figures(today: dt.date) -> HomeFigures:
    cases, amount = db.session.execute(_PUBLISHED_CASES).one()
    listing_batches = [
        batch_id for batch_id, kind, _, _ in _period_batches(Period(None, None, today)) if kind == KIND_LISTINGS
    ]
    in_force_scope = and_(listing_is_public_clause(today), Listing.batch_id.in_(listing_batches))
    in_force = db.session.scalar(select(func.count()).where(in_force_scope)) if listing_batches else 0
    return HomeFigures(
        as_of=today,
        cases=int(cases),
        case_workers=int(db.session.scalar(_PUBLISHED_CASE_WORKERS) or 0),
        case_amount=_money(amount),
        listings_in_force=int(in_force or 0),
        enterprises_in_force=_distinct(Listing, in_force_scope) if in_force else 0,
    )
