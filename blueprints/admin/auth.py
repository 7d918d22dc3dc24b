"""Logging in and out."""

from __future__ import annotations

import time

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from blueprints.admin import _now, bp, throttle
from blueprints.admin.forms import ActionForm, LoginForm, OwnPasswordForm
from domain import accounts, audit
from extensions import db


def _safe_next(target: str | None) -> str:
    # Only a path on this site, never another host.
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return url_for("admin.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("admin.home"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        source = request.remote_addr or "unknown"
        gate = throttle()
        if gate.blocked(source):
            return render_template(
                "admin/login.html", title="登录", form=form, error="登录失败次数过多，请15分钟后再试。"
            ), 429
        # Each recent failure from this source makes the next answer slower.
        current_app.extensions.get("gongshi_login_sleep", time.sleep)(gate.delay(source))
        try:
            user = accounts.authenticate(form.username.data, form.password.data)
        except accounts.LoginFailed as failure:
            db.session.commit()  # the failed attempt and any lockout are recorded
            gate.fail(source)
            error = str(failure)
            status = 401
        else:
            db.session.commit()
            gate.succeed(source)
            session.clear()  # a fresh session, so no token from before the login survives
            login_user(user)
            session.permanent = True
            session["seen"] = _now()
            return redirect(_safe_next(request.args.get("next")), 303)
    elif request.method == "POST":
        status = 400
    return render_template("admin/login.html", title="登录", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    if ActionForm().validate_on_submit():
        user = current_user._get_current_object()
        audit.record("logout", user, user=user)
        accounts.end_sessions(user)  # copies of this session's cookie stop working too
        db.session.commit()
        logout_user()
        session.clear()
        flash("已退出登录。", "info")
    return redirect(url_for("admin.login"), 303)


@bp.route("/password", methods=["GET", "POST"])
def own_password():
    """Every member of staff changes their own password here."""
    form = OwnPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            accounts.change_own_password(current_user._get_current_object(), form.current.data, form.password.data)
        except accounts.AccountError as problem:
            db.session.rollback()
            error = str(problem)
        else:
            db.session.commit()
            # Every other session of the account has ended; this one goes on.
            user = current_user._get_current_object()
            session.clear()
            login_user(user)
            session.permanent = True
            session["seen"] = _now()
            flash("密码已修改，其他设备上的登录已退出。", "success")
            return redirect(url_for("admin.home"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/password.html", title="修改密码", form=form, error=error), status
