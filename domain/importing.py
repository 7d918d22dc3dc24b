"""The import service: the one way records come in. The staff upload, ``flask
import`` and the sample data all call ``import_file`` or ``import_records``, so
the checks, the audit event and the handling of a refused import cannot differ
between them.

Validation (``domain.import_validation``) reads and checks a file and stores
nothing; storage (``domain.import_storage``) writes a draft batch and checks
nothing. This module runs one after the other in one transaction, writes the
audit event under a named actor (a person, or a system actor on the command
line) and commits: all or nothing, a refused import leaves no trace but its
report."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from domain import audit, clock, publishing
from domain.import_storage import (
    CASE_FIELDS,
    LISTING_FIELDS,
    amount_text,
    batch_title,
    next_free_number,
    store_batch,
    year_and_number_from_title,
)
from domain.import_validation import (
    CASE_COLUMNS,
    COLUMNS,
    LISTING_COLUMNS,
    REQUIRED,
    ImportReport,
    ImportSettings,
    RowError,
    check_file,
    check_header,
    validate_table,
)
from extensions import db
from models import Batch, User
from models.batch import KIND_CASES, KIND_LISTINGS

__all__ = [
    "CASE_COLUMNS",
    "CASE_FIELDS",
    "COLUMNS",
    "LISTING_COLUMNS",
    "LISTING_FIELDS",
    "REQUIRED",
    "Actor",
    "ImportReport",
    "ImportResult",
    "ImportSettings",
    "RowError",
    "amount_text",
    "batch_title",
    "canonical_title",
    "check_file",
    "check_header",
    "import_file",
    "import_records",
    "suggested_title",
    "template_file",
    "validate_table",
    "year_and_number_from_title",
]


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a staff account, or a named system actor (the command
    line, the sample data), as the audit log shows it."""

    user: User | None = None
    name: str | None = None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None


TITLE_MAX_LENGTH = Batch.__table__.c.title.type.length

CLI = Actor(name=audit.CLI_ACTOR)
SAMPLE_DATA = Actor(name=audit.SAMPLE_DATA_ACTOR)


@dataclass
class ImportResult:
    report: ImportReport
    batch: Batch | None = None
    # What stopped the import before its rows were read (the title, the schema),
    # as a sentence for staff; the report holds the row-by-row problems.
    problem: str | None = None
    problem_field: str | None = None

    @property
    def ok(self) -> bool:
        return self.batch is not None


def schema_problem() -> str | None:
    """A sentence for staff when the database has no tables yet, else None."""
    try:
        present = inspect(db.engine).has_table(Batch.__tablename__)
    except (OperationalError, ProgrammingError) as error:
        return f"无法连接数据库：{error.orig}"
    if not present:
        return "数据库中还没有数据表，请先运行 flask --app app init-db 建立数据库结构后再导入"
    return None


def suggested_title(kind: str, year: int | None = None) -> str:
    """The title of the next batch of a kind, built from kind, year and number
    (what the upload page proposes and uses when the title is left empty)."""
    year = year or clock.today().year
    return batch_title(kind, year, next_free_number(kind, year))


def canonical_title(kind: str, title: str | None) -> str:
    """The one form of a batch title: an empty title becomes the next batch's, and
    a title naming a year and number is rebuilt from kind, year and number, so
    “2026年第四批” and “2026年第三批重大劳动保障违法案件” never sit side by side. A
    title naming no number (a special batch) is kept as typed."""
    title = (title or "").strip()
    if not title:
        return suggested_title(kind)
    year, number = year_and_number_from_title(title)
    if year and number:
        return batch_title(kind, year, number)
    return title


def title_problem(kind: str, title: str) -> str | None:
    """Why a new batch may not take this title (第N批 is unique per kind and year)."""
    title = (title or "").strip()
    if not title:
        return "批次标题不能为空"
    if len(title) > TITLE_MAX_LENGTH:
        return f"批次标题过长（最多{TITLE_MAX_LENGTH}个字）"
    if any(unicodedata.category(char) == "Cc" for char in title):
        return "批次标题含有不可见的控制字符，请删除后重新输入"
    clash = publishing.numbering_clash(kind, title)
    if clash is not None:
        return f"已有批次“{clash.title}”使用了{clash.year}年第{clash.number}批的编号，请改正标题"
    return None


def import_file(
    data: bytes,
    filename: str,
    *,
    kind: str,
    title: str,
    settings: ImportSettings,
    actor: Actor,
    publish: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check a file and, if every row passes, store it as one draft batch (or
    publish it at once, for the command line) and commit. Nothing is stored when
    anything is wrong: the result's report and problem say what."""
    problem = schema_problem()
    if problem:
        return ImportResult(ImportReport(kind=kind), problem=problem)
    title = canonical_title(kind, title)
    problem = title_problem(kind, title)
    if problem:
        return ImportResult(ImportReport(kind=kind), problem=problem, problem_field="title")
    report = check_file(data, filename, kind, settings)
    if not report.errors:
        check_against_stored(report)
    if report.errors:
        return ImportResult(report)
    return import_records(
        kind,
        report.records,
        title=title.strip(),
        authority=settings.authority,
        actor=actor,
        source_filename=filename,
        publish=publish,
        progress=progress,
        report=report,
    )


def check_against_stored(report: ImportReport) -> None:
    """Each record's decision number against every stored record (a file checks
    itself for duplicates within; this finds the same case in another batch), and
    each listing's enterprise against the public list. A clash is an error naming
    the batch that holds the number; an enterprise already listed under another
    decision is a notice for the reviewer."""
    column = "文书编号" if report.kind == KIND_CASES else "决定文书号"
    holders = publishing.document_holders(report.kind, (record.get("document_no_key") for record in report.records))
    for record in report.records:
        holder = holders.get(record.get("document_no_key"))
        if holder is not None:
            where = f"第{holder.source_row}行" if holder.source_row else f"记录编号{holder.record_id}"
            report.errors.append(
                RowError(
                    record["source_row"],
                    column,
                    f"文书号“{record['document_no']}”已在批次“{holder.batch_title}”（{holder.state}，{where}）中，"
                    + (
                        "同一决定只能公开一次" if holder.state == "已发布" else "如需重新上传该批次，请先删除原草稿批次"
                    ),
                    batch_id=holder.batch_id,
                )
            )
    if report.errors:
        report.records = []
        return
    if report.kind == KIND_LISTINGS:
        listed = publishing.enterprises_listed(record.get("credit_code") for record in report.records)
        for record in report.records:
            current = listed.get(record.get("credit_code"))
            if current is not None and current.document_no_key != record.get("document_no_key"):
                report.notices.append(
                    RowError(
                        record["source_row"],
                        "统一社会信用代码",
                        f"该单位已在名单中（批次“{current.batch.title}”，决定文书号“{current.document_no}”，"
                        f"{current.expires_on.isoformat()}届满）；依法可以再次列入，请审核人核实",
                        batch_id=current.batch_id,
                    )
                )


def import_records(
    kind: str,
    records: Iterable[dict[str, Any]],
    *,
    title: str,
    authority: str,
    actor: Actor,
    year: int | None = None,
    number: int | None = None,
    is_sample: bool = False,
    source_filename: str | None = None,
    publish: bool = False,
    published_on=None,
    progress: Callable[[int], None] | None = None,
    report: ImportReport | None = None,
    update_index: bool = True,
) -> ImportResult:
    """Store validated records as one batch with its audit event, publish it if
    asked, and commit; on a refusal roll everything back. ``records`` may be a
    generator (the sample data streams millions, and rebuilds the search index
    once at the end rather than after each batch: ``update_index=False``)."""
    report = report or ImportReport(kind=kind)
    counted = _Counter(records)
    try:
        batch = store_batch(
            kind,
            counted,
            title=title,
            authority=authority,
            year=year,
            number=number,
            is_sample=is_sample,
            created_by_id=actor.user_id,
            source_filename=source_filename,
            progress=progress,
        )
        source = f"，{source_filename}" if source_filename else ""
        audit.record(
            "batch.upload",
            batch,
            after={"title": batch.title, "kind": kind, "records": counted.count, "file": source_filename},
            user=actor.user,
            username=actor.name,
            summary=f"导入“{batch.title}”（{counted.count}条{source}）",
        )
        if publish:
            if callable(published_on):  # a day that depends on the records just stored
                published_on = published_on()
            publishing.publish_batch(batch, published_by_id=actor.user_id, published_on=published_on)
            audit.record(
                "batch.publish",
                batch,
                after={"status": "published", "number": batch.number, "records": counted.count},
                user=actor.user,
                username=actor.name,
                summary=f"发布“{batch.title}”（{counted.count}条）",
            )
        db.session.commit()
    except publishing.PublishingError as refusal:
        db.session.rollback()
        return ImportResult(report, problem=str(refusal))
    except IntegrityError:
        # Another import took the same batch number (or decision number) a moment ago.
        db.session.rollback()
        return ImportResult(
            report, problem="保存时发现批次编号已被另一个批次使用，请改正标题后重新导入", problem_field="title"
        )
    if publish and update_index:
        publishing.update_search_index()
    return ImportResult(report, batch=batch)


TEMPLATE_FORMATS = ("csv", "xlsx")


def template_file(kind: str, fmt: str) -> tuple[bytes, str]:
    """The empty import template of a kind (its header row), as staff download it
    from the upload page: (file content, file name). Written by the site's one
    CSV/XLSX writer."""
    from domain import exporting
    from domain.serializers import Field

    columns = COLUMNS[kind]
    name = f"{'重大劳动保障违法案件' if kind == KIND_CASES else '失信联合惩戒对象名单'}导入模板.{fmt}"
    if fmt == "csv":
        return exporting.csv_table(list(columns), []), name
    fields = tuple(Field(column, column, "", lambda record: None) for column in columns)
    return exporting.xlsx_bytes(fields, [], lambda record: "", "导入模板"), name


class _Counter:
    """Counts the records a generator yields on their way into storage."""

    def __init__(self, records: Iterable[dict[str, Any]]):
        self.records, self.count = records, 0

    def __iter__(self):
        for record in self.records:
            self.count += 1
            yield record
