"""Small things the staff views share."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from flask import current_app, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from blueprints.admin import PUBLISHERS, STAFF, bp, role_required
from blueprints.admin.forms import ActionForm, SendBackForm
from domain import audit
from domain.importing import ImportSettings
from domain.publishing import notify_search
from extensions import db
from models import AuditEvent, User

PUBLIC_ENDPOINTS = {"case": "public.case", "listing": "public.listing", "batch": "public.batch"}


def public_url(obj) -> str | None:
    """The public page of a record or batch (whatever its URL argument is called),
    or None while the public site has no such page."""
    kind = type(obj).__name__.lower()
    endpoint = PUBLIC_ENDPOINTS.get(kind)
    if not endpoint:
        return None
    try:
        rules = list(current_app.url_map.iter_rules(endpoint))
    except KeyError:
        return None
    for rule in rules:
        if len(rule.arguments) == 1:
            try:
                return url_for(endpoint, **{next(iter(rule.arguments)): obj.id})
            except BuildError:
                continue
    return None


def settings() -> ImportSettings:
    return ImportSettings.from_config(current_app.config)


def me() -> User:
    return current_user._get_current_object()


def commit_change() -> None:
    """Commit the change with its audit event and change-log entries, then wake
    the search follower: the request itself never waits for the index."""
    db.session.commit()
    notify_search()


def refuse(message: str, endpoint: str, **values):
    db.session.rollback()
    flash(message, "error")
    return redirect(url_for(endpoint, **values), 303)


def done(message: str, endpoint: str, **values):
    flash(message, "success")
    return redirect(url_for(endpoint, **values), 303)


def review_step(
    step: Callable[[], Any],
    refused_as: type[Exception],
    success: str | Callable[[Any], str],
    endpoint: str,
    **values: Any,
):
    """One step of a review (submit, send back, publish): the domain call, then a
    commit and a success message, or nothing stored and the domain's refusal."""
    try:
        result = step()
    except refused_as as problem:
        return refuse(str(problem), endpoint, **values)
    db.session.commit()
    return done(success(result) if callable(success) else success, endpoint, **values)


def add_review_views(
    name: str,
    rule: str,
    *,
    load: Callable[..., Any],
    steps: ModuleType,
    refused_as: type[Exception],
    published: Callable[[Any, Any], str],
    deleted: str,
    listing: str,
) -> None:
    """The review views of an item whose page is ``admin.<name>`` at ``rule``
    (``/bulletins/<int:bulletin_id>``): POST ``rule``/submit, /send-back, /publish
    and /delete (endpoints ``admin.<name>_submit``, ``_send_back``, ``_publish``,
    ``_delete``), each back to the page, or after a deletion (``deleted``) to the
    ``listing``. ``steps`` is the domain module with ``submit``, ``send_back``,
    ``publish`` and ``delete_draft``, which refuse with ``refused_as``;
    ``load(<id>, lock=True)`` finds the item; ``published(item, what publish
    returned)`` says it is out."""
    page = f"admin.{name}"

    def submit(**values: Any):
        item = load(**values, lock=True)
        return review_step(
            lambda: steps.submit(item, me()), refused_as, "已提交审核，等待另一位审核人发布。", page, **values
        )

    def send_back(**values: Any):
        item = load(**values, lock=True)
        form = SendBackForm()
        form.validate()
        return review_step(
            lambda: steps.send_back(item, form.comment.data or "", me()),
            refused_as,
            "已退回修改。",
            page,
            **values,
        )

    def publish(**values: Any):
        item = load(**values, lock=True)
        return review_step(
            lambda: steps.publish(item, me(), four_eyes=current_app.config["FOUR_EYES"]),
            refused_as,
            lambda result: published(item, result),
            page,
            **values,
        )

    def delete(**values: Any):
        item = load(**values, lock=True)
        try:
            steps.delete_draft(item, me())
        except refused_as as problem:
            return refuse(str(problem), page, **values)
        db.session.commit()
        return done(deleted, listing)

    for step, view, roles in (
        ("submit", submit, STAFF),
        ("send-back", send_back, PUBLISHERS),
        ("publish", publish, PUBLISHERS),
        ("delete", delete, STAFF),
    ):
        endpoint = f"{name}_{step.replace('-', '_')}"
        bp.add_url_rule(f"{rule}/{step}", endpoint, role_required(*roles)(view), methods=["POST"])


def review_parts(
    item: Any, why_not: Callable[..., str | None], events: list[AuditEvent] | None = None
) -> dict[str, Any]:
    """What an item's page shows of its review: who created, submitted and
    published it, its history (``events``, else its own audit events), the review
    forms, and why this user may not publish it."""
    return {
        "names": usernames(item.created_by_id, item.submitted_by_id, item.published_by_id),
        "history": history(type(item).__name__.lower(), item.id) if events is None else events,
        "label": audit.ACTION_LABELS,
        "action_form": ActionForm(),
        "send_back_form": SendBackForm(),
        "publish_blocked": why_not(item, me(), four_eyes=current_app.config["FOUR_EYES"]),
    }


def history(object_type: str, object_id: int, limit: int = 50) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


def batch_history(batch_id: int, limit: int = 100) -> list[AuditEvent]:
    """The events of a batch and of its records, newest first."""
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.batch_id == batch_id).order_by(AuditEvent.id.desc()).limit(limit)
        )
    )


def usernames(*ids: int | None) -> dict[int, str]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return dict(db.session.execute(select(User.id, User.username).where(User.id.in_(wanted))).all())
