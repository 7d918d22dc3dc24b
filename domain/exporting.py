"""Open-data downloads: the whole filtered set of public records as CSV (for
Excel), XLSX or JSON, read from the database a thousand rows at a time so a large
download never sits in memory, under a file name that says what it holds
(``兰州-失信名单-城关区-20261203.csv``). The fields come from
``domain.serializers``; only statements from ``domain.queries`` (public records)
are ever passed in here."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select

from domain.importing import amount_text
from domain.serializers import Field, UrlOf
from extensions import db

ROWS_PER_FETCH = 1000


def stream(statement: Select) -> Iterator[Any]:
    """The rows of a statement, fetched ``ROWS_PER_FETCH`` at a time (a server-side
    cursor on PostgreSQL), run when the first row is wanted; the cursor is closed
    when the download ends or is abandoned (a client that hangs up)."""
    result = db.session.scalars(statement.execution_options(yield_per=ROWS_PER_FETCH))
    try:
        yield from result
    finally:
        result.close()


def count_rows(statement: Select) -> int:
    """How many rows a download of ``statement`` holds (for its link and its JSON head)."""
    return db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0


# --- file names ------------------------------------------------------------------------

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\s]+')
_ASCII_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _part(text: str, limit: int = 40) -> str:
    return _UNSAFE.sub("_", text).strip("._")[:limit]


def file_names(
    city: str, kind: str, kind_ascii: str, parts: Iterable[str], day: dt.date, extension: str
) -> tuple[str, str]:
    """The name a download is saved under, and its plain-ASCII fallback for old
    clients: the city, the kind, each active filter, the date of the answer —
    ``("兰州-失信名单-城关区-2026年-20261203.csv", "listings-2026-20261203.csv")``. Characters a
    file system refuses become ``_``."""
    stamp = day.strftime("%Y%m%d")
    words = [_part(city.removesuffix("市")), _part(kind), *(_part(p) for p in parts), stamp]
    name = "-".join(word for word in words if word) + "." + extension
    # the ASCII of each part (a year, a code) survives; the Chinese is in the first name
    ascii_parts = [_ASCII_UNSAFE.sub("_", part).strip("._")[:40] for part in parts]
    ascii_words = [kind_ascii, *(part for part in ascii_parts if part), stamp]
    return name, "-".join(ascii_words) + "." + extension


# --- cells ---------------------------------------------------------------------------
# The one safe writer: every CSV and XLSX the site writes (record downloads, the
# staff audit log, tables of figures) passes its cells through here. Text that a
# spreadsheet would run as a formula is neutralised in CSV, and XLSX cells are
# written as typed strings, never as formulas.

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
SHEET_TITLE_LIMIT = 31  # Excel's limit
_SHEET_TITLE_UNSAFE = re.compile(r"[\\/?*\[\]:\x00-\x1f\x7f]+")


_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


def safe_cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (OWASP CSV injection). A plain
    number written as text ("-18.78") is data and stays as it is."""
    if text.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def plain_text(value: Any) -> str:
    """A value as the text a person reads (lists joined with 、), not yet made safe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return amount_text(Decimal(str(value)))
    if isinstance(value, (list, tuple)):
        return "、".join(plain_text(item) for item in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def cell_text(value: Any) -> str:
    """A CSV cell: the text, neutralised if a spreadsheet would take it for a formula
    (every kind of value, lists of names included)."""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return str(value)  # a number is data, even a negative one
    if isinstance(value, float):
        return plain_text(value)
    return safe_cell(plain_text(value))


def spreadsheet_cell(value: Any) -> Any:
    """Numbers stay numbers in a workbook, so amounts and counts can be summed;
    everything else is neutralised text like a CSV cell (and written as a typed
    string by ``xlsx_bytes``, so even an edited cell never runs)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return cell_text(value)


def sheet_title(title: str) -> str:
    """A worksheet name Excel accepts: none of ``\\ / ? * [ ] :``, no control
    characters, no apostrophe at either end, at most 31 characters."""
    cleaned = _SHEET_TITLE_UNSAFE.sub("_", title).strip().strip("'")[:SHEET_TITLE_LIMIT].strip().strip("'")
    return cleaned or "数据"


def table_csv_chunks(header: list[str], table: Iterable[list[Any]], chunk_rows: int = 500) -> Iterator[bytes]:
    """Any table as a CSV file in pieces (UTF-8 with a BOM for Excel), every cell
    through ``cell_text``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell_text(label) for label in header])
    yield ("\ufeff" + buffer.getvalue()).encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in table:
        writer.writerow([cell_text(value) for value in row])
        pending += 1
        if pending >= chunk_rows:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def rows(
    fields: tuple[Field, ...], records: Iterable[Any], url_of: UrlOf, cell: Callable[[Any], Any] = cell_text
) -> Iterator[list[Any]]:
    for record in records:
        yield [cell(url_of(record) if field.key == "url" else field.value(record)) for field in fields]


def csv_chunks(
    fields: tuple[Field, ...], records: Iterable[Any], url_of: UrlOf, chunk_rows: int = 500
) -> Iterator[bytes]:
    """A CSV file of records in pieces: the Chinese headers first, then
    ``chunk_rows`` rows at a time."""
    return table_csv_chunks(
        [field.label for field in fields], rows(fields, records, url_of, cell=lambda v: v), chunk_rows
    )


def json_chunks(
    head: dict[str, Any], records: Iterable[Any], serialize: Callable[[Any], dict], chunk_rows: int = 500
) -> Iterator[bytes]:
    """One JSON document in pieces: ``head`` (``total`` and what the rows are),
    then ``"results": [...]`` with every record, ``chunk_rows`` at a time."""
    opening = json.dumps(head, ensure_ascii=False)
    assert opening.endswith("}") and head, "the head names at least the total"
    yield (opening[:-1] + ', "results": [').encode("utf-8")
    pending: list[str] = []
    first = True
    for record in records:
        pending.append(json.dumps(serialize(record), ensure_ascii=False))
        if len(pending) >= chunk_rows:
            yield (("" if first else ",") + ",".join(pending)).encode("utf-8")
            first = False
            pending = []
    if pending:
        yield (("" if first else ",") + ",".join(pending)).encode("utf-8")
    yield b"]}"


def xlsx_bytes(fields: tuple[Field, ...], records: Iterable[Any], url_of: UrlOf, sheet_name: str) -> bytes:
    """An XLSX workbook (write-only mode, so memory stays flat). Text cells are typed
    strings, neutralised as in CSV: ``=HYPERLINK(…)`` is shown, never run."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=sheet_title(sheet_name))

    def typed(value: Any) -> Any:
        value = spreadsheet_cell(value)
        if not isinstance(value, str):
            return value
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # openpyxl would make a text starting with "=" a formula
        return cell

    sheet.append([typed(field.label) for field in fields])
    for row in rows(fields, records, url_of, cell=typed):
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
