"""Publishing and what follows it. Every change to what is public appends its
entries to the search change log in the same transaction; the indexes follow
the log after the commit."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from domain import audit, clock, review
from domain.import_storage import CASE_FIELDS, LISTING_FIELDS
from domain.visibility import listing_is_public_clause
from extensions import db
from models import (
    AuditEvent,
    Batch,
    Case,
    CaseViolationType,
    Listing,
    ListingPerson,
    RecordRevision,
    SearchChange,
    User,
)
from models.batch import BATCH_STATUS_LABELS, KIND_CASES
from models.common import NUMBER_HOLDING_STATUSES, utcnow
from search_index import IndexBusy, IndexDamaged, follower, sync

log = logging.getLogger(__name__)


class PublishingError(ValueError):
    """An action the rules do not allow; the message is for staff."""


def record_model(kind: str) -> type[Case] | type[Listing]:
    return Case if kind == KIND_CASES else Listing


def enqueue_batch(batch: Batch) -> None:
    """Change-log entries for every record of a batch, in one statement."""
    model = record_model(batch.kind)
    db.session.execute(
        insert(SearchChange).from_select(
            ["record_kind", "record_id", "created_at"],
            select(literal(model.kind), model.id, literal(utcnow())).where(model.batch_id == batch.id),
        )
    )


def enqueue_record(record: Case | Listing) -> None:
    db.session.add(SearchChange(record_kind=record.kind, record_id=record.id))


def next_batch_number(kind: str, year: int) -> int:
    highest = db.session.scalar(
        select(func.max(Batch.number)).where(Batch.kind == kind, Batch.year == year, Batch.status != "draft")
    )
    return (highest or 0) + 1


def publish_batch(batch: Batch, *, published_by_id: int | None = None, published_on=None) -> None:
    """Make a batch and all its records public together (the caller commits, then
    lets the search follow: ``notify_search``)."""
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
    clashes = publish_clashes(batch)
    if clashes:
        raise PublishingError(_clash_message(clashes))
    try:
        # A savepoint: should another batch with the same decision number be
        # published at this very moment, the unique index refuses this one.
        with db.session.begin_nested():
            db.session.execute(
                update(model)
                .where(model.batch_id == batch.id, model.status == "draft")
                .values(status="published", published_at=now)
                .execution_options(synchronize_session=False)
            )
    except IntegrityError:
        raise PublishingError("发布时发现有文书号已被另一个刚发布的批次使用，请刷新页面查看后再处理") from None
    enqueue_batch(batch)


# --- one record per decision number ------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """The record that already carries a decision number, and its batch."""

    key: str
    record_id: int
    record_status: str
    source_row: int | None
    document_no: str | None
    batch_id: int
    batch_title: str
    batch_status: str

    @property
    def state(self) -> str:
        if self.record_status in NUMBER_HOLDING_STATUSES:
            return "已发布"
        return BATCH_STATUS_LABELS.get(self.batch_status, self.batch_status)


def document_holders(
    kind: str, keys: Iterable[str], *, exclude_record_id: int | None = None, held_only: bool = False
) -> dict[str, Holder]:
    """For each decision number (normalised key), the record other than
    ``exclude_record_id`` that carries it: published ones first, then drafts of
    any batch (``held_only``: published ones only). Withdrawn records carry none."""
    model = record_model(kind)
    statuses = NUMBER_HOLDING_STATUSES if held_only else (*NUMBER_HOLDING_STATUSES, "draft")
    found: dict[str, Holder] = {}
    wanted = sorted({key for key in keys if key})
    for start in range(0, len(wanted), 500):
        rows = db.session.execute(
            select(
                model.document_no_key,
                model.id,
                model.status,
                model.source_row,
                model.document_no,
                Batch.id,
                Batch.title,
                Batch.status,
            )
            .join(Batch, model.batch_id == Batch.id)
            .where(
                model.document_no_key.in_(wanted[start : start + 500]),
                model.status.in_(statuses),
                model.id != (exclude_record_id or 0),
            )
            .order_by(model.id)
        )
        for row in rows:
            holder = Holder(*row)
            current = found.get(holder.key)
            if current is None or (
                holder.record_status in NUMBER_HOLDING_STATUSES and current.record_status not in NUMBER_HOLDING_STATUSES
            ):
                found[holder.key] = holder
    return found


def publish_clashes(batch: Batch, limit: int = 20) -> list[tuple[Case | Listing, Holder]]:
    """The records of a batch whose decision number a published record of another
    batch already carries: checked again at publication, since two drafts may
    race."""
    model = record_model(batch.kind)
    other = aliased(model)
    rows = db.session.execute(
        select(model, other.id, other.status, other.source_row, other.document_no, Batch.id, Batch.title, Batch.status)
        .join(other, and_(other.document_no_key == model.document_no_key, other.batch_id != model.batch_id))
        .join(Batch, other.batch_id == Batch.id)
        .where(
            model.batch_id == batch.id, model.document_no_key.is_not(None), other.status.in_(NUMBER_HOLDING_STATUSES)
        )
        .order_by(model.id)
        .limit(limit)
    ).all()
    return [(row[0], Holder(row[0].document_no_key, *row[1:])) for row in rows]


def _clash_message(clashes: list[tuple[Case | Listing, Holder]]) -> str:
    shown = [
        f"第{record.source_row}行" * bool(record.source_row)
        + f"“{record.document_no}”已由批次“{holder.batch_title}”公开"
        for record, holder in clashes[:5]
    ]
    more = f"等{len(clashes)}处" if len(clashes) > 5 else ""
    return "不能发布：文书号重复，同一决定只能公开一次（" + "；".join(shown) + more + "）。请删除或改正这些记录后再发布"


def listing_notices(batch: Batch) -> list[tuple[Listing, Listing]]:
    """Listings of this batch whose enterprise is already on the public list under
    another decision: lawful, but the reviewer should look. Pairs of (this batch's
    listing, the listing in force)."""
    if batch.kind == KIND_CASES:
        return []
    mine = batch_records(batch)
    listed = enterprises_listed((listing.credit_code for listing in mine), exclude_batch_id=batch.id)
    return [
        (listing, listed[listing.credit_code])
        for listing in mine
        if listing.credit_code in listed and listed[listing.credit_code].document_no_key != listing.document_no_key
    ]


def enterprises_listed(codes: Iterable[str | None], *, exclude_batch_id: int | None = None) -> dict[str, Listing]:
    """The public listing in force of each enterprise (by credit code), if any."""
    wanted = sorted({code for code in codes if code})
    found: dict[str, Listing] = {}
    for start in range(0, len(wanted), 500):
        for listing in db.session.scalars(
            select(Listing)
            .where(
                Listing.credit_code.in_(wanted[start : start + 500]),
                listing_is_public_clause(),
                Listing.batch_id != (exclude_batch_id or 0),
            )
            .order_by(Listing.id)
        ):
            found.setdefault(listing.credit_code, listing)
    return found


def notify_search() -> None:
    """After a commit in a web request: wake this process's search follower. The
    request does no index work; every process (this one too) applies the change
    log by itself within about a second (``search_index.follower``)."""
    follower.wake()


def update_search_index() -> None:
    """Bring this machine's search index up to date with the change log after a
    commit; a site that has never had an index gets one built from the database.
    A failure here is logged, never raised: the entries stay in the log and the
    next update (or ``flask search sync``) applies them."""
    try:
        sync(build_missing=True)
    except IndexDamaged as problem:
        log.warning("search index not updated (%s): run flask search reindex", problem)
    except IndexBusy as busy:  # another process is applying the log: it takes these entries too
        log.info("search index not updated here: %s", busy)
    except Exception:  # the database change has been committed; the index catches up later
        log.exception("search index update failed; the entries stay in the change log")


# --- the staff workflow -------------------------------------------------------------
# Each function below changes the current transaction only: it checks the rules,
# makes the change, writes the audit event and the search change-log entries. The
# caller commits, then lets the search follow.

LISTING_STATE_FIELDS = (
    "status",
    "listed_on",
    "expires_on",
    "year",
    "removed_on",
    "removal_reason",
    "removal_document_no",
    "revoked_on",
    "revocation_reason",
    "reinstated_on",
)


def _require(text: str | None, message: str) -> str:
    text = (text or "").strip()
    if not text:
        raise PublishingError(message)
    return text


def record_fields(record: Case | Listing) -> dict[str, Any]:
    """The published content of a record (what a correction may change)."""
    if isinstance(record, Case):
        return {name: getattr(record, name) for name in CASE_FIELDS}
    data = {name: getattr(record, name) for name in LISTING_FIELDS}
    data["persons"] = record.responsible_persons
    return data


def batch_state(batch: Batch) -> dict[str, Any]:
    return {
        "status": batch.status,
        "number": batch.number,
        "published_on": batch.published_on,
        "review_comment": batch.review_comment,
        "withdrawal_reason": batch.withdrawal_reason,
    }


def batch_records(batch: Batch) -> list[Case | Listing]:
    model = record_model(batch.kind)
    return list(db.session.scalars(select(model).where(model.batch_id == batch.id).order_by(model.id)))


def record_count(batch: Batch) -> int:
    model = record_model(batch.kind)
    return db.session.scalar(select(func.count()).select_from(model).where(model.batch_id == batch.id)) or 0


def record_counts(batches: list[Batch]) -> dict[int, int]:
    """Records per batch for a list page, in one query per kind (not one per batch)."""
    counts = {batch.id: 0 for batch in batches}
    for kind in {batch.kind for batch in batches}:
        model = record_model(kind)
        ids = [batch.id for batch in batches if batch.kind == kind]
        counts.update(
            db.session.execute(
                select(model.batch_id, func.count()).where(model.batch_id.in_(ids)).group_by(model.batch_id)
            ).all()
        )
    return counts


# The actions that change what a batch will publish: whoever took one of them
# prepared the batch and may not be the one who publishes it. (Sending back for
# changes is the reviewer's part and changes no record.)
PREPARING_ACTIONS = ("batch.upload", "record.add", "record.edit", "record.delete", "batch.submit")


@dataclass(frozen=True)
class Change:
    """One person's changes of one kind to a batch, for the review page."""

    user_id: int | None
    username: str | None
    action: str
    count: int
    last_at: dt.datetime

    @property
    def label(self) -> str:
        return audit.ACTION_LABELS.get(self.action, self.action)


def batch_changes(batch: Batch) -> list[Change]:
    """Who changed a batch or its records, and how, from the audit log."""
    rows = db.session.execute(
        select(
            AuditEvent.user_id, AuditEvent.username, AuditEvent.action, func.count(), func.max(AuditEvent.occurred_at)
        )
        .where(AuditEvent.batch_id == batch.id, AuditEvent.action.in_(PREPARING_ACTIONS))
        .group_by(AuditEvent.user_id, AuditEvent.username, AuditEvent.action)
        .order_by(func.min(AuditEvent.id))
    ).all()
    return [Change(*row) for row in rows]


def preparer_ids(batch: Batch) -> set[int]:
    """Who prepared a batch: whoever uploaded it, changed it or its records after
    the upload, or submitted it for review."""
    ids = {batch.created_by_id, batch.submitted_by_id}
    ids.update(
        db.session.scalars(
            select(AuditEvent.user_id)
            .where(AuditEvent.batch_id == batch.id, AuditEvent.action.in_(PREPARING_ACTIONS))
            .distinct()
        )
    )
    return {user_id for user_id in ids if user_id is not None}


def batch_numbered(kind: str, year: int, number: int) -> Batch | None:
    """The batch that already holds 第N批 of a kind and year (a number is unique
    per kind and year, drafts included), if any."""
    return db.session.scalar(select(Batch).where(Batch.kind == kind, Batch.year == year, Batch.number == number))


# --- drafts ---------------------------------------------------------------------------


BATCH_REVIEW = review.Workflow(
    action="batch",
    noun="批次",
    error=PublishingError,
    state=batch_state,
    draft_only="只有草稿批次可以修改；待审核的批次请先由审核人退回",
    preparers=preparer_ids,
    four_eyes_refusal="四眼原则：上传、修改或提交过该批次及其记录的人不能发布它，请由另一位审核人发布",
    why_not_submit=lambda batch: None if record_count(batch) else "批次中没有记录，不能提交审核",
    # A batch's comment keeps its inner white space, as it always has.
    clean_comment=lambda text: (text or "").strip(),
)


def _check_document_unique(batch: Batch, values: dict[str, Any], exclude_id: int | None = None) -> None:
    """A decision number is used by one record only: refuse a number any other
    record, in this batch or another, already carries (withdrawn ones aside)."""
    key = values.get("document_no_key")
    if not key:
        return
    holders = document_holders(batch.kind, [key], exclude_record_id=exclude_id)
    if key in holders:
        holder = holders[key]
        if holder.batch_id == batch.id:
            raise PublishingError(f"本批次已有文书号相同的记录（记录编号 {holder.record_id}）")
        raise PublishingError(
            f"文书号“{values.get('document_no')}”已在批次“{holder.batch_title}”（{holder.state}）中使用"
        )


def _resolve_enterprise(values: dict[str, Any]) -> None:
    # The import service's own enterprise matching, so a form and a file agree.
    from domain.import_storage import _resolve_enterprises

    _resolve_enterprises([values])


def _assign(record: Case | Listing, values: dict[str, Any]) -> None:
    fields = CASE_FIELDS if isinstance(record, Case) else LISTING_FIELDS
    for name in fields:
        setattr(record, name, values.get(name))
    record.enterprise_id = values.get("enterprise_id")
    if isinstance(record, Case):
        labels = [label for label in (values.get("violation_types") or "").split("、") if label]
        if [row.violation_type for row in record.violation_type_rows] != labels:
            record.violation_type_rows.clear()
            db.session.flush()  # old rows go before new ones with the same key arrive
            record.violation_type_rows.extend(
                CaseViolationType(violation_type=label, position=position) for position, label in enumerate(labels)
            )
    else:
        names = list(values.get("persons") or [])
        if record.responsible_persons != names:
            record.persons.clear()
            db.session.flush()
            record.persons.extend(ListingPerson(name=name, position=position) for position, name in enumerate(names))


def add_record(batch: Batch, values: dict[str, Any], user: User) -> Case | Listing:
    """Add one validated record (from ``check_record_fields``) to a draft batch."""
    BATCH_REVIEW.require_draft(batch)
    _check_document_unique(batch, values)
    values = dict(values)
    _resolve_enterprise(values)
    record = record_model(batch.kind)(batch_id=batch.id, status="draft")
    record.batch = batch
    db.session.add(record)
    _assign(record, values)
    db.session.flush()
    audit.record(
        "record.add",
        record,
        after=record_fields(record),
        user=user,
        summary=f"向批次“{batch.title}”添加 {record.enterprise_name}",
    )
    return record


def edit_draft_record(record: Case | Listing, values: dict[str, Any], user: User) -> None:
    BATCH_REVIEW.require_draft(record.batch)
    _check_document_unique(record.batch, values, exclude_id=record.id)
    before = record_fields(record)
    values = dict(values)
    _resolve_enterprise(values)
    _assign(record, values)
    before, after = audit.changed_only(before, record_fields(record))
    if not after:
        raise PublishingError("没有修改任何内容")
    audit.record("record.edit", record, before, after, user, summary=f"修改草稿记录 {record.enterprise_name}")


def delete_draft_record(record: Case | Listing, user: User) -> None:
    BATCH_REVIEW.require_draft(record.batch)
    audit.record(
        "record.delete",
        record,
        before=record_fields(record),
        user=user,
        summary=f"从批次“{record.batch.title}”删除 {record.enterprise_name}",
    )
    db.session.delete(record)


def delete_draft_batch(batch: Batch, user: User) -> None:
    BATCH_REVIEW.require_draft(batch)
    audit.record(
        "batch.delete",
        batch,
        before={**batch_state(batch), "title": batch.title, "records": record_count(batch)},
        user=user,
        summary=f"删除草稿批次“{batch.title}”",
    )
    for record in batch_records(batch):
        db.session.delete(record)
    db.session.delete(batch)


# --- review ---------------------------------------------------------------------------


def submit_batch(batch: Batch, user: User) -> None:
    BATCH_REVIEW.submit(batch, user)


def send_back(batch: Batch, comment: str, user: User) -> None:
    BATCH_REVIEW.send_back(batch, comment, user)


def why_not_publish(batch: Batch, user: User, *, four_eyes: bool) -> str | None:
    """Why this user may not publish this batch, or None if they may."""
    return BATCH_REVIEW.why_not_publish(batch, user, four_eyes=four_eyes)


def review_and_publish(batch: Batch, user: User, *, four_eyes: bool) -> None:
    """Publish a submitted batch after review (the four-eyes rule unless switched off)."""
    BATCH_REVIEW.check_publish(batch, user, four_eyes=four_eyes)
    before = batch_state(batch)
    count = record_count(batch)
    publish_batch(batch, published_by_id=user.id)
    batch.review_comment = None
    before, after = audit.changed_only(before, batch_state(batch))
    audit.record(
        "batch.publish",
        batch,
        before,
        {**after, "records": count},
        user,
        summary=f"发布“{batch.title}”（{count}条）",
    )


# --- after publication ----------------------------------------------------------------


def withdraw_batch(batch: Batch, reason: str, user: User) -> None:
    """撤回 a whole published batch: the batch and every record leave the public site."""
    if batch.status != "published":
        raise PublishingError("只有已发布的批次可以撤回")
    reason = _require(reason, "撤回需要写明理由")
    before = batch_state(batch)
    now = utcnow()
    batch.status = "withdrawn"
    batch.withdrawn_at = now
    batch.withdrawal_reason = reason
    model = record_model(batch.kind)
    db.session.execute(
        update(model)
        .where(model.batch_id == batch.id, model.status != "withdrawn")
        .values(status="withdrawn", withdrawn_at=now, withdrawal_reason=reason)
        .execution_options(synchronize_session="fetch")
    )
    enqueue_batch(batch)
    audit.record(
        "batch.withdraw",
        batch,
        *audit.changed_only(before, batch_state(batch)),
        user,
        summary=f"撤回批次“{batch.title}”：{reason}",
    )


def withdraw_record(record: Case | Listing, reason: str, user: User) -> None:
    """撤回 one record: its permalink answers 410 with the notice from then on."""
    if record.status in ("draft", "withdrawn"):
        raise PublishingError("只有已发布的记录可以撤回" if record.status == "draft" else "该记录已撤回")
    reason = _require(reason, "撤回需要写明理由")
    before = {"status": record.status}
    record.status = "withdrawn"
    record.withdrawn_at = utcnow()
    record.withdrawal_reason = reason
    enqueue_record(record)
    audit.record(
        "record.withdraw",
        record,
        before,
        {"status": "withdrawn", "withdrawal_reason": reason},
        user,
        summary=f"撤回 {record.enterprise_name}：{reason}",
    )


def correct_record(record: Case | Listing, values: dict[str, Any], note: str, user: User) -> None:
    """更正 a published record: the text as it was is kept as a revision, the record
    shows the new text with a dated note."""
    if record.status in ("draft", "withdrawn"):
        raise PublishingError("只有已发布的记录可以更正" if record.status == "draft" else "已撤回的记录不能更正")
    note = _require(note, "更正需要写明更正说明（将在公开页面显示）")
    _check_document_unique(record.batch, values, exclude_id=record.id)
    previous = record_fields(record)
    db.session.add(
        RecordRevision(
            record_kind=record.kind,
            record_id=record.id,
            revision=record.revision,
            data=audit.jsonable(
                {**previous, "correction_note": record.correction_note, "revised_at": record.revised_at}
            ),
            note=note,
            created_by_id=user.id,
        )
    )
    values = dict(values)
    _resolve_enterprise(values)
    _assign(record, values)
    before, after = audit.changed_only(previous, record_fields(record))
    if not after:
        raise PublishingError("没有修改任何内容")
    record.revision = (record.revision or 1) + 1
    record.revised_at = utcnow()
    record.correction_note = note
    enqueue_record(record)
    audit.record(
        "record.correct",
        record,
        before,
        {**after, "revision": record.revision, "note": note},
        user,
        summary=f"更正 {record.enterprise_name}（第{record.revision}版）：{note}",
    )


def _listing_state(listing: Listing) -> dict[str, Any]:
    return {name: getattr(listing, name) for name in LISTING_STATE_FIELDS}


def _change_listing_state(listing: Listing, action: str, user: User, summary: str, **changes: Any) -> None:
    """Every change of a published listing's standing goes the same way: the
    search index follows and the audit log keeps what changed."""
    before = _listing_state(listing)
    for name, value in changes.items():
        setattr(listing, name, value)
    enqueue_record(listing)
    audit.record(action, listing, *audit.changed_only(before, _listing_state(listing)), user, summary=summary)


def _check_day(day: dt.date | None, listing: Listing, what: str) -> dt.date:
    if day is None:
        raise PublishingError(f"请填写{what}")
    if day > clock.today():
        raise PublishingError(f"{what}不能晚于今天")
    if day < listing.listed_on:
        raise PublishingError(f"{what}不能早于列入日期 {listing.listed_on.isoformat()}")
    return day


def remove_listing(listing: Listing, removed_on: dt.date | None, reason: str, document_no: str, user: User) -> None:
    """提前移出 (信用修复, 第十二至十四条): the listing leaves every public page at once."""
    if listing.status != "published":
        raise PublishingError("只有公示中的名单可以提前移出")
    if clock.today() >= listing.expires_on:
        raise PublishingError("该名单期限已届满，已自动停止公开，无需提前移出")
    removed_on = _check_day(removed_on, listing, "移出日期")
    reason = _require(reason, "请填写移出理由")
    document_no = _require(document_no, "请填写提前移出决定书文号")
    _change_listing_state(
        listing,
        "listing.remove",
        user,
        f"提前移出 {listing.enterprise_name}（{document_no}）",
        status="removed",
        removed_on=removed_on,
        removal_reason=reason,
        removal_document_no=document_no,
    )


def revoke_listing(listing: Listing, revoked_on: dt.date | None, reason: str, user: User) -> None:
    """撤销 the listing decision (第十六条): it stops being public at once."""
    if listing.status not in ("published", "removed"):
        raise PublishingError("只有已发布的名单可以撤销")
    revoked_on = _check_day(revoked_on, listing, "撤销日期")
    reason = _require(reason, "请填写撤销理由")
    _change_listing_state(
        listing,
        "listing.revoke",
        user,
        f"撤销列入 {listing.enterprise_name}：{reason}",
        status="revoked",
        revoked_on=revoked_on,
        revocation_reason=reason,
    )


def reinstate_listing(listing: Listing, reinstated_on: dt.date | None, basis: str, user: User) -> None:
    """恢复列入 after an early removal is revoked (第十五条): the listing is public
    again and its term starts again from the reinstatement date."""
    if listing.status not in ("removed", "revoked"):
        raise PublishingError("只有已提前移出或已撤销的名单可以恢复列入")
    reinstated_on = _check_day(reinstated_on, listing, "恢复日期")
    basis = _require(basis, "请填写恢复列入的依据（决定书文号等）")
    _change_listing_state(
        listing,
        "listing.reinstate",
        user,
        f"恢复列入 {listing.enterprise_name}：{basis}",
        status="published",
        reinstated_on=reinstated_on,
        # 列入的起止时间重新计算
        listed_on=reinstated_on,
        expires_on=clock.add_years(reinstated_on, listing.term_years),
        year=reinstated_on.year,
    )


# --- the edit form uses the import rules -------------------------------------------------


def check_record_fields(kind: str, cells: dict[str, Any], settings) -> tuple[dict[str, Any] | None, list]:
    """Validate one record typed into a form with exactly the rules of a file
    import: the form's values become a one-row table for the import service.
    Returns (record values, []) or (None, errors)."""
    from domain.import_validation import COLUMNS, validate_table
    from domain.spreadsheets import Table

    header = list(COLUMNS[kind])
    table = Table(header=header, rows=[(2, [cells.get(column) for column in header])])
    report = validate_table(kind, table, settings)
    if report.errors:
        return None, report.errors
    return report.records[0], []
