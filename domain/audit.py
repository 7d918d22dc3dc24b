"""The audit log: one append-only event per change and per login attempt, written
in the same transaction as the change it describes."""

from __future__ import annotations

import contextvars
import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import event

from extensions import db
from models import AuditEvent, Batch, Case, Listing

# Where the current request comes from; set by the staff blueprint for each request
# so that domain code need not know about Flask.
origin: contextvars.ContextVar[str | None] = contextvars.ContextVar("audit_origin", default=None)

# The named system actors of changes made without a staff account.
CLI_ACTOR = "系统（命令行）"
SAMPLE_DATA_ACTOR = "系统（示例数据）"

ACTION_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "logout": "退出登录",
    "account_locked": "账号锁定",
    "user.create": "创建账号",
    "user.update": "修改账号",
    "user.password": "重置密码",
    "batch.upload": "上传批次",
    "batch.delete": "删除草稿",
    "batch.submit": "提交审核",
    "batch.send_back": "退回修改",
    "batch.publish": "发布批次",
    "batch.withdraw": "撤回批次",
    "record.add": "添加记录",
    "record.edit": "修改草稿记录",
    "record.delete": "删除草稿记录",
    "record.correct": "更正",
    "record.withdraw": "撤回记录",
    "listing.remove": "提前移出",
    "listing.revoke": "撤销列入",
    "listing.reinstate": "恢复列入",
    "campaign.create": "新建专项行动",
    "campaign.update": "修改专项行动",
    "batch.campaign": "批次专项行动",
    "case.campaign": "案件专项行动",
    "hotline.create": "添加举报电话",
    "hotline.update": "修改举报电话",
    "hotline.delete": "删除举报电话",
    "objection.file": "收到异议申请",
    "objection.update": "处理异议申请",
    "grading.create": "导入等级评价结果",
    "grading.delete": "删除草稿评价结果",
    "grading.submit": "提交审核评价结果",
    "grading.send_back": "退回评价结果",
    "grading.publish": "发布等级评价结果",
    "grading.supersede": "替换等级评价结果",
    "bulletin.create": "录入工作通报",
    "bulletin.edit": "修改草稿通报",
    "bulletin.delete": "删除草稿通报",
    "bulletin.submit": "提交审核通报",
    "bulletin.send_back": "退回通报",
    "bulletin.publish": "发布工作通报",
    "bulletin.correct": "更正工作通报",
}


def jsonable(value: Any) -> Any:
    """Values as they can be stored in a JSON column and read back by people."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


def changed_only(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The keys whose values differ, so an event shows what changed, not everything."""
    keys = [key for key in after if jsonable(before.get(key)) != jsonable(after.get(key))]
    return {key: before.get(key) for key in keys}, {key: after.get(key) for key in keys}


def record(
    action: str,
    obj: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    user: Any = None,
    *,
    summary: str | None = None,
    username: str | None = None,
) -> AuditEvent:
    """Add an event to the current transaction (the caller commits)."""
    # "case", "listing", "batch", "user", "hotline"
    object_type = type(obj).__name__.lower() if obj is not None else None
    event = AuditEvent(
        action=action,
        user_id=getattr(user, "id", None),
        username=getattr(user, "username", None) or username,
        object_type=object_type,
        object_id=getattr(obj, "id", None),
        batch_id=_batch_of(obj),
        summary=summary,
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        remote_addr=origin.get(),
    )
    db.session.add(event)
    return event


def _batch_of(obj: Any) -> int | None:
    if isinstance(obj, Batch):
        return obj.id
    if isinstance(obj, (Case, Listing)):
        return obj.batch_id if obj.batch_id is not None else getattr(obj.batch, "id", None)
    return None


class AppendOnly(RuntimeError):
    """The audit log is never changed or deleted from."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_change(mapper, connection, target) -> None:  # noqa: ARG001 (event signature)
    raise AppendOnly("操作日志只能追加，不能修改或删除")
