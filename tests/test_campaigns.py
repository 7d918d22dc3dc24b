"""专项行动: defined and tagged by staff (audited), a filter of the case and
listing lists (pages, downloads, API, feeds), and a page of statistics each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from domain import campaigns, statistics
from domain.sample_campaigns import load_sample_campaigns
from extensions import db
from models import AuditEvent, Batch, Campaign, Case
from tests import admin_support
from tests.admin_support import login, logout, make_user, post
from tests.builders import case_row, credit_code, listing_row, load

fast_hashing = admin_support.fast_hashing

WINTER = "2020年根治欠薪冬季攻坚行动"


def _case(serial: int, doc: str, **fields):
    return case_row(
        统一社会信用代码=credit_code(serial), 违法主体名称=f"兰州示例{serial}号有限公司", 文书编号=doc, **fields
    )


@pytest.fixture
def data(app, fast_hashing):
    staff = make_user("planner", "publisher")
    make_user("clerk", "editor")
    tagged = load(
        "cases",
        [
            _case(1, "兰劳监〔2020〕1号", 涉及人数="10", **{"涉及金额（元）": "100000"}),
            _case(2, "兰劳监〔2020〕2号", 涉及人数="20", **{"涉及金额（元）": "200000"}, 区县="七里河区"),
        ],
        title="2020年第三批",
    )
    other = load(
        "cases",
        [_case(3, "兰劳监〔2020〕3号", 涉及人数="5"), _case(4, "兰劳监〔2020〕4号", 涉及人数="7")],
        title="2020年第二批",
    )
    listings = load(
        "listings",
        [listing_row(统一社会信用代码=credit_code(5), 单位名称="兰州示例5号有限公司", 列入日期="2025-06-30")],
        title="2025年第一批",
    )
    winter = campaigns.save(
        None, name=WINTER, starts_on=dt.date(2020, 11, 15), ends_on=dt.date(2021, 2, 10), description=None, user=staff
    )
    campaigns.tag_batch(tagged, winter, staff)
    campaigns.tag_batch(listings, winter, staff)
    # one case of the untagged batch belongs to the campaign on its own …
    alone = db.session.scalar(select(Case).where(Case.document_no == "兰劳监〔2020〕3号"))
    campaigns.tag_case(alone, winter, staff)
    # … and one case of the tagged batch is taken out of it by a tag of its own
    spring = campaigns.save(
        None, name="春季专项检查", starts_on=dt.date(2021, 3, 1), ends_on=None, description="说明", user=staff
    )
    moved = db.session.scalar(select(Case).where(Case.document_no == "兰劳监〔2020〕2号"))
    campaigns.tag_case(moved, spring, staff)
    db.session.commit()
    return {"winter": winter, "spring": spring, "tagged": tagged, "other": other, "listings": listings}


def names(response) -> list[str]:
    return [row["enterprise_name"] for row in response.get_json()["results"]]


def test_a_case_belongs_to_its_own_campaign_else_to_its_batchs(client, data):
    winter, spring = data["winter"].id, data["spring"].id
    assert sorted(names(client.get(f"/api/v1/cases?campaign={winter}"))) == [
        "兰州示例1号有限公司",
        "兰州示例3号有限公司",
    ]
    assert names(client.get(f"/api/v1/cases?campaign={spring}")) == ["兰州示例2号有限公司"]
    assert names(client.get(f"/api/v1/listings?campaign={winter}")) == ["兰州示例5号有限公司"]
    assert names(client.get(f"/api/v1/listings?campaign={spring}")) == []
    page = client.get(f"/cases?campaign={winter}").text
    assert "专项行动：" + WINTER in page  # the filter chip
    assert f'<option value="{winter}" selected>{WINTER}</option>' in page
    with client.get(f"/cases.csv?campaign={winter}") as download:
        text = download.get_data(as_text=True)
    assert "兰州示例1号有限公司" in text and "兰州示例2号有限公司" not in text
    assert WINTER in client.get(f"/cases.atom?campaign={winter}").text
    assert client.get("/cases?campaign=x").status_code == 400


def test_a_campaigns_statistics(client, data):
    stats = statistics.compute(statistics.parse_period({}), campaign_id=data["winter"].id)
    assert stats.figures["cases"] == 2 and stats.figures["case_workers"] == 15
    assert stats.figures["case_batches"] == 2  # the tagged batch and the batch of the case tagged alone
    assert stats.figures["listings"] == 1 and stats.figures["listings_in_force"] == 1
    assert stats.figures["case_amount"] == Decimal("300000.00")
    every = statistics.compute(statistics.parse_period({}))
    by_campaign = {row["name"]: (row["cases"], row["listings"]) for row in every.breakdowns["campaign"]}
    assert by_campaign == {WINTER: (2, 1), "春季专项检查": (1, 0)}
    page = client.get(f"/campaigns/{data['winter'].id}")
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    text = page.text
    assert f"<h1>{WINTER}</h1>" in text and "2020年11月15日至2021年2月10日" in text
    assert "历年累计公布重大劳动保障违法案件2批2起，列入失信联合惩戒对象名单1批1户" in text
    assert f'href="/cases?campaign={data["winter"].id}"' in text
    assert f'href="/statistics.csv?campaign={data["winter"].id}&amp;table=district"' in text
    assert "style=" not in text and "<script>" not in text
    answer = client.get(f"/api/v1/statistics?campaign={data['winter'].id}").get_json()
    assert answer["figures"]["cases"] == 2 and answer["period"]["campaign"]["name"] == WINTER
    assert client.get("/campaigns/999").status_code == 404
    assert client.get("/api/v1/statistics?campaign=999").status_code == 400
    overview = client.get("/statistics").text
    assert f'<a href="/campaigns/{data["winter"].id}">{WINTER}</a>' in overview


def test_campaigns_are_checked_and_audited(app, data):
    staff = data["winter"]
    with pytest.raises(campaigns.CampaignError, match="已有名为"):
        campaigns.save(None, name=WINTER, starts_on=dt.date(2020, 1, 1), ends_on=None, description=None, user=None)
    with pytest.raises(campaigns.CampaignError, match="结束日期不能早于开始日期"):
        campaigns.save(
            None, name="新", starts_on=dt.date(2020, 2, 1), ends_on=dt.date(2020, 1, 1), description=None, user=None
        )
    with pytest.raises(campaigns.CampaignError, match="请填写"):
        campaigns.save(None, name="  ", starts_on=dt.date(2020, 2, 1), ends_on=None, description=None, user=None)
    db.session.rollback()
    actions = [event.action for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert actions.count("campaign.create") == 2
    assert actions.count("batch.campaign") == 2 and actions.count("case.campaign") == 2
    assert staff.period_label == "2020年11月15日至2021年2月10日"


def test_staff_define_and_tag_through_the_web(client, data):
    login(client, "clerk")
    assert client.get("/admin/campaigns").status_code == 200
    assert post(client, "/admin/campaigns/new", {"name": "x", "starts_on": "2021-01-01"}).status_code == 403
    logout(client)
    login(client, "planner")
    response = post(client, "/admin/campaigns/new", {"name": "夏季专项", "starts_on": "2021-06-01", "ends_on": ""})
    assert response.status_code == 303
    summer = db.session.scalar(select(Campaign).where(Campaign.name == "夏季专项"))
    refused = post(client, "/admin/campaigns/new", {"name": "夏季专项", "starts_on": "2021-06-01"})
    assert refused.status_code == 422 and "已有名为" in refused.text
    assert (
        "结束日期不能早于开始日期"
        in post(
            client,
            f"/admin/campaigns/{summer.id}/edit",
            {"name": "夏季专项", "starts_on": "2021-06-01", "ends_on": "2021-01-01"},
        ).text
    )
    batch_page = client.get(f"/admin/batches/{data['other'].id}").text
    assert f'action="/admin/batches/{data["other"].id}/campaign"' in batch_page
    assert post(client, f"/admin/batches/{data['other'].id}/campaign", {"campaign": str(summer.id)}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Batch, data["other"].id).campaign_id == summer.id
    # the case tagged with the winter campaign keeps it; its neighbour follows the batch
    assert names(client.get(f"/api/v1/cases?campaign={summer.id}")) == ["兰州示例4号有限公司"]
    case = db.session.scalar(select(Case).where(Case.document_no == "兰劳监〔2020〕3号"))
    assert post(client, f"/admin/cases/{case.id}/campaign", {"campaign": "0"}).status_code == 303
    assert sorted(names(client.get(f"/api/v1/cases?campaign={summer.id}"))) == [
        "兰州示例3号有限公司",
        "兰州示例4号有限公司",
    ]
    assert post(client, f"/admin/cases/{case.id}/campaign", {"campaign": "987"}).status_code == 303  # refused
    db.session.expire_all()
    assert db.session.get(Case, case.id).campaign_id is None
    history = client.get(f"/admin/cases/{case.id}").text
    assert "案件专项行动" in history and "改为随所在批次" in history


def test_sample_campaigns_tag_the_sample_batches(app, data):
    db.session.query(Case).update({"campaign_id": None})
    db.session.query(Batch).update({"campaign_id": None})
    db.session.query(Campaign).delete()
    db.session.commit()
    assert load_sample_campaigns() == 4
    assert load_sample_campaigns() == 0  # once
    winter = db.session.scalar(select(Campaign).where(Campaign.name == WINTER))
    assert db.session.get(Batch, data["tagged"].id).campaign_id == winter.id  # 2020年第三批
    assert db.session.get(Batch, data["other"].id).campaign_id is None
