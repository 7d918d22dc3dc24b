"""Staff home, batches: upload, draft, review, publish, withdraw."""

from __future__ import annotations

import os

from flask import abort, current_app, render_template, request, url_for
from sqlalchemy import select

from blueprints.admin import PUBLISHERS, STAFF, bp, role_required
from blueprints.admin.forms import ReasonForm, SendBackForm, UploadForm, campaign_tag_form
from blueprints.admin.helpers import (
    batch_history,
    commit_change,
    done,
    me,
    public_url,
    refuse,
    review_parts,
    settings,
    usernames,
)
from domain import bulletins, clock, gradings, importing, publishing, visibility
from domain.publishing import PublishingError, record_model
from domain.visibility import listing_expiring_clause
from extensions import db
from models import Batch, Bulletin, GradingRun, Listing
from models.batch import BATCH_STATUS_LABELS
from web.common import XLSX_TYPE, attachment, choice_arg, int_arg, page_args, paginate, render

KINDS = ("cases", "listings")


def get_batch(batch_id: int, *, lock: bool = False) -> Batch:
    """The batch, locked for the rest of the transaction when about to change it, so
    two people acting at once (say, two publishers) act one after the other."""
    return db.session.get(Batch, batch_id, with_for_update=lock) or abort(404)


@bp.route("/")
def home():
    today = clock.today()
    awaiting = list(db.session.scalars(select(Batch).where(Batch.status == "submitted").order_by(Batch.submitted_at)))
    drafts = list(db.session.scalars(select(Batch).where(Batch.status == "draft").order_by(Batch.created_at.desc())))
    expiring = list(
        db.session.scalars(
            select(Listing).where(listing_expiring_clause(today)).order_by(Listing.expires_on, Listing.id).limit(100)
        )
    )
    recent = list(
        db.session.scalars(
            select(Batch).where(Batch.status == "published").order_by(Batch.published_at.desc()).limit(10)
        )
    )
    return render_template(
        "admin/home.html",
        title="工作台",
        expiry_days=visibility.EXPIRY_WARNING_DAYS,
        nav="home",
        awaiting=awaiting,
        drafts=drafts,
        expiring=expiring,
        recent=recent,
        today=today,
        public_url=public_url,
        counts=publishing.record_counts([*awaiting, *drafts, *recent]),
    )


@bp.route("/batches")
@role_required(*STAFF)
def batches():
    status = choice_arg("status", list(BATCH_STATUS_LABELS), label="状态")
    kind = choice_arg("kind", ["cases", "listings"], label="类别")
    statement = select(Batch)
    if status:
        statement = statement.where(Batch.status == status)
    if kind:
        statement = statement.where(Batch.kind == kind)
    page, per_page = page_args()
    result = paginate(statement.order_by(Batch.created_at.desc(), Batch.id.desc()), page, per_page)
    return render(
        "admin/batches.html",
        "admin/_batch_rows.html",
        title="批次",
        nav="batches",
        result=result,
        status=status,
        kind=kind,
        statuses=BATCH_STATUS_LABELS,
        counts=publishing.record_counts(result.items),
        public_url=public_url,
    )


@bp.route("/review")
@role_required(*PUBLISHERS)
def review():
    waiting = list(db.session.scalars(select(Batch).where(Batch.status == "submitted").order_by(Batch.submitted_at)))
    waiting_gradings = list(
        db.session.scalars(select(GradingRun).where(GradingRun.status == "submitted").order_by(GradingRun.submitted_at))
    )
    waiting_bulletins = list(
        db.session.scalars(select(Bulletin).where(Bulletin.status == "submitted").order_by(Bulletin.submitted_at))
    )
    names = usernames(
        *(b.created_by_id for b in [*waiting, *waiting_bulletins, *waiting_gradings]),
        *(b.submitted_by_id for b in waiting),
    )
    changes = {b.id: publishing.batch_changes(b) for b in waiting}
    return render_template(
        "admin/review.html",
        title="审核",
        nav="review",
        waiting=waiting,
        names=names,
        changes=changes,
        counts=publishing.record_counts(waiting),
        blocked={b.id: publishing.why_not_publish(b, me(), four_eyes=current_app.config["FOUR_EYES"]) for b in waiting},
        waiting_bulletins=waiting_bulletins,
        waiting_gradings=waiting_gradings,
        grading_blocked={
            g.id: gradings.why_not(g, me(), four_eyes=current_app.config["FOUR_EYES"]) for g in waiting_gradings
        },
        bulletin_blocked={
            b.id: bulletins.why_not(b, me(), four_eyes=current_app.config["FOUR_EYES"]) for b in waiting_bulletins
        },
    )


def upload_page(*, form: UploadForm, report=None, status: int = 200, message: str | None = None, holder=None):
    """The upload page, or (to htmx, when kind, year or number change) only its
    numbering part: the number, the title as it will be published, and the batch
    that already holds that number, if one does."""
    kind = form.kind.data if form.kind.data in KINDS else KINDS[0]
    year, number = form.year.data, form.number.data
    in_range = isinstance(year, int) and importing.FIRST_YEAR <= year <= importing.last_year()
    numbered = in_range and isinstance(number, int) and 1 <= number <= importing.MAX_NUMBER
    if numbered and holder is None and not form.number.errors:
        holder = publishing.batch_numbered(kind, year, number)
    return render(
        "admin/upload.html",
        "admin/_upload_numbering.html",
        status,
        title="上传批次",
        nav="batches",
        form=form,
        report=report,
        message=message,
        holder=holder,
        published_title=importing.batch_title(kind, year, number) if numbered else None,
        next_numbers={k: importing.suggested_number(k, year) for k in KINDS} if in_range else {},
        year_shown=year if in_range else None,
        year_range=(importing.FIRST_YEAR, importing.last_year()),
        limit_mb=(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024),
        max_rows=settings().limits.max_rows,
    )


def numbering_form() -> UploadForm:
    """The upload form filled from the query string (``kind``, ``year``, ``number``,
    each optional): the year defaults to this year and the number to the next free
    one of that kind and year, so a link or a change of kind or year suggests it."""
    kind = choice_arg("kind", KINDS, label="类别") or KINDS[0]
    year = int_arg("year", minimum=importing.FIRST_YEAR, maximum=importing.last_year(), label="年份")
    year = year or clock.today().year
    number = int_arg("number", minimum=1, maximum=importing.MAX_NUMBER, label="批次号")
    return UploadForm(
        formdata=None, data={"kind": kind, "year": year, "number": number or importing.suggested_number(kind, year)}
    )


@bp.route("/batches/upload", methods=["GET", "POST"], endpoint="upload")
@role_required(*STAFF)
def upload():
    if request.method == "GET":
        return upload_page(form=numbering_form())
    form = UploadForm()
    if not form.validate_on_submit():
        return upload_page(form=form, status=400)
    upload = form.file.data
    filename = os.path.basename(upload.filename or "upload")
    data = upload.read()
    kind = form.kind.data
    result = importing.import_file(
        data,
        filename,
        kind=kind,
        year=form.year.data,
        number=form.number.data,
        settings=settings(),
        actor=importing.Actor(user=me()),
    )
    if result.problem:
        if result.problem_field == "number":
            form.number.errors = [result.problem]
            return upload_page(form=form, status=409 if result.problem_batch else 422, holder=result.problem_batch)
        return upload_page(form=form, status=422, message=result.problem)
    if not result.ok:
        # Nothing is stored: the report says what to fix, row by row.
        return upload_page(
            form=form, report=result.report, status=422, message=wrong_kind_hint(data, filename, kind, result.report)
        )
    count = len(result.report.records)
    notices = len(result.report.notices)
    flagged = f"其中{notices}条记录的单位已在失信名单中，已在批次页面标出，请核实。" if notices else ""
    return done(
        f"文件检查通过，已保存为草稿批次（{count}条）。{flagged}请预览核对后提交审核。",
        "admin.batch",
        batch_id=result.batch.id,
    )


@bp.route("/batches/templates/<any(cases, listings):kind>.<any(csv, xlsx):fmt>")
@role_required(*STAFF)
def import_template(kind: str, fmt: str):
    """The empty template of a kind, offered on the upload page."""
    data, name = importing.template_file(kind, fmt)
    content_type = XLSX_TYPE if fmt == "xlsx" else "text/csv; charset=utf-8"
    return attachment(data, content_type, name, ascii_filename=f"gongshi-{kind}-template.{fmt}")


def wrong_kind_hint(data: bytes, filename: str, kind: str, report) -> str | None:
    """When only the header is wrong and it is the other kind's template, say so."""
    if not all(error.row == 1 for error in report.errors):
        return None
    other = "listings" if kind == "cases" else "cases"
    if any(error.row <= 1 for error in importing.check_file(data, filename, other, settings()).errors):
        return None
    label = "失信联合惩戒对象名单" if other == "listings" else "重大劳动保障违法案件"
    return f"这个文件的表头是“{label}”的模板，请在“类别”中选择“{label}”后重新上传。"


def batch_records_page(batch):
    """One page of a batch's records in file order, for the batch and preview pages."""
    model = record_model(batch.kind)
    page, per_page = page_args()
    return paginate(select(model).where(model.batch_id == batch.id).order_by(model.id), page, per_page)


@bp.route("/batches/<int:batch_id>")
@role_required(*STAFF)
def batch(batch_id: int):
    batch = get_batch(batch_id)
    result = batch_records_page(batch)
    return render(
        "admin/batch.html",
        "admin/_record_rows.html",
        title=batch.title,
        nav="batches",
        batch=batch,
        result=result,
        **review_parts(batch, publishing.why_not_publish, events=batch_history(batch.id)),
        changes=publishing.batch_changes(batch),
        withdraw_form=ReasonForm(),
        campaign_form=campaign_tag_form(batch.campaign_id, "无"),
        public_url=public_url,
        clashes=publishing.publish_clashes(batch) if batch.status in ("draft", "submitted") else [],
        notices=publishing.listing_notices(batch) if batch.status in ("draft", "submitted") else [],
    )


@bp.route("/batches/<int:batch_id>/preview")
@role_required(*STAFF)
def preview(batch_id: int):
    """The real public batch page, rendered from the batch as it stands (a draft
    included), with a banner; its records link to their own previews."""
    batch = get_batch(batch_id)
    return render_template(
        "admin/preview_batch.html",
        title=f"预览：{batch.title}",
        batch=batch,
        results=batch_records_page(batch),
        csv_url=None,
        json_url=None,
        xlsx_url=None,
        record_url=lambda record: url_for("admin.preview_record", kind=batch.kind, record_id=record.id),
        preview_back=url_for("admin.batch", batch_id=batch.id),
    )


@bp.route("/batches/<int:batch_id>/submit", methods=["POST"])
@role_required(*STAFF)
def submit(batch_id: int):
    batch = get_batch(batch_id, lock=True)
    try:
        publishing.submit_batch(batch, me())
    except PublishingError as problem:
        return refuse(str(problem), "admin.batch", batch_id=batch_id)
    commit_change()
    return done("已提交审核，等待另一位审核人发布。", "admin.batch", batch_id=batch_id)


@bp.route("/batches/<int:batch_id>/send-back", methods=["POST"])
@role_required(*PUBLISHERS)
def send_back(batch_id: int):
    batch = get_batch(batch_id, lock=True)
    form = SendBackForm()
    form.validate()
    try:
        publishing.send_back(batch, form.comment.data or "", me())
    except PublishingError as problem:
        return refuse(str(problem), "admin.batch", batch_id=batch_id)
    commit_change()
    return done("已退回修改。", "admin.review")


@bp.route("/batches/<int:batch_id>/publish", methods=["POST"])
@role_required(*PUBLISHERS)
def publish(batch_id: int):
    batch = get_batch(batch_id, lock=True)
    try:
        publishing.review_and_publish(batch, me(), four_eyes=current_app.config["FOUR_EYES"])
    except PublishingError as problem:
        return refuse(str(problem), "admin.batch", batch_id=batch_id)
    commit_change()
    return done(f"已发布“{batch.title}”，公众现在可以看到。", "admin.batch", batch_id=batch_id)


@bp.route("/batches/<int:batch_id>/withdraw", methods=["POST"])
@role_required(*PUBLISHERS)
def withdraw_batch(batch_id: int):
    batch = get_batch(batch_id, lock=True)
    form = ReasonForm()
    form.validate()
    try:
        publishing.withdraw_batch(batch, form.reason.data or "", me())
    except PublishingError as problem:
        return refuse(str(problem), "admin.batch", batch_id=batch_id)
    commit_change()
    return done("批次已撤回，其中的记录已停止公开。", "admin.batch", batch_id=batch_id)


@bp.route("/batches/<int:batch_id>/delete", methods=["POST"])
@role_required(*STAFF)
def delete_batch(batch_id: int):
    batch = get_batch(batch_id, lock=True)
    try:
        publishing.delete_draft_batch(batch, me())
    except PublishingError as problem:
        return refuse(str(problem), "admin.batch", batch_id=batch_id)
    commit_change()
    return done("草稿批次已删除。", "admin.batches")
