"""Atom feeds: valid Atom 1.0 (required elements, stable ids, dates), the twins
built from the same query as their pages, the changes feed that never shows the
content of a record no longer public, and takedown reaching every feed at once."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import select

from domain.accounts import create_user
from domain.publishing import correct_record, record_fields, update_search_index, withdraw_record
from extensions import db
from models import Case, Listing
from tests.builders import case_row, credit_code, listing_row, load

NS = {"a": "http://www.w3.org/2005/Atom"}
RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
EXPIRING = "兰州示例到期建筑劳务有限公司"  # listed 2023-12-01 for 3 years: expires 2026-12-01


@pytest.fixture
def data(app):
    load(
        "cases",
        [
            case_row(),
            case_row(
                违法主体名称="兰州示例安宁物流有限公司",
                统一社会信用代码=credit_code(3),
                区县="安宁区",
                文书编号="兰安劳监罚〔2024〕5号",
            ),
        ],
    )
    load(
        "listings",
        [
            listing_row(),
            listing_row(
                单位名称=EXPIRING,
                统一社会信用代码=credit_code(8),
                区县="城关区",
                决定文书号="兰人社失信〔2023〕8号",
                列入日期="2023-12-01",
            ),
        ],
    )
    load("cases", [case_row(文书编号="兰城劳监指〔2025〕99号")], title="2025年第九批", publish=False)


@pytest.fixture
def staff(app):
    user = create_user("publisher1", "publisher", "a-Long-enough-passw0rd!")
    db.session.commit()
    return user


def parse(response) -> ET.Element:
    """A feed, checked against what RFC 4287 requires."""
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.data)
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"a:{name}", NS) is not None and root.find(f"a:{name}", NS).text, name
    assert RFC3339.match(root.find("a:updated", NS).text)
    assert root.find("a:author/a:name", NS).text == "兰州市人力资源和社会保障局"
    assert root.find("a:link[@rel='self']", NS).get("href").startswith("http://localhost/")
    ids = set()
    for entry in root.findall("a:entry", NS):
        entry_id = entry.find("a:id", NS).text
        assert entry_id.startswith("http://localhost/") and entry_id not in ids
        ids.add(entry_id)
        assert entry.find("a:title", NS).text
        assert RFC3339.match(entry.find("a:updated", NS).text)
        # rel="alternate" is the default (RFC 4287 4.2.7.2): feedgen leaves it out
        links = [link for link in entry.findall("a:link", NS) if link.get("rel", "alternate") == "alternate"]
        assert links and links[0].get("href").startswith("http://localhost/")
        assert entry.find("a:summary", NS).text
    return root


def titles(root: ET.Element) -> list[str]:
    return [entry.find("a:title", NS).text for entry in root.findall("a:entry", NS)]


def text_of(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


def test_batches_feed(data, client):
    root = parse(client.get("/feeds/batches.atom"))
    assert len(titles(root)) == 2 and "2025年第九批" not in text_of(root)  # the draft is not public
    assert all("/batches/" in entry.find("a:id", NS).text for entry in root.findall("a:entry", NS))


def test_entry_ids_are_stable(data, client):
    first = [e.find("a:id", NS).text for e in parse(client.get("/cases.atom")).findall("a:entry", NS)]
    again = [e.find("a:id", NS).text for e in parse(client.get("/cases.atom")).findall("a:entry", NS)]
    assert first == again and all(re.fullmatch(r"http://localhost/cases/\d+", i) for i in first)


def test_list_twins_use_the_page_filters(data, client):
    root = parse(client.get("/cases.atom", query_string={"district": "安宁区"}))
    assert titles(root) == ["兰州示例安宁物流有限公司（重大劳动保障违法案件）"]
    assert "安宁区" in root.find("a:title", NS).text
    root = parse(client.get("/listings.atom", query_string={"district": "城关区"}))
    assert titles(root) == [f"{EXPIRING}（失信联合惩戒对象名单）"]
    assert len(titles(parse(client.get("/listings.atom")))) == 2
    assert len(titles(parse(client.get("/batches.atom?kind=listings")))) == 1
    assert client.get("/cases.atom?year=abc").status_code == 400
    assert client.get("/listings.atom?district=火星区").status_code == 400


def test_search_twin(data, client):
    root = parse(client.get("/search.atom", query_string={"q": "安宁物流"}))
    assert titles(root) == ["兰州示例安宁物流有限公司（重大劳动保障违法案件）"]
    assert client.get("/search.atom", query_string={"q": "a"}).status_code == 400


def test_pages_link_their_feeds(data, client):
    for url in ("/", "/about", "/cases", "/listings", "/batches"):
        page = client.get(url).text
        assert 'type="application/atom+xml" href="/feeds/batches.atom"' in page, url
        assert 'type="application/atom+xml" href="/feeds/changes.atom"' in page, url
    page = client.get("/listings?district=城关区").text
    assert 'type="application/atom+xml" href="/listings.atom?district=%E5%9F%8E%E5%85%B3%E5%8C%BA"' in page
    assert 'rel="alternate"; type="application/atom+xml"' in client.get("/cases").headers["Link"]
    assert 'href="/search.atom?q=' in client.get("/search?q=安宁").text


def test_takedown_reaches_every_feed_at_once(data, client, set_today):
    set_today(dt.date(2026, 11, 30))
    for url in ("/listings.atom", "/listings.atom?district=城关区", f"/search.atom?q={EXPIRING}"):
        assert EXPIRING in text_of(parse(client.get(url))), url
    set_today(dt.date(2026, 12, 1))  # the expiry date
    for url in ("/listings.atom", "/listings.atom?district=城关区", "/feeds/changes.atom", "/feeds/batches.atom"):
        assert EXPIRING not in text_of(parse(client.get(url))), url
    assert not any(EXPIRING in title for title in titles(parse(client.get(f"/search.atom?q={EXPIRING}"))))
    changes = parse(client.get("/feeds/changes.atom"))
    listing_id = db.session.scalar(select(Listing.id).where(Listing.enterprise_name == EXPIRING))
    assert f"失信联合惩戒对象名单（记录编号 {listing_id}）已停止公开" in titles(changes)
    assert "期限已届满" in text_of(changes)


def test_changes_feed_tells_corrections_and_hides_what_is_gone(data, client, staff):
    case = db.session.scalar(select(Case).where(Case.enterprise_name == "兰州示例安宁物流有限公司"))
    correct_record(case, {**record_fields(case), "workers_involved": 13}, "涉及人数有误", staff)
    db.session.commit()
    update_search_index()
    root = parse(client.get("/feeds/changes.atom"))
    assert "更正：兰州示例安宁物流有限公司" in titles(root) and "涉及人数有误" in text_of(root)
    assert "【已更正】涉及人数有误" in text_of(parse(client.get("/cases.atom")))

    withdraw_record(case, "公布有误", staff)
    db.session.commit()
    update_search_index()
    root = parse(client.get("/feeds/changes.atom"))
    text = text_of(root)
    assert "兰州示例安宁物流有限公司" not in text and "涉及人数有误" not in text and "公布有误" not in text
    assert titles(root).count(f"重大劳动保障违法案件（记录编号 {case.id}）已停止公开") == 2
    ids = [e.find("a:id", NS).text for e in root.findall("a:entry", NS)]
    assert len(ids) == len(set(ids))
    for url in ("/cases.atom", "/search.atom?q=安宁物流", "/feeds/batches.atom"):
        assert "兰州示例安宁物流有限公司" not in client.get(url).text, url


def test_a_feed_with_no_entries_is_still_valid(app, client):
    root = parse(client.get("/feeds/changes.atom"))
    assert root.findall("a:entry", NS) == []
    parse(client.get("/cases.atom"))
