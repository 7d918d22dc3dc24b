"""Administration: accounts, hotlines, the audit log and the settings in force."""

from __future__ import annotations

import datetime as dt
import json

from flask import abort, current_app, render_template, request
from sqlalchemy import func, or_, select
from sqlalchemy.engine import make_url

from blueprints.admin import bp, role_required
from blueprints.admin.forms import ActionForm, HotlineForm, PasswordForm, UserCreateForm, UserEditForm
from blueprints.admin.helpers import done, me, refuse
from domain import accounts, audit, bulletins, exporting, gradings
from domain.params import ParameterError
from extensions import db
from models import AuditEvent, Hotline, User
from models.common import utcnow
from web.common import attachment, page_args, paginate, render

# --- accounts ----------------------------------------------------------------------


def get_user(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.route("/users")
@role_required("admin")
def users():
    everyone = list(db.session.scalars(select(User).order_by(User.active.desc(), User.username)))
    return render_template("admin/users.html", title="账号", nav="users", users=everyone, now=utcnow())


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def new_user():
    form = UserCreateForm()
    error = None
    if form.validate_on_submit():
        try:
            user = accounts.create_user(form.username.data, form.role.data, form.password.data, actor=me())
        except accounts.AccountError as problem:
            db.session.rollback()
            error = str(problem)
        else:
            db.session.commit()
            return done(f"已创建账号 {user.username}。", "admin.users")
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", title="新建账号", nav="users", form=form, error=error), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id: int):
    user = get_user(user_id)
    form = UserEditForm(obj=user) if request.method == "GET" else UserEditForm()
    password_form = PasswordForm(prefix="pw")
    error = None
    if form.validate_on_submit():
        try:
            accounts.update_user(user, role=form.role.data, active=form.active.data, actor=me())
        except accounts.AccountError as problem:
            db.session.rollback()
            error = str(problem)
        else:
            db.session.commit()
            return done("已保存。", "admin.edit_user", user_id=user.id)
    status = 422 if request.method == "POST" else 200
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(
                or_(
                    AuditEvent.user_id == user.id,
                    (AuditEvent.object_type == "user") & (AuditEvent.object_id == user.id),
                )
            )
            .order_by(AuditEvent.id.desc())
            .limit(30)
        )
    )
    return render_template(
        "admin/user.html",
        title=f"账号：{user.username}",
        nav="users",
        user=user,
        form=form,
        password_form=password_form,
        error=error,
        events=events,
        label=audit.ACTION_LABELS,
        now=utcnow(),
    ), status


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@role_required("admin")
def reset_password(user_id: int):
    user = get_user(user_id)
    form = PasswordForm(prefix="pw")
    if not form.validate():
        message = "；".join(error for errors in form.errors.values() for error in errors)
        return refuse(message or "密码未修改", "admin.edit_user", user_id=user.id)
    try:
        accounts.reset_password(user, form.password.data, actor=me())
    except accounts.AccountError as problem:
        return refuse(str(problem), "admin.edit_user", user_id=user.id)
    db.session.commit()
    return done(f"已重置 {user.username} 的密码，并解除锁定。", "admin.edit_user", user_id=user.id)


# --- hotlines -------------------------------------------------------------------------


def get_hotline(hotline_id: int) -> Hotline:
    return db.session.get(Hotline, hotline_id) or abort(404)


def hotline_state(hotline: Hotline) -> dict:
    return {name: getattr(hotline, name) for name in ("position", "district", "unit", "phone", "address", "hours")}


@bp.route("/hotlines")
@role_required("admin")
def hotlines():
    rows = list(db.session.scalars(select(Hotline).order_by(Hotline.position, Hotline.id)))
    return render_template(
        "admin/hotlines.html", title="举报电话", nav="hotlines", hotlines=rows, action_form=ActionForm()
    )


def _hotline_from_form(hotline: Hotline, form: HotlineForm) -> None:
    hotline.position = form.position.data or 0
    hotline.district = (form.district.data or "").strip() or None
    hotline.unit = form.unit.data.strip()
    hotline.phone = form.phone.data.strip()
    hotline.address = (form.address.data or "").strip() or None
    hotline.hours = (form.hours.data or "").strip() or None


@bp.route("/hotlines/new", methods=["GET", "POST"])
@role_required("admin")
def new_hotline():
    form = HotlineForm()
    if form.validate_on_submit():
        hotline = Hotline()
        _hotline_from_form(hotline, form)
        db.session.add(hotline)
        db.session.flush()
        audit.record("hotline.create", hotline, after=hotline_state(hotline), user=me(), summary=f"添加 {hotline.unit}")
        db.session.commit()
        return done("已添加。", "admin.hotlines")
    status = 422 if request.method == "POST" else 200
    return render_template("admin/hotline_form.html", title="添加举报电话", nav="hotlines", form=form), status


@bp.route("/hotlines/<int:hotline_id>/edit", methods=["GET", "POST"])
@role_required("admin")
def edit_hotline(hotline_id: int):
    hotline = get_hotline(hotline_id)
    form = HotlineForm(obj=hotline) if request.method == "GET" else HotlineForm()
    if form.validate_on_submit():
        before = hotline_state(hotline)
        _hotline_from_form(hotline, form)
        before, after = audit.changed_only(before, hotline_state(hotline))
        if after:
            audit.record("hotline.update", hotline, before, after, me(), summary=f"修改 {hotline.unit}")
        db.session.commit()
        return done("已保存。", "admin.hotlines")
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/hotline_form.html", title="修改举报电话", nav="hotlines", form=form, hotline=hotline
    ), status


@bp.route("/hotlines/<int:hotline_id>/delete", methods=["POST"])
@role_required("admin")
def delete_hotline(hotline_id: int):
    hotline = get_hotline(hotline_id)
    audit.record("hotline.delete", hotline, before=hotline_state(hotline), user=me(), summary=f"删除 {hotline.unit}")
    db.session.delete(hotline)
    db.session.commit()
    return done("已删除。", "admin.hotlines")


# --- audit log ------------------------------------------------------------------------


def _day_arg(name: str) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ParameterError(f"日期“{raw[:20]}”格式应为 2026-01-31") from None


def _audit_query():
    q = request.args.get("q", "").strip()[:100]
    action = request.args.get("action", "").strip()
    if action and action not in audit.ACTION_LABELS:
        raise ParameterError("未知的操作类型")
    since, until = _day_arg("since"), _day_arg("until")
    statement = select(AuditEvent)
    if q:
        like = f"%{q}%"
        statement = statement.where(or_(AuditEvent.summary.like(like), AuditEvent.username.like(like)))
    if action:
        statement = statement.where(AuditEvent.action == action)
    # Days are the bureau's (UTC+8); events are stored in UTC.
    if since:
        statement = statement.where(
            AuditEvent.occurred_at >= dt.datetime.combine(since, dt.time()) - dt.timedelta(hours=8)
        )
    if until:
        statement = statement.where(
            AuditEvent.occurred_at
            < dt.datetime.combine(until + dt.timedelta(days=1), dt.time()) - dt.timedelta(hours=8)
        )
    return statement.order_by(AuditEvent.id.desc()), {"q": q, "action": action, "since": since, "until": until}


@bp.route("/audit")
@role_required("admin")
def audit_log():
    statement, filters = _audit_query()
    page, per_page = page_args()
    result = paginate(statement, page, per_page)
    return render(
        "admin/audit.html",
        "admin/_audit_rows.html",
        title="操作日志",
        nav="audit",
        result=result,
        filters=filters,
        label=audit.ACTION_LABELS,
    )


@bp.route("/audit.csv")
@role_required("admin")
def audit_export():
    statement, _ = _audit_query()

    def rows():
        for event in exporting.stream(statement):
            yield [
                event.id,
                event.occurred_at.isoformat(sep=" ", timespec="seconds"),
                event.username or "",
                audit.ACTION_LABELS.get(event.action, event.action),
                event.object_type or "",
                event.object_id or "",
                event.summary or "",
                json.dumps(event.before, ensure_ascii=False) if event.before is not None else "",
                json.dumps(event.after, ensure_ascii=False) if event.after is not None else "",
                event.remote_addr or "",
            ]

    header = ["编号", "时间（UTC）", "账号", "操作", "对象", "对象编号", "说明", "修改前", "修改后", "来源地址"]
    # Through the one safe writer: a failed login's username is whatever was typed.
    return attachment(exporting.table_csv_chunks(header, rows()), "text/csv; charset=utf-8", "audit-log.csv")


# --- settings ---------------------------------------------------------------------------


@bp.route("/settings")
@role_required("admin")
def settings():
    config = current_app.config
    database = make_url(config["SQLALCHEMY_DATABASE_URI"])
    rows = [
        ("运行环境", config["ENV_NAME"], "GONGSHI_ENV_NAME"),
        ("发布机关", config["AUTHORITY_NAME"], "GONGSHI_AUTHORITY_NAME"),
        ("城市", config["CITY_NAME"], "GONGSHI_CITY_NAME"),
        ("区县", "、".join(config["DISTRICTS"]), "GONGSHI_DISTRICTS"),
        ("四眼原则（发布须由另一人审核）", "开启" if config["FOUR_EYES"] else "关闭", "GONGSHI_FOUR_EYES"),
        ("失信名单默认期限", f"{config['DEFAULT_LISTING_TERM_YEARS']} 年", "GONGSHI_DEFAULT_LISTING_TERM_YEARS"),
        (
            "守法诚信等级评价公开范围",
            gradings.SETTING_LABELS[gradings.setting(config)] + f"（{gradings.setting(config)}）",
            "GONGSHI_PUBLISH_GRADES",
        ),
        (
            "工作通报指标目录",
            "、".join(
                f"{i.name}（{i.unit}{'，越低越好' if i.lower_is_better else ''}）" for i in bulletins.catalogue(config)
            ),
            "GONGSHI_BULLETIN_INDICATORS",
        ),
        (
            "上传文件大小上限",
            f"{(config.get('MAX_CONTENT_LENGTH') or 0) // (1024 * 1024)} MB",
            "GONGSHI_MAX_CONTENT_LENGTH",
        ),
        (
            "无操作自动退出",
            f"{int(current_app.permanent_session_lifetime.total_seconds() // 60)} 分钟",
            "GONGSHI_PERMANENT_SESSION_LIFETIME",
        ),
        ("异议受理单位", config["OBJECTION_UNIT"] or config["AUTHORITY_NAME"], "GONGSHI_OBJECTION_UNIT"),
        ("异议受理电话", config["OBJECTION_PHONE"] or "—", "GONGSHI_OBJECTION_PHONE"),
        ("异议受理地址", config["OBJECTION_ADDRESS"] or "—", "GONGSHI_OBJECTION_ADDRESS"),
        ("信用修复受理电话", config["CREDIT_REPAIR_PHONE"] or "（同异议）", "GONGSHI_CREDIT_REPAIR_PHONE"),
        (
            "每个网络地址可提交的异议",
            f"每小时 {config['OBJECTION_LIMIT_PER_HOUR']} 件、每天 {config['OBJECTION_LIMIT_PER_DAY']} 件",
            "GONGSHI_OBJECTION_LIMIT_PER_HOUR / _PER_DAY",
        ),
        ("示例数据", "显示" if config["SAMPLE_DATA"] else "不显示", "GONGSHI_SAMPLE_DATA"),
        ("数据库", database.get_backend_name(), "GONGSHI_DATABASE_URL"),
    ]
    counts = {
        "accounts": db.session.scalar(select(func.count()).select_from(User).where(User.active.is_(True))),
        "hotlines": db.session.scalar(select(func.count()).select_from(Hotline)),
    }
    return render_template("admin/settings.html", title="设置", nav="settings", rows=rows, counts=counts)
