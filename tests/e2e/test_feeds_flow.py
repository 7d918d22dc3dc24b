"""Feeds as a subscriber meets them: found from the page's <link rel="alternate">,
valid Atom, and a record taken down gone from them at the next fetch."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select

from domain.accounts import create_user
from domain.publishing import update_search_index, withdraw_record
from extensions import db
from models import Listing
from tests.e2e.conftest import LISTED

ATOM = "{http://www.w3.org/2005/Atom}"


def fetch_feed(page, url: str) -> ET.Element:
    response = page.request.get(url)
    assert response.ok and response.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(response.body())
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None, name
    for entry in root.iter(f"{ATOM}entry"):
        for name in ("id", "title", "updated", "link"):
            assert entry.find(f"{ATOM}{name}") is not None, name
    return root


def entry_titles(root: ET.Element) -> list[str]:
    return [entry.find(f"{ATOM}title").text for entry in root.iter(f"{ATOM}entry")]


def test_subscribe_to_a_filtered_list_and_see_a_withdrawal(public_site, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{public_site.url}/listings?district=安宁区")
    feed_link = page.locator('link[rel="alternate"][type="application/atom+xml"][title^="订阅本列表"]')
    href = feed_link.get_attribute("href")
    assert href.startswith("/listings.atom?district=")
    # the same link is offered to people, beside the downloads
    assert page.get_by_role("link", name="订阅（Atom）").get_attribute("href") == href

    feed = fetch_feed(page, public_site.url + href)
    assert entry_titles(feed) == [f"{LISTED}（失信联合惩戒对象名单）"]
    site_feeds = page.locator('link[rel="alternate"][type="application/atom+xml"]')
    assert site_feeds.count() == 3  # new batches, changes, and this list

    with public_site.app.app_context():
        staff = create_user("publisher1", "publisher", "a-Long-enough-passw0rd!")
        listing = db.session.scalar(select(Listing).where(Listing.enterprise_name == LISTED))
        withdraw_record(listing, "公布有误", staff)
        db.session.commit()
        update_search_index()
        listing_id = listing.id

    assert entry_titles(fetch_feed(page, public_site.url + href)) == []
    changes = fetch_feed(page, f"{public_site.url}/feeds/changes.atom")
    assert entry_titles(changes) == [f"失信联合惩戒对象名单（记录编号 {listing_id}）已停止公开"]
    assert LISTED not in ET.tostring(changes, encoding="unicode")
    assert LISTED not in page.request.get(f"{public_site.url}/search.atom?q=鼎盛").text()
    page.close()
