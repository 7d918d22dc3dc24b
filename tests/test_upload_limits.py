"""Uploads that would exhaust the server: a zip bomb, a huge valid sheet, a DTD,
a malformed archive. Each is answered with a clear Chinese message, quickly, and
memory stays bounded whatever the file."""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from domain.importing import CASE_COLUMNS
from domain.spreadsheets import Limits, SpreadsheetError, read_table
from tests import admin_support
from tests.admin_support import login, make_user, token
from tests.builders import case_row

ROOT = Path(__file__).resolve().parents[1]
fast_hashing = admin_support.fast_hashing

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
        f'Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _row(number: int, values: list[str]) -> str:
    cells = "".join(
        f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{value}</t></is></c>' for i, value in enumerate(values)
    )
    return f'<row r="{number}">{cells}</row>'


def sheet_head(rows: int | None = None, prolog: str = "") -> str:
    dimension = f'<dimension ref="A1:O{rows}"/>' if rows else ""
    return f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{_MAIN}">{dimension}<sheetData>'


SHEET_TAIL = "</sheetData></worksheet>"


def xlsx(sheet_chunks, compresslevel: int = 6) -> bytes:
    """A minimal workbook whose first sheet is written from ``sheet_chunks`` (str
    pieces), streamed into the archive so a huge sheet never sits in memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
        for name, text in PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for chunk in sheet_chunks:
                sheet.write(chunk.encode("utf-8"))
    return out.getvalue()


def template_xlsx(records: list[dict], *, declare: int | None = None) -> bytes:
    rows = [_row(1, list(CASE_COLUMNS))] + [
        _row(n, [str(record[c]) for c in CASE_COLUMNS]) for n, record in enumerate(records, start=2)
    ]
    return xlsx([sheet_head(declare), *rows, SHEET_TAIL])


def many_rows_xlsx(count: int, *, declare: bool) -> bytes:
    def chunks():
        yield sheet_head(count + 1 if declare else None)
        yield _row(1, list(CASE_COLUMNS))
        block = []
        for n in range(2, count + 2):
            block.append(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>某某公司{n}</t></is></c></row>')
            if len(block) == 5000:
                yield "".join(block)
                block = []
        yield "".join(block)
        yield SHEET_TAIL

    return xlsx(chunks())


def bomb_xlsx(megabytes: int) -> bytes:
    """A sheet of ``megabytes`` MB of rows that packs into about a thousandth of it."""
    filler = '<row r="2"><c r="A2" t="inlineStr"><is><t>0</t></is></c></row>' * 16384  # ~1 MB

    def chunks():
        yield sheet_head() + _row(1, list(CASE_COLUMNS))
        for _ in range(megabytes):
            yield filler
        yield SHEET_TAIL

    return xlsx(chunks(), compresslevel=9)


def test_a_hand_built_workbook_reads(app):
    table = read_table(template_xlsx([case_row()], declare=2), "ok.xlsx")
    assert table.header == list(CASE_COLUMNS) and len(table.rows) == 1


def test_a_200000_row_workbook_is_refused_quickly_before_parsing():
    data = many_rows_xlsx(200_000, declare=True)
    assert len(data) < 10 * 1024 * 1024  # small enough to upload
    started = time.perf_counter()
    with pytest.raises(SpreadsheetError, match="有 200000 行数据，超过每次导入 20000 行的上限"):
        read_table(data, "big.xlsx")
    assert time.perf_counter() - started < 5


def test_rows_are_streamed_and_reading_stops_at_the_limit():
    """Without a declared size the rows are counted as they stream by."""
    data = many_rows_xlsx(200_000, declare=False)
    started = time.perf_counter()
    with pytest.raises(SpreadsheetError, match="超过每次导入 500 行的上限"):
        read_table(data, "big.xlsx", Limits(max_rows=500))
    assert time.perf_counter() - started < 5


def test_a_csv_over_the_row_limit_names_the_limit():
    data = ("违法主体名称\n" + "某公司\n" * 30).encode()
    with pytest.raises(SpreadsheetError, match="超过每次导入 20 行的上限"):
        read_table(data, "rows.csv", Limits(max_rows=20))
    assert len(read_table(data, "rows.csv", Limits(max_rows=30)).rows) == 30


def test_a_sheet_declaring_a_dtd_is_refused():
    laughs = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    data = xlsx([sheet_head(prolog=laughs), _row(1, ["&lol2;"]), SHEET_TAIL])
    with pytest.raises(SpreadsheetError, match="DTD"):
        read_table(data, "dtd.xlsx")


@pytest.mark.parametrize(
    "data",
    [
        xlsx([sheet_head(), '<row r="1"><c r="A1" t="inlineStr"><is><t>未闭合']),  # malformed XML
        xlsx([sheet_head(), _row(1, ["a"]), "</sheetData>"]),  # truncated
        b"PK\x03\x04" + bytes(300),  # a zip header and nothing else
    ],
    ids=["malformed-xml", "truncated-xml", "zip-header-only"],
)
def test_malformed_workbooks_get_a_clear_message(data):
    with pytest.raises(SpreadsheetError, match="无法读取这个 Excel 文件"):
        read_table(data, "bad.xlsx")


def _lie_about_size(data: bytes, name: str, declared: int) -> bytes:
    """Rewrite the unpacked size an archive declares for one part."""
    buffer = bytearray(data)
    encoded = name.encode()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    struct.pack_into("<I", buffer, info.header_offset + 22, declared)  # local header
    central = buffer.rindex(b"PK\x01\x02")  # the sheet is written last
    while buffer[central + 46 : central + 46 + len(encoded)] != encoded:
        central = buffer.rindex(b"PK\x01\x02", 0, central)
    struct.pack_into("<I", buffer, central + 24, declared)
    return bytes(buffer)


def _peak_memory_of_reading(tmp_path, data: bytes) -> tuple[str, int]:
    path = tmp_path / "upload.xlsx"
    path.write_bytes(data)
    script = (
        "import json, sys\n"
        "from domain.spreadsheets import SpreadsheetError, read_table\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "try:\n"
        "    read_table(data, 'upload.xlsx'); message = 'read'\n"
        "except SpreadsheetError as problem:\n"
        "    message = str(problem)\n"
        # VmHWM is this program's own peak; ru_maxrss would carry over the peak of the
        # (large) test process it was forked from, since Linux keeps it across exec.
        "peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
        "print(json.dumps([message, peak]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    message, peak_kb = json.loads(done.stdout)
    return message, peak_kb // 1024


def test_a_zip_bomb_is_refused_from_its_declared_size_with_bounded_memory(tmp_path):
    data = bomb_xlsx(400)  # 400 MB of sheet XML
    assert len(data) < 2 * 1024 * 1024
    message, peak_mb = _peak_memory_of_reading(tmp_path, data)
    assert re.search(r"解压后有 3\d\d MB，超过 100 MB 的上限", message), message
    assert peak_mb < 300, peak_mb


def test_a_zip_bomb_that_lies_about_its_size_is_cut_off_with_bounded_memory(tmp_path):
    data = _lie_about_size(bomb_xlsx(400), "xl/worksheets/sheet1.xml", 50 * 1024 * 1024)
    message, peak_mb = _peak_memory_of_reading(tmp_path, data)
    # Reading a part never yields more than it declares; the check sum then fails.
    assert "无法读取这个 Excel 文件" in message
    assert peak_mb < 300, peak_mb


@pytest.fixture
def editor(app, fast_hashing):
    make_user("editor", "editor")


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: bomb_xlsx(150), "超过 100 MB 的上限"),
        (lambda: many_rows_xlsx(200_000, declare=True), "超过每次导入 20000 行的上限"),
        (
            lambda: xlsx([sheet_head(prolog="<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"), SHEET_TAIL]),
            "DTD",
        ),
    ],
    ids=["bomb", "rows", "dtd"],
)
def test_the_upload_page_answers_with_the_message_not_a_500(client, editor, build, message):
    login(client, "editor")
    fields = {"csrf_token": token(client), "kind": "cases", "year": "2026", "number": "1"}
    fields["file"] = FileStorage(io.BytesIO(build()), "upload.xlsx")
    # Encoded in memory: the test client spools a body over 500 KB to a temporary
    # file that it never closes (a ResourceWarning, an error in this suite).
    boundary, body = encode_multipart(MultiDict(fields))
    content_type = f"multipart/form-data; boundary={boundary}"
    with client.post("/admin/batches/upload", data=body, content_type=content_type) as response:
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)


def test_the_row_limit_is_a_setting(app):
    from domain.importing import ImportSettings

    app.config["IMPORT_MAX_ROWS"] = 2
    limits = ImportSettings.from_config(app.config).limits
    assert limits.max_rows == 2
    with pytest.raises(SpreadsheetError, match="2 行的上限"):
        read_table(template_xlsx([case_row()] * 3), "three.xlsx", limits)


_GOOD = template_xlsx([case_row(), case_row(文书编号="2")], declare=3)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=8))
@example(changes=[(2046, 1)])  # a damaged local header: zipfile raised ValueError (negative seek)
def test_a_damaged_workbook_is_a_message_or_a_table_never_a_crash(changes):
    data = bytearray(_GOOD)
    for position, value in changes:
        data[position] = value
    try:
        read_table(bytes(data), "damaged.xlsx")
    except SpreadsheetError as problem:
        assert str(problem)
