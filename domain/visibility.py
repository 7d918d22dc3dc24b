"""The single definition of "publicly visible". Every public page, API answer,
feed, download and search result filters through these, so a listing disappears
on the day it expires with no job to run (第45号令 第十七条)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_

from domain import clock
from models import Batch, Case, Listing


def case_is_public_clause() -> ColumnElement[bool]:
    return Case.status == "published"


def listing_is_public_clause(today: dt.date | None = None) -> ColumnElement[bool]:
    today = today or clock.today()
    return and_(Listing.status == "published", Listing.listed_on <= today, Listing.expires_on > today)


# How far ahead the staff are warned that a listing's term ends (工作台, 失信名单管理).
EXPIRY_WARNING_DAYS = 30


def listing_expiring_clause(today: dt.date | None = None, days: int | None = None) -> ColumnElement[bool]:
    """Public listings whose term ends within ``days`` (the warning window by
    default): the staff's reminder list."""
    today = today or clock.today()
    days = EXPIRY_WARNING_DAYS if days is None else days
    return and_(listing_is_public_clause(today), Listing.expires_on <= today + dt.timedelta(days=days))


def listing_expired_clause(today: dt.date | None = None) -> ColumnElement[bool]:
    """Listings that reached their 届满日期 while published (no longer public)."""
    today = today or clock.today()
    return and_(Listing.status == "published", Listing.expires_on <= today)


def batch_is_public_clause() -> ColumnElement[bool]:
    return Batch.status == "published"


def is_case_public(case: Case) -> bool:
    return case.status == "published"


def is_listing_in_force(listing: Listing, today: dt.date | None = None) -> bool:
    today = today or clock.today()
    return listing.listed_on <= today < listing.expires_on


def is_listing_public(listing: Listing, today: dt.date | None = None) -> bool:
    return listing.status == "published" and is_listing_in_force(listing, today)


def is_record_public(record: Case | Listing, today: dt.date | None = None) -> bool:
    if isinstance(record, Listing):
        return is_listing_public(record, today)
    return is_case_public(record)


def gone_reason(record: Case | Listing, today: dt.date | None = None) -> str | None:
    """Why a record that was once published is no longer shown, for the 410 notice
    at its permalink; None if it is public or was never published."""
    if record.status == "withdrawn":
        return "withdrawn"
    if isinstance(record, Listing):
        if record.status == "removed":
            return "removed"
        if record.status == "revoked":
            return "revoked"
        if record.status == "published" and not is_listing_in_force(record, today):
            return "expired" if (today or clock.today()) >= record.expires_on else None
    return None


GONE_LABELS = {
    "withdrawn": "该信息已撤回",
    "removed": "该单位已提前移出失信联合惩戒对象名单（信用修复），依法停止公开",
    "revoked": "该列入决定已被依法撤销，依法停止公开",
    "expired": "该单位列入失信联合惩戒对象名单的期限已届满，依法停止公开",
}
