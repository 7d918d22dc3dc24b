"""Search documents built from the database in bulk: one query per chunk of
records (plus one for a chunk's responsible persons), never one per record.

A document carries its record's special campaign (专项行动) as
``domain.campaigns`` defines it: a case's own tag, else its batch's; a
listing's batch's. Re-tagging appends change-log entries like a correction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from domain.validation import normalize_credit_code
from extensions import db
from models import Batch, Case, Listing, ListingPerson
from search_index.analysis import core_name, docno_key, fold

CASE = "case"
LISTING = "listing"
KINDS = (CASE, LISTING)

_CASE_COLUMNS = (
    Case.id,
    Case.status,
    Case.enterprise_name,
    Case.credit_code,
    Case.reg_no,
    Case.legal_representative,
    Case.district,
    Case.year,
    Case.batch_id,
    Case.violation_types,
    Case.facts,
    Case.handling,
    Case.document_no,
    Case.decided_on,
    Case.amount_involved,
    Case.revision,
    func.coalesce(Case.campaign_id, Batch.campaign_id).label("campaign"),
)
_LISTING_COLUMNS = (
    Listing.id,
    Listing.status,
    Listing.enterprise_name,
    Listing.credit_code,
    Listing.reg_no,
    Listing.legal_representative,
    Listing.district,
    Listing.year,
    Listing.batch_id,
    Listing.reason,
    Listing.basis,
    Listing.document_no,
    Listing.listed_on,
    Listing.expires_on,
    Listing.amount_owed,
    Listing.revision,
    Batch.campaign_id.label("campaign"),
)


@dataclass(frozen=True)
class NameRules:
    """Leading place names stripped for the "starts with" boost, so that 恒达建筑
    ranks 兰州恒达建筑工程有限公司 first."""

    prefixes: tuple[str, ...]

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> NameRules:
        city = str(config.get("CITY_NAME") or "")
        places = {city, city.removesuffix("市"), *config.get("DISTRICTS", ())}
        places |= {p.removesuffix("区").removesuffix("县") for p in config.get("DISTRICTS", ()) if len(p) > 2}
        return cls(tuple(sorted((fold(p) for p in places if len(p) >= 2), key=len, reverse=True)))

    def short(self, name: str) -> str:
        for _ in range(2):  # 兰州市 + 城关区
            for prefix in self.prefixes:
                if name.startswith(prefix) and len(name) > len(prefix) + 1:
                    name = name[len(prefix) :]
                    break
        return name


ROW_FIELDS = (
    "id",
    "name",
    "core",
    "short",
    "people",
    "docno",
    "code",
    "text",
    "day",
    "listed",
    "expires",
    "amount",
    "district",
    "year",
    "types",
    "batch",
    "campaign",  # the campaign's id, 0 for none
)


def _select(kind: str) -> Select:
    """The columns of a kind's documents, with the batch (for its campaign)."""
    model = Case if kind == CASE else Listing
    columns = _CASE_COLUMNS if kind == CASE else _LISTING_COLUMNS
    return select(*columns).join(Batch, Batch.id == model.batch_id)


def key_of(kind: str, record_id: int) -> str:
    return f"{kind}:{record_id}"


def _codes(credit_code: str | None, reg_no: str | None) -> str:
    """Credit code and registration number, folded, space-separated."""
    return " ".join(fold(normalize_credit_code(c)) for c in (credit_code, reg_no) if c)


def _one_line(text: str) -> str:
    return " ".join(text.replace("\x00", " ").split())


def _date_ord(day) -> int:
    return day.toordinal() if day else 0


def _document(
    kind: str,
    record_id: int,
    *,
    name: str,
    credit_code,
    reg_no,
    people: Sequence[str],
    district: str,
    year: int,
    batch_id: int,
    types: Sequence[str],
    texts: Iterable[str | None],
    document_no: str | None,
    day,
    amount,
    revision: int,
    campaign: int | None,
    listed_on=None,
    expires_on=None,
    rules: NameRules,
) -> dict[str, Any]:
    name_f = _one_line(fold(name))
    core_f = _one_line(fold(core_name(name)))
    people_f = _one_line(fold(" ".join(p for p in people if p)))
    text_f = _one_line(fold(" ".join(t for t in texts if t)))
    docno_f = docno_key(document_no)
    codes = _codes(credit_code, reg_no)
    return {
        "key": key_of(kind, record_id),
        "kind": kind,
        "rev": revision,
        # The match table row (ROW_FIELDS): everything a query needs without another read.
        "row": (
            record_id,
            name_f,
            core_f,
            rules.short(core_f),
            people_f,
            docno_f,
            codes,
            text_f,
            _date_ord(day),
            _date_ord(listed_on),
            _date_ord(expires_on),
            None if amount is None else float(amount),
            district or "",
            int(year or 0),
            tuple(types),
            batch_id,
            int(campaign or 0),
        ),
    }


def case_documents(rows: Iterable[Any], rules: NameRules) -> Iterator[dict[str, Any]]:
    for r in rows:
        yield _document(
            CASE,
            r.id,
            name=r.enterprise_name,
            credit_code=r.credit_code,
            reg_no=r.reg_no,
            people=[r.legal_representative],
            district=r.district,
            year=r.year,
            batch_id=r.batch_id,
            types=[t for t in (r.violation_types or "").split("、") if t],
            texts=(r.facts, r.handling),
            document_no=r.document_no,
            day=r.decided_on,
            amount=r.amount_involved,
            revision=r.revision,
            campaign=r.campaign,
            rules=rules,
        )


def listing_documents(rows: Sequence[Any], rules: NameRules) -> Iterator[dict[str, Any]]:
    persons: dict[int, list[str]] = defaultdict(list)
    if rows:
        statement = (
            select(ListingPerson.listing_id, ListingPerson.name)
            .where(ListingPerson.listing_id.in_([r.id for r in rows]))
            .order_by(ListingPerson.listing_id, ListingPerson.position)
        )
        for listing_id, person in db.session.execute(statement):
            persons[listing_id].append(person)
    for r in rows:
        people = [r.legal_representative, *[p for p in persons[r.id] if p != r.legal_representative]]
        yield _document(
            LISTING,
            r.id,
            name=r.enterprise_name,
            credit_code=r.credit_code,
            reg_no=r.reg_no,
            people=people,
            district=r.district,
            year=r.year,
            batch_id=r.batch_id,
            types=[],
            texts=(r.reason, r.basis),
            document_no=r.document_no,
            day=r.listed_on,
            amount=r.amount_owed,
            revision=r.revision,
            campaign=r.campaign,
            listed_on=r.listed_on,
            expires_on=r.expires_on,
            rules=rules,
        )


def is_indexable(kind: str, status: str) -> bool:
    """Whether a record belongs in the index at all. Listings in force are
    decided at query time by date, so a published listing is always indexed."""
    return status == "published"


def load_documents(kind: str, ids: Sequence[int], rules: NameRules) -> tuple[list[dict[str, Any]], set[int]]:
    """Documents for the indexable records among ``ids`` and the ids that must
    not be in the index (not public, or gone from the database)."""
    model = Case if kind == CASE else Listing
    rows = db.session.execute(_select(kind).where(model.id.in_(ids))).all()
    public = [r for r in rows if is_indexable(kind, r.status)]
    builder = case_documents if kind == CASE else listing_documents
    documents = list(builder(public, rules))
    return documents, set(ids) - {r.id for r in public}


def iter_all_documents(kind: str, rules: NameRules, chunk: int = 2000) -> Iterator[dict[str, Any]]:
    """Every indexable record of a kind, by id ranges (keyset pagination keeps
    each query cheap at a million rows)."""
    model = Case if kind == CASE else Listing
    builder = case_documents if kind == CASE else listing_documents
    last = 0
    while True:
        rows = db.session.execute(
            _select(kind).where(model.id > last, model.status == "published").order_by(model.id).limit(chunk)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        yield from builder(rows, rules)
        db.session.expunge_all()


def indexable_revisions(kind: str) -> dict[int, int]:
    """id → revision of every record that should be in the index."""
    model = Case if kind == CASE else Listing
    return dict(db.session.execute(select(model.id, model.revision).where(model.status == "published")).all())
