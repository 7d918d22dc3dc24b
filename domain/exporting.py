"""Open-data downloads: the whole filtered set of public records as CSV (for
Excel) or XLSX, read from the database a thousand rows at a time so a large
download never sits in memory. The fields come from ``domain.serializers``; only
statements from ``domain.queries`` (public records) are ever passed in here."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Select

from domain.importing import amount_text
from domain.serializers import Field, UrlOf
from extensions import db

ROWS_PER_FETCH = 1000


def stream(statement: Select) -> Iterator[Any]:
    """The rows of a statement, fetched ``ROWS_PER_FETCH`` at a time."""
    return iter(db.session.scalars(statement.execution_options(yield_per=ROWS_PER_FETCH)))


# --- cells ---------------------------------------------------------------------------

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return amount_text(Decimal(str(value)))
    if isinstance(value, (list, tuple)):
        return "、".join(str(item) for item in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return safe_cell(str(value))


def spreadsheet_cell(value: Any) -> Any:
    """Numbers stay numbers in a workbook, so amounts and counts can be summed."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return cell_text(value)


def rows(
    fields: tuple[Field, ...], records: Iterable[Any], url_of: UrlOf, cell: Callable[[Any], Any] = cell_text
) -> Iterator[list[Any]]:
    for record in records:
        yield [cell(url_of(record) if field.key == "url" else field.value(record)) for field in fields]


def csv_chunks(
    fields: tuple[Field, ...], records: Iterable[Any], url_of: UrlOf, chunk_rows: int = 500
) -> Iterator[bytes]:
    """A CSV file in pieces: UTF-8 with a BOM so Excel reads the Chinese, the
    Chinese headers first, then ``chunk_rows`` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([field.label for field in fields])
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows(fields, records, url_of):
        writer.writerow(row)
        pending += 1
        if pending >= chunk_rows:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def xlsx_bytes(fields: tuple[Field, ...], records: Iterable[Any], url_of: UrlOf, sheet_title: str) -> bytes:
    """An XLSX workbook (write-only mode, so memory stays flat)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title[:31] or "数据")
    sheet.append([field.label for field in fields])
    for row in rows(fields, records, url_of, cell=spreadsheet_cell):
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_table(header: list[str], table: Iterable[list[Any]]) -> bytes:
    """A small table (figures, not records) as one CSV file, written like the
    record downloads: UTF-8 with a BOM, cells safe from formula injection,
    numbers as they are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in table:
        writer.writerow(
            [
                value if isinstance(value, (int, float)) and not isinstance(value, bool) else cell_text(value)
                for value in row
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
