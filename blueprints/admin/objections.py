"""The staff inbox of objections (/admin/objections): the requests, each with the
record it is about, the requester's private contact, a status and a reply that
the requester sees when looking the request up."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from blueprints.admin import bp, role_required
from blueprints.admin.helpers import done, history, me, refuse
from domain import audit, objections
from extensions import db
from models import Objection
from models.objection import OBJECTION_STATUS_LABELS, OBJECTION_STATUSES
from web.common import choice_arg, paginate

HANDLERS = ("publisher", "admin")


class ObjectionUpdateForm(FlaskForm):
    status = SelectField(
        "处理状态", choices=[SelectChoice(value, label) for value, label in OBJECTION_STATUS_LABELS.items()]
    )
    reply = TextAreaField(
        "答复", validators=[Length(max=objections.MAX_REPLY)], description="申请人凭受理编号和联系方式查询时可以看到"
    )


@bp.route("/objections")
@role_required(*HANDLERS)
def objection_list():
    status = choice_arg("status", OBJECTION_STATUSES, label="状态")
    statement = select(Objection).order_by(Objection.created_at.desc(), Objection.id.desc())
    if status:
        statement = statement.where(Objection.status == status)
    return render_template(
        "admin/objections.html",
        title="异议申请",
        nav="objections",
        results=paginate(statement),
        status=status,
        counts=objections.counts(),
        labels=OBJECTION_STATUS_LABELS,
    )


@bp.route("/objections/<int:objection_id>", methods=["GET", "POST"])
@role_required(*HANDLERS)
def objection(objection_id: int):
    found = db.session.get(Objection, objection_id) or abort(404)
    form = ObjectionUpdateForm(obj=found) if request.method == "GET" else ObjectionUpdateForm()
    if form.validate_on_submit():
        try:
            objections.update(found, status=form.status.data, reply=form.reply.data, user=me())
        except objections.ObjectionError as problem:
            return refuse(str(problem), "admin.objection", objection_id=found.id)
        db.session.commit()
        return done("已保存。", "admin.objection", objection_id=found.id)
    record = objections.the_record(found)
    return render_template(
        "admin/objection.html",
        title=f"异议申请 {found.reference}",
        nav="objections",
        objection=found,
        record=record,
        record_label=objections.record_label(record) if record is not None else None,
        form=form,
        history=history("objection", found.id),
        label=audit.ACTION_LABELS,
    ), (422 if request.method == "POST" else 200)
