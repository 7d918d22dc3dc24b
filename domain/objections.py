"""异议: objections to a published record, filed by the public and answered by
staff. A request gets a reference number; the requester looks it up with that
number and the contact they gave, and sees only its status and the reply. Their
name and contact are never shown outside the staff area, and never written to
the audit log.

Filing is limited per network address (a keyed hash of it is kept, not the
address), counted from the requests themselves, so every web process and
machine shares the limit with no extra table."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from domain import audit
from domain.validation import fold_width
from domain.visibility import is_record_public
from extensions import db
from models import Case, Listing, Objection, User
from models.common import utcnow
from models.objection import OBJECTION_STATUS_LABELS, OBJECTION_STATUSES

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out on the phone
REFERENCE_RANDOM = 8  # 32^8 ≈ 10^12 references a day: not guessable, and the contact is needed too
MAX_NAME = 100
MAX_CONTACT = 200
MAX_REASON = 2000
MAX_REPLY = 4000
_PHONE = re.compile(r"\+?[\d\-\s()（）]{7,20}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ObjectionError(ValueError):
    """A request the rules refuse; the message is for the person who sent it."""


class RateLimited(ObjectionError):
    pass


@dataclass(frozen=True)
class Limits:
    per_hour: int = 3
    per_day: int = 10

    @classmethod
    def from_config(cls, config) -> Limits:
        return cls(int(config["OBJECTION_LIMIT_PER_HOUR"]), int(config["OBJECTION_LIMIT_PER_DAY"]))


def source_key(address: str | None, secret: str) -> str:
    """A keyed hash of a network address: enough to count, useless to read."""
    return hmac.new(secret.encode(), (address or "unknown").encode(), hashlib.sha256).hexdigest()


def contact_key(contact: str) -> str:
    """A contact as compared at look-up: width, case, spaces and dashes ignored."""
    return re.sub(r"[\s\-()（）]", "", fold_width(contact)).lower()


def _text(value: str | None, label: str, limit: int, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ObjectionError(f"请填写{label}")
    if len(text) > limit:
        raise ObjectionError(f"{label}不能超过{limit}个字")
    if _CONTROL.search(text):
        raise ObjectionError(f"{label}含有不允许的控制字符")
    return text


def check_contact(value: str | None) -> str:
    contact = _text(value, "联系方式", MAX_CONTACT)
    if not (_PHONE.fullmatch(fold_width(contact)) or _EMAIL.fullmatch(contact)):
        raise ObjectionError("联系方式请填写电话号码或电子邮箱，以便我们答复您")
    return contact


def check_rate(source: str, limits: Limits, now: dt.datetime | None = None) -> None:
    now = now or utcnow()
    recent = db.session.execute(
        select(
            func.count().filter(Objection.created_at > now - dt.timedelta(hours=1)),
            func.count(),
        ).where(Objection.source_key == source, Objection.created_at > now - dt.timedelta(days=1))
    ).one()
    if recent[0] >= limits.per_hour or recent[1] >= limits.per_day:
        raise RateLimited(
            "提交过于频繁：同一网络地址每小时、每天可提交的异议申请数量有限，请稍后再试，或拨打电话联系我们。"
        )


def new_reference(today: dt.date) -> str:
    while True:
        tail = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_RANDOM))
        reference = f"YY{today:%Y%m%d}-{tail}"
        if not db.session.scalar(select(Objection.id).where(Objection.reference == reference)):
            return reference


def record_label(record: Case | Listing) -> str:
    kind = "重大劳动保障违法案件" if isinstance(record, Case) else "失信联合惩戒对象名单"
    return f"{kind} · {record.enterprise_name}（记录编号 {record.id}）"


def file_objection(
    record: Case | Listing,
    *,
    name: str | None,
    contact: str | None,
    reason: str | None,
    source: str,
    limits: Limits,
    today: dt.date,
) -> Objection:
    """File a request about a public record (the caller commits)."""
    if not is_record_public(record, today):
        raise ObjectionError("该记录已停止公开，请按页面上的联系方式与我们联系。")
    name = _text(name, "姓名或单位名称", MAX_NAME)
    contact = check_contact(contact)
    reason = _text(reason, "异议内容", MAX_REASON)
    if len(reason) < 10:
        raise ObjectionError("请写明异议的具体内容和理由（至少10个字）")
    check_rate(source, limits)
    objection = Objection(
        reference=new_reference(today),
        record_kind=record.kind,
        record_id=record.id,
        name=name,
        contact=contact,
        contact_key=contact_key(contact),
        reason=reason,
        status="pending",
        source_key=source,
    )
    db.session.add(objection)
    db.session.flush()
    # Who filed it and how to reach them stay in the objection itself, not here.
    audit.record(
        "objection.file",
        objection,
        after={"reference": objection.reference, "record_kind": record.kind, "record_id": record.id},
        username="公众",
        summary=f"收到异议申请 {objection.reference}（{record_label(record)}）",
    )
    return objection


def look_up(reference: str | None, contact: str | None) -> Objection | None:
    """The request with this reference, if the contact matches the one given
    when filing; None otherwise (the caller cannot tell which was wrong)."""
    reference = re.sub(r"\s", "", fold_width(reference or "")).upper()
    key = contact_key(contact or "")
    if not reference or not key or len(reference) > 32:
        return None
    objection = db.session.scalar(select(Objection).where(Objection.reference == reference))
    if objection is None or not hmac.compare_digest(objection.contact_key.encode(), key.encode()):
        return None
    return objection


def the_record(objection: Objection) -> Case | Listing | None:
    model = Case if objection.record_kind == "case" else Listing
    return db.session.get(model, objection.record_id)


def _state(objection: Objection) -> dict:
    return {"status": objection.status, "reply": objection.reply}


def update(objection: Objection, *, status: str, reply: str | None, user: User) -> None:
    """Staff move a request on and answer it (the caller commits)."""
    if status not in OBJECTION_STATUSES:
        raise ObjectionError("状态无效")
    reply = _text(reply, "答复", MAX_REPLY, required=False) or None
    if status == "answered" and not reply:
        raise ObjectionError("标记为“已答复”前请填写答复内容（申请人查询时可以看到）")
    before = _state(objection)
    objection.status = status
    if reply != objection.reply:
        objection.reply = reply
        objection.replied_at = utcnow() if reply else None
        objection.replied_by_id = user.id if reply else None
    before, after = audit.changed_only(before, _state(objection))
    if not after:
        raise ObjectionError("没有修改任何内容")
    audit.record(
        "objection.update",
        objection,
        before,
        after,
        user,
        summary=f"异议申请 {objection.reference}：{OBJECTION_STATUS_LABELS[status]}",
    )


def counts() -> dict[str, int]:
    rows = db.session.execute(select(Objection.status, func.count()).group_by(Objection.status)).all()
    found = dict(rows)
    return {status: found.get(status, 0) for status in OBJECTION_STATUSES}
