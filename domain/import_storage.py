"""Storing validated records as a draft batch, in chunks, matching each record
to its enterprise. Checks nothing: ``domain.import_validation`` has done that."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select

from domain import clock
from extensions import db
from models import Batch, Case, CaseViolationType, Enterprise, Listing, ListingPerson
from models.batch import KIND_CASES

STORE_CHUNK = 2000

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


_NUMERALS = "零一二三四五六七八九十"


def _chinese_number(n: int) -> str:
    if n <= 10:
        return _NUMERALS[n]
    if n < 20:
        return "十" + _NUMERALS[n - 10]
    if n < 100:
        return _NUMERALS[n // 10] + "十" + (_NUMERALS[n % 10] if n % 10 else "")
    return str(n)


def batch_title(kind: str, year: int, number: int) -> str:
    """The one form of a batch title, built from kind, year and number:
    “2026年第四批重大劳动保障违法案件”."""
    if kind == KIND_CASES:
        what = "重大劳动保障违法案件"
    elif year < 2022:
        what = "拖欠农民工工资“黑名单”"
    else:
        what = "拖欠农民工工资失信联合惩戒对象名单"
    return f"{year}年第{_chinese_number(number)}批{what}"


def next_free_number(kind: str, year: int) -> int:
    """The batch number after the highest any batch of this kind and year has
    (drafts included, since their titles already claim theirs)."""
    highest = db.session.scalar(select(func.max(Batch.number)).where(Batch.kind == kind, Batch.year == year))
    return (highest or 0) + 1


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
