"""Atom feeds (feedgen): what each entry says about a batch, a case, a listing
or a change, and the feed document itself. Built on every request from the
records that are public now, so a record taken down is in no feed from that
moment. Entry ids are the records' permalinks (stable URLs); a change is its
record's permalink with the change's own fragment.

The changes feed never shows the content of a record that is no longer public:
such a record appears only as its kind, its number and why it stopped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from feedgen.feed import FeedGenerator
from sqlalchemy import select

from domain import clock
from domain.serializers import PublicUrls
from domain.visibility import GONE_LABELS, gone_reason, is_record_public
from extensions import db
from models import AuditEvent, Batch, Case, Listing
from models.batch import KIND_LABELS

UTC = dt.UTC
FEED_SIZE = 50  # entries in the site-wide feeds
EXPIRY_DAYS = 90  # how far back the changes feed reports listings that expired
CHANGE_ACTIONS = {
    "record.correct": "更正",
    "record.withdraw": "撤回",
    "batch.withdraw": "撤回批次",
    "listing.remove": "提前移出",
    "listing.revoke": "撤销列入",
    "listing.reinstate": "恢复列入",
}
RECORD_KIND_LABELS = {"case": "重大劳动保障违法案件", "listing": "失信联合惩戒对象名单"}
SUMMARY_LENGTH = 300


@dataclass
class Entry:
    id: str
    title: str
    link: str
    updated: dt.datetime  # aware
    summary: str
    published: dt.datetime | None = None
    category: str | None = None


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """Stored times are naive UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None else None


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight in the bureau's time zone, the moment a dated event takes effect."""
    return dt.datetime.combine(day, dt.time(), clock.CHINA_STANDARD_TIME).astimezone(UTC)


def _short(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


def _updated(record: Case | Listing | Batch) -> dt.datetime:
    moment = getattr(record, "revised_at", None) or record.published_at or record.created_at
    return _aware(moment) or _day_start(clock.today())


def _cn(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


def _yuan(amount) -> str:
    return "—" if amount is None else f"{amount:,.2f}元"


# --- entries --------------------------------------------------------------------------


def case_entry(case: Case, url: str) -> Entry:
    parts = [
        f"违法类型：{case.violation_types}",
        f"决定日期：{_cn(case.decided_on)}",
        f"区县：{case.district}",
        f"涉及人数：{case.workers_involved if case.workers_involved is not None else '—'}",
        f"涉及金额：{_yuan(case.amount_involved)}",
        f"主要违法事实：{_short(case.facts)}",
    ]
    if case.revision > 1 and case.correction_note:
        parts.insert(0, f"【已更正】{case.correction_note}")
    return Entry(
        id=url,
        title=f"{case.enterprise_name}（重大劳动保障违法案件）",
        link=url,
        updated=_updated(case),
        published=_aware(case.published_at),
        summary="\n".join(parts),
        category="重大劳动保障违法案件",
    )


def listing_entry(listing: Listing, url: str) -> Entry:
    parts = [
        f"列入日期：{_cn(listing.listed_on)}，期限{listing.term_years}年，届满日期：{_cn(listing.expires_on)}",
        f"区县：{listing.district}",
        f"拖欠金额：{_yuan(listing.amount_owed)}",
        f"列入事由：{_short(listing.reason)}",
    ]
    if listing.revision > 1 and listing.correction_note:
        parts.insert(0, f"【已更正】{listing.correction_note}")
    return Entry(
        id=url,
        title=f"{listing.enterprise_name}（失信联合惩戒对象名单）",
        link=url,
        updated=_updated(listing),
        published=_aware(listing.published_at),
        summary="\n".join(parts),
        category="失信联合惩戒对象名单",
    )


def batch_entry(batch: Batch, url: str, public_count: int | None) -> Entry:
    kind = KIND_LABELS.get(batch.kind, batch.kind)
    title = batch.title if kind in batch.title else f"{batch.title} {kind}"
    summary = f"{batch.authority}于{_cn(batch.published_on)}发布"
    if public_count is not None:
        summary += f"，目前公开 {public_count} 条记录"
    return Entry(
        id=url,
        title=title,
        link=url,
        updated=_aware(batch.published_at) or _day_start(batch.published_on or clock.today()),
        published=_aware(batch.published_at),
        summary=summary + "。",
        category=kind,
    )


# --- the changes feed -------------------------------------------------------------------


def _gone_entry(event_id: str, kind: str, record_id: int, url: str, when: dt.datetime, reason: str | None) -> Entry:
    label = RECORD_KIND_LABELS[kind]
    message = GONE_LABELS.get(reason or "", "该信息已停止公开")
    return Entry(
        id=f"{url}#{event_id}",
        title=f"{label}（记录编号 {record_id}）已停止公开",
        link=url,
        updated=when,
        summary=f"{message}。依据有关规定，不再公开该记录的内容。",
        category="停止公开",
    )


def change_entries(urls: PublicUrls, limit: int = FEED_SIZE, today: dt.date | None = None) -> list[Entry]:
    """Corrections, withdrawals, early removals, revocations and reinstatements
    from the audit log, and listings that expired lately, newest first."""
    today = today or clock.today()
    events = list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(CHANGE_ACTIONS)).order_by(AuditEvent.id.desc()).limit(limit)
        )
    )
    ids: dict[str, set[int]] = {"case": set(), "listing": set(), "batch": set()}
    for event in events:
        if event.object_type in ids and event.object_id is not None:
            ids[event.object_type].add(event.object_id)
    records: dict[tuple[str, int], Case | Listing | Batch] = {}
    for kind, model in (("case", Case), ("listing", Listing), ("batch", Batch)):
        if ids[kind]:
            for row in db.session.scalars(select(model).where(model.id.in_(ids[kind]))):
                records[(kind, row.id)] = row

    entries = []
    for event in events:
        record = records.get((event.object_type or "", event.object_id or 0))
        if record is None:
            continue
        when = _aware(event.occurred_at)
        action = CHANGE_ACTIONS[event.action]
        if isinstance(record, Batch):
            url = urls.batch(record)
            kind = KIND_LABELS.get(record.kind, record.kind)
            entries.append(
                Entry(
                    id=f"{url}#change-{event.id}",
                    title=f"{record.year}年第{record.number}批{kind}已撤回",
                    link=url,
                    updated=when,
                    summary="该批次已撤回，其中的记录依法停止公开。",
                    category=action,
                )
            )
            continue
        kind = record.kind
        url = urls.record(record)
        if not is_record_public(record, today):
            entries.append(_gone_entry(f"change-{event.id}", kind, record.id, url, when, gone_reason(record, today)))
            continue
        # Public now: the change may be told with the record's name.
        if event.action == "record.correct":
            note = (event.after or {}).get("note") or record.correction_note or ""
            summary = f"更正说明：{note}"
        elif event.action == "listing.reinstate":
            summary = f"恢复列入，列入日期：{_cn(record.listed_on)}，届满日期：{_cn(record.expires_on)}。"
        else:
            summary = f"{action}。"
        entries.append(
            Entry(
                id=f"{url}#change-{event.id}",
                title=f"{action}：{record.enterprise_name}",
                link=url,
                updated=when,
                summary=summary,
                category=action,
            )
        )

    expired = db.session.scalars(
        select(Listing)
        .where(
            Listing.status == "published",
            Listing.expires_on <= today,
            Listing.expires_on > today - dt.timedelta(days=EXPIRY_DAYS),
        )
        .order_by(Listing.expires_on.desc(), Listing.id.desc())
        .limit(limit)
    )
    for listing in expired:
        url = urls.listing(listing)
        entries.append(
            _gone_entry(
                f"expired-{listing.expires_on.isoformat()}",
                "listing",
                listing.id,
                url,
                _day_start(listing.expires_on),
                "expired",
            )
        )
    entries.sort(key=lambda entry: entry.updated, reverse=True)
    return entries[:limit]


# --- the document -------------------------------------------------------------------------


def atom(
    *,
    feed_id: str,
    title: str,
    subtitle: str,
    self_url: str,
    page_url: str,
    author: str,
    entries: Iterable[Entry],
) -> bytes:
    """An Atom 1.0 document (RFC 4287): id, title, updated, author, self and
    alternate links; each entry with id, title, updated, link and summary."""
    entries = list(entries)
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    feed.subtitle(subtitle)
    feed.link(href=self_url, rel="self", type="application/atom+xml")
    feed.link(href=page_url, rel="alternate", type="text/html")
    feed.author({"name": author})
    feed.language("zh-CN")
    feed.generator("Gongshi")
    feed.updated(max((entry.updated for entry in entries), default=_day_start(clock.today())))
    for item in entries:
        entry = feed.add_entry(order="append")
        entry.id(item.id)
        entry.title(item.title)
        entry.link(href=item.link, rel="alternate", type="text/html")
        entry.updated(item.updated)
        if item.published is not None:
            entry.published(item.published)
        entry.summary(item.summary)
        if item.category:
            entry.category(term=item.category, label=item.category)
    return feed.atom_str(pretty=True)
