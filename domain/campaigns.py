"""专项行动 (special campaigns): staff define them and tag batches and cases; a
campaign is a filter of the public lists and has its own statistics page.

A case belongs to its own campaign if it has one, else to its batch's; a listing
to its batch's. ``case_clause`` and ``listing_clause`` say so in SQL, for every
list, download and statistic. Every change is audited, and a re-tagging appends
search change-log entries for the records it moves (search facets by campaign),
in the same transaction, like a correction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from domain import audit
from domain.publishing import enqueue_batch, enqueue_record
from extensions import db
from models import Batch, Campaign, Case, Listing, User


class CampaignError(ValueError):
    """A campaign that cannot be saved as given; the message is for staff."""


def all_campaigns() -> list[Campaign]:
    """Newest first."""
    return list(db.session.scalars(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id.desc())))


def get(campaign_id: int | None) -> Campaign | None:
    if campaign_id is None or campaign_id > 2**31 - 1:
        return None
    return db.session.get(Campaign, campaign_id)


def state(campaign: Campaign) -> dict[str, Any]:
    return {
        "name": campaign.name,
        "starts_on": campaign.starts_on,
        "ends_on": campaign.ends_on,
        "description": campaign.description,
    }


def save(
    campaign: Campaign | None,
    *,
    name: str,
    starts_on: dt.date,
    ends_on: dt.date | None,
    description: str | None,
    user: User | None,
) -> Campaign:
    """Create (``campaign`` None) or change a campaign, in the current transaction
    (the caller commits)."""
    name = (name or "").strip()
    if not name:
        raise CampaignError("请填写专项行动名称")
    if ends_on is not None and ends_on < starts_on:
        raise CampaignError("结束日期不能早于开始日期")
    clash = db.session.scalar(select(Campaign).where(Campaign.name == name))
    if clash is not None and clash is not campaign:
        raise CampaignError(f"已有名为“{name}”的专项行动")
    creating = campaign is None
    before = {} if creating else state(campaign)
    if creating:
        campaign = Campaign(name=name, starts_on=starts_on)
        db.session.add(campaign)
    campaign.name = name
    campaign.starts_on = starts_on
    campaign.ends_on = ends_on
    campaign.description = (description or "").strip() or None
    db.session.flush()
    if creating:
        audit.record("campaign.create", campaign, after=state(campaign), user=user, summary=f"新建专项行动“{name}”")
    else:
        before, after = audit.changed_only(before, state(campaign))
        if after:
            audit.record("campaign.update", campaign, before, after, user, summary=f"修改专项行动“{name}”")
    return campaign


def _name(campaign_id: int | None) -> str | None:
    found = get(campaign_id)
    return found.name if found else None


def tag_batch(batch: Batch, campaign: Campaign | None, user: User | None) -> None:
    """Tag a batch (its records follow, except cases tagged on their own), or
    untag it with None."""
    new_id = campaign.id if campaign else None
    if batch.campaign_id == new_id:
        return
    before = {"campaign": _name(batch.campaign_id)}
    batch.campaign_id = new_id
    enqueue_batch(batch)
    audit.record(
        "batch.campaign",
        batch,
        before,
        {"campaign": campaign.name if campaign else None},
        user,
        summary=f"“{batch.title}”" + (f"列入专项行动“{campaign.name}”" if campaign else "不再属于专项行动"),
    )


def tag_case(case: Case, campaign: Campaign | None, user: User | None) -> None:
    """Tag one case with a campaign of its own, or None: back to its batch's."""
    new_id = campaign.id if campaign else None
    if case.campaign_id == new_id:
        return
    before = {"campaign": _name(case.campaign_id)}
    case.campaign_id = new_id
    enqueue_record(case)
    audit.record(
        "case.campaign",
        case,
        before,
        {"campaign": campaign.name if campaign else None},
        user,
        summary=f"案件“{case.enterprise_name}”" + (f"列入专项行动“{campaign.name}”" if campaign else "改为随所在批次"),
    )


def effective_campaign_id(case: Case) -> int | None:
    return case.campaign_id if case.campaign_id is not None else case.batch.campaign_id


# --- in SQL ------------------------------------------------------------------------------


def _batches_of(campaign_id: int):
    return select(Batch.id).where(Batch.campaign_id == campaign_id)


def case_clause(campaign_id: int) -> ColumnElement[bool]:
    """Cases of the campaign: tagged themselves, or untagged in a tagged batch."""
    return or_(
        Case.campaign_id == campaign_id,
        and_(Case.campaign_id.is_(None), Case.batch_id.in_(_batches_of(campaign_id))),
    )


def listing_clause(campaign_id: int) -> ColumnElement[bool]:
    return Listing.batch_id.in_(_batches_of(campaign_id))


def choices() -> list[tuple[int, str]]:
    """(id, name) of every campaign, for the filter controls."""
    return [(campaign.id, campaign.name) for campaign in all_campaigns()]
