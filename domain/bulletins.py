"""Work bulletins (工作通报): the bureau's figures for a period that no published
record holds. A bulletin covers a year and a month range (2020年1—11月) and gives
indicators from a catalogue the bureau configures (``GONGSHI_BULLETIN_INDICATORS``).

Every way a bulletin comes in (the staff form, a sheet uploaded by staff, the CLI,
the sample data) goes through ``check_table`` and ``create_bulletin``; it is then
reviewed and published like a batch (four-eyes, audit) and corrected as a new
revision. A published bulletin is compared with the published bulletin of the same
months of the previous year."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from domain import audit, clock, review
from domain.importing import RowError
from domain.publishing import PublishingError
from domain.spreadsheets import SpreadsheetError, Table, read_table
from domain.validation import clean_text, fold_width
from extensions import db
from models import Bulletin, BulletinValue, RecordRevision, User
from models.common import utcnow

COLUMNS = ("指标", "数值")
MAX_VALUE = Decimal("1e15")


class BulletinError(PublishingError):
    """A bulletin the rules do not allow; the message is for staff."""


# --- the catalogue --------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    name: str
    unit: str
    lower_is_better: bool = False


# The figures of a labour-inspection bureau's year-end report. Lower is better
# for the five the bureau reports as falling (the “五个下降”): fewer complaints,
# visits, cases, and less arrears owed to fewer workers.
DEFAULT_INDICATORS: tuple[Indicator, ...] = (
    Indicator("投诉电话接听人次", "人次", True),
    Indicator("来访投诉起数", "起", True),
    Indicator("检查用人单位户数", "户"),
    Indicator("热线转办件数", "件"),
    Indicator("按期办结率", "%"),
    Indicator("受理案件数", "件", True),
    Indicator("拖欠工资金额", "万元", True),
    Indicator("拖欠工资人数", "人", True),
    Indicator("追发工资金额", "万元"),
    Indicator("追发工资人数", "人"),
    Indicator("追回押金", "万元"),
    Indicator("移送公安机关案件数", "件"),
    Indicator("农民工工资保证金动用金额", "万元"),
    Indicator("实名制监管项目数", "个"),
    Indicator("代发工资金额", "万元"),
)


def catalogue(config: Mapping[str, Any]) -> tuple[Indicator, ...]:
    """The configured catalogue: ``BULLETIN_INDICATORS`` is a list of
    ``{"name", "unit", "lower_is_better"}`` (or ``[name, unit, lower_is_better]``)."""
    raw = config.get("BULLETIN_INDICATORS")
    if not raw:
        return DEFAULT_INDICATORS
    indicators = []
    for item in raw:
        if isinstance(item, Mapping):
            name, unit, lower = item.get("name"), item.get("unit", ""), item.get("lower_is_better", False)
        else:
            name, unit, lower = (list(item) + ["", False])[:3]
        name = clean_text(name)
        if not name:
            raise ValueError("GONGSHI_BULLETIN_INDICATORS: every indicator needs a name")
        indicators.append(Indicator(name, clean_text(unit), bool(lower)))
    names = [indicator.name for indicator in indicators]
    if len(set(names)) != len(names):
        raise ValueError("GONGSHI_BULLETIN_INDICATORS: indicator names must be unique")
    return tuple(indicators)


# --- periods --------------------------------------------------------------------------


def parse_months(text: str) -> tuple[int, int]:
    """``1-11`` (also 1—11, 1–11, 1至11, 1~11) or a single month ``11``."""
    folded = fold_width(clean_text(text)).replace("月", "")
    match = re.fullmatch(r"(\d{1,2})\s*(?:[-–—~～至到]+\s*(\d{1,2}))?", folded)
    if not match:
        raise BulletinError(f"月份范围“{clean_text(text)}”无法识别，请写作 1-11（1至11月）或 11（单月）")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    check_period(clock.today().year, first, last, check_year=False)
    return first, last


def check_period(year: int, month_from: int, month_to: int, *, check_year: bool = True) -> None:
    if not (1 <= month_from <= 12 and 1 <= month_to <= 12):
        raise BulletinError("月份应在1到12之间")
    if month_from > month_to:
        raise BulletinError("起始月份不能晚于截止月份（跨年的期间请分年通报）")
    if check_year:
        today = clock.today()
        if not 2000 <= year <= today.year:
            raise BulletinError(f"年份应在2000到{today.year}之间")
        if (year, month_from) > (today.year, today.month):
            raise BulletinError("通报期间尚未开始")


def period_label(year: int, month_from: int, month_to: int) -> str:
    """2020年1—11月, 2020年11月."""
    if month_from == month_to:
        return f"{year}年{month_from}月"
    return f"{year}年{month_from}—{month_to}月"


def default_title(year: int, month_from: int, month_to: int) -> str:
    return f"{period_label(year, month_from, month_to)}劳动保障监察工作情况通报"


# --- reading values -------------------------------------------------------------------


def parse_value(raw: object, indicator: Indicator) -> Decimal:
    """A figure in the indicator's unit: digits with optional thousands separators,
    at most four decimals; the unit may be written after it."""
    if isinstance(raw, bool):
        raise ValueError("应为数字")
    if isinstance(raw, (int, float, Decimal)):
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise ValueError("应为数字") from None
    else:
        text = fold_width(clean_text(raw)).replace(",", "").replace("，", "")
        if indicator.unit and text.endswith(fold_width(indicator.unit)):
            text = text[: -len(fold_width(indicator.unit))].strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            unit = f"（单位：{indicator.unit}）" if indicator.unit else ""
            raise ValueError(f"“{clean_text(raw)}”不是数字{unit}") from None
    if not value.is_finite():
        raise ValueError("应为数字")
    if value < 0:
        raise ValueError("不能为负数")
    if value >= MAX_VALUE:  # checked first: quantizing 1e400 would overflow
        raise ValueError(f"数值过大，请核对单位是否为“{indicator.unit}”")
    if value != value.quantize(Decimal("0.0001")):
        raise ValueError("最多保留四位小数")
    if indicator.unit == "%" and value > 100:
        raise ValueError("百分比不能超过100")
    return value.quantize(Decimal("0.0001"))


@dataclass
class BulletinReport:
    values: list[tuple[Indicator, Decimal]]
    errors: list[RowError]


def _header_name(name: str) -> str:
    return re.sub(r"\s", "", name)


def check_table(table: Table, indicators: Sequence[Indicator]) -> BulletinReport:
    """Validate a sheet of ``指标, 数值`` rows: all or nothing, every error with its
    row number. Values come back in catalogue order."""
    report = BulletinReport(values=[], errors=[])
    header = [_header_name(name) for name in table.header]
    if header != list(COLUMNS):
        extra = [name for name in header if name not in COLUMNS]
        missing = [name for name in COLUMNS if name not in header]
        problems = []
        if missing:
            problems.append("缺少列：" + "、".join(missing))
        if extra:
            problems.append("多余的列：" + "、".join(name or "（空表头）" for name in extra))
        if not problems:
            problems.append("列的顺序应为：指标、数值")
        report.errors.append(RowError(1, None, "；".join(problems) + "。表头应为“指标, 数值”"))
        return report
    if not table.rows:
        report.errors.append(RowError(1, None, "表头之后没有数据行"))
        return report
    by_name = {indicator.name: indicator for indicator in indicators}
    seen: dict[str, int] = {}
    found: dict[str, Decimal] = {}
    for number, cells in table.rows:
        cells = list(cells) + [None, None]
        if any(clean_text(cell) for cell in cells[2:]):
            report.errors.append(RowError(number, None, "该行的数据多于表头的列数"))
        name = clean_text(cells[0])
        indicator = by_name.get(name)
        if not name:
            report.errors.append(RowError(number, "指标", "必填，不能为空"))
        elif indicator is None:
            report.errors.append(RowError(number, "指标", f"“{name}”不在指标目录中"))
        elif name in seen:
            report.errors.append(RowError(number, "指标", f"与第{seen[name]}行重复"))
        else:
            seen[name] = number
        if clean_text(cells[1]) == "":
            report.errors.append(RowError(number, "数值", "必填，不能为空"))
            continue
        probe = indicator or Indicator(name, "")
        try:
            value = parse_value(cells[1], probe)
        except ValueError as problem:
            report.errors.append(RowError(number, "数值", str(problem)))
            continue
        if indicator is not None and name not in found:
            found[name] = value
    if not report.errors:
        report.values = [(indicator, found[indicator.name]) for indicator in indicators if indicator.name in found]
    return report


def check_file(data: bytes, filename: str, indicators: Sequence[Indicator]) -> BulletinReport:
    """Read and validate an uploaded sheet without storing anything."""
    try:
        table = read_table(data, filename)
    except SpreadsheetError as problem:
        return BulletinReport(values=[], errors=[RowError(0, None, str(problem))])
    return check_table(table, indicators)


def check_form(cells: Mapping[str, object], indicators: Sequence[Indicator]) -> BulletinReport:
    """Values typed into the staff form (indicator name → text; empty means not
    reported), held to the rules of a sheet: the form becomes a table, each
    indicator one row numbered as on the form."""
    rows = [
        (position, [indicator.name, cells.get(indicator.name)])
        for position, indicator in enumerate(indicators, start=1)
        if clean_text(cells.get(indicator.name))
    ]
    if not rows:
        return BulletinReport(values=[], errors=[RowError(0, None, "请至少填写一项指标")])
    return check_table(Table(header=list(COLUMNS), rows=rows), indicators)


# --- storing and the workflow -----------------------------------------------------------


def _state(bulletin: Bulletin) -> dict[str, Any]:
    return {
        "status": bulletin.status,
        "title": bulletin.title,
        "period": period_label(bulletin.year, bulletin.month_from, bulletin.month_to),
        "published_on": bulletin.published_on,
        "review_comment": bulletin.review_comment,
    }


def value_map(bulletin: Bulletin) -> dict[str, str]:
    return {item.name: f"{format_value(item.value)}{item.unit}" for item in bulletin.values}


def _set_values(bulletin: Bulletin, values: Iterable[tuple[Indicator, Decimal]]) -> None:
    bulletin.values.clear()
    db.session.flush()  # old rows go before new ones with the same names arrive
    bulletin.values.extend(
        BulletinValue(
            position=position,
            name=indicator.name,
            unit=indicator.unit,
            lower_is_better=indicator.lower_is_better,
            value=value,
        )
        for position, (indicator, value) in enumerate(values, start=1)
    )


def create_bulletin(
    *,
    year: int,
    month_from: int,
    month_to: int,
    values: Sequence[tuple[Indicator, Decimal]],
    authority: str,
    title: str | None = None,
    user: User | None = None,
    username: str | None = None,
    source_filename: str | None = None,
    is_sample: bool = False,
) -> Bulletin:
    """Store a validated bulletin as a draft in the current transaction (the caller
    commits). ``username`` names a system actor (``audit.CLI_ACTOR``) when no
    staff account does it."""
    check_period(year, month_from, month_to)
    if not values:
        raise BulletinError("通报中没有任何指标")
    title = clean_text(title) or default_title(year, month_from, month_to)
    if len(title) > 200:
        raise BulletinError("标题过长（最多200个字）")
    bulletin = Bulletin(
        title=title,
        year=year,
        month_from=month_from,
        month_to=month_to,
        authority=authority,
        status="draft",
        is_sample=is_sample,
        source_filename=source_filename,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(bulletin)
    _set_values(bulletin, values)
    db.session.flush()
    audit.record(
        "bulletin.create",
        bulletin,
        after={**_state(bulletin), "values": value_map(bulletin), "file": source_filename},
        user=user,
        username=username,
        summary=f"录入工作通报“{bulletin.title}”（{len(values)}项指标）",
    )
    return bulletin


def edit_draft(
    bulletin: Bulletin,
    values: Sequence[tuple[Indicator, Decimal]],
    title: str | None,
    user: User,
    period: tuple[int, int, int] | None = None,
) -> None:
    """Change a draft's figures, title and (``period``: year, first and last month) period."""
    REVIEW.require_draft(bulletin)
    if not values:
        raise BulletinError("通报中没有任何指标")
    if period is not None:
        check_period(*period)
    before = {**_state(bulletin), "values": value_map(bulletin)}
    if period is not None:
        bulletin.year, bulletin.month_from, bulletin.month_to = period
    bulletin.title = clean_text(title) or bulletin.title
    _set_values(bulletin, values)
    before, after = audit.changed_only(before, {**_state(bulletin), "values": value_map(bulletin)})
    if not after:
        raise BulletinError("没有修改任何内容")
    audit.record("bulletin.edit", bulletin, before, after, user, summary=f"修改草稿通报“{bulletin.title}”")


def delete_draft(bulletin: Bulletin, user: User) -> None:
    REVIEW.require_draft(bulletin)
    audit.record(
        "bulletin.delete",
        bulletin,
        before={**_state(bulletin), "values": value_map(bulletin)},
        user=user,
        summary=f"删除草稿通报“{bulletin.title}”",
    )
    db.session.delete(bulletin)


def submit(bulletin: Bulletin, user: User) -> None:
    REVIEW.submit(bulletin, user)


def send_back(bulletin: Bulletin, comment: str, user: User) -> None:
    REVIEW.send_back(bulletin, comment, user)


def published_for_period(year: int, month_from: int, month_to: int) -> Bulletin | None:
    return db.session.scalar(
        select(Bulletin)
        .where(
            Bulletin.status == "published",
            Bulletin.year == year,
            Bulletin.month_from == month_from,
            Bulletin.month_to == month_to,
        )
        .order_by(Bulletin.id.desc())
        .limit(1)
    )


def _clash(bulletin: Bulletin) -> str | None:
    """Another bulletin already published for the same months stops a staff publication."""
    clash = published_for_period(bulletin.year, bulletin.month_from, bulletin.month_to)
    if clash is not None and clash.id != bulletin.id:
        return f"{period_label(*clash_period(clash))}的通报已经发布（“{clash.title}”）；如数字有误，请更正已发布的通报"
    return None


def clash_period(bulletin: Bulletin) -> tuple[int, int, int]:
    return bulletin.year, bulletin.month_from, bulletin.month_to


REVIEW = review.Workflow(
    action="bulletin",
    noun="通报",
    error=BulletinError,
    state=_state,
    draft_only="只有草稿可以修改；待审核的通报请先由审核人退回",
    preparing_actions=("bulletin.create", "bulletin.edit", "bulletin.submit"),
    why_not_submit=lambda bulletin: None if bulletin.values else "通报中没有任何指标，不能提交审核",
    conflict=_clash,
)


def why_not(bulletin: Bulletin, user: User, *, four_eyes: bool) -> str | None:
    """Why this user may not publish this bulletin, or None if they may."""
    return REVIEW.why_not_publish(bulletin, user, four_eyes=four_eyes)


def publish(
    bulletin: Bulletin,
    user: User | None,
    *,
    four_eyes: bool,
    published_on: dt.date | None = None,
    username: str | None = None,
) -> None:
    """Publish a submitted bulletin after review. ``user`` None: the command line
    or the sample data (named by ``username``), which publish a draft directly, as
    ``flask import --publish`` does."""
    REVIEW.check_publish(bulletin, user, four_eyes=four_eyes)
    if user is None:
        clash = published_for_period(bulletin.year, bulletin.month_from, bulletin.month_to)
        if clash is not None:
            raise BulletinError(f"{period_label(*clash_period(clash))}的通报已经发布（编号 {clash.id}）")
    REVIEW.mark_published(
        bulletin,
        user,
        published_on=published_on,
        username=username,
        summary=f"发布工作通报“{bulletin.title}”",
    )


def correct(
    bulletin: Bulletin, values: Sequence[tuple[Indicator, Decimal]], title: str | None, note: str, user: User
) -> None:
    """更正 a published bulletin: the text as it was is kept as a revision, the
    bulletin shows the new figures with a dated note."""
    if bulletin.status != "published":
        raise BulletinError("只有已发布的通报可以更正")
    note = clean_text(note)
    if not note:
        raise BulletinError("更正需要写明更正说明（将在公开页面显示）")
    if not values:
        raise BulletinError("通报中没有任何指标")
    previous = {"title": bulletin.title, "values": revision_values(bulletin)}
    before = {"title": bulletin.title, "values": value_map(bulletin)}
    db.session.add(
        RecordRevision(
            record_kind="bulletin",
            record_id=bulletin.id,
            revision=bulletin.revision,
            data=audit.jsonable(
                {**previous, "correction_note": bulletin.correction_note, "revised_at": bulletin.revised_at}
            ),
            note=note,
            created_by_id=user.id,
        )
    )
    bulletin.title = clean_text(title) or bulletin.title
    _set_values(bulletin, values)
    before, after = audit.changed_only(before, {"title": bulletin.title, "values": value_map(bulletin)})
    if not after:
        raise BulletinError("没有修改任何内容")
    bulletin.revision = (bulletin.revision or 1) + 1
    bulletin.revised_at = utcnow()
    bulletin.correction_note = note
    audit.record(
        "bulletin.correct",
        bulletin,
        before,
        {**after, "revision": bulletin.revision, "note": note},
        user,
        summary=f"更正工作通报“{bulletin.title}”（第{bulletin.revision}版）：{note}",
    )


def revision_values(bulletin: Bulletin) -> list[dict[str, Any]]:
    return [
        {
            "name": item.name,
            "unit": item.unit,
            "lower_is_better": item.lower_is_better,
            "value": format(item.value.normalize(), "f"),
        }
        for item in bulletin.values
    ]


def revisions(bulletin: Bulletin) -> list[RecordRevision]:
    return list(
        db.session.scalars(
            select(RecordRevision)
            .where(RecordRevision.record_kind == "bulletin", RecordRevision.record_id == bulletin.id)
            .order_by(RecordRevision.revision.desc())
        )
    )


# --- what the public sees ---------------------------------------------------------------


def published_statement(year: int | None = None) -> Select:
    statement = select(Bulletin).where(Bulletin.status == "published")
    if year is not None:
        statement = statement.where(Bulletin.year == year)
    return statement.order_by(Bulletin.year.desc(), Bulletin.month_to.desc(), Bulletin.month_from, Bulletin.id.desc())


def published_years() -> list[int]:
    return list(
        db.session.scalars(
            select(Bulletin.year).where(Bulletin.status == "published").distinct().order_by(Bulletin.year.desc())
        )
    )


def find_published(bulletin_id: int) -> Bulletin | None:
    return db.session.scalar(
        select(Bulletin)
        .options(selectinload(Bulletin.values))
        .where(Bulletin.id == bulletin_id, Bulletin.status == "published")
    )


def change_pct(value: Decimal, previous: Decimal | None) -> Decimal | None:
    """The year-on-year change in percent, two decimals (half up); None without a
    previous figure or when it was zero."""
    if previous is None or previous == 0:
        return None
    return ((value - previous) / previous * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Row:
    name: str
    unit: str
    lower_is_better: bool
    value: Decimal
    previous: Decimal | None
    change_pct: Decimal | None

    @property
    def declined(self) -> bool:
        return self.change_pct is not None and self.change_pct < 0

    @property
    def trend(self) -> str:
        """up, down, flat or none (no comparison)."""
        if self.change_pct is None:
            return "none"
        return "down" if self.change_pct < 0 else "up" if self.change_pct > 0 else "flat"

    @property
    def better(self) -> bool | None:
        """Whether the change is good news, where the indicator says which way is good."""
        if not self.lower_is_better or self.change_pct is None or self.change_pct == 0:
            return None
        return self.change_pct < 0


@dataclass(frozen=True)
class Comparison:
    bulletin: Bulletin
    previous: Bulletin | None
    rows: list[Row]

    @property
    def declines(self) -> int:
        """How many lower-is-better indicators fell (“实现‘五个下降’”)."""
        return sum(1 for row in self.rows if row.lower_is_better and row.declined)

    @property
    def declined_names(self) -> list[str]:
        return [row.name for row in self.rows if row.lower_is_better and row.declined]

    @property
    def previous_label(self) -> str:
        b = self.bulletin
        return period_label(b.year - 1, b.month_from, b.month_to)


def compare(bulletin: Bulletin) -> Comparison:
    """Each indicator beside the same months of the previous year (the published
    bulletin for exactly that period), with the change in percent."""
    previous = published_for_period(bulletin.year - 1, bulletin.month_from, bulletin.month_to)
    before = {item.name: item.value for item in previous.values} if previous else {}
    rows = [
        Row(
            name=item.name,
            unit=item.unit,
            lower_is_better=item.lower_is_better,
            value=item.value,
            previous=before.get(item.name),
            change_pct=change_pct(item.value, before.get(item.name)),
        )
        for item in bulletin.values
    ]
    return Comparison(bulletin=bulletin, previous=previous, rows=rows)


_DIGITS = "零一二三四五六七八九"


def chinese_count(n: int) -> str:
    """五, 十二: how a bulletin writes a small count (“实现‘五个下降’”)."""
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _DIGITS[n // 10] + "十" + (_DIGITS[n % 10] if n % 10 else "")
    return str(n)


def summary_sentence(comparison: Comparison) -> str | None:
    """与上年同期相比，投诉电话接听人次、…均下降，实现“五个下降”。"""
    names = comparison.declined_names
    if not names or comparison.previous is None:
        return None
    joined = "、".join(names)
    both = "均" if len(names) > 1 else ""
    return f"与上年同期相比，{joined}{both}同比下降，实现“{chinese_count(len(names))}个下降”。"


def format_value(value: Decimal | None) -> str:
    """21,500 or 765.17: thousands separated, no trailing zeros."""
    if value is None:
        return "—"
    normalized = value.normalize()
    if normalized == normalized.to_integral():
        return f"{int(normalized):,}"
    return f"{normalized:,f}"


def number(value: Decimal | None) -> int | float | None:
    """A figure for JSON: an integer where it is whole."""
    if value is None:
        return None
    return int(value) if value == value.to_integral() else float(value)


def bulletin_dict(comparison: Comparison, url: str) -> dict[str, Any]:
    """The API's shape: {"id", "url", "title", "year", "months", "declines", "indicators"}."""
    bulletin = comparison.bulletin
    return {
        "id": bulletin.id,
        "url": url,
        "title": bulletin.title,
        "year": bulletin.year,
        "months": [bulletin.month_from, bulletin.month_to],
        "period": period_label(bulletin.year, bulletin.month_from, bulletin.month_to),
        "published_on": bulletin.published_on.isoformat() if bulletin.published_on else None,
        "authority": bulletin.authority,
        "revision": bulletin.revision,
        "correction_note": bulletin.correction_note,
        "declines": comparison.declines,
        "indicators": [
            {
                "name": row.name,
                "unit": row.unit,
                "value": number(row.value),
                "previous": number(row.previous),
                "change_pct": None if row.change_pct is None else float(row.change_pct),
                "lower_is_better": row.lower_is_better,
            }
            for row in comparison.rows
        ],
    }


def indicator_counts(items: Sequence[Bulletin]) -> dict[int, int]:
    """Indicators per bulletin for a list, in one query (not one per bulletin)."""
    ids = [item.id for item in items]
    if not ids:
        return {}
    return dict(
        db.session.execute(
            select(BulletinValue.bulletin_id, func.count())
            .where(BulletinValue.bulletin_id.in_(ids))
            .group_by(BulletinValue.bulletin_id)
        ).all()
    )


def bulletin_summary_dict(bulletin: Bulletin, url: str, indicator_count: int) -> dict[str, Any]:
    """A bulletin in a list (without its indicators)."""
    return {
        "id": bulletin.id,
        "url": url,
        "title": bulletin.title,
        "year": bulletin.year,
        "months": [bulletin.month_from, bulletin.month_to],
        "period": period_label(bulletin.year, bulletin.month_from, bulletin.month_to),
        "published_on": bulletin.published_on.isoformat() if bulletin.published_on else None,
        "indicator_count": indicator_count,
    }


CSV_HEADER = ("指标", "单位", "本期", "上年同期", "同比增减（%）", "越低越好")


def csv_rows(comparison: Comparison) -> list[list[object]]:
    """Rows for the CSV twin; figures as plain decimals (21500, -18.78), which the
    safe writer keeps as numbers."""

    def plain(number: Decimal | None) -> Decimal | str:
        return "" if number is None else Decimal(format(number.normalize(), "f"))

    return [
        [
            row.name,
            row.unit,
            plain(row.value),
            plain(row.previous),
            "" if row.change_pct is None else Decimal(format(row.change_pct, "f")),
            "是" if row.lower_is_better else "否",
        ]
        for row in comparison.rows
    ]
