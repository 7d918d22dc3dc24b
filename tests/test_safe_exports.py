"""Every CSV and XLSX the site writes goes through one safe writer: no cell is run
as a formula (list-valued fields and the audit log included), XLSX text cells are
strings, and any batch title makes a valid workbook."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from domain import exporting
from extensions import db
from models import Listing
from tests.admin_support import fast_hashing, login, make_user  # noqa: F401
from tests.builders import listing_row, load

ROOT = Path(__file__).resolve().parents[1]
FORMULA = '=HYPERLINK("evil.example")'  # the importer splits names at / and , so none here
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def published_listing_with_formula(**overrides):
    """A published listing whose first responsible person reads as a formula (the
    importer refuses such a name today; records stored before, or edited in the
    database, must still export safely)."""
    batch = load("listings", [listing_row(**overrides)], title="2025年第一批")
    listing = db.session.scalar(select(Listing).where(Listing.batch_id == batch.id))
    listing.persons[0].name = FORMULA
    db.session.commit()
    return batch


def workbook_of(response):
    with response:
        data = response.get_data()
    return data, load_workbook(io.BytesIO(data))


def test_a_list_valued_field_is_neutralised_in_csv(client, app):
    published_listing_with_formula()
    with client.get("/listings.csv") as response:
        text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"'{FORMULA}" in text.replace('""', '"')
    for line in text.splitlines()[1:]:
        for cell in re.findall(r'(?:^|,)("(?:[^"]|"")*"|[^,]*)', line):
            assert not cell.strip('"').startswith(FORMULA_STARTS), line


def test_xlsx_text_cells_are_strings_never_formulas(client, app):
    batch = published_listing_with_formula()
    for url in ("/listings.xlsx", f"/batches/{batch.id}.xlsx"):
        data, book = workbook_of(client.get(url))
        sheet = book.worksheets[0]
        values = [cell for row in sheet.iter_rows() for cell in row]
        persons = [cell for cell in values if isinstance(cell.value, str) and "HYPERLINK" in cell.value]
        assert persons and all(cell.data_type == "s" for cell in persons)
        assert persons[0].value == f"'{FORMULA}、刘某"
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet_xml and "<f " not in sheet_xml


def test_the_audit_csv_neutralises_a_typed_username(app, client, fast_hashing):  # noqa: F811
    app.extensions["gongshi_login_sleep"] = lambda seconds: None
    make_user("boss", "admin")
    login(client, "=cmd|' /C calc'!A0", "wrong-password")
    login(client, "boss")
    with client.get("/admin/audit.csv") as response:
        text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "'=cmd|" in text
    assert "\n=cmd" not in text and ",=cmd" not in text


def test_a_batch_title_with_characters_excel_refuses_still_downloads(client, app):
    batch = load("listings", [listing_row()], title="2025年第一批 [补充/更正]: 名单*?")
    data, book = workbook_of(client.get(f"/batches/{batch.id}.xlsx"))
    assert book.sheetnames == ["2025年第一批 _补充_更正_ 名单_"]
    assert book.worksheets[0].max_row == 2


PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")


@given(st.text() | st.from_regex(PLAIN_NUMBER, fullmatch=True) | st.decimals(allow_nan=False).map(str))
def test_no_csv_cell_starts_a_formula(text):
    for value in (text, [text, "刘某"], (text,)):
        cell = exporting.cell_text(value)
        # a plain number ("-18.78") is data, not a formula; nothing else starts like one
        assert not cell.startswith(FORMULA_STARTS) or PLAIN_NUMBER.fullmatch(cell)


def test_a_number_written_as_text_stays_a_number():
    assert exporting.cell_text("-18.78") == "-18.78"
    assert exporting.cell_text("-1+2") == "'-1+2"
    assert exporting.cell_text("=1") == "'=1"


@given(st.text(max_size=60))
def test_every_title_makes_a_sheet_name_excel_accepts(title):
    name = exporting.sheet_title(title)
    Workbook(write_only=True).create_sheet(title=name)  # openpyxl refuses what Excel refuses
    assert 1 <= len(name) <= 31 and not re.search(r"[\\/?*\[\]:]", name)
    assert not name.startswith("'") and not name.endswith("'")


def test_only_the_safe_writer_writes_spreadsheets():
    """No other module of the site makes a CSV writer or a workbook."""
    offenders = []
    for folder in ("blueprints", "domain", "models", "search_index"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "domain" / "exporting.py":
                continue
            source = path.read_text(encoding="utf-8")
            if re.search(r"csv\.(writer|DictWriter)\(|Workbook\(", source):
                offenders.append(str(path.relative_to(ROOT)))
    for path in (ROOT / "cli.py", ROOT / "app.py"):
        if re.search(r"csv\.(writer|DictWriter)\(|Workbook\(", path.read_text(encoding="utf-8")):
            offenders.append(path.name)
    assert offenders == []
