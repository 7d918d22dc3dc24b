"""Validating an import: reads a file's rows and checks every cell against the
rules of the template, collecting every problem by row and column. Stores
nothing; ``domain.import_storage`` stores what passed, and ``domain.importing``
(the import service) ties the two together."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain import clock
from domain.spreadsheets import MB, Limits, SpreadsheetError, Table, read_table
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


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: str
    batch_id: int | None = None  # the stored batch the message refers to, for a link

    def __str__(self) -> str:
        where = f"第{self.row}行" + (f"【{self.column}】" if self.column else "")
        return f"{where}：{self.message}"


@dataclass
class ImportSettings:
    districts: Sequence[str]
    authority: str
    default_term_years: int = 3
    limits: Limits = field(default_factory=Limits)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ImportSettings:
        return cls(
            districts=tuple(config["DISTRICTS"]),
            authority=config["AUTHORITY_NAME"],
            default_term_years=int(config["DEFAULT_LISTING_TERM_YEARS"]),
            limits=Limits(
                max_rows=int(config.get("IMPORT_MAX_ROWS", Limits.max_rows)),
                max_unpacked_bytes=int(config.get("IMPORT_MAX_UNPACKED_MB", Limits.max_unpacked_bytes // MB)) * MB,
            ),
        )


@dataclass
class ImportReport:
    kind: str
    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Lawful but worth a reviewer's look (an enterprise already on the list).
    notices: list[RowError] = field(default_factory=list)

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
        table = read_table(data, filename, settings.limits)
    except SpreadsheetError as problem:
        return ImportReport(kind=kind, errors=[RowError(0, None, str(problem))])
    return validate_table(kind, table, settings)
