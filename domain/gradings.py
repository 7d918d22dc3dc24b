"""The 劳动保障守法诚信等级评价 (人社部规〔2016〕1号): each year employers are graded
A (守法诚信), B (基本守法) or C (不守法). Staff import a year's results from a sheet
(``单位名称, 统一社会信用代码, 等级, 评定日期``; credit codes checked as in the record
import, all or nothing with row numbers), have them reviewed and publish them; a
later publication for the same year replaces the earlier one.

What the public sees follows ``GONGSHI_PUBLISH_GRADES``: ``none`` (nothing),
``counts`` (counts per grade and district), ``a-list`` (the counts and the
A-graded enterprises; the default) or ``all`` (every enterprise's grade)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, insert, select

from domain import audit, clock, review
from domain.importing import RowError
from domain.publishing import PublishingError
from domain.spreadsheets import SpreadsheetError, Table, read_table
from domain.validation import FieldError, check_credit_code, clean_text, find_private_data, fold_width, parse_date
from extensions import db
from models import Enterprise, GradingResult, GradingRun, User
from models.common import utcnow
from models.grading import GRADE_LABELS

COLUMNS = ("单位名称", "统一社会信用代码", "等级", "评定日期")
GRADES = tuple(GRADE_LABELS)
NO_DISTRICT = "未注明区县"
# GONGSHI_PUBLISH_GRADES → the grades whose enterprises are named in public.
VISIBLE_GRADES = {"none": (), "counts": (), "a-list": ("A",), "all": GRADES}
SETTING_LABELS = {
    "none": "不公开",
    "counts": "只公开各等级数量",
    "a-list": "公开各等级数量和A级单位名单",
    "all": "公开全部单位的等级",
}


class GradingError(PublishingError):
    """A grading action the rules do not allow; the message is for staff."""


# --- the setting -------------------------------------------------------------------------


def setting(config: Mapping[str, Any]) -> str:
    return config.get("PUBLISH_GRADES") or "a-list"


def counts_public(config: Mapping[str, Any]) -> bool:
    return setting(config) != "none"


def visible_grades(config: Mapping[str, Any]) -> tuple[str, ...]:
    return VISIBLE_GRADES[setting(config)]


# --- reading a sheet ---------------------------------------------------------------------


def parse_grade(value: object) -> str:
    """A, Ａ, a, A级, A类 or the grade's name (守法诚信) → A."""
    text = fold_width(clean_text(value)).upper()
    text = re.sub(r"(级|类|等)$", "", text).strip()
    for grade, label in GRADE_LABELS.items():
        if text == label:
            return grade
    if text in GRADES:
        return text
    raise FieldError(f"等级“{clean_text(value)}”无效，应为A（守法诚信）、B（基本守法）或C（不守法）")


@dataclass
class GradingReport:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(GRADES, 0)
        for row in self.rows:
            found[row["grade"]] += 1
        return found


def check_table(table: Table, year: int) -> GradingReport:
    """Validate a year's results: every row checked, every error with its row; if
    anything is wrong, no rows come back."""
    report = GradingReport()
    header = [re.sub(r"\s", "", name) for name in table.header]
    if header != list(COLUMNS):
        missing = [name for name in COLUMNS if name not in header]
        extra = [name or "（空表头）" for name in header if name not in COLUMNS]
        problems = []
        if missing:
            problems.append("缺少列：" + "、".join(missing))
        if extra:
            problems.append("多余的列：" + "、".join(extra))
        if not problems:
            problems.append("列的顺序不对")
        report.errors.append(RowError(1, None, "；".join(problems) + "。表头应为“" + "、".join(COLUMNS) + "”"))
        return report
    if not table.rows:
        report.errors.append(RowError(1, None, "表头之后没有数据行"))
        return report
    today = clock.today()
    seen: dict[str, int] = {}
    for number, cells in table.rows:
        cells = list(cells) + [None] * 4
        errors: list[RowError] = []
        if any(clean_text(cell) for cell in cells[4:]):
            errors.append(RowError(number, None, "该行的数据多于表头的列数"))
        name = clean_text(cells[0])
        if not name:
            errors.append(RowError(number, "单位名称", "必填，不能为空"))
        elif len(name) > 200:
            errors.append(RowError(number, "单位名称", "过长（最多200个字）"))
        elif found := find_private_data(name):
            errors.append(RowError(number, "单位名称", f"含有{found}，依法不得公开，请删除后再导入"))
        code = None
        if not clean_text(cells[1]):
            errors.append(RowError(number, "统一社会信用代码", "必填，不能为空"))
        else:
            try:
                code = check_credit_code(clean_text(cells[1]))
            except FieldError as problem:
                errors.append(RowError(number, "统一社会信用代码", str(problem)))
        if code and code in seen:
            errors.append(RowError(number, "统一社会信用代码", f"与第{seen[code]}行重复：一个单位每年只有一个等级"))
        elif code:
            seen[code] = number
        grade = None
        if not clean_text(cells[2]):
            errors.append(RowError(number, "等级", "必填，不能为空"))
        else:
            try:
                grade = parse_grade(cells[2])
            except FieldError as problem:
                errors.append(RowError(number, "等级", str(problem)))
        graded_on = None
        if clean_text(cells[3]) == "":
            errors.append(RowError(number, "评定日期", "必填，不能为空"))
        else:
            try:
                graded_on = parse_date(cells[3])
            except FieldError as problem:
                errors.append(RowError(number, "评定日期", str(problem)))
        if graded_on is not None:
            if graded_on > today:
                errors.append(RowError(number, "评定日期", f"日期{graded_on.isoformat()}晚于今天"))
            elif not year <= graded_on.year <= year + 1:
                errors.append(
                    RowError(
                        number, "评定日期", f"{year}年度的评价应在{year}年或{year + 1}年作出，不能是{graded_on.year}年"
                    )
                )
        if errors:
            report.errors.extend(errors)
        else:
            report.rows.append(
                {
                    "enterprise_name": name,
                    "credit_code": code,
                    "grade": grade,
                    "graded_on": graded_on,
                    "source_row": number,
                }
            )
    if report.errors:
        report.rows = []
    return report


def check_file(data: bytes, filename: str, year: int) -> GradingReport:
    try:
        table = read_table(data, filename)
    except SpreadsheetError as problem:
        return GradingReport(errors=[RowError(0, None, str(problem))])
    return check_table(table, year)


def check_year(year: int) -> None:
    today = clock.today()
    if not 2000 <= year <= today.year:
        raise GradingError(f"年度应在2000到{today.year}之间")


# --- storing and the workflow --------------------------------------------------------------


def resolve_districts(rows: list[dict[str, Any]], district_codes: Mapping[str, str]) -> None:
    """The district each enterprise is counted in: as the site knows the enterprise
    from its records, else from the region code in its credit code (3rd–8th
    characters), else none. Rows that already carry a district keep it."""
    codes = [row["credit_code"] for row in rows if not row.get("district")]
    known: dict[str, str] = {}
    for start in range(0, len(codes), 1000):
        chunk = codes[start : start + 1000]
        known.update(
            db.session.execute(
                select(Enterprise.credit_code, Enterprise.district).where(Enterprise.credit_code.in_(chunk))
            ).all()
        )
    for row in rows:
        if not row.get("district"):
            code = row["credit_code"]
            row["district"] = known.get(code) or district_codes.get(code[2:8])


def default_title(year: int) -> str:
    return f"{year}年度劳动保障守法诚信等级评价结果"


def _state(run: GradingRun) -> dict[str, Any]:
    return {"status": run.status, "published_on": run.published_on, "review_comment": run.review_comment}


REVIEW = review.Workflow(
    action="grading",
    noun="评价结果",
    error=GradingError,
    state=_state,
    draft_only="只有草稿可以修改或删除；待审核的请先由审核人退回",
    preparing_actions=("grading.create", "grading.submit"),
)


def create_run(
    *,
    year: int,
    rows: Sequence[dict[str, Any]],
    authority: str,
    district_codes: Mapping[str, str],
    title: str | None = None,
    user: User | None = None,
    username: str | None = None,
    source_filename: str | None = None,
    is_sample: bool = False,
) -> GradingRun:
    """Store a year's validated results as a draft in the current transaction."""
    check_year(year)
    if not rows:
        raise GradingError("没有任何评价结果")
    title = clean_text(title) or default_title(year)
    if len(title) > 200:
        raise GradingError("标题过长（最多200个字）")
    rows = [dict(row) for row in rows]
    resolve_districts(rows, district_codes)
    run = GradingRun(
        year=year,
        title=title,
        authority=authority,
        status="draft",
        is_sample=is_sample,
        source_filename=source_filename,
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(run)
    db.session.flush()
    columns = ("enterprise_name", "credit_code", "district", "grade", "graded_on", "source_row")
    db.session.execute(
        insert(GradingResult.__table__),
        [{"run_id": run.id, "year": year, **{name: row.get(name) for name in columns}} for row in rows],
    )
    counts = dict.fromkeys(GRADES, 0)
    for row in rows:
        counts[row["grade"]] += 1
    audit.record(
        "grading.create",
        run,
        after={"title": title, "year": year, "results": len(rows), "counts": counts, "file": source_filename},
        user=user,
        username=username,
        summary=f"导入“{title}”（{len(rows)}户：A级{counts['A']}、B级{counts['B']}、C级{counts['C']}）",
    )
    return run


def result_count(run: GradingRun) -> int:
    return db.session.scalar(select(func.count()).select_from(GradingResult).where(GradingResult.run_id == run.id)) or 0


def delete_draft(run: GradingRun, user: User) -> None:
    REVIEW.require_draft(run)
    audit.record(
        "grading.delete",
        run,
        before={**_state(run), "title": run.title, "results": result_count(run)},
        user=user,
        summary=f"删除草稿“{run.title}”",
    )
    db.session.execute(db.delete(GradingResult).where(GradingResult.run_id == run.id))
    db.session.delete(run)


def submit(run: GradingRun, user: User) -> None:
    REVIEW.submit(run, user)


def send_back(run: GradingRun, comment: str, user: User) -> None:
    REVIEW.send_back(run, comment, user)


def why_not(run: GradingRun, user: User, *, four_eyes: bool) -> str | None:
    """Why this user may not publish these results, or None if they may."""
    return REVIEW.why_not_publish(run, user, four_eyes=four_eyes)


def publish(
    run: GradingRun,
    user: User | None,
    *,
    four_eyes: bool,
    published_on: dt.date | None = None,
    username: str | None = None,
) -> GradingRun | None:
    """Publish a year's results after review (``user`` None: the command line or
    the sample data, which publish a draft directly). An earlier publication for
    the same year is replaced; it is returned."""
    REVIEW.check_publish(run, user, four_eyes=four_eyes)
    now = utcnow()
    replaced = db.session.scalar(
        select(GradingRun).where(GradingRun.year == run.year, GradingRun.status == "published", GradingRun.id != run.id)
    )
    if replaced is not None:
        replaced.status = "superseded"
        replaced.superseded_at = now
        audit.record(
            "grading.supersede",
            replaced,
            {"status": "published"},
            {"status": "superseded", "replaced_by": run.id},
            user,
            username=username,
            summary=f"“{replaced.title}”由新发布的“{run.title}”替换",
        )
    REVIEW.mark_published(
        run,
        user,
        published_on=published_on,
        username=username,
        now=now,
        summary=f"发布“{run.title}”（{result_count(run)}户）",
    )
    return replaced


# --- what the public sees ----------------------------------------------------------------


def published_run(year: int | None = None) -> GradingRun | None:
    """The published results of a year, or of the latest year with any."""
    statement = select(GradingRun).where(GradingRun.status == "published")
    if year is not None:
        statement = statement.where(GradingRun.year == year)
    return db.session.scalar(statement.order_by(GradingRun.year.desc(), GradingRun.id.desc()).limit(1))


def published_years() -> list[int]:
    return list(
        db.session.scalars(
            select(GradingRun.year).where(GradingRun.status == "published").distinct().order_by(GradingRun.year.desc())
        )
    )


def counts(run: GradingRun) -> dict[str, int]:
    found = dict.fromkeys(GRADES, 0)
    found.update(
        db.session.execute(
            select(GradingResult.grade, func.count())
            .where(GradingResult.run_id == run.id)
            .group_by(GradingResult.grade)
        ).all()
    )
    return found


@dataclass(frozen=True)
class DistrictCounts:
    district: str
    A: int
    B: int
    C: int

    @property
    def total(self) -> int:
        return self.A + self.B + self.C

    def as_dict(self) -> dict[str, Any]:
        return {"district": self.district, "A": self.A, "B": self.B, "C": self.C, "total": self.total}


def district_counts(run: GradingRun, districts: Sequence[str]) -> list[DistrictCounts]:
    """Counts per grade in each configured district (in their order, all shown),
    then any other district, then those with none."""
    cells: dict[str, dict[str, int]] = {}
    for district, grade, number in db.session.execute(
        select(GradingResult.district, GradingResult.grade, func.count())
        .where(GradingResult.run_id == run.id)
        .group_by(GradingResult.district, GradingResult.grade)
    ):
        cells.setdefault(district or NO_DISTRICT, dict.fromkeys(GRADES, 0))[grade] = number
    order = list(districts) + sorted(name for name in cells if name not in districts and name != NO_DISTRICT)
    if NO_DISTRICT in cells:
        order.append(NO_DISTRICT)
    return [DistrictCounts(name, **cells.get(name, dict.fromkeys(GRADES, 0))) for name in order]


def results_statement(run: GradingRun, grades: Sequence[str], grade: str | None = None) -> Select:
    """The named results the setting allows (``grades``), optionally one grade,
    ordered by district and name."""
    wanted = [g for g in grades if grade is None or g == grade]
    return (
        select(GradingResult)
        .where(GradingResult.run_id == run.id, GradingResult.grade.in_(wanted))
        .order_by(GradingResult.grade, GradingResult.district, GradingResult.enterprise_name, GradingResult.id)
    )


def latest_grade(credit_code: str | None, config: Mapping[str, Any]) -> GradingResult | None:
    """An enterprise's grade in the latest published year it was graded, if the
    setting lets the public see that grade (under ``a-list`` an enterprise whose
    latest grade is B shows none, never an older A)."""
    if not credit_code or not visible_grades(config):
        return None
    latest = db.session.scalar(
        select(GradingResult)
        .join(GradingRun, GradingRun.id == GradingResult.run_id)
        .where(GradingResult.credit_code == credit_code, GradingRun.status == "published")
        .order_by(GradingResult.year.desc(), GradingRun.id.desc())
        .limit(1)
    )
    if latest is None or latest.grade not in visible_grades(config):
        return None
    return latest


def result_dict(result: GradingResult) -> dict[str, Any]:
    return {
        "enterprise_name": result.enterprise_name,
        "credit_code": result.credit_code,
        "grade": result.grade,
        "grade_label": result.grade_label,
        "district": result.district,
        "graded_on": result.graded_on.isoformat(),
    }


def year_dict(run: GradingRun, districts: Sequence[str], config: Mapping[str, Any]) -> dict[str, Any]:
    """The head of the API's answer: {"year", "counts", "districts", …}."""
    return {
        "year": run.year,
        "title": run.title,
        "authority": run.authority,
        "published_on": run.published_on.isoformat() if run.published_on else None,
        "publish_grades": setting(config),
        "counts": counts(run),
        "districts": [row.as_dict() for row in district_counts(run, districts)],
    }
