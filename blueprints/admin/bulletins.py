"""Staff: work bulletins (工作通报) — typed in or uploaded as a sheet, reviewed and
published like a batch (four eyes, audit), corrected as revisions."""

from __future__ import annotations

import os

from flask import abort, current_app, render_template, request, url_for
from sqlalchemy import select

from blueprints.admin import PUBLISHERS, STAFF, bp, role_required
from blueprints.admin.forms import (
    BulletinCorrectionForm,
    BulletinForm,
    BulletinUploadForm,
)
from blueprints.admin.helpers import add_review_views, done, me, refuse, review_parts
from domain import bulletins
from extensions import db
from models import Bulletin
from web.common import paginate


def _indicators():
    return bulletins.catalogue(current_app.config)


def _get(bulletin_id: int, *, lock: bool = False) -> Bulletin:
    return db.session.get(Bulletin, bulletin_id, with_for_update=lock) or abort(404)


@bp.route("/bulletins")
@role_required(*STAFF)
def bulletins_list():
    result = paginate(select(Bulletin).order_by(Bulletin.created_at.desc(), Bulletin.id.desc()))
    return render_template(
        "admin/bulletins.html",
        title="工作通报",
        nav="bulletins",
        result=result,
        counts=bulletins.indicator_counts(result.items),
        period_label=bulletins.period_label,
    )


def _typed_values() -> dict[str, str]:
    """The indicator fields of the form, by indicator name."""
    return {
        indicator.name: request.form.get(f"value-{position}", "")
        for position, indicator in enumerate(_indicators(), start=1)
    }


def _form_page(template_values: dict[str, str], form, *, bulletin=None, errors=(), status=200, correcting=False):
    title = "更正工作通报" if correcting else ("修改草稿通报" if bulletin else "录入工作通报")
    return render_template(
        "admin/bulletin_form.html",
        title=title,
        nav="bulletins",
        form=form,
        bulletin=bulletin,
        indicators=list(enumerate(_indicators(), start=1)),
        values=template_values,
        errors=errors,
        correcting=correcting,
    ), status


@bp.route("/bulletins/new", methods=["GET", "POST"])
@role_required(*STAFF)
def bulletin_new():
    form = BulletinForm()
    if request.method == "GET":
        return _form_page({}, form)
    typed = _typed_values()
    if not form.validate_on_submit():
        return _form_page(typed, form, status=400)
    report = bulletins.check_form(typed, _indicators())
    if report.errors:
        return _form_page(typed, form, errors=report.errors, status=422)
    try:
        bulletin = bulletins.create_bulletin(
            year=form.year.data,
            month_from=int(form.month_from.data),
            month_to=int(form.month_to.data),
            values=report.values,
            title=form.title.data,
            authority=current_app.config["AUTHORITY_NAME"],
            user=me(),
        )
    except bulletins.BulletinError as problem:
        db.session.rollback()
        return _form_page(typed, form, errors=[str(problem)], status=422)
    db.session.commit()
    return done("已保存为草稿通报。请核对后提交审核。", "admin.bulletin", bulletin_id=bulletin.id)


@bp.route("/bulletins/upload", methods=["GET", "POST"])
@role_required(*STAFF)
def bulletin_upload():
    form = BulletinUploadForm()

    def page(report=None, message=None, status=200):
        return render_template(
            "admin/bulletin_upload.html",
            title="上传工作通报",
            nav="bulletins",
            form=form,
            report=report,
            message=message,
            indicators=_indicators(),
        ), status

    if request.method == "GET":
        return page()
    if not form.validate_on_submit():
        return page(status=400)
    try:
        month_from, month_to = bulletins.parse_months(form.months.data)
        bulletins.check_period(form.year.data, month_from, month_to)
    except bulletins.BulletinError as problem:
        form.months.errors = [str(problem)]
        return page(status=422)
    upload = form.file.data
    filename = os.path.basename(upload.filename or "upload")
    report = bulletins.check_file(upload.read(), filename, _indicators())
    if report.errors:
        return page(report=report, status=422)
    bulletin = bulletins.create_bulletin(
        year=form.year.data,
        month_from=month_from,
        month_to=month_to,
        values=report.values,
        title=form.title.data,
        authority=current_app.config["AUTHORITY_NAME"],
        user=me(),
        source_filename=filename,
    )
    db.session.commit()
    return done(
        f"文件检查通过，已保存为草稿通报（{len(report.values)}项指标）。请核对后提交审核。",
        "admin.bulletin",
        bulletin_id=bulletin.id,
    )


@bp.route("/bulletins/<int:bulletin_id>")
@role_required(*STAFF)
def bulletin(bulletin_id: int):
    found = _get(bulletin_id)
    return render_template(
        "admin/bulletin.html",
        title=found.title,
        nav="bulletins",
        bulletin=found,
        comparison=bulletins.compare(found),
        period=bulletins.period_label(found.year, found.month_from, found.month_to),
        fmt=bulletins.format_value,
        **review_parts(found, bulletins.why_not),
        public_link=url_for("bulletins.detail", id=found.id) if found.status == "published" else None,
    )


@bp.route("/bulletins/<int:bulletin_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def bulletin_edit(bulletin_id: int):
    """A draft's figures, or a published bulletin's correction (更正, publishers only)."""
    found = _get(bulletin_id, lock=request.method == "POST")
    correcting = found.status == "published"
    if correcting and me().role not in PUBLISHERS:
        abort(403)
    if found.status == "submitted":
        return refuse("待审核的通报不能修改，请先由审核人退回", "admin.bulletin", bulletin_id=bulletin_id)
    form = BulletinCorrectionForm() if correcting else BulletinForm(obj=None)
    current = {item.name: format(item.value.normalize(), "f") for item in found.values}
    if request.method == "GET":
        form.title.data = found.title
        if not correcting:
            form.year.data = found.year
            form.month_from.data = str(found.month_from)
            form.month_to.data = str(found.month_to)
        return _form_page(current, form, bulletin=found, correcting=correcting)
    typed = _typed_values()
    if not form.validate_on_submit():
        return _form_page(typed, form, bulletin=found, status=400, correcting=correcting)
    report = bulletins.check_form(typed, _indicators())
    if report.errors:
        return _form_page(typed, form, bulletin=found, errors=report.errors, status=422, correcting=correcting)
    try:
        if correcting:
            bulletins.correct(found, report.values, form.title.data, form.note.data, me())
        else:
            period = (form.year.data, int(form.month_from.data), int(form.month_to.data))
            bulletins.edit_draft(found, report.values, form.title.data, me(), period=period)
    except bulletins.BulletinError as problem:
        db.session.rollback()
        found = _get(bulletin_id)
        return _form_page(typed, form, bulletin=found, errors=[str(problem)], status=422, correcting=correcting)
    db.session.commit()
    return done(
        "已更正，公开页面显示新的数字和更正说明。" if correcting else "已保存修改。",
        "admin.bulletin",
        bulletin_id=bulletin_id,
    )


add_review_views(
    "bulletin",
    "/bulletins/<int:bulletin_id>",
    load=_get,
    steps=bulletins,
    refused_as=bulletins.BulletinError,
    published=lambda found, _: f"已发布“{found.title}”，公众现在可以看到。",
    deleted="草稿通报已删除。",
    listing="admin.bulletins_list",
)
