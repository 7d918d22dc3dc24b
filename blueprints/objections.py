"""异议与信用修复 for the public: the page that explains them with the bureau's
contacts, the "对公示信息有异议" form of each public record, and the look-up of
a request by its reference number and contact. Staff answer in /admin/objections."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from domain import clock, objections, queries
from domain.objections import MAX_CONTACT, MAX_NAME, MAX_REASON
from domain.visibility import is_record_public
from extensions import db
from models import Case, Listing

bp = Blueprint("objections", __name__)

KINDS = {"cases": Case, "listings": Listing}


class ObjectionForm(FlaskForm):
    name = StringField("姓名或单位名称", validators=[Length(max=MAX_NAME)])
    contact = StringField(
        "联系方式（电话或电子邮箱）", validators=[Length(max=MAX_CONTACT)], description="仅用于答复您，不会公开"
    )
    reason = TextAreaField(
        "异议内容和理由",
        validators=[Length(max=MAX_REASON)],
        description="请写明您认为哪项公示信息有误、正确的情况是什么，以及可以证明的材料名称",
    )
    # A field people never see (hidden by the stylesheet, skipped by keyboard and
    # screen readers): only a form-filling robot puts anything in it.
    website = StringField("网址（请留空）")


class LookupForm(FlaskForm):
    reference = StringField("受理编号", validators=[Length(max=40)])
    contact = StringField("提交时填写的联系方式", validators=[Length(max=MAX_CONTACT)])


@dataclass
class Contact:
    label: str
    value: str


def _contacts(prefix: str, fallback: list[Contact] | None = None) -> list[Contact]:
    config = current_app.config
    rows = [
        ("受理单位", config.get(f"{prefix}_UNIT") or config["AUTHORITY_NAME"]),
        ("电话", config.get(f"{prefix}_PHONE")),
        ("地址", config.get(f"{prefix}_ADDRESS")),
        ("电子邮箱", config.get(f"{prefix}_EMAIL")),
        ("办公时间", config.get(f"{prefix}_HOURS")),
    ]
    found = [Contact(label, str(value)) for label, value in rows if value]
    if fallback:
        labels = {contact.label for contact in found}
        found += [contact for contact in fallback if contact.label not in labels]
    return found


@bp.app_context_processor
def bureau_contacts() -> dict:
    """Where objections and credit-repair requests go (settings), for any page."""

    def contacts() -> dict[str, list[Contact]]:
        objection = _contacts("OBJECTION")
        return {"objection": objection, "repair": _contacts("CREDIT_REPAIR", objection)}

    return {"bureau_contacts": contacts}


def _public_record(kind: str, record_id: int) -> Case | Listing:
    model = KINDS.get(kind)
    if model is None:
        abort(404)
    record = queries.find(model, record_id)
    if record is None or not is_record_public(record):
        abort(404)
    return record


@bp.errorhandler(CSRFError)
def expired_form(error: CSRFError):
    return render_template(
        "errors/error.html", code=400, heading="页面已过期", message="页面已过期或缺少安全令牌，没有提交。请返回上一页，刷新后重新填写。"
    ), 400  # fmt: skip


@bp.get("/objections")
def guide():
    return render_template("objections/guide.html", title="异议与信用修复")


@bp.route("/objections/new/<kind>/<int:record_id>", methods=["GET", "POST"])
def new(kind: str, record_id: int):
    record = _public_record(kind, record_id)
    form = ObjectionForm()
    error = None
    status = 200
    if form.validate_on_submit():
        if form.website.data:
            return render_template(
                "objections/form.html", title="对公示信息有异议", form=form, record=record, kind=kind,
                error="提交未被接受。如您是人工填写，请刷新页面后重试，或拨打电话联系我们。",
            ), 400  # fmt: skip
        config = current_app.config
        try:
            objection = objections.file_objection(
                record,
                name=form.name.data,
                contact=form.contact.data,
                reason=form.reason.data,
                source=objections.source_key(request.remote_addr, config["SECRET_KEY"]),
                limits=objections.Limits.from_config(config),
                today=clock.today(),
            )
        except objections.RateLimited as problem:
            db.session.rollback()
            error, status = str(problem), 429
        except objections.ObjectionError as problem:
            db.session.rollback()
            error, status = str(problem), 422
        else:
            db.session.commit()
            # Shown once, on the next page; the session is signed, so it cannot be forged.
            session["objection_filed"] = objection.reference
            return redirect(url_for("objections.filed"), 303)
    elif request.method == "POST":
        error, status = "页面已过期或填写有误，请检查后重新提交。", 400
    return render_template(
        "objections/form.html", title="对公示信息有异议", form=form, record=record, kind=kind, error=error
    ), status


@bp.get("/objections/filed")
def filed():
    reference = session.pop("objection_filed", None)
    if reference is None:
        return redirect(url_for("objections.lookup"), 303)
    response = current_app.make_response(
        render_template("objections/filed.html", title="异议申请已提交", reference=reference)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/objections/lookup", methods=["GET", "POST"])
def lookup():
    """Status and reply of one request: needs its reference and the contact given
    with it (sent by POST, so neither ends up in a URL or a log)."""
    form = LookupForm()
    found = None
    error = None
    status = 200
    if form.validate_on_submit():
        found = objections.look_up(form.reference.data, form.contact.data)
        if found is None:
            error, status = "没有找到：请核对受理编号和提交时填写的联系方式。", 404
    elif request.method == "POST":
        error, status = "页面已过期或填写有误，请重新查询。", 400
    record = objections.the_record(found) if found is not None else None
    response = current_app.make_response(
        (
            render_template(
                "objections/lookup.html",
                title="查询异议申请",
                form=form,
                objection=found,
                record=record,
                record_public=record is not None and is_record_public(record),
                error=error,
            ),
            status,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response
