"""Reading the bureau's spreadsheets: CSV (UTF-8 with or without BOM, or GB18030
as Excel on Chinese Windows saves it) and XLSX. Yields rows of raw cell values
with their spreadsheet row numbers; knows nothing of what the columns mean."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass


class SpreadsheetError(ValueError):
    """The file cannot be read as a spreadsheet; the message is for staff."""


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[object]]]  # (row number as Excel shows it, cells)


def read_table(data: bytes, filename: str) -> Table:
    if not data or not data.strip():
        raise SpreadsheetError("文件是空的")
    extension = os.path.splitext(filename.lower())[1]
    if extension == ".xls":
        raise SpreadsheetError("不支持旧版 .xls 格式，请在 Excel 中另存为 .xlsx 或 CSV 后再上传")
    if data[:4] == b"PK\x03\x04" or extension == ".xlsx":
        return _read_xlsx(data)
    if extension not in (".csv", ".txt", ""):
        raise SpreadsheetError(f"不支持的文件类型“{extension}”，请上传 .xlsx 或 .csv 文件")
    return _read_csv(data)


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


def _read_csv(data: bytes) -> Table:
    try:
        text = _decode(data)
    except UnicodeDecodeError:
        raise SpreadsheetError("CSV 文件编码有误，请保存为 UTF-8 编码") from None
    if "\x00" in text:
        raise SpreadsheetError("这不是一个文本格式的 CSV 文件，请上传 .xlsx 或 .csv 文件")
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as error:
        raise SpreadsheetError(f"CSV 格式有误：{error}") from None
    return _to_table(enumerate(records, start=1))


def _read_xlsx(data: bytes) -> Table:
    # Imported lazily: openpyxl is slow to import and only the importers need it.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise SpreadsheetError("无法读取这个 Excel 文件（文件可能已损坏，或不是 .xlsx 格式）") from None
    try:
        sheet = workbook.worksheets[0]
        rows = [list(values) for values in sheet.iter_rows(values_only=True)]
    except Exception:  # openpyxl raises many types on malformed sheets
        raise SpreadsheetError("无法读取这个 Excel 文件的第一个工作表（文件可能已损坏）") from None
    finally:
        workbook.close()
    return _to_table(enumerate(rows, start=1))


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _to_table(numbered: Iterator[tuple[int, list[object]]]) -> Table:
    header: list[str] | None = None
    rows: list[tuple[int, list[object]]] = []
    for number, cells in numbered:
        if all(_is_blank(cell) for cell in cells):
            continue
        if header is None:
            header = ["" if cell is None else str(cell).strip().lstrip("\ufeff") for cell in cells]
            while header and not header[-1]:
                header.pop()
            continue
        rows.append((number, list(cells)))
    if header is None:
        raise SpreadsheetError("文件是空的，没有表头")
    return Table(header=header, rows=rows)
