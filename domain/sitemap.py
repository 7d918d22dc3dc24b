"""What the sitemap lists: every public record page (batches, cases, listings in
force, enterprises with a public record) and nothing else, read from the
visibility clauses, in sections that can be split into files of at most
``max_urls`` URLs (the sitemap protocol's limit is 50,000)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from sqlalchemy import Select, func, null, select, union

from domain import clock
from domain.exporting import ROWS_PER_FETCH
from domain.visibility import batch_is_public_clause, case_is_public_clause, listing_is_public_clause
from extensions import db
from models import Batch, Case, Listing

SECTIONS = ("batches", "cases", "listings", "enterprises")
MAX_URLS = 50_000


def _statement(section: str, today: dt.date) -> Select:
    """(key, last modified) of each public page of a section, in a stable order."""
    if section == "batches":
        return select(Batch.id, Batch.published_at).where(batch_is_public_clause()).order_by(Batch.id)
    if section == "cases":
        return (
            select(Case.id, func.coalesce(Case.revised_at, Case.published_at))
            .where(case_is_public_clause())
            .order_by(Case.id)
        )
    if section == "listings":
        return (
            select(Listing.id, func.coalesce(Listing.revised_at, Listing.published_at))
            .where(listing_is_public_clause(today))
            .order_by(Listing.id)
        )
    if section == "enterprises":
        codes = union(
            select(Case.credit_code.label("code")).where(case_is_public_clause(), Case.credit_code.isnot(None)),
            select(Listing.credit_code.label("code")).where(
                listing_is_public_clause(today), Listing.credit_code.isnot(None)
            ),
        ).subquery()
        return select(codes.c.code, null()).order_by(codes.c.code)
    raise ValueError(section)


def count(section: str, today: dt.date | None = None) -> int:
    inner = _statement(section, today or clock.today()).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(inner)) or 0


def entries(section: str, part: int = 0, max_urls: int = MAX_URLS, today: dt.date | None = None) -> Iterator[tuple]:
    """(key, last modified or None) of one part of a section, streamed."""
    statement = _statement(section, today or clock.today()).offset(part * max_urls).limit(max_urls)
    yield from db.session.execute(statement.execution_options(yield_per=ROWS_PER_FETCH))


def parts(max_urls: int = MAX_URLS, today: dt.date | None = None) -> list[tuple[str, int]]:
    """The (section, part) files of a sitemap index: every section split into
    files of at most ``max_urls`` URLs."""
    today = today or clock.today()
    found = []
    for section in SECTIONS:
        total = count(section, today)
        found += [(section, number) for number in range(max(1, -(-total // max_urls)) if total else 0)]
    return found
