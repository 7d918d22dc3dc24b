"""The review of what is published (batches, work bulletins, gradings): draft →
submitted → published, or back to draft with the reviewer's comment, each step in
the audit log. Four eyes: only a publisher publishes, only what was submitted, and
never someone who prepared it (created it, changed it after that, or submitted it).

Each kind describes itself once as a ``Workflow`` (its name in the audit log and in
messages, its error, what its events record); the steps are the same for all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from domain import audit, clock
from domain.validation import clean_text
from extensions import db
from models import AuditEvent, User
from models.common import utcnow


def preparer_ids(item: Any, preparing_actions: Iterable[str]) -> set[int]:
    """Who prepared ``item``: its creator and submitter, and whoever the audit log
    shows doing one of ``preparing_actions`` to it."""
    ids = {item.created_by_id, item.submitted_by_id}
    ids.update(
        db.session.scalars(
            select(AuditEvent.user_id)
            .where(
                AuditEvent.object_type == type(item).__name__.lower(),
                AuditEvent.object_id == item.id,
                AuditEvent.action.in_(list(preparing_actions)),
            )
            .distinct()
        )
    )
    return {user_id for user_id in ids if user_id is not None}


def _ready(item: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Workflow:
    """One kind of reviewed item. ``action`` names its audit events (``batch`` →
    ``batch.submit``), ``noun`` names it to staff (批次), ``state`` is what its
    events record, ``draft_only`` the refusal to change what is no longer a draft."""

    action: str
    noun: str
    error: type[Exception]
    state: Callable[[Any], dict[str, Any]]
    draft_only: str
    preparing_actions: tuple[str, ...] = ()
    # Who may not publish it; by default its creator, submitter and the
    # ``preparing_actions`` of its own audit events.
    preparers: Callable[[Any], set[int]] | None = None
    four_eyes_refusal: str | None = None
    # Why a draft may not be submitted yet (nothing in it), or None.
    why_not_submit: Callable[[Any], str | None] = _ready
    # What else stops a staff publication (a bulletin for a period already out).
    conflict: Callable[[Any], str | None] = _ready
    clean_comment: Callable[[Any], str] = clean_text

    def require_draft(self, item: Any) -> None:
        if item.status != "draft":
            raise self.error(self.draft_only)

    def _record(self, step: str, item: Any, before: dict[str, Any], user: User | None, **details: Any) -> None:
        audit.record(f"{self.action}.{step}", item, *audit.changed_only(before, self.state(item)), user, **details)

    def submit(self, item: Any, user: User) -> None:
        self.require_draft(item)
        problem = self.why_not_submit(item)
        if problem:
            raise self.error(problem)
        before = self.state(item)
        item.status = "submitted"
        item.submitted_at = utcnow()
        item.submitted_by_id = user.id
        self._record("submit", item, before, user, summary=f"提交审核“{item.title}”")

    def send_back(self, item: Any, comment: str, user: User) -> None:
        if item.status != "submitted":
            raise self.error(f"只有待审核的{self.noun}可以退回")
        comment = self.clean_comment(comment)
        if not comment:
            raise self.error("退回时请写明需要修改的地方")
        before = self.state(item)
        item.status = "draft"
        item.review_comment = comment
        self._record("send_back", item, before, user, summary=f"退回“{item.title}”：{comment}")

    def why_not_publish(self, item: Any, user: User, *, four_eyes: bool) -> str | None:
        """Why this user may not publish ``item``, or None if they may."""
        if item.status != "submitted":
            return f"只有待审核的{self.noun}可以发布，请先提交审核"
        if user.role not in ("publisher", "admin"):
            return "只有审核发布人员可以发布"
        if four_eyes:
            prepared = self.preparers(item) if self.preparers else preparer_ids(item, self.preparing_actions)
            if user.id in prepared:
                return self.four_eyes_refusal or (
                    f"四眼原则：录入、修改或提交过该{self.noun}的人不能发布它，请由另一位审核人发布"
                )
        return self.conflict(item)

    def check_publish(self, item: Any, user: User | None, *, four_eyes: bool) -> None:
        """Refuse a publication the rules do not allow. ``user`` None is the command
        line or the sample data, which publish a draft directly."""
        if user is not None:
            problem = self.why_not_publish(item, user, four_eyes=four_eyes)
        elif item.status not in ("draft", "submitted"):
            problem = f"只有草稿或待审核的{self.noun}可以发布"
        else:
            problem = None
        if problem:
            raise self.error(problem)

    def mark_published(
        self,
        item: Any,
        user: User | None,
        *,
        summary: str,
        published_on: dt.date | None = None,
        username: str | None = None,
        now: dt.datetime | None = None,
    ) -> None:
        """The publication itself, once ``check_publish`` let it through."""
        before = self.state(item)
        item.status = "published"
        item.published_at = now or utcnow()
        item.published_on = published_on or clock.today()
        item.published_by_id = getattr(user, "id", None)
        item.review_comment = None
        self._record("publish", item, before, user, username=username, summary=summary)
