"""The answer to "is this employer on the blacklist?", for a credit code, a
registration number or an exact enterprise name, as of today.

Every verdict is built from the public records only (``domain.visibility``), so
the card a person sees never reveals a listing that has stopped being public: an
enterprise whose listing expired, was removed early or revoked reads "不在名单中"
exactly like one that was never listed. The internal ``status`` keeps the
distinction for the staff and the tests:

- ``listed``: a listing of it is public today;
- ``expired``: it was listed, but no listing of it is public any more (expired,
  removed early, revoked or withdrawn);
- ``never_listed``: the site has public records of it, none a listing;
- ``unknown``: a valid code of which nothing public is known;
- ``invalid``: not a well-formed credit code (``problem`` says which character).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from domain import clock
from domain.validation import CREDIT_CODE_ALPHABET, credit_code_problem, fold_width, normalize_credit_code
from domain.visibility import gone_reason, is_record_public
from extensions import db
from models import Case, Listing

LISTED = "listed"
EXPIRED = "expired"
NEVER_LISTED = "never_listed"
UNKNOWN = "unknown"
INVALID = "invalid"
STATUSES = (LISTED, EXPIRED, NEVER_LISTED, UNKNOWN, INVALID)

MAX_QUERY_LENGTH = 100
# An ASCII letter/digit run this long with a few digits is someone typing a code.
_CODE_ATTEMPT = re.compile(r"[0-9A-Z]{8,}")
_REG_NO = re.compile(r"\d{15}")


@dataclass(frozen=True)
class Lookup:
    """What a typed query asks about."""

    kind: str  # "empty" | "code" | "reg_no" | "bad_code" | "name"
    value: str  # the normalised code, registration number or name
    problem: str | None = None  # for "bad_code": what is wrong, in Chinese
    position: int | None = None  # for "bad_code": the 1-based position at fault


def parse_lookup(text: str | None) -> Lookup:
    """Classify a query typed into the name/code box."""
    raw = " ".join(fold_width(text or "").split())[:MAX_QUERY_LENGTH]
    if not raw:
        return Lookup("empty", "")
    code = normalize_credit_code(raw)
    if _REG_NO.fullmatch(code):
        return Lookup("reg_no", code)
    if _CODE_ATTEMPT.fullmatch(code) and sum(char.isdigit() for char in code) >= 4:
        problem = credit_code_problem(code)
        if problem is None:
            return Lookup("code", code)
        position, message = problem
        return Lookup("bad_code", code, message, position)
    return Lookup("name", " ".join((text or "").split())[:MAX_QUERY_LENGTH])


@dataclass
class Verdict:
    """One enterprise's standing on the public list, as of ``as_of``."""

    status: str
    as_of: dt.date
    code: str | None = None  # credit code (or registration number) asked about or found
    name: str | None = None  # as published in its latest public record; None if nothing is public
    listings: list[Listing] = field(default_factory=list)  # public listings (in force today)
    cases: list[Case] = field(default_factory=list)  # public cases
    problem: str | None = None  # for an invalid code
    position: int | None = None
    suggestions: list[tuple[str, str]] = field(default_factory=list)  # (code, name) one typo away

    @property
    def listed_now(self) -> bool:
        return bool(self.listings)

    @property
    def known(self) -> bool:
        """Does the site show anything public about it?"""
        return bool(self.listings or self.cases)

    @property
    def is_code(self) -> bool:
        return bool(self.code) and len(self.code) == 18


def _public(records, today: dt.date):
    return [record for record in records if is_record_public(record, today)]


def _ordered(cases: list[Case], listings: list[Listing]) -> tuple[list[Case], list[Listing]]:
    cases.sort(key=lambda case: (case.decided_on, case.id), reverse=True)
    listings.sort(key=lambda item: (item.listed_on, item.id), reverse=True)
    return cases, listings


def _latest_name(cases: list[Case], listings: list[Listing]) -> str | None:
    records: list[Case | Listing] = [*cases, *listings]
    if not records:
        return None
    latest = max(records, key=lambda r: (r.published_at or dt.datetime.min, r.id))
    return latest.enterprise_name


def _status(public_cases: list[Case], public_listings: list[Listing], all_listings: list[Listing], today) -> str:
    if public_listings:
        return LISTED
    if any(gone_reason(item, today) is not None for item in all_listings):
        return EXPIRED
    return NEVER_LISTED if public_cases else UNKNOWN


def for_code(code: str, today: dt.date | None = None) -> Verdict:
    """The verdict on a credit code (normalised or as typed) or a 15-digit 注册号."""
    today = today or clock.today()
    lookup = parse_lookup(code)
    if lookup.kind == "bad_code" or lookup.kind not in ("code", "reg_no"):
        message = lookup.problem or "请输入18位统一社会信用代码"
        return Verdict(INVALID, today, code=lookup.value or None, problem=message, position=lookup.position)
    column_case = Case.credit_code if lookup.kind == "code" else Case.reg_no
    column_listing = Listing.credit_code if lookup.kind == "code" else Listing.reg_no
    # An enterprise has few records: fetch them by the indexed key alone and
    # filter with the Python twin of the visibility clauses.
    all_cases = list(db.session.scalars(select(Case).where(column_case == lookup.value)))
    all_listings = list(db.session.scalars(select(Listing).where(column_listing == lookup.value)))
    cases, listings = _ordered(_public(all_cases, today), _public(all_listings, today))
    return Verdict(
        _status(cases, listings, all_listings, today),
        today,
        code=lookup.value,
        name=_latest_name(cases, listings),
        listings=listings,
        cases=cases,
    )


def _name_variants(name: str) -> list[str]:
    """The name as typed, in half width, and with its brackets in either width:
    registers write 兰州某某（集团）公司 and 兰州某某(集团)公司 for the same company."""
    name = " ".join(name.split())
    folded = fold_width(name)
    full = folded.replace("(", "（").replace(")", "）")
    return list(dict.fromkeys([name, folded, full]))


def for_name(name: str, today: dt.date | None = None) -> list[Verdict]:
    """Verdicts for the enterprises whose published name is exactly ``name``
    (one per credit code; usually one). Only public records count: a name known
    only from a listing no longer public gives no verdict at all."""
    today = today or clock.today()
    variants = _name_variants(name)
    cases = _public(db.session.scalars(select(Case).where(Case.enterprise_name.in_(variants))), today)
    listings = _public(db.session.scalars(select(Listing).where(Listing.enterprise_name.in_(variants))), today)
    groups: dict[str, tuple[list[Case], list[Listing]]] = {}
    for record in [*cases, *listings]:
        key = record.credit_code or record.reg_no or f"name:{record.enterprise_name}"
        group = groups.setdefault(key, ([], []))
        (group[0] if isinstance(record, Case) else group[1]).append(record)  # type: ignore[arg-type]
    verdicts = []
    for key, (group_cases, group_listings) in groups.items():
        group_cases, group_listings = _ordered(group_cases, group_listings)
        verdicts.append(
            Verdict(
                LISTED if group_listings else NEVER_LISTED,
                today,
                code=None if key.startswith("name:") else key,
                name=_latest_name(group_cases, group_listings),
                listings=group_listings,
                cases=group_cases,
            )
        )
    verdicts.sort(key=lambda verdict: (not verdict.listed_now, verdict.code or ""))
    return verdicts


def one_typo_away(code: str) -> list[str]:
    """Valid codes one substitution or one swap of neighbours away from ``code``:
    the usual typing mistakes."""
    if len(code) != 18:
        return []
    candidates = set()
    for position in range(18):
        for char in CREDIT_CODE_ALPHABET:
            if char != code[position]:
                candidates.add(code[:position] + char + code[position + 1 :])
    for position in range(17):
        if code[position] != code[position + 1]:
            candidates.add(code[:position] + code[position + 1] + code[position] + code[position + 2 :])
    return sorted(candidate for candidate in candidates if credit_code_problem(candidate) is None)


def suggestions_for(code: str, today: dt.date | None = None, limit: int = 3) -> list[tuple[str, str]]:
    """Public enterprises whose code is one typo away from a mistyped one, as
    (code, name) pairs: "did you mean …?"."""
    today = today or clock.today()
    candidates = one_typo_away(code)
    if not candidates:
        return []
    records = [
        *db.session.scalars(select(Case).where(Case.credit_code.in_(candidates))),
        *db.session.scalars(select(Listing).where(Listing.credit_code.in_(candidates))),
    ]
    found: dict[str, str] = {}
    for record in sorted(_public(records, today), key=lambda r: (r.published_at or dt.datetime.min, r.id)):
        found[record.credit_code] = record.enterprise_name
    return sorted(found.items())[:limit]


def lookup(text: str | None, today: dt.date | None = None) -> tuple[Lookup, list[Verdict]]:
    """The query's meaning and its verdicts: one for a code (valid or not), one
    per enterprise of that exact name, none for anything else (a partial name)."""
    today = today or clock.today()
    query = parse_lookup(text)
    if query.kind in ("code", "reg_no"):
        return query, [for_code(query.value, today)]
    if query.kind == "bad_code":
        verdict = for_code(query.value, today)
        verdict.suggestions = suggestions_for(query.value, today)
        return query, [verdict]
    if query.kind == "name":
        return query, for_name(query.value, today)
    return query, []
