"""The one import service: every way data comes in (CLI, staff upload, sample
data) goes through ``validate_table`` and ``store_batch``. All-or-nothing: a file
with any invalid row stores nothing, and every problem is reported by row and
column."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select

from domain import clock
from domain.spreadsheets import SpreadsheetError, Table, read_table
from domain.validation import (
    FieldError,
    check_credit_code,
    clean_text,
    find_private_data,
    looks_like_registration_number,
    normalize_credit_code,
    normalize_document_no,
    parse_amount,
    parse_count,
    parse_date,
    parse_yes_no,
)
from domain.vocabulary import canonical_violation_type
from extensions import db
from models import Batch, Case, CaseViolationType, Enterprise, Listing, ListingPerson
from models.batch import KIND_CASES, KIND_LISTINGS
from models.listing import REGIME_2017, REGIME_2022

CASE_COLUMNS = (
    "违法主体名称",
    "统一社会信用代码",
    "法定代表人",
    "地址",
    "区县",
    "行业",
    "违法类型",
    "主要违法事实",
    "处理处罚情况",
    "涉及人数",
    "涉及金额（元）",
    "罚款金额（元）",
    "是否移送公安机关",
    "决定日期",
    "文书编号",
)
LISTING_COLUMNS = (
    "单位名称",
    "统一社会信用代码",
    "法定代表人",
    "责任人员",
    "地址",
    "区县",
    "列入事由",
    "列入依据",
    "涉及人数",
    "拖欠金额（元）",
    "作出决定部门",
    "决定文书号",
    "列入日期",
    "期限（年）",
)
COLUMNS = {KIND_CASES: CASE_COLUMNS, KIND_LISTINGS: LISTING_COLUMNS}
REQUIRED = {
    KIND_CASES: {"违法主体名称", "区县", "违法类型", "主要违法事实", "决定日期"},
    KIND_LISTINGS: {
        "单位名称",
        "统一社会信用代码",
        "法定代表人",
        "区县",
        "列入事由",
        "作出决定部门",
        "决定文书号",
        "列入日期",
    },
}
# Columns that name a code or number rather than free text: no privacy scan.
_NOT_SCANNED = {"统一社会信用代码"}
_MAX_LENGTH = {
    "违法主体名称": 200,
    "单位名称": 200,
    "法定代表人": 50,
    "地址": 300,
    "行业": 100,
    "文书编号": 100,
    "决定文书号": 100,
    "作出决定部门": 200,
}
# The first day the 第45号令 regime applies (3-year term from the decision).
REGIME_2022_START = dt.date(2022, 1, 1)
STORE_CHUNK = 2000


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" + (f"【{self.column}】" if self.column else "")
        return f"{where}：{self.message}"


@dataclass
class ImportSettings:
    districts: Sequence[str]
    authority: str
    default_term_years: int = 3

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ImportSettings:
        return cls(
            districts=tuple(config["DISTRICTS"]),
            authority=config["AUTHORITY_NAME"],
            default_term_years=int(config["DEFAULT_LISTING_TERM_YEARS"]),
        )


@dataclass
class ImportReport:
    kind: str
    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.records)


def _normalize_header(name: str) -> str:
    return re.sub(r"\s", "", name).replace("(", "（").replace(")", "）")


def check_header(kind: str, header: Sequence[str]) -> list[RowError]:
    expected = COLUMNS[kind]
    normalized = [_normalize_header(name) for name in header]
    errors = []
    for position, name in enumerate(normalized, start=1):
        if not name:
            errors.append(RowError(1, None, f"第{position}列没有表头"))
        elif name not in expected:
            errors.append(RowError(1, name, "不是模板中的列名（多余的列会被拒绝，请删除或改正）"))
        elif normalized.index(name) != position - 1:
            errors.append(RowError(1, name, "列名重复"))
    missing = [name for name in expected if name not in normalized]
    if missing:
        errors.append(RowError(1, None, "缺少列：" + "、".join(missing)))
    return errors


def validate_table(kind: str, table: Table, settings: ImportSettings) -> ImportReport:
    if kind not in COLUMNS:
        raise ValueError(f"unknown kind {kind!r}")
    report = ImportReport(kind=kind)
    report.errors.extend(check_header(kind, table.header))
    if report.errors:
        return report
    names = [_normalize_header(name) for name in table.header]
    if not table.rows:
        report.errors.append(RowError(1, None, "表头之后没有数据行"))
        return report
    validate = _validate_case if kind == KIND_CASES else _validate_listing
    seen_documents: dict[str, int] = {}
    today = clock.today()
    for number, cells in table.rows:
        extra = [cell for cell in cells[len(names) :] if clean_text(cell)]
        if extra:
            report.errors.append(RowError(number, None, "该行的数据多于表头的列数"))
        raw = {name: cells[index] if index < len(cells) else None for index, name in enumerate(names)}
        errors: list[RowError] = []
        record = validate(raw, number, settings, errors, today)
        document_key = record.get("document_no_key")
        if document_key:
            if document_key in seen_documents:
                column = "文书编号" if kind == KIND_CASES else "决定文书号"
                errors.append(RowError(number, column, f"与第{seen_documents[document_key]}行的文书号重复"))
            else:
                seen_documents[document_key] = number
        if errors:
            report.errors.extend(errors)
        else:
            report.records.append(record)
    if report.errors:
        report.records = []
    return report


class _Row:
    """Reads one row's cells, collecting errors rather than stopping at the first."""

    def __init__(self, raw: dict[str, object], number: int, required: set[str], errors: list[RowError]):
        self.raw, self.number, self.required, self.errors = raw, number, required, errors

    def error(self, column: str | None, message: str) -> None:
        self.errors.append(RowError(self.number, column, message))

    def text(self, column: str) -> str | None:
        value = clean_text(self.raw.get(column))
        if not value:
            if column in self.required:
                self.error(column, "必填，不能为空")
            return None
        limit = _MAX_LENGTH.get(column)
        if limit and len(value) > limit:
            self.error(column, f"过长（最多{limit}个字）")
        if column not in _NOT_SCANNED:
            found = find_private_data(value)
            if found:
                self.error(column, f"含有{found}，依法不得公开，请删除后再导入")
        return value

    def parsed(self, column: str, parser: Callable[[object], Any]) -> Any:
        value = self.raw.get(column)
        if clean_text(value) == "":
            if column in self.required:
                self.error(column, "必填，不能为空")
            return None
        try:
            return parser(value)
        except FieldError as problem:
            self.error(column, str(problem))
            return None


def _enterprise_fields(row: _Row, name_column: str, settings: ImportSettings, code_required: bool) -> dict[str, Any]:
    code_text = row.text("统一社会信用代码")
    credit_code = reg_no = None
    if code_text:
        if looks_like_registration_number(code_text) and not code_required:
            reg_no = normalize_credit_code(code_text)
        else:
            try:
                credit_code = check_credit_code(code_text)
            except FieldError as problem:
                row.error("统一社会信用代码", str(problem))
    elif code_required:
        pass  # already reported as missing
    district = row.text("区县")
    if district and district not in settings.districts:
        row.error("区县", f"“{district}”不在本市区县列表中（{'、'.join(settings.districts)}）")
    return {
        "enterprise_name": row.text(name_column),
        "credit_code": credit_code,
        "reg_no": reg_no,
        "legal_representative": row.text("法定代表人"),
        "address": row.text("地址"),
        "district": district,
        "industry": row.text("行业") if "行业" in row.raw else None,
    }


def _check_not_future(row: _Row, column: str, day: dt.date | None, today: dt.date) -> None:
    if day and day > today:
        row.error(column, f"日期{day.isoformat()}晚于今天")


def _validate_case(raw, number, settings, errors, today) -> dict[str, Any]:
    row = _Row(raw, number, REQUIRED[KIND_CASES], errors)
    record = _enterprise_fields(row, "违法主体名称", settings, code_required=False)
    labels: list[str] = []
    types_text = row.text("违法类型")
    if types_text:
        for part in re.split(r"[、;；,，/]", types_text):
            part = part.strip()
            if not part:
                continue
            label = canonical_violation_type(part)
            if label is None:
                row.error("违法类型", f"“{part}”不是规定的违法类型")
            elif label not in labels:
                labels.append(label)
    decided_on = row.parsed("决定日期", parse_date)
    _check_not_future(row, "决定日期", decided_on, today)
    document_no = row.text("文书编号")
    record.update(
        violation_types="、".join(labels),
        facts=row.text("主要违法事实"),
        handling=row.text("处理处罚情况"),
        workers_involved=row.parsed("涉及人数", parse_count),
        amount_involved=row.parsed("涉及金额（元）", parse_amount),
        fine_amount=row.parsed("罚款金额（元）", parse_amount),
        transferred_to_police=bool(row.parsed("是否移送公安机关", parse_yes_no)),
        decided_on=decided_on,
        year=decided_on.year if decided_on else None,
        document_no=document_no,
        document_no_key=normalize_document_no(document_no),
        source_row=number,
    )
    return record


def _split_names(text: str | None) -> list[str]:
    if not text:
        return []
    names = []
    for name in re.split(r"[、;；,，/\s]+", text):
        if name and name not in names:
            names.append(name)
    return names


def _validate_listing(raw, number, settings, errors, today) -> dict[str, Any]:
    row = _Row(raw, number, REQUIRED[KIND_LISTINGS], errors)
    record = _enterprise_fields(row, "单位名称", settings, code_required=True)
    persons = _split_names(row.text("责任人员"))
    for name in persons:
        if len(name) > 20 or re.search(r"\d", name):
            row.error("责任人员", f"“{name}”不像一个姓名；多个姓名请用“、”分隔")
    listed_on = row.parsed("列入日期", parse_date)
    _check_not_future(row, "列入日期", listed_on, today)
    term_years = row.parsed("期限（年）", parse_count)
    if term_years is not None and not 1 <= term_years <= 10:
        row.error("期限（年）", "期限应为1到10年")
        term_years = None
    regime = REGIME_2022 if listed_on is None or listed_on >= REGIME_2022_START else REGIME_2017
    if term_years is None:
        term_years = settings.default_term_years if regime == REGIME_2022 else 1
    document_no = row.text("决定文书号")
    record.update(
        persons=persons,
        reason=row.text("列入事由"),
        basis=row.text("列入依据"),
        workers_involved=row.parsed("涉及人数", parse_count),
        amount_owed=row.parsed("拖欠金额（元）", parse_amount),
        deciding_authority=row.text("作出决定部门"),
        document_no=document_no,
        document_no_key=normalize_document_no(document_no),
        listed_on=listed_on,
        term_years=term_years,
        expires_on=clock.add_years(listed_on, term_years) if listed_on else None,
        regime=regime,
        year=listed_on.year if listed_on else None,
        source_row=number,
    )
    return record


def check_file(data: bytes, filename: str, kind: str, settings: ImportSettings) -> ImportReport:
    """Read and validate a file without storing anything."""
    try:
        table = read_table(data, filename)
    except SpreadsheetError as problem:
        return ImportReport(kind=kind, errors=[RowError(0, None, str(problem))])
    return validate_table(kind, table, settings)


# --- storing -------------------------------------------------------------------

_TITLE = re.compile(r"(\d{4})\s*年.*?第\s*([0-9一二三四五六七八九十]+)\s*批")
_CHINESE_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九十")}


def year_and_number_from_title(title: str) -> tuple[int | None, int | None]:
    """(2020, 4) from “2020年第四批”; (None, None) when the title says neither."""
    match = _TITLE.search(title)
    if not match:
        year = re.search(r"(\d{4})\s*年", title)
        return (int(year.group(1)) if year else None), None
    text = match.group(2)
    if text.isdigit():
        number = int(text)
    elif text == "十":
        number = 10
    elif text.startswith("十"):
        number = 10 + _CHINESE_DIGITS[text[1]]
    elif text.endswith("十"):
        number = _CHINESE_DIGITS[text[0]] * 10
    elif "十" in text:
        tens, ones = text.split("十")
        number = _CHINESE_DIGITS[tens] * 10 + _CHINESE_DIGITS[ones]
    else:
        number = _CHINESE_DIGITS.get(text)
    return int(match.group(1)), number


def _enterprise_key(record: dict[str, Any]) -> tuple[str, str]:
    if record.get("credit_code"):
        return ("credit_code", record["credit_code"])
    if record.get("reg_no"):
        return ("reg_no", record["reg_no"])
    return ("name", f"{record['enterprise_name']}|{record['district']}")


_ENTERPRISE_FIELDS = ("legal_representative", "address", "district", "industry")


def _resolve_enterprises(records: list[dict[str, Any]]) -> None:
    """Set ``enterprise_id`` on each record, creating enterprises not seen before."""
    keys = {_enterprise_key(record): record for record in records}
    found: dict[tuple[str, str], int] = {}
    codes = [value for kind, value in keys if kind == "credit_code"]
    regs = [value for kind, value in keys if kind == "reg_no"]
    names = [value.split("|", 1)[0] for kind, value in keys if kind == "name"]
    if codes:
        for id_, code in db.session.execute(
            select(Enterprise.id, Enterprise.credit_code).where(Enterprise.credit_code.in_(codes))
        ):
            found[("credit_code", code)] = id_
    if regs:
        for id_, reg in db.session.execute(select(Enterprise.id, Enterprise.reg_no).where(Enterprise.reg_no.in_(regs))):
            found[("reg_no", reg)] = id_
    if names:
        for id_, name, district in db.session.execute(
            select(Enterprise.id, Enterprise.name, Enterprise.district).where(
                Enterprise.name.in_(names), Enterprise.credit_code.is_(None), Enterprise.reg_no.is_(None)
            )
        ):
            found[("name", f"{name}|{district}")] = id_
    missing = [key for key in keys if key not in found]
    if missing:
        rows = [
            {
                "name": keys[key]["enterprise_name"],
                "credit_code": keys[key].get("credit_code"),
                "reg_no": keys[key].get("reg_no"),
                **{name: keys[key].get(name) for name in _ENTERPRISE_FIELDS},
            }
            for key in missing
        ]
        ids = _insert_ids(Enterprise, rows)
        found.update(zip(missing, ids, strict=True))
    for record in records:
        record["enterprise_id"] = found[_enterprise_key(record)]


def store_batch(
    kind: str,
    records: Iterable[dict[str, Any]],
    *,
    title: str,
    authority: str,
    year: int | None = None,
    number: int | None = None,
    is_sample: bool = False,
    created_by_id: int | None = None,
    source_filename: str | None = None,
    total: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Batch:
    """Store validated records as a draft batch in the current transaction (the
    caller commits). Records are inserted in chunks so that a million rows fit in
    memory and time."""
    title_year, title_number = year_and_number_from_title(title)
    batch = Batch(
        kind=kind,
        title=title,
        authority=authority,
        year=year or title_year or clock.today().year,
        number=number if number is not None else title_number,
        status="draft",
        is_sample=is_sample,
        created_by_id=created_by_id,
        source_filename=source_filename,
    )
    db.session.add(batch)
    db.session.flush()
    chunk: list[dict[str, Any]] = []
    latest: dt.date | None = None
    for record in records:
        chunk.append(record)
        day = record.get("decided_on") or record.get("listed_on")
        if day and (latest is None or day > latest):
            latest = day
        if len(chunk) >= STORE_CHUNK:
            _store_chunk(kind, batch.id, chunk)
            if progress:
                progress(len(chunk))
            chunk = []
    if chunk:
        _store_chunk(kind, batch.id, chunk)
        if progress:
            progress(len(chunk))
    if year is None and title_year is None and latest is not None:
        batch.year = latest.year
    return batch


# The enterprise as a record publishes it (models.common.EnterpriseSnapshot).
_SNAPSHOT_FIELDS = (
    "enterprise_name",
    "credit_code",
    "reg_no",
    "legal_representative",
    "address",
    "district",
    "industry",
)
# The published content of a record: what a correction may change and what a
# form or a file fills in (domain.publishing uses the same lists).
CASE_FIELDS = (
    *_SNAPSHOT_FIELDS,
    "violation_types",
    "facts",
    "handling",
    "workers_involved",
    "amount_involved",
    "fine_amount",
    "transferred_to_police",
    "decided_on",
    "year",
    "document_no",
    "document_no_key",
)
LISTING_FIELDS = (
    *_SNAPSHOT_FIELDS,
    "reason",
    "basis",
    "workers_involved",
    "amount_owed",
    "deciding_authority",
    "document_no",
    "document_no_key",
    "listed_on",
    "term_years",
    "expires_on",
    "regime",
    "year",
)
# What the import stores besides: the matched enterprise and the row of the file.
_CASE_COLUMNS = ("enterprise_id", *CASE_FIELDS, "source_row")
_LISTING_COLUMNS = ("enterprise_id", *LISTING_FIELDS, "source_row")


def _insert_ids(model, rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows and return their new ids in the order of ``rows``.

    Core inserts on the table, not ORM bulk inserts: the ORM splits a list into a
    new statement wherever the set of NULL columns changes, which for real data is
    every few rows."""
    table = model.__table__
    if db.session.get_bind().dialect.name != "sqlite":
        statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return list(db.session.scalars(statement, rows))
    # SQLite cannot tie RETURNING rows to parameter sets, so SQLAlchemy would send one
    # INSERT per row. This transaction already holds SQLite's single write lock (the
    # batch row was flushed first) and a new rowid is max(rowid) + 1, so the rows get
    # consecutive ids: checked, not assumed.
    before = db.session.scalar(select(func.max(table.c.id))) or 0
    db.session.execute(insert(table), rows)
    after = db.session.scalar(select(func.max(table.c.id))) or 0
    if after - before != len(rows):
        raise RuntimeError("new ids are not consecutive")
    return list(range(before + 1, after + 1))


def _store_chunk(kind: str, batch_id: int, records: list[dict[str, Any]]) -> None:
    _resolve_enterprises(records)
    if kind == KIND_CASES:
        rows = [{"batch_id": batch_id, "status": "draft", **{k: r.get(k) for k in _CASE_COLUMNS}} for r in records]
        ids = _insert_ids(Case, rows)
        types = [
            {"case_id": case_id, "violation_type": label, "position": position}
            for case_id, record in zip(ids, records, strict=True)
            for position, label in enumerate(record["violation_types"].split("、"))
            if label
        ]
        if types:
            db.session.execute(insert(CaseViolationType.__table__), types)
    else:
        rows = [{"batch_id": batch_id, "status": "draft", **{k: r.get(k) for k in _LISTING_COLUMNS}} for r in records]
        ids = _insert_ids(Listing, rows)
        persons = [
            {"listing_id": listing_id, "name": name, "position": position}
            for listing_id, record in zip(ids, records, strict=True)
            for position, name in enumerate(record.get("persons") or [])
        ]
        if persons:
            db.session.execute(insert(ListingPerson.__table__), persons)


def amount_text(value: Decimal | None) -> str:
    """Amounts as staff type them: 416000 or 416000.5, never 416000.00."""
    if value is None:
        return ""
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
