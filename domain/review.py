"""Four eyes for what is published besides batches (work bulletins, gradings): the
same rule as for a batch (``domain.publishing.why_not_publish``) — only a
publisher publishes, only what was submitted, and never someone who prepared it:
created it, changed it after that, or submitted it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from extensions import db
from models import AuditEvent, User


def preparer_ids(item: Any, object_type: str, preparing_actions: Iterable[str]) -> set[int]:
    """Who prepared ``item``: its creator and submitter, and whoever the audit log
    shows doing one of ``preparing_actions`` to it."""
    ids = {item.created_by_id, item.submitted_by_id}
    ids.update(
        db.session.scalars(
            select(AuditEvent.user_id)
            .where(
                AuditEvent.object_type == object_type,
                AuditEvent.object_id == item.id,
                AuditEvent.action.in_(list(preparing_actions)),
            )
            .distinct()
        )
    )
    return {user_id for user_id in ids if user_id is not None}


def why_not_publish(
    item: Any, user: User, *, four_eyes: bool, noun: str, object_type: str, preparing_actions: Iterable[str]
) -> str | None:
    """Why this user may not publish ``item`` (called ``noun`` in the message), or None."""
    if item.status != "submitted":
        return f"只有待审核的{noun}可以发布，请先提交审核"
    if user.role not in ("publisher", "admin"):
        return "只有审核发布人员可以发布"
    if four_eyes and user.id in preparer_ids(item, object_type, preparing_actions):
        return f"四眼原则：录入、修改或提交过该{noun}的人不能发布它，请由另一位审核人发布"
    return None
