"""专项行动 in the staff area: define campaigns (publishers, admins) and tag
batches and cases with them (all staff); every change is audited."""

from __future__ import annotations

from flask import abort, render_template, request

from blueprints.admin import PUBLISHERS, STAFF, bp, role_required
from blueprints.admin.batches import get_batch
from blueprints.admin.forms import CampaignForm, campaign_tag_form
from blueprints.admin.helpers import commit_change, done, history, me, refuse
from domain import audit, campaigns
from extensions import db
from models import Case


def _posted_campaign(none_label: str):
    form = campaign_tag_form(None, none_label, formdata=request.form)
    if not form.validate():
        return None, False
    chosen = form.campaign.data or 0
    return (campaigns.get(chosen) if chosen else None), True


@bp.route("/campaigns")
@role_required(*STAFF)
def campaign_list():
    return render_template(
        "admin/campaigns.html", title="专项行动", nav="campaigns", campaigns=campaigns.all_campaigns()
    )


def _form_page(form: CampaignForm, campaign=None, status: int = 200):
    return render_template(
        "admin/campaign_form.html",
        title="修改专项行动" if campaign else "新建专项行动",
        nav="campaigns",
        form=form,
        campaign=campaign,
        history=history("campaign", campaign.id) if campaign else [],
        label=audit.ACTION_LABELS,
    ), status


def _save(form: CampaignForm, campaign=None):
    if form.validate_on_submit():
        try:
            saved = campaigns.save(
                campaign,
                name=form.name.data,
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                description=form.description.data,
                user=me(),
            )
        except campaigns.CampaignError as problem:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(problem)]
            return _form_page(form, campaign, 422)
        db.session.commit()
        return done(f"已保存专项行动“{saved.name}”。", "admin.campaign_list")
    return _form_page(form, campaign, 422 if request.method == "POST" else 200)


@bp.route("/campaigns/new", methods=["GET", "POST"])
@role_required(*PUBLISHERS)
def new_campaign():
    return _save(CampaignForm())


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@role_required(*PUBLISHERS)
def edit_campaign(campaign_id: int):
    campaign = campaigns.get(campaign_id) or abort(404)
    form = CampaignForm(obj=campaign) if request.method == "GET" else CampaignForm()
    return _save(form, campaign)


@bp.route("/batches/<int:batch_id>/campaign", methods=["POST"])
@role_required(*STAFF)
def tag_batch(batch_id: int):
    batch = get_batch(batch_id, lock=True)
    campaign, valid = _posted_campaign("无")
    if not valid:
        return refuse("请选择一项专项行动。", "admin.batch", batch_id=batch_id)
    campaigns.tag_batch(batch, campaign, me())
    commit_change()  # the batch's records carry the campaign in search
    return done("已保存批次所属的专项行动。", "admin.batch", batch_id=batch_id)


@bp.route("/cases/<int:record_id>/campaign", methods=["POST"])
@role_required(*STAFF)
def tag_case(record_id: int):
    case = db.session.get(Case, record_id) or abort(404)
    campaign, valid = _posted_campaign("随所在批次")
    if not valid:
        return refuse("请选择一项专项行动。", "admin.record", kind="cases", record_id=record_id)
    campaigns.tag_case(case, campaign, me())
    commit_change()
    return done("已保存案件所属的专项行动。", "admin.record", kind="cases", record_id=record_id)
