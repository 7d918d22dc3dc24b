"""专项行动 in search: a facet with the campaigns' names and counts, the
``campaign`` filter on /search, its twins and /api/v1/search, and re-tagging
reaching the index through the search change log."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from domain import campaigns
from domain.publishing import update_search_index
from extensions import db
from models import Batch, Case, SearchChange
from search_index import Filters, search
from search_index.indexer import pending
from tests import admin_support
from tests.admin_support import login, make_user, post
from tests.builders import case_row, credit_code, listing_row, load

fast_hashing = admin_support.fast_hashing

WINTER = "2020年根治欠薪冬季攻坚行动"
SPRING = "春季专项检查"


def _case(serial: int, doc: str, **fields):
    return case_row(
        统一社会信用代码=credit_code(serial), 违法主体名称=f"兰州示例{serial}号有限公司", 文书编号=doc, **fields
    )


def _case_by_doc(doc: str) -> Case:
    return db.session.scalar(select(Case).where(Case.document_no == doc))


@pytest.fixture
def data(app, fast_hashing):
    staff = make_user("planner", "publisher")
    tagged = load(
        "cases", [_case(1, "兰劳监〔2020〕1号"), _case(2, "兰劳监〔2020〕2号", 区县="七里河区")], title="2020年第三批"
    )
    other = load("cases", [_case(3, "兰劳监〔2020〕3号"), _case(4, "兰劳监〔2020〕4号")], title="2020年第二批")
    listings = load(
        "listings",
        [listing_row(统一社会信用代码=credit_code(5), 单位名称="兰州示例5号有限公司", 列入日期="2025-06-30")],
        title="2025年第一批",
    )
    winter = campaigns.save(
        None, name=WINTER, starts_on=dt.date(2020, 11, 15), ends_on=dt.date(2021, 2, 10), description=None, user=staff
    )
    spring = campaigns.save(
        None, name=SPRING, starts_on=dt.date(2021, 3, 1), ends_on=None, description=None, user=staff
    )
    campaigns.tag_batch(tagged, winter, staff)
    campaigns.tag_batch(listings, winter, staff)
    campaigns.tag_case(_case_by_doc("兰劳监〔2020〕3号"), winter, staff)  # its own tag, in an untagged batch
    campaigns.tag_case(_case_by_doc("兰劳监〔2020〕2号"), spring, staff)  # its own tag wins over its batch's
    db.session.commit()
    update_search_index()
    return {"winter": winter.id, "spring": spring.id, "other": other.id, "tagged": tagged.id}


def _names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(row["enterprise_name"] for row in response.get_json()["results"])


def _facet(outcome) -> list[tuple[str, str, int, bool]]:
    return [(v.value, v.label, v.count, v.selected) for v in outcome.facets["campaign"]]


def test_the_campaign_facet_counts_each_record_once_under_its_campaign(app, data):
    winter, spring = str(data["winter"]), str(data["spring"])
    # Browsing (no words): case 1, case 3 (own tag), listing 5 in the winter campaign; case 2 in spring.
    browse = search(None, Filters(kind="case"))
    assert _facet(browse) == [(spring, SPRING, 1, False), (winter, WINTER, 2, False)]
    everything = search("示例", Filters())
    assert _facet(everything) == [(spring, SPRING, 1, False), (winter, WINTER, 3, False)]  # newest campaign first
    # The facet ignores its own filter and the other facets follow it.
    chosen = search("示例", Filters(campaign=data["winter"]))
    assert chosen.total == 3
    assert _facet(chosen) == [(spring, SPRING, 1, False), (winter, WINTER, 3, True)]
    assert {(v.value, v.count) for v in chosen.facets["kind"]} == {("cases", 2), ("listings", 1)}
    assert [(v.value, v.count) for v in chosen.facets["district"]] == [("城关区", 2), ("安宁区", 1)]  # 七里河区: spring
    # A campaign with nothing matching is still shown while selected, with 0;
    # the partial matches offered instead stay within the campaign.
    nothing = search("示例4号", Filters(campaign=data["spring"]))
    assert _facet(nothing) == [(spring, SPRING, 0, True)]
    assert nothing.partial and _hit_names(nothing) == ["兰州示例2号有限公司"]


def test_the_api_filters_by_campaign(client, data):
    winter, spring = data["winter"], data["spring"]
    assert _names(client.get(f"/api/v1/search?campaign={winter}")) == [
        "兰州示例1号有限公司",
        "兰州示例3号有限公司",
        "兰州示例5号有限公司",
    ]
    assert _names(client.get(f"/api/v1/search?campaign={winter}&kind=cases&q=示例")) == [
        "兰州示例1号有限公司",
        "兰州示例3号有限公司",
    ]
    assert _names(client.get(f"/api/v1/search?campaign={spring}&q=示例")) == ["兰州示例2号有限公司"]
    assert _names(client.get("/api/v1/search?campaign=999&q=示例")) == []
    for bad in ("abc", "0", "-1", "99999999999"):
        response = client.get(f"/api/v1/search?q=示例&campaign={bad}")
        assert response.status_code == 400 and "专项行动" in response.get_json()["error"]["message"]


def test_the_page_shows_the_facet_the_chip_and_keeps_the_filter(client, data):
    winter = data["winter"]
    page = client.get("/search?q=示例").text
    assert "<h2>专项行动</h2>" in page and WINTER in page and f"campaign={winter}" in page
    filtered = client.get(f"/search?q=示例&campaign={winter}").text
    assert f"专项行动：{WINTER} ✕" in filtered  # the chip names the campaign
    assert f'<input type="hidden" name="campaign" value="{winter}">' in filtered  # kept when the query is retyped
    # Names are highlighted (兰州<mark>示例</mark>…): look for their ends.
    assert "2号有限公司" not in filtered and "4号有限公司" not in filtered
    assert "1号有限公司" in filtered and "3号有限公司" in filtered and "5号有限公司" in filtered


def test_the_twins_keep_the_campaign(client, data):
    winter = data["winter"]
    with client.get(f"/search.csv?q=示例&campaign={winter}") as response:
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(r for row in rows[1:] for r in row if r.startswith("兰州示例")) == [
        "兰州示例1号有限公司",
        "兰州示例3号有限公司",
        "兰州示例5号有限公司",
    ]
    with client.get(f"/search.json?q=示例&campaign={data['spring']}") as response:
        assert "兰州示例2号有限公司" in response.get_data(as_text=True)
        assert "兰州示例1号有限公司" not in response.get_data(as_text=True)
    atom = client.get(f"/search.atom?q=示例&campaign={winter}").get_data(as_text=True)
    assert "兰州示例3号有限公司" in atom and "兰州示例4号有限公司" not in atom


def test_retagging_a_batch_or_a_case_reaches_search_through_the_change_log(app, data):
    spring = campaigns.get(data["spring"])
    before = db.session.scalar(select(func.count()).select_from(SearchChange))
    campaigns.tag_batch(_batch(data["other"]), spring, None)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(SearchChange)) == before + 2  # both its cases
    assert pending() == 2
    update_search_index()
    # case 4 follows its batch; case 3 keeps its own winter tag
    assert _hit_names(search("示例", Filters(campaign=spring.id))) == ["兰州示例2号有限公司", "兰州示例4号有限公司"]
    campaigns.tag_case(_case_by_doc("兰劳监〔2020〕3号"), None, None)  # back to its batch's: spring
    db.session.commit()
    assert pending() == 1
    update_search_index()
    assert _hit_names(search("示例", Filters(campaign=spring.id))) == [
        "兰州示例2号有限公司",
        "兰州示例3号有限公司",
        "兰州示例4号有限公司",
    ]
    assert _hit_names(search("示例", Filters(campaign=data["winter"]))) == [
        "兰州示例1号有限公司",
        "兰州示例5号有限公司",
    ]
    # Untagging a batch: its records leave the facet.
    campaigns.tag_batch(_batch(data["tagged"]), None, None)
    db.session.commit()
    update_search_index()
    assert _hit_names(search("示例", Filters(campaign=data["winter"]))) == ["兰州示例5号有限公司"]


def test_retagging_through_the_staff_pages_appends_log_entries(client, data):
    login(client, "planner")
    spring = data["spring"]
    assert post(client, f"/admin/batches/{data['other']}/campaign", {"campaign": str(spring)}).status_code == 303
    case = _case_by_doc("兰劳监〔2020〕1号")
    assert post(client, f"/admin/cases/{case.id}/campaign", {"campaign": str(spring)}).status_code == 303
    assert pending() == 3
    update_search_index()
    assert _names(client.get(f"/api/v1/search?campaign={spring}")) == [
        "兰州示例1号有限公司",
        "兰州示例2号有限公司",
        "兰州示例4号有限公司",
    ]


def _batch(batch_id: int) -> Batch:
    return db.session.get(Batch, batch_id)


def _hit_names(outcome) -> list[str]:
    return sorted(hit.record.enterprise_name for hit in outcome.hits)
