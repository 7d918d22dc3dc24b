"""Single records: adding to and editing a draft, correcting, withdrawing, and the
listing takedown actions (提前移出, 撤销, 恢复)."""

from __future__ import annotations

from flask import abort, current_app, render_template, request, url_for
from sqlalchemy import or_, select

from blueprints.admin import PUBLISHERS, STAFF, bp, role_required
from blueprints.admin.batches import get_batch
from blueprints.admin.forms import (
    LAYOUTS,
    ActionForm,
    ReasonForm,
    ReinstateForm,
    RemoveForm,
    RevokeForm,
    apply_errors,
    campaign_tag_form,
    form_cells,
    record_form_class,
    record_initial,
)
from blueprints.admin.helpers import commit_change, done, history, me, public_url, refuse, settings, usernames
from domain import audit, clock, publishing, visibility
from domain.publishing import PublishingError, record_model
from domain.visibility import (
    gone_reason,
    is_record_public,
    listing_expired_clause,
    listing_expiring_clause,
    listing_is_public_clause,
)
from extensions import db
from models import Case, Listing, RecordRevision
from web.common import choice_arg, page_args, paginate, render

KIND_PATH = "<any(cases, listings):kind>"


def get_record(kind: str, record_id: int, *, lock: bool = False) -> Case | Listing:
    record = db.session.get(record_model(kind), record_id, with_for_update=lock)
    return record or abort(404)


def record_form(kind: str, *, correction: bool, record=None):
    form_class = record_form_class(kind, list(current_app.config["DISTRICTS"]), correction=correction)
    if request.method == "POST":
        return form_class()
    return form_class(data=record_initial(record, kind) if record is not None else None)


def _checked_values(form, kind: str):
    """Validate the form with the import rules; (values, general errors)."""
    form.validate()  # the CSRF token and the correction note
    values, errors = publishing.check_record_fields(kind, form_cells(form, kind), settings())
    general = apply_errors(form, kind, errors)
    if any(getattr(field, "errors", None) for field in form):
        values = None
    return values, general


def _form_page(kind, form, *, record=None, batch=None, mode: str, general=(), status=200):
    return render_template(
        "admin/record_form.html",
        title={"add": "添加记录", "edit": "修改草稿记录", "correct": "更正已发布的记录"}[mode],
        nav="batches",
        form=form,
        layout=LAYOUTS[kind],
        kind=kind,
        record=record,
        batch=batch or record.batch,
        mode=mode,
        general=list(general),
    ), status


@bp.route(f"/{KIND_PATH}/<int:record_id>")
@role_required(*STAFF)
def record(kind: str, record_id: int):
    record = get_record(kind, record_id)
    revisions = list(
        db.session.scalars(
            select(RecordRevision)
            .where(RecordRevision.record_kind == record.kind, RecordRevision.record_id == record.id)
            .order_by(RecordRevision.revision.desc())
        )
    )
    today = clock.today()
    return render_template(
        "admin/record.html",
        title=record.enterprise_name,
        nav="listings" if kind == "listings" else "batches",
        kind=kind,
        record=record,
        revisions=revisions,
        names=usernames(*(r.created_by_id for r in revisions)),
        history=history(record.kind, record.id),
        label=audit.ACTION_LABELS,
        is_public=is_record_public(record, today),
        gone=gone_reason(record, today),
        public_url=public_url(record),
        action_form=ActionForm(),
        withdraw_form=ReasonForm(),
        remove_form=RemoveForm(removed_on=today),
        revoke_form=RevokeForm(revoked_on=today),
        reinstate_form=ReinstateForm(reinstated_on=today),
        campaign_form=campaign_tag_form(record.campaign_id, "随所在批次") if kind == "cases" else None,
        may_publish=me().role in PUBLISHERS,
    )


@bp.route("/batches/<int:batch_id>/records/new", methods=["GET", "POST"])
@role_required(*STAFF)
def add_record(batch_id: int):
    batch = get_batch(batch_id)
    if batch.status != "draft":
        return refuse("只有草稿批次可以添加记录", "admin.batch", batch_id=batch_id)
    form = record_form(batch.kind, correction=False)
    if request.method == "POST":
        values, general = _checked_values(form, batch.kind)
        if values is not None:
            try:
                record = publishing.add_record(batch, values, me())
            except PublishingError as problem:
                db.session.rollback()
                general.append(str(problem))
            else:
                commit_change()
                return done("已添加记录。", "admin.record", kind=batch.kind, record_id=record.id)
        return _form_page(batch.kind, form, batch=batch, mode="add", general=general, status=422)
    return _form_page(batch.kind, form, batch=batch, mode="add")


@bp.route(f"/{KIND_PATH}/<int:record_id>/edit", methods=["GET", "POST"])
@role_required(*STAFF)
def edit_record(kind: str, record_id: int):
    record = get_record(kind, record_id)
    if record.batch.status != "draft":
        return refuse(
            "只能修改草稿批次中的记录；已发布的记录请用“更正”", "admin.record", kind=kind, record_id=record_id
        )
    form = record_form(kind, correction=False, record=record)
    if request.method == "POST":
        values, general = _checked_values(form, kind)
        if values is not None:
            try:
                publishing.edit_draft_record(record, values, me())
            except PublishingError as problem:
                db.session.rollback()
                general.append(str(problem))
            else:
                commit_change()
                return done("已保存修改。", "admin.record", kind=kind, record_id=record_id)
        return _form_page(kind, form, record=record, mode="edit", general=general, status=422)
    return _form_page(kind, form, record=record, mode="edit")


@bp.route(f"/{KIND_PATH}/<int:record_id>/correct", methods=["GET", "POST"])
@role_required(*PUBLISHERS)
def correct_record(kind: str, record_id: int):
    record = get_record(kind, record_id)
    if record.status in ("draft", "withdrawn"):
        return refuse("只有已发布的记录可以更正", "admin.record", kind=kind, record_id=record_id)
    form = record_form(kind, correction=True, record=record)
    if request.method == "POST":
        values, general = _checked_values(form, kind)
        if values is not None:
            try:
                publishing.correct_record(record, values, form.correction_note.data or "", me())
            except PublishingError as problem:
                db.session.rollback()
                general.append(str(problem))
            else:
                commit_change()
                return done("已更正，公开页面显示新内容和更正说明。", "admin.record", kind=kind, record_id=record_id)
        return _form_page(kind, form, record=record, mode="correct", general=general, status=422)
    return _form_page(kind, form, record=record, mode="correct")


@bp.route(f"/{KIND_PATH}/<int:record_id>/delete", methods=["POST"])
@role_required(*STAFF)
def delete_record(kind: str, record_id: int):
    record = get_record(kind, record_id, lock=True)
    batch_id = record.batch_id
    try:
        publishing.delete_draft_record(record, me())
    except PublishingError as problem:
        return refuse(str(problem), "admin.record", kind=kind, record_id=record_id)
    commit_change()
    return done("已从草稿中删除该记录。", "admin.batch", batch_id=batch_id)


@bp.route(f"/{KIND_PATH}/<int:record_id>/withdraw", methods=["POST"])
@role_required(*PUBLISHERS)
def withdraw_record(kind: str, record_id: int):
    record = get_record(kind, record_id, lock=True)
    form = ReasonForm()
    form.validate()
    try:
        publishing.withdraw_record(record, form.reason.data or "", me())
    except PublishingError as problem:
        return refuse(str(problem), "admin.record", kind=kind, record_id=record_id)
    commit_change()
    return done("已撤回，该记录的公开链接将显示撤回说明。", "admin.record", kind=kind, record_id=record_id)


def _listing_action(record_id: int, form, action) -> object:
    listing = get_record("listings", record_id, lock=True)
    form.validate()
    try:
        action(listing, form)
    except PublishingError as problem:
        return refuse(str(problem), "admin.record", kind="listings", record_id=record_id)
    commit_change()
    return None


@bp.route("/listings/<int:record_id>/remove", methods=["POST"])
@role_required(*PUBLISHERS)
def remove_listing(record_id: int):
    form = RemoveForm()
    refused = _listing_action(
        record_id,
        form,
        lambda listing, f: publishing.remove_listing(
            listing, f.removed_on.data, f.reason.data or "", f.document_no.data or "", me()
        ),
    )
    return refused or done(
        "已提前移出，该单位已从所有公开页面、搜索和下载中移除。", "admin.record", kind="listings", record_id=record_id
    )


@bp.route("/listings/<int:record_id>/revoke", methods=["POST"])
@role_required(*PUBLISHERS)
def revoke_listing(record_id: int):
    form = RevokeForm()
    refused = _listing_action(
        record_id,
        form,
        lambda listing, f: publishing.revoke_listing(listing, f.revoked_on.data, f.reason.data or "", me()),
    )
    return refused or done("已撤销列入决定，该单位已停止公开。", "admin.record", kind="listings", record_id=record_id)


@bp.route("/listings/<int:record_id>/reinstate", methods=["POST"])
@role_required(*PUBLISHERS)
def reinstate_listing(record_id: int):
    form = ReinstateForm()
    refused = _listing_action(
        record_id,
        form,
        lambda listing, f: publishing.reinstate_listing(listing, f.reinstated_on.data, f.basis.data or "", me()),
    )
    return refused or done(
        "已恢复列入，列入期限自恢复之日起重新计算。", "admin.record", kind="listings", record_id=record_id
    )


# --- finding published records ------------------------------------------------------

LISTING_FILTERS = {
    "active": "公示中",
    "expiring": "即将届满",
    "expired": "已届满",
    "removed": "已提前移出",
    "revoked": "已撤销",
    "withdrawn": "已撤回",
}
CASE_FILTERS = {"published": "已公开", "withdrawn": "已撤回"}


def _record_list(kind: str):
    model = record_model(kind)
    filters = (
        {**LISTING_FILTERS, "expiring": f"{visibility.EXPIRY_WARNING_DAYS}天内届满"}
        if kind == "listings"
        else CASE_FILTERS
    )
    state = choice_arg("state", list(filters), label="状态")
    q = request.args.get("q", "").strip()[:100]
    today = clock.today()
    statement = select(model).where(model.status != "draft")
    if kind == "listings":
        if state == "active":
            statement = statement.where(listing_is_public_clause(today))
        elif state == "expiring":
            statement = statement.where(listing_expiring_clause(today))
        elif state == "expired":
            statement = statement.where(listing_expired_clause(today))
        elif state:
            statement = statement.where(Listing.status == state)
    elif state:
        statement = statement.where(Case.status == state)
    if q:
        like = f"%{q}%"
        statement = statement.where(
            or_(model.enterprise_name.like(like), model.credit_code.like(like), model.document_no.like(like))
        )
    order = (Listing.expires_on, Listing.id) if kind == "listings" else (Case.decided_on.desc(), Case.id.desc())
    page, per_page = page_args()
    result = paginate(statement.order_by(*order), page, per_page)
    return render(
        "admin/records.html",
        "admin/_records_table.html",
        title="失信名单管理" if kind == "listings" else "已发布案件",
        nav="listings",
        kind=kind,
        result=result,
        state=state,
        filters=filters,
        q=q,
        today=today,
        gone={record.id: gone_reason(record, today) for record in result.items},
    )


@bp.route("/listings")
@role_required(*PUBLISHERS)
def listings():
    return _record_list("listings")


@bp.route("/cases")
@role_required(*PUBLISHERS)
def cases():
    return _record_list("cases")


@bp.route(f"/{KIND_PATH}/<int:record_id>/preview")
@role_required(*STAFF)
def preview_record(kind: str, record_id: int):
    """The record exactly as the public page shows it, drafts included."""
    from models.listing import REGIME_2017, REGIME_2022

    record = get_record(kind, record_id)
    back = url_for("admin.record", kind=kind, record_id=record.id)
    if kind == "cases":
        return render_template(
            "admin/preview_case.html",
            title=record.enterprise_name,
            case=record,
            other_cases=[],
            listings=[],
            preview_back=back,
        )
    return render_template(
        "admin/preview_listing.html",
        title=record.enterprise_name,
        listing=record,
        cases=[],
        other_listings=[],
        regime_2017=REGIME_2017,
        regime_2022=REGIME_2022,
        preview_back=back,
    )
