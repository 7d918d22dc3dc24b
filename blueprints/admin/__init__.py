"""The staff area (/admin): the only part of the site that changes data.

Every view needs a logged-in, active account (checked before each request);
``role_required`` narrows a view to some roles. Every POST is CSRF-protected by the
application-wide CSRFProtect; htmx sends the token from the meta tag."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge

from domain import audit
from domain.accounts import SourceThrottle, session_matches
from extensions import db, login_manager
from models import User
from web.common import url_with

bp = Blueprint("admin", __name__)
bp.add_app_template_global(url_with, "url_with")

# Views that answer without a login.
PUBLIC_ENDPOINTS = {"admin.login"}
ROLE_NAV = {
    # (endpoint, label, roles that see it)
    "home": ("admin.home", "工作台", ("editor", "publisher", "admin")),
    "batches": ("admin.batches", "批次", ("editor", "publisher", "admin")),
    "review": ("admin.review", "审核", ("publisher", "admin")),
    "bulletins": ("admin.bulletins_list", "工作通报", ("editor", "publisher", "admin")),
    "gradings": ("admin.gradings_list", "等级评价", ("editor", "publisher", "admin")),
    "listings": ("admin.listings", "失信名单管理", ("publisher", "admin")),
    "campaigns": ("admin.campaign_list", "专项行动", ("editor", "publisher", "admin")),
    "objections": ("admin.objection_list", "异议申请", ("publisher", "admin")),
    "audit": ("admin.audit_log", "操作日志", ("admin",)),
    "users": ("admin.users", "账号", ("admin",)),
    "hotlines": ("admin.hotlines", "举报电话", ("admin",)),
    "settings": ("admin.settings", "设置", ("admin",)),
}
STAFF = ("editor", "publisher", "admin")
PUBLISHERS = ("publisher", "admin")


def _now() -> float:
    """Seconds for the inactivity check (a function, so tests can move it)."""
    return time.time()


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The account of a session, while the session's version is the account's
    (``User.get_id``: "id:version"); an ended session loads no one."""
    identity, _, version = str(user_id).partition(":")
    try:
        user = db.session.get(User, int(identity))
    except (TypeError, ValueError):
        return None
    return user if session_matches(user, version) else None


def role_required(*roles: str) -> Callable:
    """Only these roles may use the view (the login itself is checked for the whole
    blueprint before each request)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


def throttle() -> SourceThrottle:
    return current_app.extensions["gongshi_login_throttle"]


@bp.record_once
def _setup(state) -> None:
    state.app.extensions.setdefault("gongshi_login_throttle", SourceThrottle())
    login_manager.login_view = "admin.login"
    login_manager.login_message = "请先登录。"
    login_manager.login_message_category = "info"


@bp.before_request
def require_login():
    audit.origin.set(request.remote_addr)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("admin.login", next=request.full_path if request.method == "GET" else None))
    if not current_user.is_active:  # deactivated by an administrator since logging in
        logout_user()
        session.clear()
        return redirect(url_for("admin.login"))
    # Sessions end after PERMANENT_SESSION_LIFETIME without a request, checked
    # here as well as by the cookie's own expiry.
    now = _now()
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    seen = session.get("seen")
    if isinstance(seen, (int, float)) and now - seen > lifetime:
        logout_user()
        session.clear()
        flash("长时间未操作，已自动退出，请重新登录。", "info")
        return redirect(url_for("admin.login"))
    session["seen"] = now
    return None


@bp.after_request
def no_store(response):
    # Staff pages show drafts and personal history: never cached by a browser or proxy.
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


@bp.app_context_processor
def admin_context() -> dict:
    def nav() -> list[tuple[str, str, str]]:
        if not current_user.is_authenticated:
            return []
        return [
            (key, endpoint, label) for key, (endpoint, label, roles) in ROLE_NAV.items() if current_user.role in roles
        ]

    return {"admin_nav": nav}


@bp.app_template_filter("cst")
def cst(moment: dt.datetime | None) -> str:
    """A stored (naive UTC) time as the bureau reads it: China Standard Time."""
    if moment is None:
        return ""
    return (moment + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")


def message_page(message: str, status: int):
    return render_template("admin/message.html", title="操作未完成", message=message), status


@bp.errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    return message_page("页面已过期或缺少安全令牌，操作没有执行。请返回上一页，刷新后再试。", 400)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    from blueprints.admin.batches import upload_page

    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    message = f"文件太大：上传的文件不能超过 {limit // (1024 * 1024)} MB。没有保存任何数据。"
    if current_user.is_authenticated and request.endpoint == "admin.upload":
        # The body was refused unread: the form must not try to read it again.
        from blueprints.admin.forms import UploadForm

        return upload_page(form=UploadForm(formdata=None), status=413, message=message)
    return message_page(message, 413)


from blueprints.admin import accounts, auth, batches, bulletins, campaigns, gradings, objections, records  # noqa: E402,F401  (views register on bp)
