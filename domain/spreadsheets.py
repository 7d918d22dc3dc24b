"""Reading the bureau's spreadsheets: CSV (UTF-8 with or without BOM, or GB18030
as Excel on Chinese Windows saves it) and XLSX. Yields rows of raw cell values
with their spreadsheet row numbers; knows nothing of what the columns mean."""

from __future__ import annotations

import csv
import io
import os
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass


class SpreadsheetError(ValueError):
    """The file cannot be read as a spreadsheet; the message is for staff."""


MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much work one file may cause, whatever it contains (settings
    ``IMPORT_MAX_ROWS`` and ``IMPORT_MAX_UNPACKED_MB``). An XLSX file is a zip
    archive: its declared sizes and its row count are checked before any XML is
    parsed, and rows are read one at a time up to the limit, so memory stays
    bounded (well under 300 MB) for a zip bomb as for a huge valid sheet."""

    max_rows: int = 20_000  # data rows, the header not counted
    max_unpacked_bytes: int = 100 * MB  # all parts of an XLSX archive, unpacked
    max_part_bytes: int = 20 * MB  # each part read whole (shared strings, styles, workbook)
    max_parts: int = 1000
    max_columns: int = 100

    @property
    def max_physical_rows(self) -> int:
        """Rows read, blank ones included, before giving up on a file of empty rows."""
        return 2 * self.max_rows + 1000


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[object]]]  # (row number as Excel shows it, cells)


def read_table(data: bytes, filename: str, limits: Limits | None = None) -> Table:
    limits = limits or Limits()
    if not data or not data.strip():
        raise SpreadsheetError("文件是空的")
    extension = os.path.splitext(filename.lower())[1]
    if extension == ".xls":
        raise SpreadsheetError("不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 CSV 后再上传")
    if data[:4] == b"PK\x03\x04" or extension == ".xlsx":
        return _read_xlsx(data, limits)
    if extension not in (".csv", ".txt", ""):
        raise SpreadsheetError(f"不支持的文件类型“{extension}”，请上传 .xlsx 或 .csv 文件")
    return _read_csv(data, limits)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise SpreadsheetError("无法识别文件编码，请保存为 UTF-8 或 GB18030 编码的 CSV") from None


def _read_csv(data: bytes, limits: Limits) -> Table:
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        raise SpreadsheetError("CSV 文件编码有误，请保存为 UTF-8 编码") from None
    if "\x00" in text:
        raise SpreadsheetError("这不是一个文本格式的 CSV 文件，请上传 .xlsx 或 .csv 文件")
    try:
        return _to_table(enumerate(csv.reader(io.StringIO(text, newline="")), start=1), limits)
    except csv.Error as error:
        raise SpreadsheetError(f"CSV 格式有误：{error}") from None


_BROKEN = "无法读取这个 Excel 文件（文件可能已损坏，或不是 .xlsx 格式）"
# A DTD can define entities that expand without end ("billion laughs") or fetch
# other files; a spreadsheet never needs one. Searched in UTF-8 and UTF-16.
_DTD_MARKS = tuple(
    mark.encode(codec) for mark in ("<!DOCTYPE", "<!ENTITY") for codec in ("utf-8", "utf-16-le", "utf-16-be")
)
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?(\d+))?\"")
_SHEET_REF = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_RELATIONSHIP = re.compile(rb"<Relationship\b[^>]*>")


def _check_archive(data: bytes, limits: Limits) -> None:
    """What can be known before parsing: the archive opens, its parts declare
    sizes within the limits (reading a part never yields more than it declares),
    no part has a DTD, and the first sheet does not declare too many rows."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise SpreadsheetError(_BROKEN) from None
    with archive:
        if len(parts) > limits.max_parts:
            raise SpreadsheetError(
                f"这个 Excel 文件由 {len(parts)} 个部分组成，超过 {limits.max_parts} 个的上限，无法读取"
            )
        unpacked = sum(part.file_size for part in parts)
        if unpacked > limits.max_unpacked_bytes:
            raise SpreadsheetError(
                f"这个 Excel 文件解压后有 {unpacked / MB:.0f} MB，超过 {limits.max_unpacked_bytes // MB} MB 的上限"
                "（文件可能被恶意构造）。请删除多余的工作表、格式和图片后另存，或拆分为几个文件"
            )
        if any(part.flag_bits & 0x1 for part in parts):
            raise SpreadsheetError("这个 Excel 文件已加密，请取消密码保护后另存再上传")
        first_sheet = _first_sheet_name(archive, limits)
        for part in parts:
            name = part.filename
            if not name.endswith((".xml", ".rels", ".vml")):
                continue
            is_sheet = name.startswith("xl/worksheets/")
            if not is_sheet and part.file_size > limits.max_part_bytes:
                raise SpreadsheetError(
                    f"这个 Excel 文件的“{name}”部分解压后超过 {limits.max_part_bytes // MB} MB 的上限，"
                    "请删除多余的格式和内容后另存"
                )
            first, rows = _scan_part(archive, part)
            if name == first_sheet:
                found = _DIMENSION.search(first)
                if found and found.group(1) and int(found.group(1)) - 1 > limits.max_rows:
                    raise SpreadsheetError(_too_many_rows(int(found.group(1)) - 1, limits))
                if rows > limits.max_physical_rows:
                    raise SpreadsheetError(_too_many_rows(None, limits) + "（空行也算在内，请删除多余的空行）")


# What reading a part of a damaged archive can raise: zipfile also answers a
# corrupt header offset with ValueError ("negative seek value").
_DAMAGED_ARCHIVE = (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError, ValueError)


def _first_sheet_name(archive: zipfile.ZipFile, limits: Limits) -> str | None:
    """The part of the workbook's first sheet (the one imported), from workbook.xml
    and its relationships; both are small (checked against the part limit first)."""
    try:
        workbook = archive.getinfo("xl/workbook.xml")
        rels = archive.getinfo("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    if max(workbook.file_size, rels.file_size) > limits.max_part_bytes:
        return None  # refused below as an oversized part
    try:
        sheet = _SHEET_REF.search(archive.read(workbook))
        relationships = archive.read(rels)
    except _DAMAGED_ARCHIVE:
        raise SpreadsheetError(_BROKEN) from None
    if not sheet:
        return None
    for tag in _RELATIONSHIP.findall(relationships):
        if re.search(rb'\bId="' + re.escape(sheet.group(1)) + rb'"', tag):
            target = re.search(rb'\bTarget="([^"]+)"', tag)
            if target:
                path = target.group(1).decode("utf-8", "replace")
                return path.lstrip("/") if path.startswith("/") else posixpath.normpath("xl/" + path)
    return None


def _scan_part(archive: zipfile.ZipFile, part: zipfile.ZipInfo) -> tuple[bytes, int]:
    """Read a part in chunks looking for a DTD; answer its first 64 KB and how many
    row elements it has (counted as bytes go by, far faster than parsing)."""
    first = b""
    tail = b""
    rows = 0
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(1 * MB):
                if len(first) < 65536:
                    first += chunk[: 65536 - len(first)]
                window = tail + chunk
                if any(mark in window for mark in _DTD_MARKS):
                    raise SpreadsheetError(
                        "这个 Excel 文件含有 DTD（文档类型定义），出于安全原因不予读取，请在 Excel 中另存后再上传"
                    )
                # A match ending inside the tail was counted with the previous chunk.
                rows += sum(1 for match in _ROW_TAG.finditer(window) if match.end() > len(tail))
                tail = window[-32:]
    except SpreadsheetError:
        raise  # a ValueError too, but already the message to show
    except _DAMAGED_ARCHIVE:
        raise SpreadsheetError(_BROKEN) from None
    return first, rows


def _too_many_rows(rows: int | None, limits: Limits) -> str:
    counted = f"有 {rows} 行数据，" if rows else ""
    return f"文件{counted}超过每次导入 {limits.max_rows} 行的上限，请拆分为几个文件分批上传"


def _read_xlsx(data: bytes, limits: Limits) -> Table:
    _check_archive(data, limits)
    # Imported lazily: openpyxl is slow to import and only the importers need it.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, SyntaxError, EOFError):
        raise SpreadsheetError(_BROKEN) from None
    except Exception:  # openpyxl and the XML parser raise many types on malformed parts
        raise SpreadsheetError(_BROKEN) from None
    try:
        sheet = workbook.worksheets[0]
        # One row at a time, at most one column past the limit (to see that it is crossed).
        rows = (list(values) for values in sheet.iter_rows(values_only=True, max_col=limits.max_columns + 1))
        return _to_table(enumerate(rows, start=1), limits)
    except SpreadsheetError:
        raise
    except Exception:  # openpyxl raises many types on malformed sheets
        raise SpreadsheetError("无法读取这个 Excel 文件的第一个工作表（文件可能已损坏）") from None
    finally:
        workbook.close()


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _to_table(numbered: Iterator[tuple[int, list[object]]], limits: Limits) -> Table:
    """Header and data rows, stopping with a message as soon as a limit is crossed."""
    header: list[str] | None = None
    rows: list[tuple[int, list[object]]] = []
    for read, (number, cells) in enumerate(numbered, start=1):
        if read > limits.max_physical_rows:
            raise SpreadsheetError(_too_many_rows(None, limits) + "（空行也算在内，请删除多余的空行）")
        if all(_is_blank(cell) for cell in cells):
            continue
        if len(cells) > limits.max_columns and any(not _is_blank(cell) for cell in cells[limits.max_columns :]):
            raise SpreadsheetError(f"第{number}行超过 {limits.max_columns} 列的上限，模板只有十几列，请删除多余的列")
        if header is None:
            header = ["" if cell is None else str(cell).strip().lstrip("\ufeff") for cell in cells]
            while header and not header[-1]:
                header.pop()
            continue
        if len(rows) >= limits.max_rows:
            raise SpreadsheetError(_too_many_rows(None, limits))
        rows.append((number, list(cells)))
    if header is None:
        raise SpreadsheetError("文件是空的，没有表头")
    return Table(header=header, rows=rows)
