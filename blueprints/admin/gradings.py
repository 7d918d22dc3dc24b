"""Staff: the yearly 守法诚信等级评价 results — imported from a sheet, reviewed with
four eyes and published; a new publication for a year replaces the old one."""

from __future__ import annotations

import os

from flask import abort, current_app, render_template, request
from sqlalchemy import func, select

from blueprints.admin import STAFF, bp, role_required
from blueprints.admin.forms import GradingUploadForm
from blueprints.admin.helpers import add_review_views, done, me, review_parts
from domain import gradings
from extensions import db
from models import GradingResult, GradingRun
from web.common import paginate


def _get(run_id: int, *, lock: bool = False) -> GradingRun:
    return db.session.get(GradingRun, run_id, with_for_update=lock) or abort(404)


@bp.route("/gradings")
@role_required(*STAFF)
def gradings_list():
    result = paginate(select(GradingRun).order_by(GradingRun.year.desc(), GradingRun.id.desc()))
    ids = [run.id for run in result.items]
    counts = dict(
        db.session.execute(
            select(GradingResult.run_id, func.count())
            .where(GradingResult.run_id.in_(ids))
            .group_by(GradingResult.run_id)
        ).all()
    )
    return render_template(
        "admin/gradings.html",
        title="等级评价",
        nav="gradings",
        result=result,
        counts=counts,
        setting_label=gradings.SETTING_LABELS[gradings.setting(current_app.config)],
    )


@bp.route("/gradings/upload", methods=["GET", "POST"])
@role_required(*STAFF)
def grading_upload():
    form = GradingUploadForm()

    def page(report=None, status=200):
        return render_template(
            "admin/grading_upload.html", title="导入等级评价结果", nav="gradings", form=form, report=report
        ), status

    if request.method == "GET":
        return page()
    if not form.validate_on_submit():
        return page(status=400)
    try:
        gradings.check_year(form.year.data)
    except gradings.GradingError as problem:
        form.year.errors = [str(problem)]
        return page(status=422)
    upload = form.file.data
    filename = os.path.basename(upload.filename or "upload")
    report = gradings.check_file(upload.read(), filename, form.year.data)
    if report.errors:
        return page(report=report, status=422)
    run = gradings.create_run(
        year=form.year.data,
        rows=report.rows,
        title=form.title.data,
        authority=current_app.config["AUTHORITY_NAME"],
        district_codes=current_app.config["DISTRICT_CODES"],
        user=me(),
        source_filename=filename,
    )
    db.session.commit()
    return done(
        f"文件检查通过，已保存为草稿（{len(report.rows)}户）。请核对后提交审核。", "admin.grading", run_id=run.id
    )


@bp.route("/gradings/<int:run_id>")
@role_required(*STAFF)
def grading(run_id: int):
    run = _get(run_id)
    result = paginate(select(GradingResult).where(GradingResult.run_id == run.id).order_by(GradingResult.id))
    return render_template(
        "admin/grading.html",
        title=run.title,
        nav="gradings",
        run=run,
        counts=gradings.counts(run),
        districts=gradings.district_counts(run, current_app.config["DISTRICTS"]),
        result=result,
        **review_parts(run, gradings.why_not),
    )


add_review_views(
    "grading",
    "/gradings/<int:run_id>",
    load=_get,
    steps=gradings,
    refused_as=gradings.GradingError,
    published=lambda run, replaced: (
        f"已发布“{run.title}”。" + (f"此前发布的“{replaced.title}”已被替换。" if replaced else "")
    ),
    deleted="草稿已删除。",
    listing="admin.gradings_list",
)
