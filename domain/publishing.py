"""Publishing and what follows it. Every change to what is public writes its
search outbox entries in the same transaction; the index follows after commit."""

from __future__ import annotations

import logging

from sqlalchemy import func, insert, literal, select, update

from domain import clock
from extensions import db
from models import Batch, Case, Listing, SearchOutbox
from models.batch import KIND_CASES
from models.common import utcnow

log = logging.getLogger(__name__)


class PublishingError(ValueError):
    """An action the rules do not allow; the message is for staff."""


def record_model(kind: str) -> type[Case] | type[Listing]:
    return Case if kind == KIND_CASES else Listing


def enqueue_batch(batch: Batch) -> None:
    """Outbox entries for every record of a batch, in one statement."""
    model = record_model(batch.kind)
    db.session.execute(
        insert(SearchOutbox).from_select(
            ["record_kind", "record_id", "created_at"],
            select(literal(model.kind), model.id, literal(utcnow())).where(model.batch_id == batch.id),
        )
    )


def enqueue_record(record: Case | Listing) -> None:
    db.session.add(SearchOutbox(record_kind=record.kind, record_id=record.id))


def next_batch_number(kind: str, year: int) -> int:
    highest = db.session.scalar(
        select(func.max(Batch.number)).where(Batch.kind == kind, Batch.year == year, Batch.status != "draft")
    )
    return (highest or 0) + 1


def publish_batch(batch: Batch, *, published_by_id: int | None = None, published_on=None) -> None:
    """Make a batch and all its records public together (the caller commits, then
    calls ``apply_search_outbox``)."""
    if batch.status not in ("draft", "submitted"):
        raise PublishingError("只有草稿或待审核的批次可以发布")
    model = record_model(batch.kind)
    if not db.session.scalar(select(func.count()).select_from(model).where(model.batch_id == batch.id)):
        raise PublishingError("批次中没有记录，不能发布")
    now = utcnow()
    if batch.number is None:
        batch.number = next_batch_number(batch.kind, batch.year)
    batch.status = "published"
    batch.published_at = now
    batch.published_on = published_on or batch.published_on or clock.today()
    batch.published_by_id = published_by_id
    db.session.execute(
        update(model)
        .where(model.batch_id == batch.id, model.status == "draft")
        .values(status="published", published_at=now)
        .execution_options(synchronize_session=False)
    )
    enqueue_batch(batch)


def apply_search_outbox() -> None:
    """Bring the search index up to date after a commit. A failure here is logged,
    never raised: the entries stay in the outbox and ``flask search sync`` (or the
    next change) applies them."""
    try:
        from search_index import apply_outbox
    except ImportError:  # the search package is optional at this layer
        return
    try:
        apply_outbox()
    except Exception:  # the database change has been committed; the index catches up later
        log.exception("search index update failed; entries stay in the outbox")
