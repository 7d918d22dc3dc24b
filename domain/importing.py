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
    # The batch the problem is about (one already holding the batch number).
    problem_batch: Batch | None = None

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


FIRST_YEAR = 2000
MAX_NUMBER = 99


class NumberingError(Exception):
    """Why a new batch cannot take a year and number; ``batch`` is the batch that
    already holds them, when that is the reason."""

    def __init__(self, message: str, batch: Batch | None = None):
        super().__init__(message)
        self.batch = batch


def last_year() -> int:
    """The latest year a batch may carry (next year's first batch may be prepared)."""
    return clock.today().year + 1


def suggested_number(kind: str, year: int | None = None) -> int:
    """The next free batch number of a kind and year (what the upload page fills in)."""
    return next_free_number(kind, year or clock.today().year)


def suggested_title(kind: str, year: int | None = None) -> str:
    """The title of the next batch of a kind, built from kind, year and number."""
    year = year or clock.today().year
    return batch_title(kind, year, next_free_number(kind, year))


def check_numbering(kind: str, year: int, number: int) -> None:
    """Refuse a year or number out of range, or a number another batch of this kind
    and year already holds (NumberingError naming that batch)."""
    if not FIRST_YEAR <= year <= last_year():
        raise NumberingError(f"年份应在{FIRST_YEAR}到{last_year()}之间")
    if not 1 <= number <= MAX_NUMBER:
        raise NumberingError(f"批次号应在1到{MAX_NUMBER}之间")
    holder = publishing.batch_numbered(kind, year, number)
    if holder is not None:
        raise NumberingError(
            f"{year}年第{number}批已由批次“{holder.title}”（{holder.status_label}）使用，"
            f"下一个未用的批次号是第{next_free_number(kind, year)}批",
            holder,
        )


def numbering_from_title(title: str) -> tuple[int, int]:
    """Year and number read from a typed title (the command line's ``--title``):
    “2026年第四批”, “2026年第4批重大违法案件”. A title naming neither is refused, since
    every batch title is built from kind, year and number."""
    if any(unicodedata.category(char) == "Cc" for char in title):
        raise NumberingError("批次标题含有不可见的控制字符，请删除后重新输入")
    year, number = year_and_number_from_title(title)
    if year is None or number is None:
        raise NumberingError(
            f"无法从标题“{title.strip()[:60]}”中读出年份和批次号：标题须写明年份和第几批，如“2026年第四批”"
        )
    return year, number


def resolve_numbering(
    kind: str, *, title: str | None = None, year: int | None = None, number: int | None = None
) -> tuple[int, int]:
    """The year and number of a new batch: given as such (the upload form), read
    from a typed title (the command line), or, with neither, this year's next free
    number. Checked against every stored batch; the title is then built from them."""
    if year is None and number is None:
        if (title or "").strip():
            year, number = numbering_from_title(title)
        else:
            year = clock.today().year
            number = next_free_number(kind, year)
    elif year is None or number is None:
        raise NumberingError("年份和批次号须同时填写")
    check_numbering(kind, year, number)
    return year, number


def import_file(
    data: bytes,
    filename: str,
    *,
    kind: str,
    settings: ImportSettings,
    actor: Actor,
    title: str | None = None,
    year: int | None = None,
    number: int | None = None,
    publish: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check a file and, if every row passes, store it as one draft batch (or
    publish it at once, for the command line) and commit. The batch is numbered by
    ``year`` and ``number``, or by those read from ``title`` (see
    ``resolve_numbering``), and titled from kind, year and number. Nothing is stored
    when anything is wrong: the result's report and problem say what."""
    problem = schema_problem()
    if problem:
        return ImportResult(ImportReport(kind=kind), problem=problem)
    try:
        year, number = resolve_numbering(kind, title=title, year=year, number=number)
    except NumberingError as refusal:
        return ImportResult(
            ImportReport(kind=kind),
            problem=str(refusal),
            problem_field="number",
            problem_batch=refusal.batch,
        )
    report = check_file(data, filename, kind, settings)
    if not report.errors:
        check_against_stored(report)
    if report.errors:
        return ImportResult(report)
    return import_records(
        kind,
        report.records,
        title=batch_title(kind, year, number),
        year=year,
        number=number,
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
            report, problem="保存时发现该批次号刚被另一个批次使用，请换一个批次号后重新导入", problem_field="number"
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
